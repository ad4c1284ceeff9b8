/*
 * check_sockopts_netns.c - the options that need interfaces of their own.
 * Runs only inside the client namespace tests/sockopts-netns.sh makes (see
 * the picture there); servers are opened in the server namespace, named by
 * NW_SERVER_NETNS, with setns().
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int client_ns = -1, server_ns = -1;

static void open_namespaces(void)
{
	const char *name = getenv("NW_SERVER_NETNS");
	char path[256];

	ck_assert_msg(name != NULL, "run me through tests/sockopts-netns.sh");
	snprintf(path, sizeof path, "/run/netns/%s", name);
	server_ns = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(server_ns >= 0, "%s: %s", path, strerror(errno));
	client_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(client_ns, 0);
}

/* A listener in the server namespace (a socket keeps the namespace it was made in). */
static int server_listen(const char *host)
{
	int fd;

	if (server_ns < 0)
		open_namespaces();
	ck_assert_int_eq(setns(server_ns, CLONE_NEWNET), 0);
	fd = nw_tcp_listen(host, "0", 0);
	ck_assert_int_eq(setns(client_ns, CLONE_NEWNET), 0);
	ck_assert_msg(fd >= 0, "%s", nw_errmsg());
	return fd;
}

/* Run a shell command in the server namespace. */
static void in_server(const char *cmd)
{
	char line[512];

	snprintf(line, sizeof line, "ip netns exec %s sh -c '%s'", getenv("NW_SERVER_NETNS"), cmd);
	ck_assert_msg(system(line) == 0, "failed: %s", line);
}

static void peer_of(int listener, char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s = tu_assert_ok(nw_accept(listener, &ss, &len));

	nw_addr_str((struct sockaddr *)&ss, len, text, NW_ADDRSTRLEN);
	close(s);
}

START_TEST(server_sees_the_source_address)
{
	char port[8], text[NW_ADDRSTRLEN];
	int l4 = server_listen("10.13.1.2"), l6 = server_listen("fd00:13:1::2");
	struct nw_sock_opts o = { .local_host = "10.13.1.11" };
	int c;

	c = tu_assert_ok(nw_tcp_connect_opts("10.13.1.2", tu_port_str(l4, port), 3000, &o, sizeof o));
	peer_of(l4, text);
	ck_assert_msg(strncmp(text, "10.13.1.11:", 11) == 0, "server saw %s", text);
	close(c);
	/* Without the option the kernel picks the interface's primary address. */
	c = tu_assert_ok(nw_tcp_connect("10.13.1.2", port, 3000));
	peer_of(l4, text);
	ck_assert_msg(strncmp(text, "10.13.1.1:", 10) == 0, "server saw %s", text);
	close(c);
	o.local_host = "fd00:13:1::11";
	c = tu_assert_ok(nw_tcp_connect_opts("fd00:13:1::2", tu_port_str(l6, port), 3000, &o, sizeof o));
	peer_of(l6, text);
	ck_assert_msg(strncmp(text, "[fd00:13:1::11]:", 16) == 0, "server saw %s", text);
	close(c);
	close(l4);
	close(l6);
}
END_TEST

START_TEST(a_source_races_only_its_family)
{
	char port[8], text[NW_ADDRSTRLEN];
	int l = server_listen(NULL);	/* dual-stack: the peer shows the family */
	struct nw_sock_opts o = { .local_host = "10.13.1.11" };
	int c;

	tu_port_str(l, port);
	/* "dual" lists its IPv6 address first: a plain connect takes it. */
	c = tu_assert_ok(nw_tcp_connect("dual", port, 3000));
	peer_of(l, text);
	ck_assert_msg(text[0] == '[' && strstr(text, "::ffff:") == NULL, "plain: %s", text);
	close(c);
	c = tu_assert_ok(nw_tcp_connect_opts("dual", port, 3000, &o, sizeof o));
	peer_of(l, text);
	ck_assert_msg(strncmp(text, "[::ffff:10.13.1.11]:", 20) == 0, "v4 source: %s", text);
	close(c);
	o.local_host = "fd00:13:1::11";
	c = tu_assert_ok(nw_tcp_connect_opts("dual", port, 3000, &o, sizeof o));
	peer_of(l, text);
	ck_assert_msg(strncmp(text, "[fd00:13:1::11]:", 16) == 0, "v6 source: %s", text);
	close(c);
	close(l);
}
END_TEST

