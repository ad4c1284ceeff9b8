/*
 * check_tcpinfo.c - nw_tcp_info, nw_tcp_info_by_addr, nw_tcp_state_name
 * and nw_shutdown_write, on real loopback connections.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * Each test runs in a forked child; where it may (root), it moves into a
 * network namespace of its own with just loopback.  Linux keeps TIME_WAIT
 * only while the namespace holds fewer than net.ipv4.tcp_max_tw_buckets
 * of them, and a load test sharing the host's namespace can fill it.
 */
static void private_netns(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return;	/* not allowed: the host's loopback will do */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	ck_assert_int_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

/* The addresses of one end of a connection, to find it after close(). */
struct ends {
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
};

static void ends_of(int fd, struct ends *e)
{
	e->local_len = sizeof e->local;
	e->remote_len = sizeof e->remote;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&e->local, &e->local_len), 0);
	ck_assert_int_eq(getpeername(fd, (struct sockaddr *)&e->remote, &e->remote_len), 0);
}

static enum nw_tcp_state state_of(int fd)
{
	struct nw_tcp_info info;

	tu_assert_ok(nw_tcp_info(fd, &info, sizeof info));
	return info.state;
}

static int lookup(const struct ends *e, struct nw_tcp_info *info)
{
	return nw_tcp_info_by_addr((const struct sockaddr *)&e->local, e->local_len,
				   (const struct sockaddr *)&e->remote, e->remote_len,
				   info, sizeof *info);
}

/* The state found by address; NW_TCP_CLOSED when the kernel has no such connection. */
static enum nw_tcp_state state_by_addr(const struct ends *e)
{
	struct nw_tcp_info info;

	if (lookup(e, &info) < 0) {
		ck_assert_msg(errno == ENOENT, "nw_tcp_info_by_addr: %s", nw_errmsg());
		return NW_TCP_CLOSED;
	}
	return info.state;
}

/* Wait up to 2 s for fd to reach want; transient states come and go on the way. */
static void wait_state(int fd, enum nw_tcp_state want)
{
	enum nw_tcp_state s = NW_TCP_UNKNOWN;

	for (int i = 0; i < 2000 && (s = state_of(fd)) != want; i++)
		tu_sleep_ms(1);
	ck_assert_msg(s == want, "state %s, want %s", nw_tcp_state_name(s), nw_tcp_state_name(want));
}

static void wait_state_by_addr(const struct ends *e, enum nw_tcp_state want)
{
	enum nw_tcp_state s = NW_TCP_UNKNOWN;

	for (int i = 0; i < 2000 && (s = state_by_addr(e)) != want; i++)
		tu_sleep_ms(1);
	ck_assert_msg(s == want, "state %s, want %s%s", nw_tcp_state_name(s), nw_tcp_state_name(want),
		      want == NW_TCP_TIME_WAIT ? " (a full TIME_WAIT table also gives CLOSED:"
		      " see TCPTimeWaitOverflow in /proc/net/netstat)" : "");
}

/* Write into fd until neither the peer's window nor our send buffer takes more. */
static size_t fill(int fd)
{
	static const char chunk[16384];
	size_t total = 0;
	ssize_t n;

	tu_assert_ok(nw_set_nonblock(fd, 1));
	while ((n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL)) > 0)
		total += (size_t)n;
	ck_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
	tu_assert_ok(nw_set_nonblock(fd, 0));
	return total;
}

/* Read until end of file; the byte count. */
static size_t drain(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		total += (size_t)n;
	ck_assert_int_eq(n, 0);
	return total;
}

START_TEST(established_on_both_sides)
{
	struct nw_tcp_info c, s;
	int client, server;

	tu_tcp_pair(&client, &server);
	tu_assert_ok(nw_tcp_info(client, &c, sizeof c));
	tu_assert_ok(nw_tcp_info(server, &s, sizeof s));
	ck_assert_int_eq(c.state, NW_TCP_ESTABLISHED);
	ck_assert_int_eq(s.state, NW_TCP_ESTABLISHED);
	/* The handshake gave the client a round-trip sample. */
	ck_assert_uint_gt(c.rtt_us, 0);
	ck_assert_uint_gt(c.rto_us, 0);
	ck_assert_uint_gt(c.snd_mss, 0);
	ck_assert_uint_gt(c.snd_cwnd, 0);
	ck_assert_uint_eq(c.total_retrans, 0);
	close(client);
	close(server);
}
END_TEST

