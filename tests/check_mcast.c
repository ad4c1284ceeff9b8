/*
 * check_mcast.c - multicast groups and broadcast permission.
 *
 * Runs only inside the network namespace tests/mcast-netns.sh makes: a veth
 * pair nwa (169.254.77.1) <-> nwb (169.254.77.2) and lo.  A sender leaves by
 * nwa, so a member on nwb hears it across the veth link and a member on nwa
 * only through the local copy (IP_MULTICAST_LOOP).  Groups are
 * administratively scoped (239.255/16) or link-local (ff02::/16), TTL 1.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define GROUP4 "239.255.77.1"
#define GROUP6 "ff02::4e57"
#define ADDR_A "169.254.77.1"
#define BCAST "169.254.77.255"

/* A receiver on every address of family, on an ephemeral port. */
static int receiver(int family)
{
	int fd = tu_assert_ok(nw_udp_bind(family == AF_INET ? "0.0.0.0" : "::", "0"));

	tu_assert_ok(nw_set_timeout(fd, 2000));
	return fd;
}

/* A sender whose multicast leaves by ifname, one hop only. */
static int sender(int family, const char *ifname)
{
	int fd = tu_assert_ok(nw_udp_socket(family));

	tu_assert_ok(nw_mcast_set_if(fd, ifname));
	tu_assert_ok(nw_mcast_set_ttl(fd, 1));
	return fd;
}

static void send_text(int fd, const char *host, int port, const char *text)
{
	struct sockaddr_storage to;
	socklen_t tolen;
	char service[8];

	snprintf(service, sizeof service, "%d", port);
	tu_assert_ok(nw_resolve(host, service, SOCK_DGRAM, &to, &tolen));
	tu_assert_ok(nw_sendto(fd, text, strlen(text), (struct sockaddr *)&to, tolen));
}

/* Receive text; the sender's address goes into from. */
static void expect_text(int fd, const char *text, struct sockaddr_storage *from)
{
	char buf[64];
	socklen_t fromlen;
	ssize_t n = nw_recvfrom(fd, buf, sizeof buf, from, &fromlen);

	ck_assert_msg(n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0,
		      "expected \"%s\", got %zd (%s)", text, n, n < 0 ? nw_errmsg() : "other data");
}

static void expect_nothing(int fd)
{
	char buf[64];

	tu_assert_ok(nw_set_timeout(fd, 300));
	tu_assert_fails(nw_recvfrom(fd, buf, sizeof buf, NULL, NULL), ETIMEDOUT);
	tu_assert_ok(nw_set_timeout(fd, 2000));
}

START_TEST(ipv4_join_receive_leave)
{
	int rx = receiver(AF_INET), tx = sender(AF_INET, "nwa");
	int port = nw_local_port(rx);
	struct sockaddr_storage from;
	char text[NW_ADDRSTRLEN];

	tu_assert_ok(nw_mcast_join(rx, GROUP4, "nwb"));
	send_text(tx, GROUP4, port, "one");
	expect_text(rx, "one", &from);
	ck_assert_ptr_nonnull(nw_addr_str((struct sockaddr *)&from, sizeof from, text, sizeof text));
	ck_assert_ptr_nonnull(strstr(text, ADDR_A ":"));

	tu_assert_ok(nw_mcast_leave(rx, GROUP4, "nwb"));
	send_text(tx, GROUP4, port, "two");
	expect_nothing(rx);
	close(tx);
	close(rx);
}
END_TEST

START_TEST(ipv6_join_by_index_receive_leave)
{
	int rx = receiver(AF_INET6), tx = sender(AF_INET6, "nwa");
	int port = nw_local_port(rx);
	unsigned nwb = if_nametoindex("nwb");
	struct sockaddr_storage from;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&from;
	char index[16];

	ck_assert_uint_gt(nwb, 0);
	snprintf(index, sizeof index, "%u", nwb);
	tu_assert_ok(nw_mcast_join(rx, GROUP6, index));
	send_text(tx, GROUP6, port, "one");
	expect_text(rx, "one", &from);
	/* The sender is nwa's link-local address, seen on nwb. */
	ck_assert_int_eq(from.ss_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr));
	ck_assert_uint_eq(sin6->sin6_scope_id, nwb);

	tu_assert_ok(nw_mcast_leave(rx, GROUP6, index));
	send_text(tx, GROUP6, port, "two");
	expect_nothing(rx);
	close(tx);
	close(rx);
}
END_TEST

