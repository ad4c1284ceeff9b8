/*
 * check_dgram.c - nw_resolve, nw_udp_socket, nw_sendto and nw_recvfrom on
 * loopback (and Unix-domain datagram pairs, whose full queues make a
 * sender block on demand).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Resolve a numeric host and port for sendto. */
static socklen_t dest(const char *host, int port, struct sockaddr_storage *ss)
{
	char service[8];
	socklen_t len = 0;

	snprintf(service, sizeof service, "%d", port);
	tu_assert_ok(nw_resolve(host, service, SOCK_DGRAM, ss, &len));
	return len;
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/*
 * One datagram each way between an unconnected client and a bound server,
 * checking that each side learns the other's address.
 */
static void round_trip(const char *host, int family)
{
	int server = tu_assert_ok(nw_udp_bind(host, "0"));
	struct sockaddr_storage to, from, back;
	socklen_t tolen = dest(host, nw_local_port(server), &to);
	socklen_t fromlen = 0, backlen = 0;
	int client = tu_assert_ok(nw_udp_socket(to.ss_family));
	char buf[64], text[NW_ADDRSTRLEN];

	ck_assert_int_eq(to.ss_family, family);
	nw_set_timeout(server, 2000);
	nw_set_timeout(client, 2000);
	ck_assert_int_eq(tu_assert_ok(nw_sendto(client, "ping", 4,
					       (struct sockaddr *)&to, tolen)), 4);
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(server, buf, sizeof buf, &from, &fromlen)), 4);
	ck_assert_mem_eq(buf, "ping", 4);
	ck_assert_int_eq(from.ss_family, family);
	ck_assert_int_eq(port_of(&from), nw_local_port(client));
	ck_assert_ptr_nonnull(nw_addr_str((struct sockaddr *)&from, fromlen, text, sizeof text));
	ck_assert_ptr_nonnull(strstr(text, family == AF_INET ? "127.0.0.1:" : "[::1]:"));

	ck_assert_int_eq(tu_assert_ok(nw_sendto(server, "pong!", 5,
					       (struct sockaddr *)&from, fromlen)), 5);
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(client, buf, sizeof buf, &back, &backlen)), 5);
	ck_assert_mem_eq(buf, "pong!", 5);
	ck_assert_int_eq(backlen, tolen);
	ck_assert_mem_eq(&back, &to, tolen);
	close(client);
	close(server);
}

START_TEST(round_trip_ipv4_reports_sender)
{
	round_trip("127.0.0.1", AF_INET);
}
END_TEST

START_TEST(round_trip_ipv6_reports_sender)
{
	if (!tu_have_ipv6()) {
		fprintf(stderr, "round_trip_ipv6_reports_sender: no ::1 here, not run\n");
		return;
	}
	round_trip("::1", AF_INET6);
}
END_TEST

START_TEST(zero_length_datagram_is_zero)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	struct sockaddr_storage to;
	socklen_t tolen = dest("127.0.0.1", nw_local_port(server), &to);
	int client = tu_assert_ok(nw_udp_socket(AF_INET));
	char buf[8];

	ck_assert_int_eq(tu_assert_ok(nw_sendto(client, NULL, 0, (struct sockaddr *)&to, tolen)), 0);
	nw_set_timeout(server, 2000);
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(server, buf, sizeof buf, NULL, NULL)), 0);
	close(client);
	close(server);
}
END_TEST

START_TEST(truncated_datagram_is_emsgsize)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	struct sockaddr_storage to, from;
	socklen_t tolen = dest("127.0.0.1", nw_local_port(server), &to), fromlen = 0;
	int client = tu_assert_ok(nw_udp_socket(AF_INET));
	char big[100], buf[100];

	tu_fill_random(big, sizeof big, 7);
	nw_set_timeout(server, 2000);
	tu_assert_ok(nw_sendto(client, big, sizeof big, (struct sockaddr *)&to, tolen));
	tu_assert_ok(nw_sendto(client, "next", 4, (struct sockaddr *)&to, tolen));

	memset(buf, 0, sizeof buf);
	tu_assert_fails(nw_recvfrom(server, buf, 10, &from, &fromlen), EMSGSIZE);
	/* What fit is there, and so is the sender, so a server can complain. */
	ck_assert_mem_eq(buf, big, 10);
	ck_assert_int_eq(buf[10], 0);
	ck_assert_int_eq(port_of(&from), nw_local_port(client));
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "truncated"));
	/* The cut datagram is gone; the next one arrives whole. */
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(server, buf, sizeof buf, NULL, NULL)), 4);
	ck_assert_mem_eq(buf, "next", 4);
	close(client);
	close(server);
}
END_TEST