START_TEST(listener_and_unconnected_socket)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 1));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_eq(state_of(lfd), NW_TCP_LISTEN);
	ck_assert_int_eq(state_of(fd), NW_TCP_CLOSED);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(byte_counters_follow_the_data)
{
	char buf[1000];
	struct nw_tcp_info c, s;
	int client, server;

	tu_tcp_pair(&client, &server);
	tu_fill_random(buf, sizeof buf, 7);
	tu_assert_ok(nw_writen(client, buf, sizeof buf));
	ck_assert_int_eq(nw_readn(server, buf, sizeof buf), (ssize_t)sizeof buf);
	tu_assert_ok(nw_tcp_info(server, &s, sizeof s));
	ck_assert_uint_eq(s.bytes_received, sizeof buf);
	/* The ACK reaches the client a moment after the data reaches the server. */
	for (int i = 0; i < 2000; i++) {
		tu_assert_ok(nw_tcp_info(client, &c, sizeof c));
		if (c.bytes_acked >= sizeof buf)
			break;
		tu_sleep_ms(1);
	}
	ck_assert_uint_ge(c.bytes_acked, sizeof buf);
	close(client);
	close(server);
}
END_TEST

/*
 * With the accept queue full, Linux drops a SYN: the client sits in
 * SYN_SENT until a retransmission (after 1 s) finds room.
 */
START_TEST(syn_sent_then_retransmitted_syn_counts)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 1));
	struct sockaddr_storage to;
	socklen_t len = sizeof to;
	int fds[16], n = 0, fd = -1;
	struct nw_tcp_info info;

	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&to, &len), 0);
	while (n < 16) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd, 0);
		ck_assert(connect(fd, (struct sockaddr *)&to, len) == 0 || errno == EINPROGRESS);
		if (state_of(fd) != NW_TCP_ESTABLISHED)
			break;
		fds[n++] = fd;
	}
	ck_assert_int_eq(state_of(fd), NW_TCP_SYN_SENT);
	close(tu_assert_ok(nw_accept(lfd, NULL, NULL)));
	close(tu_assert_ok(nw_accept(lfd, NULL, NULL)));
	wait_state(fd, NW_TCP_ESTABLISHED);
	tu_assert_ok(nw_tcp_info(fd, &info, sizeof info));
	ck_assert_uint_ge(info.total_retrans, 1);
	close(fd);
	while (n > 0)
		close(fds[--n]);
	close(lfd);
}
END_TEST

START_TEST(shutdown_write_gives_fin_wait_2_and_close_wait)
{
	int client, server;

	tu_tcp_pair(&client, &server);
	tu_assert_ok(nw_shutdown_write(client));
	/* FIN_WAIT_1 lasts until the server's (delayed) ACK of the FIN. */
	wait_state(client, NW_TCP_FIN_WAIT_2);
	wait_state(server, NW_TCP_CLOSE_WAIT);
	close(client);
	close(server);
}
END_TEST

START_TEST(half_close_peer_reads_eof_and_still_sends)
{
	char buf[16];
	int client, server;

	tu_tcp_pair(&client, &server);
	tu_assert_ok(nw_writen(client, "question", 8));
	tu_assert_ok(nw_shutdown_write(client));
	ck_assert_int_eq(nw_readn(server, buf, sizeof buf), 8);	/* 8, then end of file */
	ck_assert_int_eq(read(server, buf, sizeof buf), 0);
	tu_assert_ok(nw_writen(server, "answer", 6));
	tu_assert_ok(nw_shutdown_write(server));
	ck_assert_int_eq(nw_readn(client, buf, sizeof buf), 6);
	ck_assert_int_eq(memcmp(buf, "answer", 6), 0);
	/* The client's own direction is shut: writing fails, quietly. */
	tu_assert_fails(nw_writen(client, "more", 4), EPIPE);
	close(client);
	close(server);
}
END_TEST

