/*
 * check_tcp.c - nw_tcp_listen, nw_accept, nw_tcp_connect.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A loopback port that refuses: bound (so nobody else takes it) but not listening. */
static int refusing_port(char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	tu_port_str(fd, port);
	return fd;
}

static void assert_connects(const char *host, const char *port, int timeout_ms)
{
	int c = nw_tcp_connect(host, port, timeout_ms);

	ck_assert_msg(c >= 0, "connect %s %s: %s", host, port, nw_errmsg());
	close(c);
}

START_TEST(listen_wildcard_takes_ipv4_and_ipv6)
{
	const char *hosts[] = { NULL, "*" };
	char port[8];

	for (int i = 0; i < 2; i++) {
		int lfd = tu_assert_ok(nw_tcp_listen(hosts[i], "0", 0));

		tu_port_str(lfd, port);
		assert_connects("127.0.0.1", port, 2000);
		if (tu_have_ipv6())
			assert_connects("::1", port, 2000);
		close(lfd);
	}
}
END_TEST

START_TEST(listen_sets_reuseaddr_and_cloexec)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 5));
	int on = 0;
	socklen_t len = sizeof on;

	ck_assert_int_eq(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, &len), 0);
	ck_assert_int_eq(on, 1);
	ck_assert(tu_cloexec(lfd));
	on = 0;
	ck_assert_int_eq(getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
	ck_assert_int_eq(on, 1);
	close(lfd);
}
END_TEST

START_TEST(listen_on_port_in_use_is_eaddrinuse)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));

	tu_port_str(lfd, port);
	tu_assert_fails(nw_tcp_listen("127.0.0.1", port, 0), EADDRINUSE);
	/* The wildcard needs IPv4 too: it must not settle for IPv6 alone. */
	tu_assert_fails(nw_tcp_listen(NULL, port, 0), EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_listen(*, "));
	close(lfd);
}
END_TEST

START_TEST(bad_service_is_einval)
{
	const char *bad[] = { NULL, "", "65536", "-1", "+80", "99999999999999999999" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_assert_fails(nw_tcp_listen("127.0.0.1", bad[i], 0), EINVAL);
		tu_assert_fails(nw_tcp_connect("127.0.0.1", bad[i], 100), EINVAL);
		tu_assert_fails(nw_udp_bind("127.0.0.1", bad[i]), EINVAL);
		tu_assert_fails(nw_udp_connect("127.0.0.1", bad[i]), EINVAL);
	}
	/*
	 * Not a number and not in /etc/services: the resolver's verdict.  The
	 * lookup runs under the connect's deadline, so give it room (valgrind).
	 */
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "80x", 5000), EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_connect(127.0.0.1, 80x): "));
}
END_TEST

START_TEST(port_boundaries)
{
	char port[8];
	int fd = refusing_port(port);

	/* 65535 and 0 are in range; leading zeros are still a number. */
	int c = nw_tcp_connect("127.0.0.1", "65535", 2000);

	ck_assert(c >= 0 || errno == ECONNREFUSED);
	if (c >= 0)
		close(c);
	char padded[16];

	snprintf(padded, sizeof padded, "000%s", port);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", padded, 2000), ECONNREFUSED);
	close(fd);
}
END_TEST

START_TEST(service_name_resolves_from_services_file)
{
	/* "http" is port 80 in /etc/services: refused or accepted, never a parse error. */
	int c = nw_tcp_connect("127.0.0.1", "http", 2000);

	ck_assert_msg(c >= 0 || errno == ECONNREFUSED, "%s", nw_errmsg());
	if (c >= 0)
		close(c);
	tu_assert_fails(nw_tcp_listen("127.0.0.1", "no-such-service", 0), EADDRNOTAVAIL);
}
END_TEST

