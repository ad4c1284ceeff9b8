/*
 * check_opt.c - nw_set_nonblock, nw_set_nodelay, nw_set_timeout, nw_set_keepalive.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int int_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

START_TEST(nonblock_toggles_and_keeps_other_flags)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_ASYNC), 0);
	tu_assert_ok(nw_set_nonblock(p[0], 1));
	ck_assert(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	tu_assert_ok(nw_set_nonblock(p[0], 1));
	ck_assert(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	tu_assert_ok(nw_set_nonblock(p[0], 0));
	ck_assert(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	ck_assert(fcntl(p[0], F_GETFL) & O_ASYNC);
	ck_assert(tu_cloexec(p[0]));
	tu_assert_fails(nw_set_nonblock(-1, 1), EBADF);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(nodelay_toggles)
{
	int c, s, sv[2];

	tu_tcp_pair(&c, &s);
	tu_assert_ok(nw_set_nodelay(c, 1));
	ck_assert_int_ne(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
	tu_assert_ok(nw_set_nodelay(c, 0));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(nw_set_nodelay(sv[0], 1), -1);	/* not TCP */
	tu_assert_fails(nw_set_nodelay(-1, 1), EBADF);
	close(c);
	close(s);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static long timeout_ms(int fd, int name)
{
	struct timeval tv;
	socklen_t len = sizeof tv;

	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, name, &tv, &len), 0);
	return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

START_TEST(timeout_sets_both_directions)
{
	int c, s, p[2];

	tu_tcp_pair(&c, &s);
	tu_assert_ok(nw_set_timeout(c, 2500));
	ck_assert_int_eq(timeout_ms(c, SO_RCVTIMEO), 2500);
	ck_assert_int_eq(timeout_ms(c, SO_SNDTIMEO), 2500);
	tu_assert_ok(nw_set_timeout(c, 0));
	ck_assert_int_eq(timeout_ms(c, SO_RCVTIMEO), 0);
	ck_assert_int_eq(timeout_ms(c, SO_SNDTIMEO), 0);
	tu_assert_ok(nw_set_timeout(c, 7));
	tu_assert_ok(nw_set_timeout(c, -1));
	ck_assert_int_eq(timeout_ms(c, SO_RCVTIMEO), 0);
	ck_assert_int_eq(pipe(p), 0);
	tu_assert_fails(nw_set_timeout(p[0], 100), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}
END_TEST

START_TEST(keepalive_settings)
{
	int c, s;

	tu_tcp_pair(&c, &s);
	int idle = int_opt(c, IPPROTO_TCP, TCP_KEEPIDLE);

	tu_assert_ok(nw_set_keepalive(c, 0, 0, 0));	/* system defaults */
	ck_assert_int_eq(int_opt(c, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPIDLE), idle);
	tu_assert_ok(nw_set_keepalive(c, 30, 5, 4));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPINTVL), 5);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPCNT), 4);
	tu_assert_ok(nw_set_keepalive(c, -1, 0, 0));
	ck_assert_int_eq(int_opt(c, SOL_SOCKET, SO_KEEPALIVE), 0);
	tu_assert_fails(nw_set_keepalive(c, 10, -1, 3), EINVAL);
	tu_assert_fails(nw_set_keepalive(c, 10, 1, -3), EINVAL);
	tu_assert_fails(nw_set_keepalive(c, 10, 1, 100000), EINVAL);	/* kernel's range */
	tu_assert_fails(nw_set_keepalive(-1, 10, 1, 3), EBADF);
	close(c);
	close(s);
}
END_TEST

static Suite *opt_suite(void)
{
	Suite *s = suite_create("opt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, nonblock_toggles_and_keeps_other_flags);
	tcase_add_test(tc, nodelay_toggles);
	tcase_add_test(tc, timeout_sets_both_directions);
	tcase_add_test(tc, keepalive_settings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(opt_suite());
}