START_TEST(time_wait_on_the_side_that_closed_first)
{
	struct ends c, s;
	int client, server;

	tu_tcp_pair(&client, &server);
	ends_of(client, &c);
	ends_of(server, &s);
	close(client);
	wait_state(server, NW_TCP_CLOSE_WAIT);
	wait_state_by_addr(&c, NW_TCP_FIN_WAIT_2);	/* an orphan now */
	close(server);
	wait_state_by_addr(&c, NW_TCP_TIME_WAIT);
	wait_state_by_addr(&s, NW_TCP_CLOSED);
}
END_TEST

START_TEST(time_wait_after_half_close_on_both_sides)
{
	struct ends c;
	int client, server;

	tu_tcp_pair(&client, &server);
	ends_of(client, &c);
	tu_assert_ok(nw_shutdown_write(client));
	wait_state(server, NW_TCP_CLOSE_WAIT);
	tu_assert_ok(nw_shutdown_write(server));
	/* The descriptor says CLOSED: Linux keeps TIME_WAIT in a socket of its own. */
	wait_state(client, NW_TCP_CLOSED);
	wait_state(server, NW_TCP_CLOSED);
	ck_assert_int_eq(state_by_addr(&c), NW_TCP_TIME_WAIT);
	close(client);
	close(server);
	ck_assert_int_eq(state_by_addr(&c), NW_TCP_TIME_WAIT);
}
END_TEST

/* A FIN queued behind data the peer has not read waits with it. */
START_TEST(fin_wait_1_while_fin_waits_behind_data)
{
	int client, server;

	tu_tcp_pair(&client, &server);
	size_t sent = fill(client);
	tu_assert_ok(nw_shutdown_write(client));
	tu_sleep_ms(50);
	ck_assert_int_eq(state_of(client), NW_TCP_FIN_WAIT_1);
	ck_assert_int_eq(state_of(server), NW_TCP_ESTABLISHED);
	ck_assert_uint_eq(drain(server), sent);
	wait_state(client, NW_TCP_FIN_WAIT_2);
	ck_assert_int_eq(state_of(server), NW_TCP_CLOSE_WAIT);
	close(client);
	close(server);
}
END_TEST

START_TEST(last_ack_while_fin_waits_behind_data)
{
	struct ends c, s;
	struct nw_tcp_info info;
	int client, server;

	tu_tcp_pair(&client, &server);
	ends_of(client, &c);
	ends_of(server, &s);
	tu_assert_ok(nw_shutdown_write(client));
	wait_state(server, NW_TCP_CLOSE_WAIT);
	size_t sent = fill(server);
	close(server);
	tu_sleep_ms(50);
	/* No descriptor left on the server's side: only its addresses find it. */
	tu_assert_ok(lookup(&s, &info));
	ck_assert_int_eq(info.state, NW_TCP_LAST_ACK);
	ck_assert_uint_gt(info.notsent_bytes + info.unacked, 0);
	ck_assert_int_eq(state_of(client), NW_TCP_FIN_WAIT_2);
	ck_assert_uint_eq(drain(client), sent);
	wait_state_by_addr(&s, NW_TCP_CLOSED);
	ck_assert_int_eq(state_by_addr(&c), NW_TCP_TIME_WAIT);
	close(client);
}
END_TEST

START_TEST(by_addr_reports_what_the_descriptor_reports)
{
	struct nw_tcp_info by_fd, by_addr;
	struct ends s;
	int client, server;

	tu_tcp_pair(&client, &server);
	ends_of(server, &s);
	tu_assert_ok(nw_tcp_info(server, &by_fd, sizeof by_fd));
	tu_assert_ok(lookup(&s, &by_addr));
	ck_assert_int_eq(by_addr.state, NW_TCP_ESTABLISHED);
	ck_assert_uint_eq(by_addr.snd_mss, by_fd.snd_mss);
	ck_assert_uint_eq(by_addr.rcv_mss, by_fd.rcv_mss);
	ck_assert_uint_gt(by_addr.rtt_us, 0);
	close(client);
	close(server);
}
END_TEST

/*
 * An exact lookup of a connection that is gone falls back, in the kernel,
 * to the listener on the same local port: that must still read as gone.
 */