START_TEST(ipv4_group_on_dual_stack_socket)
{
	int rx = tu_assert_ok(nw_udp_bind("*", "0")), tx = sender(AF_INET, "nwa");
	struct sockaddr_storage from;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&from;

	tu_assert_ok(nw_set_timeout(rx, 2000));
	tu_assert_ok(nw_mcast_join(rx, GROUP4, "nwb"));
	send_text(tx, GROUP4, nw_local_port(rx), "mapped");
	expect_text(rx, "mapped", &from);
	ck_assert_int_eq(from.ss_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
	close(tx);
	close(rx);
}
END_TEST

/* A member on the sending interface hears us only through the local copy. */
static void loop_controls_local_copy(int family, const char *group)
{
	int rx = receiver(family), tx = sender(family, "nwa");
	int port = nw_local_port(rx);

	tu_assert_ok(nw_mcast_join(rx, group, "nwa"));
	tu_assert_ok(nw_mcast_set_loop(tx, 1));
	send_text(tx, group, port, "looped");
	expect_text(rx, "looped", NULL);
	tu_assert_ok(nw_mcast_set_loop(tx, 0));
	send_text(tx, group, port, "not looped");
	expect_nothing(rx);
	close(tx);
	close(rx);
}

START_TEST(loop_off_means_no_local_copy_ipv4)
{
	loop_controls_local_copy(AF_INET, GROUP4);
}
END_TEST

START_TEST(loop_off_means_no_local_copy_ipv6)
{
	loop_controls_local_copy(AF_INET6, GROUP6);
}
END_TEST

/* The TTL or hop limit a datagram arrived with, from the control message. */
static int received_hops(int fd, int level, int type)
{
	char buf[64], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *c;
	int hops = -1;

	ck_assert_int_ge(recvmsg(fd, &msg, 0), 0);
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == level && c->cmsg_type == type)
			memcpy(&hops, CMSG_DATA(c), sizeof hops);
	return hops;
}

static void ttl_reaches_the_wire(int family, const char *group)
{
	int rx = receiver(family), tx = sender(family, "nwa");
	int port = nw_local_port(rx), on = 1;
	int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int ask = family == AF_INET ? IP_RECVTTL : IPV6_RECVHOPLIMIT;
	int type = family == AF_INET ? IP_TTL : IPV6_HOPLIMIT;

	ck_assert_int_eq(setsockopt(rx, level, ask, &on, sizeof on), 0);
	tu_assert_ok(nw_mcast_join(rx, group, "nwb"));
	tu_assert_ok(nw_mcast_set_ttl(tx, 7));
	send_text(tx, group, port, "seven");
	ck_assert_int_eq(received_hops(rx, level, type), 7);
	tu_assert_ok(nw_mcast_set_ttl(tx, 1));
	send_text(tx, group, port, "one");
	ck_assert_int_eq(received_hops(rx, level, type), 1);
	close(tx);
	close(rx);
}

START_TEST(ttl_reaches_the_wire_ipv4)
{
	ttl_reaches_the_wire(AF_INET, GROUP4);
}
END_TEST

START_TEST(hops_reach_the_wire_ipv6)
{
	ttl_reaches_the_wire(AF_INET6, GROUP6);
}
END_TEST

START_TEST(set_if_chooses_the_way_out)
{
	int tx = tu_assert_ok(nw_udp_socket(AF_INET));
	struct sockaddr_storage to;
	socklen_t tolen;

	/* The namespace has no route for multicast: only the option sends it. */
	tu_assert_ok(nw_resolve(GROUP4, "9", SOCK_DGRAM, &to, &tolen));
	tu_assert_fails(nw_sendto(tx, "x", 1, (struct sockaddr *)&to, tolen), ENETUNREACH);
	tu_assert_ok(nw_mcast_set_if(tx, "nwa"));
	tu_assert_ok(nw_mcast_set_ttl(tx, 1));
	ck_assert_int_eq(tu_assert_ok(nw_sendto(tx, "x", 1, (struct sockaddr *)&to, tolen)), 1);
	tu_assert_ok(nw_mcast_set_if(tx, NULL));
	tu_assert_fails(nw_sendto(tx, "x", 1, (struct sockaddr *)&to, tolen), ENETUNREACH);
	close(tx);
}
END_TEST

START_TEST(broadcast_needs_permission)
{
	int rx = receiver(AF_INET), tx = tu_assert_ok(nw_udp_socket(AF_INET));
	struct sockaddr_storage to;
	socklen_t tolen;
	char service[8];

	snprintf(service, sizeof service, "%d", nw_local_port(rx));
	tu_assert_ok(nw_resolve(BCAST, service, SOCK_DGRAM, &to, &tolen));
	tu_assert_fails(nw_sendto(tx, "x", 1, (struct sockaddr *)&to, tolen), EACCES);
	tu_assert_ok(nw_set_broadcast(tx, 1));
	ck_assert_int_eq(tu_assert_ok(nw_sendto(tx, "all", 3, (struct sockaddr *)&to, tolen)), 3);
	expect_text(rx, "all", NULL);
	tu_assert_ok(nw_set_broadcast(tx, 0));
	tu_assert_fails(nw_sendto(tx, "x", 1, (struct sockaddr *)&to, tolen), EACCES);
	close(tx);
	close(rx);
}
END_TEST