static volatile sig_atomic_t alarms;

static void count_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM every 20 ms, without SA_RESTART, so blocked calls see EINTR. */
static void start_interrupting(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = count_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	alarms = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_interrupting(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
}

/* A child that sends one datagram to port after delay_ms. */
static pid_t send_later(int port, int delay_ms)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
		usleep((useconds_t)delay_ms * 1000);
		sendto(fd, "late", 4, 0, (struct sockaddr *)&sin, sizeof sin);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(recvfrom_retries_eintr)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	pid_t pid = send_later(nw_local_port(server), 300);
	char buf[16];
	ssize_t n;

	start_interrupting();
	n = nw_recvfrom(server, buf, sizeof buf, NULL, NULL);
	stop_interrupting();
	ck_assert_msg(n == 4, "nw_recvfrom: %zd (%s)", n, nw_errmsg());
	ck_assert_mem_eq(buf, "late", 4);
	ck_assert_int_gt(alarms, 1);
	reap(pid);
	close(server);
}
END_TEST

START_TEST(recvfrom_timeout_is_etimedout)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	char buf[16];
	int64_t start;

	tu_assert_ok(nw_set_timeout(server, 150));
	start = tu_now_ms();
	tu_assert_fails(nw_recvfrom(server, buf, sizeof buf, NULL, NULL), ETIMEDOUT);
	ck_assert_int_ge(tu_now_ms() - start, 140);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_recvfrom("));
	close(server);
}
END_TEST

START_TEST(recvfrom_nonblocking_waits)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	pid_t pid = send_later(nw_local_port(server), 150);
	char buf[16];

	tu_assert_ok(nw_set_nonblock(server, 1));
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(server, buf, sizeof buf, NULL, NULL)), 4);
	reap(pid);
	/* A non-blocking socket honours the timeout too. */
	tu_assert_ok(nw_set_timeout(server, 100));
	tu_assert_fails(nw_recvfrom(server, buf, sizeof buf, NULL, NULL), ETIMEDOUT);
	close(server);
}
END_TEST

/* A Unix-domain datagram pair whose sv[0] cannot send until sv[1] reads. */
static int fill_dgram_pair(int sv[2])
{
	int small = 4096, queued = 0;
	char chunk[512] = { 0 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	while (send(sv[0], chunk, sizeof chunk, MSG_DONTWAIT) == (ssize_t)sizeof chunk)
		queued++;
	ck_assert_int_eq(errno, EAGAIN);
	return queued;
}

/* A child that empties sv[1] after delay_ms. */
static pid_t drain_later(int sv[2], int queued, int delay_ms)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char chunk[512];

		usleep((useconds_t)delay_ms * 1000);
		for (int i = 0; i < queued; i++)
			if (recv(sv[1], chunk, sizeof chunk, 0) < 0)
				_exit(1);
		_exit(0);
	}
	return pid;
}