START_TEST(gone_connection_is_enoent_while_listener_lives)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 1));
	char port[8];
	struct ends s;
	int client = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 5000));
	int server = tu_assert_ok(nw_accept(lfd, NULL, NULL));

	ends_of(server, &s);
	close(client);
	wait_state(server, NW_TCP_CLOSE_WAIT);
	close(server);
	wait_state_by_addr(&s, NW_TCP_CLOSED);	/* not LISTEN */
	close(lfd);
}
END_TEST

START_TEST(dual_stack_v4_mapped_addresses)
{
	int lfd, client, server;
	char port[8];
	struct ends s;

	if (!tu_have_ipv6())
		return;
	lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 1));
	client = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 5000));
	server = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	ends_of(server, &s);
	ck_assert_int_eq(s.local.ss_family, AF_INET6);	/* ::ffff:127.0.0.1 */
	ck_assert_int_eq(state_by_addr(&s), NW_TCP_ESTABLISHED);
	close(client);
	close(server);
	close(lfd);
}
END_TEST

START_TEST(ipv6_connection_by_addr)
{
	int lfd, client, server;
	char port[8];
	struct ends c;

	if (!tu_have_ipv6())
		return;
	lfd = tu_assert_ok(nw_tcp_listen("::1", "0", 1));
	client = tu_assert_ok(nw_tcp_connect("::1", tu_port_str(lfd, port), 5000));
	server = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	ends_of(client, &c);
	ck_assert_int_eq(state_by_addr(&c), NW_TCP_ESTABLISHED);
	close(client);
	close(server);
	wait_state_by_addr(&c, NW_TCP_TIME_WAIT);
	close(lfd);
}
END_TEST

START_TEST(struct_size_contract)
{
	unsigned char big[sizeof(struct nw_tcp_info) + 32];
	unsigned char small[sizeof(struct nw_tcp_info)];
	size_t prefix = offsetof(struct nw_tcp_info, rttvar_us);
	struct nw_tcp_info info;
	int client, server;

	tu_tcp_pair(&client, &server);
	/* A caller built against a larger struct gets zeros past ours. */
	memset(big, 0xAA, sizeof big);
	tu_assert_ok(nw_tcp_info(client, (struct nw_tcp_info *)(void *)big, sizeof big));
	for (size_t i = sizeof(struct nw_tcp_info); i < sizeof big; i++)
		ck_assert_uint_eq(big[i], 0);
	memcpy(&info, big, sizeof info);
	ck_assert_int_eq(info.state, NW_TCP_ESTABLISHED);
	/* One built against a smaller struct: nothing past its end is touched. */
	memset(small, 0xAA, sizeof small);
	tu_assert_ok(nw_tcp_info(client, (struct nw_tcp_info *)(void *)small, prefix));
	for (size_t i = prefix; i < sizeof small; i++)
		ck_assert_uint_eq(small[i], 0xAA);
	memcpy(&info, small, prefix);
	ck_assert_int_eq(info.state, NW_TCP_ESTABLISHED);
	ck_assert_uint_gt(info.rtt_us, 0);
	close(client);
	close(server);
}
END_TEST

START_TEST(state_names)
{
	static const char *const want[] = {
		"UNKNOWN", "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
		"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
	};

	for (int s = NW_TCP_UNKNOWN; s <= NW_TCP_TIME_WAIT; s++)
		ck_assert_str_eq(nw_tcp_state_name((enum nw_tcp_state)s), want[s]);
	ck_assert_str_eq(nw_tcp_state_name((enum nw_tcp_state)99), "UNKNOWN");
	ck_assert_str_eq(nw_tcp_state_name((enum nw_tcp_state)-1), "UNKNOWN");
}
END_TEST