START_TEST(membership_errors)
{
	int fd4 = receiver(AF_INET), fd6 = receiver(AF_INET6);
	int sv[2], pipefd[2];

	tu_assert_ok(nw_mcast_join(fd4, GROUP4, "nwb"));
	tu_assert_fails(nw_mcast_join(fd4, GROUP4, "nwb"), EADDRINUSE);
	tu_assert_fails(nw_mcast_leave(fd4, GROUP4, "nwa"), EADDRNOTAVAIL);
	tu_assert_fails(nw_mcast_leave(fd6, GROUP6, "nwa"), EADDRNOTAVAIL);
	/* No multicast route here, so the kernel has no interface to pick. */
	tu_assert_fails(nw_mcast_join(fd4, "239.255.77.2", NULL), ENODEV);
	tu_assert_fails(nw_mcast_join(fd4, "127.0.0.1", "nwb"), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_mcast_join("));
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "127.0.0.1"));
	tu_assert_fails(nw_mcast_join(fd6, "fe80::1", "nwb"), EINVAL);
	tu_assert_fails(nw_mcast_join(fd4, "not.a.group", "nwb"), EINVAL);
	tu_assert_fails(nw_mcast_join(fd4, NULL, "nwb"), EINVAL);
	tu_assert_fails(nw_mcast_join(fd4, GROUP4, ""), EINVAL);
	tu_assert_fails(nw_mcast_join(fd4, GROUP4, "nosuchif0"), ENODEV);
	tu_assert_fails(nw_mcast_join(fd4, GROUP4, "999999"), ENODEV);
	tu_assert_fails(nw_mcast_join(fd4, GROUP4, "an-interface-name-too-long"), ENODEV);
	tu_assert_fails(nw_mcast_join(fd4, GROUP6, "nwb"), EAFNOSUPPORT);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	tu_assert_fails(nw_mcast_join(sv[0], GROUP4, "nwb"), EAFNOSUPPORT);
	ck_assert_int_eq(pipe(pipefd), 0);
	tu_assert_fails(nw_mcast_join(pipefd[0], GROUP4, "nwb"), ENOTSOCK);
	tu_assert_fails(nw_mcast_join(-1, GROUP4, "nwb"), EBADF);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
	close(fd6);
	close(fd4);
}
END_TEST

START_TEST(option_errors)
{
	int fd = tu_assert_ok(nw_udp_socket(AF_INET));

	tu_assert_fails(nw_mcast_set_ttl(fd, 256), EINVAL);
	tu_assert_fails(nw_mcast_set_ttl(fd, -1), EINVAL);
	tu_assert_fails(nw_mcast_set_ttl(-1, 1), EBADF);
	tu_assert_fails(nw_mcast_set_loop(-1, 1), EBADF);
	tu_assert_fails(nw_mcast_set_if(fd, "nosuchif0"), ENODEV);
	tu_assert_fails(nw_mcast_set_if(-1, "nwa"), EBADF);
	tu_assert_fails(nw_set_broadcast(-1, 1), EBADF);
	close(fd);
}
END_TEST

/*
 * Refuse to run outside the namespace mcast-netns.sh made: the tests join
 * groups on interfaces given by name, which belongs in a sandbox.  The
 * wrapper names the namespace; `ip netns add` pinned it at /run/netns/NAME,
 * which must be the very namespace this process is in.
 */
static bool in_private_namespace(void)
{
	const char *name = getenv("NW_MCAST_NETNS");
	char pinned[256];
	struct stat self, made;

	if (name == NULL || strchr(name, '/') != NULL ||
	    snprintf(pinned, sizeof pinned, "/run/netns/%s", name) >= (int)sizeof pinned)
		return false;
	if (stat("/proc/self/ns/net", &self) < 0 || stat(pinned, &made) < 0)
		return false;
	return self.st_ino == made.st_ino && self.st_dev == made.st_dev &&
	       if_nametoindex("nwa") != 0 && if_nametoindex("nwb") != 0;
}

static Suite *mcast_suite(void)
{
	Suite *s = suite_create("mcast");
	TCase *groups = tcase_create("groups");
	TCase *errors = tcase_create("errors");

	tcase_set_timeout(groups, 10);
	tcase_add_test(groups, ipv4_join_receive_leave);
	tcase_add_test(groups, ipv6_join_by_index_receive_leave);
	tcase_add_test(groups, ipv4_group_on_dual_stack_socket);
	tcase_add_test(groups, loop_off_means_no_local_copy_ipv4);
	tcase_add_test(groups, loop_off_means_no_local_copy_ipv6);
	tcase_add_test(groups, ttl_reaches_the_wire_ipv4);
	tcase_add_test(groups, hops_reach_the_wire_ipv6);
	tcase_add_test(groups, set_if_chooses_the_way_out);
	tcase_add_test(groups, broadcast_needs_permission);
	suite_add_tcase(s, groups);

	tcase_set_timeout(errors, 10);
	tcase_add_test(errors, membership_errors);
	tcase_add_test(errors, option_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	if (!in_private_namespace()) {
		fprintf(stderr, "check_mcast: run it through tests/mcast-netns.sh, "
			"which makes the network namespace it needs\n");
		return 77;
	}
	return tu_run(mcast_suite());
}
