/*
 * check_udp.c - nw_udp_bind and nw_udp_connect.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Send from a connected client; the bound server sees it and answers. */
static void round_trip(int server, const char *host, const char *port)
{
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof from;
	char buf[64];
	int c = nw_udp_connect(host, port);

	ck_assert_msg(c >= 0, "%s", nw_errmsg());
	ck_assert(tu_cloexec(c));
	ck_assert_int_eq(send(c, "ping", 4, 0), 4);
	ck_assert_int_eq(recvfrom(server, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	ck_assert_int_eq(sendto(server, "pong", 4, 0, (struct sockaddr *)&from, fromlen), 4);
	ck_assert_int_eq(recv(c, buf, sizeof buf, 0), 4);
	ck_assert_int_eq(memcmp(buf, "pong", 4), 0);
	close(c);
}

START_TEST(bind_wildcard_serves_both_families)
{
	char port[8];
	int s = tu_assert_ok(nw_udp_bind(NULL, "0"));

	ck_assert(tu_cloexec(s));
	tu_port_str(s, port);
	round_trip(s, "127.0.0.1", port);
	round_trip(s, "localhost", port);
	if (tu_have_ipv6())
		round_trip(s, "::1", port);
	close(s);
}
END_TEST

START_TEST(bind_specific_address)
{
	char port[8];
	int s = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int type = 0;
	socklen_t len = sizeof type;

	ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	round_trip(s, "127.0.0.1", tu_port_str(s, port));
	tu_assert_fails(nw_udp_bind("127.0.0.1", port), EADDRINUSE);
	tu_assert_fails(nw_udp_bind(NULL, port), EADDRINUSE);
	close(s);
}
END_TEST

START_TEST(connected_socket_only_hears_its_peer)
{
	char port[8], buf[16];
	int s = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int other = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int c = tu_assert_ok(nw_udp_connect("127.0.0.1", tu_port_str(s, port)));
	struct sockaddr_storage caddr;
	socklen_t clen = sizeof caddr;

	getsockname(c, (struct sockaddr *)&caddr, &clen);
	ck_assert_int_eq(sendto(other, "stranger", 8, 0, (struct sockaddr *)&caddr, clen), 8);
	ck_assert_int_eq(sendto(s, "peer", 4, 0, (struct sockaddr *)&caddr, clen), 4);
	ck_assert_int_eq(recv(c, buf, sizeof buf, 0), 4);
	ck_assert_int_eq(memcmp(buf, "peer", 4), 0);
	close(c);
	close(s);
	close(other);
}
END_TEST

START_TEST(service_name_gives_its_port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int c = tu_assert_ok(nw_udp_connect("127.0.0.1", "domain"));

	ck_assert_int_eq(getpeername(c, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(ntohs(sin.sin_port), 53);
	close(c);
}
END_TEST

START_TEST(errors)
{
	tu_assert_fails(nw_udp_connect(NULL, "9"), EINVAL);
	tu_assert_fails(nw_udp_connect("", "9"), EINVAL);
	tu_assert_fails(nw_udp_connect("127.0.0.1", NULL), EINVAL);
	tu_assert_fails(nw_udp_connect("127.0.0.1", "65536"), EINVAL);
	tu_assert_fails(nw_udp_connect("no such host", "9"), EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_udp_connect(no such host, 9): "));
	tu_assert_fails(nw_udp_bind("a..b", "0"), EADDRNOTAVAIL);
	tu_assert_fails(nw_udp_bind("", "0"), EINVAL);
	tu_assert_fails(nw_udp_bind(NULL, ""), EINVAL);
	tu_assert_fails(nw_udp_bind("127.0.0.1", "no-such-service"), EADDRNOTAVAIL);
}
END_TEST

static Suite *udp_suite(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bind_wildcard_serves_both_families);
	tcase_add_test(tc, bind_specific_address);
	tcase_add_test(tc, connected_socket_only_hears_its_peer);
	tcase_add_test(tc, service_name_gives_its_port);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(udp_suite());
}
