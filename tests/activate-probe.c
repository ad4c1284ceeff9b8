/*
 * activate-probe - what nw_listen_fds makes of the descriptors and
 * environment it was started with (tests/check_activate.c starts it with
 * every layout; tests/activate.sh uses its client mode).
 *
 *   activate-probe            one line per finding, on standard output:
 *                             "n=N" or "error=ERRNO msg=...", then per
 *                             descriptor "fd=F sock=S listening=L cloexec=C name=X",
 *                             then "env=..." (LISTEN_* left, "-" if none),
 *                             "cloexec3=C" (fd 3's flag, if open), "open=N"
 *   activate-probe echo PATH  connect to the Unix socket PATH, send a line,
 *                             print the line that comes back
 */
#include <netwrap.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Open descriptors below 1024 (valgrind keeps its own above the limit). */
static int count_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) < 1024)
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static int echo(const char *path)
{
	char line[64];
	nw_reader *r;
	int fd = nw_unix_connect(path);

	if (fd < 0) {
		fprintf(stderr, "activate-probe: %s\n", nw_errmsg());
		return 1;
	}
	r = nw_reader_new(fd, 0);
	if (r == NULL || nw_writen(fd, "ping\n", 5) != 5 || nw_readline(r, line, sizeof line) <= 0) {
		fprintf(stderr, "activate-probe: %s\n", nw_errmsg());
		return 1;
	}
	fputs(line, stdout);
	nw_reader_free(r);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int *fds;
	char **names;
	int n, flags;

	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return echo(argv[2]);
	n = nw_listen_fds(&fds, &names);
	if (n < 0) {
		printf("error=%d msg=%s\n", errno, nw_errmsg());
	} else {
		printf("n=%d\n", n);
		for (int i = 0; i < n; i++) {
			int type = 0, listening = 0;
			socklen_t len = sizeof type;

			getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &len);
			len = sizeof listening;
			getsockopt(fds[i], SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
			printf("fd=%d sock=%d listening=%d cloexec=%d name=%s\n", fds[i], type,
			       listening, (fcntl(fds[i], F_GETFD) & FD_CLOEXEC) != 0, names[i]);
		}
		free(fds);
		free(names);
	}
	printf("env=");
	if (!getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES"))
		printf("-");
	printf("%s%s%s\n", getenv("LISTEN_PID") ? "LISTEN_PID," : "",
	       getenv("LISTEN_FDS") ? "LISTEN_FDS," : "",
	       getenv("LISTEN_FDNAMES") ? "LISTEN_FDNAMES" : "");
	flags = fcntl(3, F_GETFD);
	if (flags >= 0)
		printf("cloexec3=%d\n", (flags & FD_CLOEXEC) != 0);
	printf("open=%d\n", count_open());
	return 0;
}
