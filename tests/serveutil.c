/*
 * serveutil.c - helpers for the concurrent-server suites.
 */
#include "serveutil.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *su_example(char *buf, const char *name)
{
	ck_assert_int_lt(snprintf(buf, PATH_MAX, "%s/%s", NW_EXAMPLES_DIR, name), PATH_MAX);
	return buf;
}

pid_t su_spawn(char *const argv[], int *out_fd)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2];
	pid_t pid;
	int err;

	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	if (out_fd)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(err == 0, "posix_spawn %s: %s", argv[0], strerror(err));
	close(pipefd[1]);
	if (out_fd)
		*out_fd = pipefd[0];
	else
		close(pipefd[0]);
	return pid;
}

int su_run_load(const char *port, int conns, int bytes)
{
	char path[PATH_MAX], c[16], n[16];
	pid_t pid;
	int status;

	snprintf(c, sizeof c, "%d", conns);
	snprintf(n, sizeof n, "%d", bytes);
	char *argv[] = { (char *)su_example(path, "echo-load"), "-c", c, "-n", n,
			 "-t", "60", "127.0.0.1", (char *)port, NULL };

	pid = su_spawn(argv, NULL);
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(status), "echo-load died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

void su_read_port(int out_fd, char *port)
{
	char line[NW_ADDRSTRLEN + 32];
	size_t len = 0;
	const char *colon;

	/* Byte by byte, so nothing after the first line is taken from the pipe. */
	while (len < sizeof line - 1) {
		ssize_t n = read(out_fd, line + len, 1);

		ck_assert_msg(n == 1, "the example ended before saying where it listens");
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	ck_assert_msg(strncmp(line, "listening on ", 13) == 0, "first line: %s", line);
	colon = strrchr(line, ':');
	ck_assert_ptr_nonnull(colon);
	ck_assert_int_lt(strlen(colon + 1), 8);
	strcpy(port, colon + 1);
}

int su_wait_exit(pid_t pid, int timeout_ms)
{
	const struct timespec tick = { 0, 5 * 1000000L };
	int status;

	for (int waited = 0; waited <= timeout_ms; waited += 5) {
		pid_t rc = waitpid(pid, &status, WNOHANG);

		if (rc == pid)
			return status;
		ck_assert_msg(rc == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
		nanosleep(&tick, NULL);
	}
	return -1;
}

void su_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int su_children(pid_t pid, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	ck_assert_ptr_nonnull(d);
	*zombies = 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[512], state;
		const char *close_paren;
		long ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;	/* gone already */
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (close_paren = strrchr(buf, ')')) != NULL &&
		    sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 && ppid == pid) {
			count++;
			if (state == 'Z')
				(*zombies)++;
		}
		fclose(f);
	}
	closedir(d);
	return count;
}

bool su_wait_childless(pid_t pid, int timeout_ms)
{
	const struct timespec tick = { 0, 10 * 1000000L };
	int zombies;

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (su_children(pid, &zombies) == 0)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

long su_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long utime, stime;
	const char *p;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	/* Fields 14 and 15, counted from the state (field 3) after the command's ')'. */
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime), 2);
	return (long)(utime + stime);
}

int su_count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return pid == getpid() ? n - 1 : n;	/* our own count includes the directory */
}

void su_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void su_limit_free_fds(int spare)
{
	struct rlimit rl;
	int fd = 0;

	for (int free_seen = 0;; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && ++free_seen > spare)
			break;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = (rlim_t)fd;	/* numbers 0..fd-1: spare of them free */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}