START_TEST(unresolvable_host_is_eaddrnotavail)
{
	tu_assert_fails(nw_tcp_connect("no such host", "80", 1000), EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_connect(no such host, 80): "));
	/* The resolver's own words follow the call. */
	ck_assert_uint_gt(strlen(nw_errmsg()), strlen("nw_tcp_connect(no such host, 80): "));
	tu_assert_fails(nw_tcp_connect("a..b", "80", 1000), EADDRNOTAVAIL);
	tu_assert_fails(nw_tcp_listen("no such host", "0", 0), EADDRNOTAVAIL);
	tu_assert_fails(nw_tcp_connect("[::1", "80", 1000), EADDRNOTAVAIL);
}
END_TEST

START_TEST(empty_or_null_host_is_einval)
{
	tu_assert_fails(nw_tcp_connect(NULL, "80", 100), EINVAL);
	tu_assert_fails(nw_tcp_connect("", "80", 100), EINVAL);
	tu_assert_fails(nw_tcp_listen("", "0", 0), EINVAL);
}
END_TEST

START_TEST(connect_by_name_and_literals)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));

	tu_port_str(lfd, port);
	assert_connects("localhost", port, 2000);
	assert_connects("127.0.0.1", port, -1);
	if (tu_have_ipv6()) {
		assert_connects("::1", port, -1);
		assert_connects("[::1]", port, 2000);
	}
	close(lfd);
}
END_TEST

START_TEST(connect_returns_blocking_cloexec_socket)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	const int timeouts[] = { -1, 3000 };

	tu_port_str(lfd, port);
	for (int i = 0; i < 2; i++) {
		int c = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, timeouts[i]));

		ck_assert_int_eq(fcntl(c, F_GETFL) & O_NONBLOCK, 0);
		ck_assert(tu_cloexec(c));
		close(c);
	}
	close(lfd);
}
END_TEST

START_TEST(connect_refused_fails_at_once)
{
	char port[8];
	int fd = refusing_port(port);
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, 20000), ECONNREFUSED);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, -1), ECONNREFUSED);
	tu_assert_fails(nw_tcp_connect("localhost", port, 20000), ECONNREFUSED);
	/* Without waiting out the 20 s timeout. */
	ck_assert_int_lt(elapsed_ms(&t0), 10000);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "Connection refused"));
	close(fd);
}
END_TEST

/*
 * A listener whose accept queue is full drops new SYNs, so a connect to it
 * hangs: a time-out without leaving loopback.
 */
START_TEST(connect_timeout_is_etimedout)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fillers[8];
	char port[8];
	struct timespec t0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	tu_port_str(lfd, port);
	for (int i = 0; i < 8; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
		connect(fillers[i], (struct sockaddr *)&sin, len);
	}
	usleep(100 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, 300), ETIMEDOUT);
	long ms = elapsed_ms(&t0);

	ck_assert_int_ge(ms, 250);
	ck_assert_int_lt(ms, 5000);
	for (int i = 0; i < 8; i++)
		close(fillers[i]);
	close(lfd);
}
END_TEST

START_TEST(accept_reports_peer)
{
	char port[8], buf[NW_ADDRSTRLEN], want[NW_ADDRSTRLEN];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	struct sockaddr_storage peer, local;
	socklen_t peerlen = 1;	/* need not be preset */
	socklen_t llen = sizeof local;

	int c = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 2000));
	int s = tu_assert_ok(nw_accept(lfd, &peer, &peerlen));

	ck_assert(tu_cloexec(s));
	ck_assert_uint_eq(peerlen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(getsockname(c, (struct sockaddr *)&local, &llen), 0);
	nw_addr_str((struct sockaddr *)&local, llen, want, sizeof want);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&peer, peerlen, buf, sizeof buf), want);
	close(s);
	close(c);

	/* peer and peerlen may be NULL. */
	c = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	s = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	close(s);
	close(c);
	close(lfd);
}
END_TEST

static volatile sig_atomic_t interrupts;

static void count_signal(int sig)
{
	(void)sig;
	interrupts++;
}

static void *connect_later(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);	/* signals go to the accepting thread */
	usleep(300 * 1000);
	return (void *)(long)nw_tcp_connect("127.0.0.1", arg, 2000);
}

