/*
 * check_pktinfo.c - nw_set_pktinfo, nw_recvfrom_to, nw_sendto_from on
 * loopback.  127.0.0.0/8 is all local, so a server bound to the wildcard
 * asked on 127.0.0.2 by a client on 127.0.0.1 is the multi-homed case: a
 * plain reply leaves from 127.0.0.1, and the client's connected socket drops
 * it.  (tests/pktinfo-netns.sh does the same for IPv6 in a namespace.)
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A UDP client bound to 127.0.0.1 and connected to 127.0.0.2:port. */
static int client_to_second(int port, int timeout_ms)
{
	struct sockaddr_in self = { .sin_family = AF_INET }, server = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &self.sin_addr);
	inet_pton(AF_INET, "127.0.0.2", &server.sin_addr);
	server.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&self, sizeof self), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&server, sizeof server), 0);
	ck_assert_int_eq(nw_set_timeout(fd, timeout_ms), 0);
	return fd;
}

/* The address part of ss as text. */
static const char *host_of(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const void *a = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
						 : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	return inet_ntop(ss->ss_family, a, buf, (socklen_t)size);
}

/* Ask the server on 127.0.0.2; answer once plainly, once from the right address. */
static void reply_from_right_address(const char *bind_host, const char *want_to)
{
	int server = tu_assert_ok(nw_udp_bind(bind_host, "0"));
	int port = nw_local_port(server);
	int client = client_to_second(port, 700);
	struct sockaddr_storage from, to;
	socklen_t fromlen, tolen;
	char buf[64], text[INET6_ADDRSTRLEN];
	int ifindex = -1;
	ssize_t n;

	ck_assert_int_eq(nw_set_pktinfo(server, 1), 0);
	ck_assert_int_eq(nw_set_timeout(server, 5000), 0);
	ck_assert_int_eq(send(client, "ping", 4, 0), 4);
	n = nw_recvfrom_to(server, buf, sizeof buf, &from, &fromlen, &to, &tolen, &ifindex);
	ck_assert_msg(n == 4, "nw_recvfrom_to: %zd (%s)", n, nw_errmsg());
	ck_assert_str_eq(host_of(&to, text, sizeof text), want_to);
	ck_assert_int_eq(nw_local_port(server), port);
	ck_assert_int_eq(ntohs(to.ss_family == AF_INET ? ((struct sockaddr_in *)&to)->sin_port
						       : ((struct sockaddr_in6 *)&to)->sin6_port), port);
	ck_assert_int_eq(ifindex, (int)if_nametoindex("lo"));

	/* The bug this call exists for: routing picks 127.0.0.1, the client drops it. */
	ck_assert_int_eq(nw_sendto(server, "plain", 5, (struct sockaddr *)&from, fromlen), 5);
	errno = 0;
	ck_assert_int_eq(recv(client, buf, sizeof buf, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);

	ck_assert_int_eq(nw_sendto_from(server, "pong", 4, (struct sockaddr *)&from, fromlen,
					(struct sockaddr *)&to, tolen, 0), 4);
	n = recv(client, buf, sizeof buf, 0);
	ck_assert_msg(n == 4, "no reply from 127.0.0.2: %s", strerror(errno));
	ck_assert_int_eq(memcmp(buf, "pong", 4), 0);
	close(client);
	close(server);
}

START_TEST(ipv4_socket_replies_from_the_address_asked)
{
	reply_from_right_address("0.0.0.0", "127.0.0.2");
}
END_TEST

START_TEST(dual_stack_socket_replies_v4_mapped)
{
	if (!tu_have_ipv6())
		return;
	reply_from_right_address(NULL, "::ffff:127.0.0.2");
}
END_TEST

START_TEST(ipv6_loopback_reports_its_address)
{
	int server, client;
	struct sockaddr_storage from, to;
	socklen_t fromlen, tolen;
	char buf[8], port[8], text[INET6_ADDRSTRLEN];
	int ifindex;

	if (!tu_have_ipv6())
		return;
	server = tu_assert_ok(nw_udp_bind("::1", "0"));
	ck_assert_int_eq(nw_set_pktinfo(server, 1), 0);
	client = tu_assert_ok(nw_udp_connect("::1", tu_port_str(server, port)));
	ck_assert_int_eq(nw_set_timeout(client, 5000), 0);
	ck_assert_int_eq(send(client, "six", 3, 0), 3);
	ck_assert_int_eq(nw_recvfrom_to(server, buf, sizeof buf, &from, &fromlen, &to, &tolen,
					&ifindex), 3);
	ck_assert_int_eq(tolen, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(host_of(&to, text, sizeof text), "::1");
	ck_assert_int_eq(nw_sendto_from(server, "SIX", 3, (struct sockaddr *)&from, fromlen,
					(struct sockaddr *)&to, tolen, ifindex), 3);
	ck_assert_int_eq(recv(client, buf, sizeof buf, 0), 3);
	ck_assert_int_eq(memcmp(buf, "SIX", 3), 0);
	close(client);
	close(server);
}
END_TEST

/* Without the option the datagram still arrives; `to` is empty. */
START_TEST(option_off_leaves_to_empty)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int client;
	struct sockaddr_storage to;
	socklen_t tolen = 99;
	char buf[8], port[8];
	int ifindex = 99;

	client = tu_assert_ok(nw_udp_connect("127.0.0.1", tu_port_str(server, port)));
	ck_assert_int_eq(nw_set_pktinfo(server, 1), 0);
	ck_assert_int_eq(nw_set_pktinfo(server, 0), 0);
	ck_assert_int_eq(send(client, "x", 1, 0), 1);
	ck_assert_int_eq(nw_recvfrom_to(server, buf, sizeof buf, NULL, NULL, &to, &tolen,
					&ifindex), 1);
	ck_assert_int_eq(tolen, 0);
	ck_assert_int_eq(ifindex, 0);
	close(client);
	close(server);
}
END_TEST

START_TEST(truncation_is_emsgsize)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int client;
	struct sockaddr_storage from, to;
	socklen_t fromlen, tolen;
	char buf[10], port[8], big[100] = { 0 };
	int ifindex;

	ck_assert_int_eq(nw_set_pktinfo(server, 1), 0);
	client = tu_assert_ok(nw_udp_connect("127.0.0.1", tu_port_str(server, port)));
	ck_assert_int_eq(send(client, big, sizeof big, 0), (ssize_t)sizeof big);
	tu_assert_fails(nw_recvfrom_to(server, buf, sizeof buf, &from, &fromlen, &to, &tolen,
				       &ifindex), EMSGSIZE);
	ck_assert_int_eq(tolen, sizeof(struct sockaddr_in));
	close(client);
	close(server);
}
END_TEST