START_TEST(tcp_info_errors)
{
	struct nw_tcp_info info;
	int p[2], udp, client, server;

	tu_assert_fails(nw_tcp_info(-1, &info, sizeof info), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_info(-1)"));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	tu_assert_fails(nw_tcp_info(p[0], &info, sizeof info), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	udp = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	tu_assert_fails(nw_tcp_info(udp, &info, sizeof info), EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "not a TCP socket"));
	close(udp);
	tu_tcp_pair(&client, &server);
	tu_assert_fails(nw_tcp_info(client, NULL, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info(client, &info, 0), EINVAL);
	tu_assert_fails(nw_tcp_info(client, &info, sizeof info.state - 1), EINVAL);
	close(client);
	close(server);
}
END_TEST

START_TEST(by_addr_errors)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(2) };
	struct sockaddr_in6 b6 = { .sin6_family = AF_INET6, .sin6_port = htons(2) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct nw_tcp_info info;
	const struct sockaddr *sa = (struct sockaddr *)&a, *sb = (struct sockaddr *)&b;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
	tu_assert_fails(nw_tcp_info_by_addr(NULL, 0, sb, sizeof b, &info, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, NULL, 0, &info, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, sb, sizeof b, NULL, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, sb, 4, &info, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, (struct sockaddr *)&b6, sizeof b6,
					    &info, sizeof info), EINVAL);
	tu_assert_fails(nw_tcp_info_by_addr((struct sockaddr *)&un, sizeof un, sb, sizeof b,
					    &info, sizeof info), EAFNOSUPPORT);
	b.sin_port = 0;
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, sb, sizeof b, &info, sizeof info), EINVAL);
	b.sin_port = htons(2);
	/* Nothing connects 127.0.0.1:1 with 127.0.0.1:2. */
	tu_assert_fails(nw_tcp_info_by_addr(sa, sizeof a, sb, sizeof b, &info, sizeof info), ENOENT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_info_by_addr(127.0.0.1:1, 127.0.0.1:2)"));
}
END_TEST

START_TEST(failed_lookups_leak_no_descriptor)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(2) };
	struct nw_tcp_info info;
	int before = tu_count_fds();

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
	for (int i = 0; i < 300; i++)
		tu_assert_fails(nw_tcp_info_by_addr((struct sockaddr *)&a, sizeof a,
						    (struct sockaddr *)&b, sizeof b,
						    &info, sizeof info), ENOENT);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

START_TEST(shutdown_write_errors)
{
	int p[2], fd;

	tu_assert_fails(nw_shutdown_write(-1), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_shutdown_write(-1)"));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	tu_assert_fails(nw_shutdown_write(p[1]), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	tu_assert_fails(nw_shutdown_write(fd), ENOTCONN);
	close(fd);
}
END_TEST

static Suite *tcpinfo_suite(void)
{
	Suite *s = suite_create("tcpinfo");
	TCase *states = tcase_create("states");
	TCase *lookup = tcase_create("lookup");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(states, private_netns, NULL);
	tcase_set_timeout(states, 10);
	tcase_add_test(states, established_on_both_sides);
	tcase_add_test(states, listener_and_unconnected_socket);
	tcase_add_test(states, byte_counters_follow_the_data);
	tcase_add_test(states, syn_sent_then_retransmitted_syn_counts);
	tcase_add_test(states, shutdown_write_gives_fin_wait_2_and_close_wait);
	tcase_add_test(states, half_close_peer_reads_eof_and_still_sends);
	tcase_add_test(states, time_wait_on_the_side_that_closed_first);
	tcase_add_test(states, time_wait_after_half_close_on_both_sides);
	tcase_add_test(states, fin_wait_1_while_fin_waits_behind_data);
	tcase_add_test(states, last_ack_while_fin_waits_behind_data);
	suite_add_tcase(s, states);

	tcase_add_checked_fixture(lookup, private_netns, NULL);
	tcase_set_timeout(lookup, 10);
	tcase_add_test(lookup, by_addr_reports_what_the_descriptor_reports);
	tcase_add_test(lookup, gone_connection_is_enoent_while_listener_lives);
	tcase_add_test(lookup, dual_stack_v4_mapped_addresses);
	tcase_add_test(lookup, ipv6_connection_by_addr);
	suite_add_tcase(s, lookup);

	tcase_set_timeout(errors, 10);
	tcase_add_test(errors, struct_size_contract);
	tcase_add_test(errors, state_names);
	tcase_add_test(errors, tcp_info_errors);
	tcase_add_test(errors, by_addr_errors);
	tcase_add_test(errors, failed_lookups_leak_no_descriptor);
	tcase_add_test(errors, shutdown_write_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return tu_run(tcpinfo_suite());
}
