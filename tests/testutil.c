/*
 * testutil.c - helpers shared by the Check suites.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int tu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

bool tu_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	ck_assert_int_ge(flags, 0);
	return (flags & FD_CLOEXEC) != 0;
}

bool tu_have_ipv6(void)
{
	int fd = nw_tcp_listen("::1", "0", 1);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

const char *tu_port_str(int fd, char *buf)
{
	int port = nw_local_port(fd);

	ck_assert_msg(port > 0 && port <= 65535, "nw_local_port: %s", nw_errmsg());
	snprintf(buf, 8, "%u", (unsigned)(port & 0xffff));
	return buf;
}

void tu_tcp_pair(int *client, int *server)
{
	char port[8];
	int lfd = nw_tcp_listen("127.0.0.1", "0", 1);

	ck_assert_msg(lfd >= 0, "%s", nw_errmsg());
	*client = nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 5000);
	ck_assert_msg(*client >= 0, "%s", nw_errmsg());
	*server = nw_accept(lfd, NULL, NULL);
	ck_assert_msg(*server >= 0, "%s", nw_errmsg());
	close(lfd);
}

void tu_fill_random(void *buf, size_t n, unsigned seed)
{
	unsigned char *p = buf;
	unsigned long long x = seed * 2654435761ULL + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static void noop(int sig)
{
	(void)sig;
}

void tu_interrupting_handler(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = noop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: blocked calls fail with EINTR */
	ck_assert_int_eq(sigaction(sig, &sa, NULL), 0);
}

void tu_temp_path(char *buf, size_t size, const char *name)
{
	char dir[] = "/tmp/nwtest.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(snprintf(buf, size, "%s/%s", dir, name), (int)size);
}

void tu_assert_closed(int fd)
{
	char c;
	ssize_t n;

	nw_set_timeout(fd, 3000);
	n = read(fd, &c, 1);
	ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET),
		      "connection still open: read gave %zd (%s)", n, strerror(errno));
}

int64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
