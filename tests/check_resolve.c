/*
 * check_resolve.c - what reaches the resolver and the kernel.
 *
 * This program defines socket(), getaddrinfo() and getaddrinfo_a() itself: the library's
 * calls bind to these (symbol interposition), which count them and pass
 * them on to the C library's, or fail socket() for one family to play a
 * kernel without IPv6.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int resolver_calls;
static int missing_family;	/* socket() of this family fails ... */
static int missing_errno;	/* ... with this errno */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
		(int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))
		dlsym(RTLD_NEXT, "getaddrinfo");

	resolver_calls++;
	return real(node, service, hints, res);
}

int getaddrinfo_a(int mode, struct gaicb *list[], int n, struct sigevent *sev)
{
	int (*real)(int, struct gaicb **, int, struct sigevent *) =
		(int (*)(int, struct gaicb **, int, struct sigevent *))dlsym(RTLD_NEXT, "getaddrinfo_a");

	resolver_calls++;
	return real(mode, list, n, sev);
}

int socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");

	if (missing_family && domain == missing_family) {
		errno = missing_errno;
		return -1;
	}
	return real(domain, type, protocol);
}

START_TEST(numeric_hosts_never_reach_the_resolver)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int fds[6];

	tu_port_str(lfd, port);
	resolver_calls = 0;
	fds[0] = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, -1));
	fds[1] = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 1000));
	fds[2] = tu_assert_ok(nw_udp_connect("127.0.0.1", port));
	fds[3] = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	fds[4] = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
	fds[5] = tu_assert_ok(nw_udp_bind("*", "0"));
	ck_assert_int_eq(resolver_calls, 0);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	if (tu_have_ipv6()) {
		int c = tu_assert_ok(nw_udp_connect("::1", port));
		int d = tu_assert_ok(nw_udp_connect("[::1]", port));

		ck_assert_int_eq(resolver_calls, 0);
		close(c);
		close(d);
	}
	/* A name in brackets is not an address, and is not looked up either. */
	tu_assert_fails(nw_tcp_connect("[localhost]", port, 1000), EADDRNOTAVAIL);
	ck_assert_int_eq(resolver_calls, 0);

	/* A name, and a service name, do go to the resolver. */
	int c = tu_assert_ok(nw_tcp_connect("localhost", port, 1000));

	ck_assert_int_ge(resolver_calls, 1);
	close(c);
	resolver_calls = 0;
	c = tu_assert_ok(nw_tcp_connect("localhost", port, -1));
	ck_assert_int_ge(resolver_calls, 1);
	resolver_calls = 0;
	int u = tu_assert_ok(nw_udp_connect("127.0.0.1", "domain"));

	ck_assert_int_ge(resolver_calls, 1);
	close(u);
	close(c);
	close(lfd);
}
END_TEST

static void assert_family(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, family);
}

START_TEST(wildcard_without_ipv6_falls_back_to_ipv4)
{
	const int errs[] = { EAFNOSUPPORT, EPROTONOSUPPORT };

	for (int i = 0; i < 2; i++) {
		char port[8];
		int lfd, ufd, c;

		missing_family = AF_INET6;
		missing_errno = errs[i];
		lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
		ufd = tu_assert_ok(nw_udp_bind("*", "0"));
		missing_family = 0;
		assert_family(lfd, AF_INET);
		assert_family(ufd, AF_INET);
		c = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 1000));
		close(c);
		close(lfd);
		close(ufd);
	}
	/* With IPv6 present, the wildcard is one IPv6 socket. */
	if (tu_have_ipv6()) {
		int lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));

		assert_family(lfd, AF_INET6);
		close(lfd);
	}
}
END_TEST

START_TEST(other_socket_failures_are_reported)
{
	missing_family = AF_INET6;
	missing_errno = EMFILE;
	tu_assert_fails(nw_tcp_listen(NULL, "0", 0), EMFILE);
	tu_assert_fails(nw_udp_bind(NULL, "0"), EMFILE);
	missing_family = AF_INET;
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "9", 1000), EMFILE);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "9", -1), EMFILE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_connect(127.0.0.1, 9): Too many open files"));
	missing_family = 0;
}
END_TEST

/* For a listener, TCP_INFO reports the accept queue's limit in tcpi_sacked. */
static unsigned backlog_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_sacked;
}

START_TEST(backlog_zero_or_less_is_somaxconn)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	unsigned somaxconn = 0;
	int fd;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%u", &somaxconn), 1);
	fclose(f);
	if (somaxconn > SOMAXCONN)
		somaxconn = SOMAXCONN;
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	ck_assert_uint_eq(backlog_of(fd), somaxconn);
	close(fd);
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", -3));
	ck_assert_uint_eq(backlog_of(fd), somaxconn);
	close(fd);
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 7));
	ck_assert_uint_eq(backlog_of(fd), 7);
	close(fd);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, numeric_hosts_never_reach_the_resolver);
	tcase_add_test(tc, wildcard_without_ipv6_falls_back_to_ipv4);
	tcase_add_test(tc, other_socket_failures_are_reported);
	tcase_add_test(tc, backlog_zero_or_less_is_somaxconn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(resolve_suite());
}