/* Accept and close at once, until the listener is shut down. */
static void *drain(void *arg)
{
	int l = *(int *)arg;

	for (;;) {
		int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);

		if (s >= 0)
			close(s);
		else if (errno != EINTR && errno != ECONNABORTED)
			return NULL;
	}
}

static void close_now(int fd)
{
	/* A reset, not a FIN: no TIME_WAIT holds the port afterwards. */
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

#define CONNECTS 30000
#define WINDOW 150	/* open connections per server; the range has 200 ports */

START_TEST(address_only_source_does_not_exhaust_ports)
{
	int l[2] = { server_listen("10.13.1.2"), server_listen("10.13.9.1") };
	const char *host[2] = { "10.13.1.2", "10.13.9.1" };
	char port[2][8];
	pthread_t t[2];
	int *open_fds = calloc(2 * WINDOW, sizeof *open_fds);
	struct nw_sock_opts o = { .local_host = "10.13.1.11" };

	ck_assert_ptr_nonnull(open_fds);
	for (int i = 0; i < 2 * WINDOW; i++)
		open_fds[i] = -1;
	for (int k = 0; k < 2; k++) {
		tu_port_str(l[k], port[k]);
		ck_assert_int_eq(pthread_create(&t[k], NULL, drain, &l[k]), 0);
	}
	/*
	 * 300 connections open at a time from one source address, 150 to
	 * each server: with a bind() that picks the port, the 201st finds the
	 * 200-port range used up (EADDRINUSE); with the port picked at
	 * connect() per destination, each server needs only 150.
	 */
	for (int i = 0; i < CONNECTS; i++) {
		int k = i % 2, slot = i % (2 * WINDOW);

		if (open_fds[slot] >= 0)
			close_now(open_fds[slot]);
		open_fds[slot] = nw_tcp_connect_opts(host[k], port[k], 5000, &o, sizeof o);
		ck_assert_msg(open_fds[slot] >= 0, "connect %d of %d: %s", i + 1, CONNECTS,
			      nw_errmsg());
	}
	for (int i = 0; i < 2 * WINDOW; i++)
		close_now(open_fds[i]);
	free(open_fds);
	for (int k = 0; k < 2; k++) {
		shutdown(l[k], SHUT_RDWR);
		pthread_join(t[k], NULL);
		close(l[k]);
	}
}
END_TEST

static long counter(const char *ifname, const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

START_TEST(device_picks_the_interface)
{
	char port[8], text[NW_ADDRSTRLEN];
	int l = server_listen("10.13.9.1");
	struct nw_sock_opts o = { .device = "c1" };
	long before;
	int c;

	tu_port_str(l, port);
	/* Routing alone prefers c0 (metric 10). */
	c = tu_assert_ok(nw_tcp_connect("10.13.9.1", port, 3000));
	peer_of(l, text);
	ck_assert_msg(strncmp(text, "10.13.1.1:", 10) == 0, "plain: %s", text);
	close(c);
	before = counter("c1", "tx_packets");
	c = tu_assert_ok(nw_tcp_connect_opts("10.13.9.1", port, 3000, &o, sizeof o));
	ck_assert_int_eq(nw_writen(c, "0123456789", 10), 10);
	peer_of(l, text);
	ck_assert_msg(strncmp(text, "10.13.2.1:", 10) == 0, "device c1: %s", text);
	/* SYN, ACK and the data at least. */
	ck_assert_int_ge(counter("c1", "tx_packets") - before, 3);
	close(c);
	close(l);

	struct nw_sock_opts missing = { .device = "nw13none" };
	int fds = tu_count_fds();

	tu_assert_fails(nw_tcp_connect_opts("10.13.9.1", port, 3000, &missing, sizeof missing), ENODEV);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option device nw13none"));
	ck_assert_int_eq(tu_count_fds(), fds);
}
END_TEST

START_TEST(user_timeout_ends_a_black_hole)
{
	char port[8], buf[64];
	int l = server_listen("10.13.1.2");
	struct nw_sock_opts o = { .user_timeout_ms = 1500 };
	int c, s;
	int64_t start, took;
	ssize_t n;

	c = tu_assert_ok(nw_tcp_connect_opts("10.13.1.2", tu_port_str(l, port), 3000, &o, sizeof o));
	s = tu_assert_ok(nw_accept(l, NULL, NULL));
	/* From now on the server drops everything: no ACK, no RST, nothing. */
	in_server("nft add table inet nw13 && "
		  "nft add chain inet nw13 in \"{ type filter hook input priority 0; policy drop; }\"");
	start = tu_now_ms();
	ck_assert_int_eq(nw_writen(c, "are you there?", 14), 14);
	n = read(c, buf, sizeof buf);
	took = tu_now_ms() - start;
	ck_assert_msg(n < 0 && errno == ETIMEDOUT, "read: %zd (%s)", n, strerror(errno));
	/* The bound plus 1 s, not the ~15 minutes of tcp_retries2. */
	ck_assert_msg(took <= 1500 + 1000, "took %lld ms", (long long)took);
	ck_assert_msg(took >= 1400, "took only %lld ms", (long long)took);
	in_server("nft delete table inet nw13");
	close(c);
	close(s);
	close(l);
}
END_TEST

static void write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(value, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(wildcard_is_dual_stack_under_bindv6only)
{
	char port[8];
	int l, c;

	/* This namespace's own setting: nothing outside it changes. */
	write_sysctl("/proc/sys/net/ipv6/bindv6only", "1");
	for (int with_opts = 0; with_opts < 2; with_opts++) {
		l = with_opts ? tu_assert_ok(nw_tcp_listen_opts(NULL, "0", 0, NULL, 0))
			      : tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
		tu_port_str(l, port);
		c = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 3000));
		close(c);
		c = tu_assert_ok(nw_tcp_connect("::1", port, 3000));
		close(c);
		close(l);
	}
	/* An IPv6 socket made by hand takes IPv4 no more: the setting is on. */
	struct nw_sock_opts o = { .v6only = 1 };

	l = tu_assert_ok(nw_tcp_listen_opts("::", "0", 0, &o, sizeof o));
	tu_assert_fails(nw_tcp_connect("127.0.0.1", tu_port_str(l, port), 3000), ECONNREFUSED);
	close(l);
	write_sysctl("/proc/sys/net/ipv6/bindv6only", "0");
}
END_TEST

/* The protocol of the socket the library made, before it connects. */
static int record_protocol(int fd, int family, void *arg)
{
	socklen_t len = sizeof(int);

	(void)family;
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, arg, &len);
}