START_TEST(bad_arguments)
{
	int v4 = tu_assert_ok(nw_udp_socket(AF_INET));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in6 from6 = { .sin6_family = AF_INET6 };
	int sv[2];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A source of the other family would be ignored by the kernel: refused here. */
	tu_assert_fails(nw_sendto_from(v4, "x", 1, (struct sockaddr *)&to, sizeof to,
				       (struct sockaddr *)&from6, sizeof from6, 0), EINVAL);
	tu_assert_fails(nw_sendto_from(v4, "x", 1, (struct sockaddr *)&to, sizeof to, NULL, 0, -1),
			EINVAL);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	tu_assert_fails(nw_set_pktinfo(sv[0], 1), EAFNOSUPPORT);
	tu_assert_fails(nw_set_pktinfo(-1, 1), EBADF);
	close(sv[0]);
	close(sv[1]);
	close(v4);
}
END_TEST

static Suite *pktinfo_suite(void)
{
	Suite *s = suite_create("pktinfo");
	TCase *tc = tcase_create("pktinfo");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ipv4_socket_replies_from_the_address_asked);
	tcase_add_test(tc, dual_stack_socket_replies_v4_mapped);
	tcase_add_test(tc, ipv6_loopback_reports_its_address);
	tcase_add_test(tc, option_off_leaves_to_empty);
	tcase_add_test(tc, truncation_is_emsgsize);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(pktinfo_suite());
}