START_TEST(sendto_retries_eintr)
{
	int sv[2];
	int queued = fill_dgram_pair(sv);
	pid_t pid = drain_later(sv, queued, 300);
	ssize_t n;

	start_interrupting();
	n = nw_sendto(sv[0], "x", 1, NULL, 0);
	stop_interrupting();
	ck_assert_msg(n == 1, "nw_sendto: %zd (%s)", n, nw_errmsg());
	ck_assert_int_gt(alarms, 1);
	reap(pid);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(sendto_nonblocking_waits)
{
	int sv[2];
	int queued = fill_dgram_pair(sv);
	pid_t pid = drain_later(sv, queued, 150);

	tu_assert_ok(nw_set_nonblock(sv[0], 1));
	ck_assert_int_eq(tu_assert_ok(nw_sendto(sv[0], "x", 1, NULL, 0)), 1);
	reap(pid);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(sendto_timeout_is_etimedout)
{
	int sv[2];
	int64_t start;

	fill_dgram_pair(sv);
	tu_assert_ok(nw_set_timeout(sv[0], 150));
	start = tu_now_ms();
	tu_assert_fails(nw_sendto(sv[0], "x", 1, NULL, 0), ETIMEDOUT);
	ck_assert_int_ge(tu_now_ms() - start, 140);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(sendto_closed_stream_is_epipe_not_sigpipe)
{
	int sv[2];

	/* SIGPIPE keeps its default action: raising it would kill this test. */
	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	tu_assert_fails(nw_sendto(sv[0], "x", 1, NULL, 0), EPIPE);
	close(sv[0]);
}
END_TEST

START_TEST(sendto_errors)
{
	struct sockaddr_storage to;
	socklen_t tolen = dest("127.0.0.1", 9, &to);
	int fd = tu_assert_ok(nw_udp_socket(AF_INET));
	static char huge[70000];

	tu_assert_fails(nw_sendto(fd, huge, sizeof huge, (struct sockaddr *)&to, tolen), EMSGSIZE);
	/* The message names the destination. */
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "127.0.0.1:9"));
	tu_assert_fails(nw_sendto(fd, NULL, 4, (struct sockaddr *)&to, tolen), EINVAL);
	tu_assert_fails(nw_sendto(fd, "x", 1, NULL, tolen), EINVAL);
	tu_assert_fails(nw_sendto(fd, "x", 1, NULL, 0), EDESTADDRREQ);
	tu_assert_fails(nw_sendto(-1, "x", 1, (struct sockaddr *)&to, tolen), EBADF);
	close(fd);
}
END_TEST

START_TEST(recvfrom_errors)
{
	char buf[4];

	tu_assert_fails(nw_recvfrom(-1, buf, sizeof buf, NULL, NULL), EBADF);
	tu_assert_fails(nw_recvfrom(0, NULL, 4, NULL, NULL), EINVAL);
	tu_assert_fails(nw_recvfrom(0, buf, (size_t)-1, NULL, NULL), EINVAL);
}
END_TEST

START_TEST(recvfrom_on_stream_keeps_data)
{
	int client, server;
	char buf[8];

	/* A stream socket has no datagrams to cut: every byte still arrives. */
	tu_tcp_pair(&client, &server);
	ck_assert_int_eq(nw_writen(client, "abcdef", 6), 6);
	ck_assert_int_eq(tu_assert_ok(nw_recvfrom(server, buf, 3, NULL, NULL)), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(nw_readn(server, buf, 3), 3);
	ck_assert_mem_eq(buf, "def", 3);
	close(client);
	close(server);
}
END_TEST

START_TEST(resolve_numeric_and_local)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;
	char text[NW_ADDRSTRLEN];

	tu_assert_ok(nw_resolve("127.0.0.1", "8080", SOCK_DGRAM, &ss, &len));
	ck_assert_int_eq(len, sizeof *sin);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&ss, len, text, sizeof text),
			 "127.0.0.1:8080");
	tu_assert_ok(nw_resolve("[::1]", "53", 0, &ss, &len));
	ck_assert_int_eq(len, sizeof *sin6);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&ss, len, text, sizeof text), "[::1]:53");
	tu_assert_ok(nw_resolve("fe80::1%lo", "7", SOCK_DGRAM, &ss, &len));
	ck_assert_uint_eq(sin6->sin6_scope_id, 1);
	tu_assert_ok(nw_resolve("localhost", "domain", SOCK_DGRAM, &ss, NULL));
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_uint_eq(ntohs(sin->sin_port), 53);
}
END_TEST

