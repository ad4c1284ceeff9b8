/*
 * check_addr.c - nw_addr_str and nw_local_port.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

START_TEST(formats_ipv4)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	char buf[NW_ADDRSTRLEN];

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf),
			 "127.0.0.1:80");
}
END_TEST

START_TEST(formats_ipv6_in_brackets)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(65535) };
	char buf[NW_ADDRSTRLEN];

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
			 "[::1]:65535");
}
END_TEST

START_TEST(formats_ipv6_scope)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(22) };
	char buf[NW_ADDRSTRLEN];

	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	sin6.sin6_scope_id = 1;	/* lo is always interface 1 */
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
			 "[fe80::1%lo]:22");
	sin6.sin6_scope_id = 999999;	/* no such interface: the number */
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
			 "[fe80::1%999999]:22");
}
END_TEST

START_TEST(formats_unix_path_and_abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[NW_ADDRSTRLEN];
	socklen_t len;

	strcpy(sun.sun_path, "/run/x.sock");
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun.sun_path) + 1);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sun, len, buf, sizeof buf),
			 "unix:/run/x.sock");
	memcpy(sun.sun_path, "\0name", 5);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 5);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&sun, len, buf, sizeof buf),
			 "unix:@name");
}
END_TEST

START_TEST(full_sun_path_fits)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[NW_ADDRSTRLEN];
	const char *s;

	/* A path that fills sun_path with no terminating NUL. */
	memset(sun.sun_path, 'p', sizeof sun.sun_path);
	s = nw_addr_str((struct sockaddr *)&sun, sizeof sun, buf, sizeof buf);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 5 + sizeof sun.sun_path);
}
END_TEST

START_TEST(small_buffer_is_enospc)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8080) };
	char buf[12];

	inet_pton(AF_INET, "10.20.30.40", &sin.sin_addr);
	errno = 0;
	ck_assert_ptr_null(nw_addr_str((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_addr_str"));
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr sa = { .sa_family = AF_APPLETALK };
	char buf[NW_ADDRSTRLEN];

	errno = 0;
	ck_assert_ptr_null(nw_addr_str(NULL, sizeof sin, buf, sizeof buf));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(nw_addr_str((struct sockaddr *)&sin, sizeof sin, NULL, 10));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(nw_addr_str((struct sockaddr *)&sin, 4, buf, sizeof buf));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(nw_addr_str(&sa, sizeof sa, buf, sizeof buf));
	ck_assert_int_eq(errno, EAFNOSUPPORT);
}
END_TEST

START_TEST(local_port_reads_back_ephemeral)
{
	int fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 1));
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int port = nw_local_port(fd);

	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(port, ntohs(sin.sin_port));
	close(fd);
}
END_TEST

START_TEST(local_port_errors)
{
	int sv[2];

	tu_assert_fails(nw_local_port(-1), EBADF);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	tu_assert_fails(nw_local_port(sv[0]), EAFNOSUPPORT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, formats_ipv4);
	tcase_add_test(tc, formats_ipv6_in_brackets);
	tcase_add_test(tc, formats_ipv6_scope);
	tcase_add_test(tc, formats_unix_path_and_abstract);
	tcase_add_test(tc, full_sun_path_fits);
	tcase_add_test(tc, small_buffer_is_enospc);
	tcase_add_test(tc, bad_arguments_are_einval);
	tcase_add_test(tc, local_port_reads_back_ephemeral);
	tcase_add_test(tc, local_port_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(addr_suite());
}