START_TEST(accept_retries_eintr)
{
	struct sigaction sa = { .sa_handler = count_signal };	/* no SA_RESTART */
	struct itimerval every_10ms = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	pthread_t t;
	void *c;

	sigaction(SIGALRM, &sa, NULL);
	tu_port_str(lfd, port);
	interrupts = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, connect_later, port), 0);
	setitimer(ITIMER_REAL, &every_10ms, NULL);
	int s = nw_accept(lfd, NULL, NULL);

	setitimer(ITIMER_REAL, &off, NULL);
	ck_assert_msg(s >= 0, "%s", nw_errmsg());
	ck_assert_int_gt(interrupts, 5);
	pthread_join(t, &c);
	ck_assert_int_ge((long)c, 0);
	close((int)(long)c);
	close(s);
	close(lfd);
}
END_TEST

START_TEST(accept_errors)
{
	int sv[2];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	tu_assert_fails(nw_accept(-1, NULL, NULL), EBADF);
	tu_assert_fails(nw_accept(fd, NULL, NULL), EINVAL);	/* not listening */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	tu_assert_fails(nw_accept(sv[0], NULL, NULL), EOPNOTSUPP);
	/* A non-blocking listener with nobody waiting says so. */
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));

	tu_assert_ok(nw_set_timeout(lfd, 100));
	tu_assert_fails(nw_accept(lfd, NULL, NULL), ETIMEDOUT);
	tu_assert_ok(nw_set_nonblock(lfd, 1));
	tu_assert_fails(nw_accept(lfd, NULL, NULL), EAGAIN);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_accept("));
	close(lfd);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(failing_calls_leak_no_descriptors)
{
	char port[8], inuse[8];
	int refuse = refusing_port(port);
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int before;

	tu_port_str(lfd, inuse);
	before = tu_count_fds();
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(nw_tcp_connect("127.0.0.1", port, 1000), -1);
		ck_assert_int_eq(nw_tcp_connect("127.0.0.1", port, -1), -1);
		ck_assert_int_eq(nw_tcp_connect("localhost", port, 1000), -1);
		ck_assert_int_eq(nw_tcp_listen("127.0.0.1", inuse, 0), -1);
		ck_assert_int_eq(nw_tcp_listen(NULL, inuse, 0), -1);
		ck_assert_int_eq(nw_udp_bind("127.0.0.1", "70000"), -1);
		ck_assert_int_eq(nw_tcp_connect("no such host", "80", 100), -1);
		ck_assert_int_eq(nw_unix_connect("/nonexistent/dir/sock"), -1);
		ck_assert_int_eq(nw_unix_listen("/nonexistent/dir/sock", 0), -1);
	}
	ck_assert_int_eq(tu_count_fds(), before);
	close(lfd);
	close(refuse);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, listen_wildcard_takes_ipv4_and_ipv6);
	tcase_add_test(tc, listen_sets_reuseaddr_and_cloexec);
	tcase_add_test(tc, listen_on_port_in_use_is_eaddrinuse);
	tcase_add_test(tc, bad_service_is_einval);
	tcase_add_test(tc, port_boundaries);
	tcase_add_test(tc, service_name_resolves_from_services_file);
	tcase_add_test(tc, unresolvable_host_is_eaddrnotavail);
	tcase_add_test(tc, empty_or_null_host_is_einval);
	tcase_add_test(tc, connect_by_name_and_literals);
	tcase_add_test(tc, connect_returns_blocking_cloexec_socket);
	tcase_add_test(tc, connect_refused_fails_at_once);
	tcase_add_test(tc, connect_timeout_is_etimedout);
	tcase_add_test(tc, accept_reports_peer);
	tcase_add_test(tc, accept_retries_eintr);
	tcase_add_test(tc, accept_errors);
	tcase_add_test(tc, failing_calls_leak_no_descriptors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(tcp_suite());
}