START_TEST(resolve_errors)
{
	struct sockaddr_storage ss;
	socklen_t len;

	tu_assert_fails(nw_resolve("127.0.0.1", "65536", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("127.0.0.1", "-1", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("127.0.0.1", "", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("127.0.0.1", NULL, SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve(NULL, "53", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("", "53", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("*", "53", SOCK_DGRAM, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("127.0.0.1", "53", SOCK_RAW + 100, &ss, &len), EINVAL);
	tu_assert_fails(nw_resolve("127.0.0.1", "53", SOCK_DGRAM, NULL, &len), EINVAL);
	tu_assert_fails(nw_resolve("no such host", "53", SOCK_DGRAM, &ss, &len), EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_resolve(no such host, 53)"));
	tu_assert_fails(nw_resolve("a..b", "53", SOCK_DGRAM, &ss, &len), EADDRNOTAVAIL);
	tu_assert_fails(nw_resolve("127.0.0.1", "no-such-service", SOCK_DGRAM, &ss, &len),
			EADDRNOTAVAIL);
}
END_TEST

START_TEST(udp_socket_family_and_cloexec)
{
	int fd4 = tu_assert_ok(nw_udp_socket(AF_INET));
	int fd6, family, type;
	socklen_t len = sizeof family;

	ck_assert(tu_cloexec(fd4));
	ck_assert_int_eq(getsockopt(fd4, SOL_SOCKET, SO_DOMAIN, &family, &len), 0);
	ck_assert_int_eq(family, AF_INET);
	len = sizeof type;
	ck_assert_int_eq(getsockopt(fd4, SOL_SOCKET, SO_TYPE, &type, &len), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	close(fd4);
	if (tu_have_ipv6()) {
		fd6 = tu_assert_ok(nw_udp_socket(AF_INET6));
		len = sizeof family;
		ck_assert_int_eq(getsockopt(fd6, SOL_SOCKET, SO_DOMAIN, &family, &len), 0);
		ck_assert_int_eq(family, AF_INET6);
		ck_assert(tu_cloexec(fd6));
		close(fd6);
	}
	tu_assert_fails(nw_udp_socket(AF_UNIX), EAFNOSUPPORT);
	tu_assert_fails(nw_udp_socket(AF_UNSPEC), EAFNOSUPPORT);
}
END_TEST

START_TEST(failing_calls_leak_no_descriptor)
{
	int before = tu_count_fds();
	struct sockaddr_storage ss;
	char buf[4];

	for (int i = 0; i < 200; i++) {
		nw_resolve("no such host", "53", SOCK_DGRAM, &ss, NULL);
		nw_resolve("127.0.0.1", "99999", SOCK_DGRAM, &ss, NULL);
		nw_udp_socket(AF_UNIX);
		nw_recvfrom(-1, buf, sizeof buf, NULL, NULL);
	}
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

static Suite *dgram_suite(void)
{
	Suite *s = suite_create("dgram");
	TCase *io = tcase_create("sendto_recvfrom");
	TCase *res = tcase_create("resolve_socket");

	tcase_set_timeout(io, 10);
	tcase_add_test(io, round_trip_ipv4_reports_sender);
	tcase_add_test(io, round_trip_ipv6_reports_sender);
	tcase_add_test(io, zero_length_datagram_is_zero);
	tcase_add_test(io, truncated_datagram_is_emsgsize);
	tcase_add_test(io, recvfrom_retries_eintr);
	tcase_add_test(io, recvfrom_timeout_is_etimedout);
	tcase_add_test(io, recvfrom_nonblocking_waits);
	tcase_add_test(io, sendto_retries_eintr);
	tcase_add_test(io, sendto_nonblocking_waits);
	tcase_add_test(io, sendto_timeout_is_etimedout);
	tcase_add_test(io, sendto_closed_stream_is_epipe_not_sigpipe);
	tcase_add_test(io, sendto_errors);
	tcase_add_test(io, recvfrom_errors);
	tcase_add_test(io, recvfrom_on_stream_keeps_data);
	suite_add_tcase(s, io);

	tcase_set_timeout(res, 10);
	tcase_add_test(res, resolve_numeric_and_local);
	tcase_add_test(res, resolve_errors);
	tcase_add_test(res, udp_socket_family_and_cloexec);
	tcase_add_test(res, failing_calls_leak_no_descriptor);
	suite_add_tcase(s, res);
	return s;
}

int main(void)
{
	return tu_run(dgram_suite());
}