START_TEST(mptcp_falls_back_to_tcp)
{
	int proto = -1;
	struct nw_sock_opts o = { .mptcp = 1, .control = record_protocol, .control_arg = &proto };
	char port[8];
	int l, c, s;

	if (access("/proc/sys/net/mptcp/enabled", F_OK) != 0)
		return;	/* a kernel without MPTCP: check_sockopts covers that */
	for (int enabled = 1; enabled >= 0; enabled--) {
		write_sysctl("/proc/sys/net/mptcp/enabled", enabled ? "1" : "0");
		l = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, &o, sizeof o));
		c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 3000,
						     &o, sizeof o));
		s = tu_assert_ok(nw_accept(l, NULL, NULL));
		ck_assert_int_eq(proto, enabled ? 262 : IPPROTO_TCP);
		ck_assert_int_eq(nw_writen(c, "m", 1), 1);
		ck_assert_int_eq(nw_readn(s, port, 1), 1);
		close(s);
		close(c);
		close(l);
	}
	write_sysctl("/proc/sys/net/mptcp/enabled", "1");
}
END_TEST

static Suite *netns_suite(void)
{
	Suite *s = suite_create("sockopts-netns");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, server_sees_the_source_address);
	tcase_add_test(tc, a_source_races_only_its_family);
	tcase_add_test(tc, address_only_source_does_not_exhaust_ports);
	tcase_add_test(tc, device_picks_the_interface);
	tcase_add_test(tc, user_timeout_ends_a_black_hole);
	tcase_add_test(tc, wildcard_is_dual_stack_under_bindv6only);
	tcase_add_test(tc, mptcp_falls_back_to_tcp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(netns_suite());
}
