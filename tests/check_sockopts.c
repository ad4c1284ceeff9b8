/*
 * check_sockopts.c - struct nw_sock_opts and the *_opts calls on loopback:
 * each option reaches the socket, bad values fail naming the option and
 * leak nothing, SO_REUSEPORT shares a port, a source address is used, the
 * Unix socket file's mode keeps other users out; nw_tcp_set_user_timeout;
 * nw_addr_parse, nw_addr_unmap, nw_addr_equal.
 * What needs interfaces of its own is in check_sockopts_netns.c.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

static int int_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

START_TEST(zero_options_are_the_plain_calls)
{
	struct nw_sock_opts o;
	char port[8];
	int l, c, s;

	memset(&o, 0, sizeof o);
	l = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, NULL, 0));
	ck_assert(tu_cloexec(l));
	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000, &o, sizeof o));
	ck_assert(tu_cloexec(c));
	/* Blocking, like nw_tcp_connect's. */
	ck_assert(!(fcntl(c, F_GETFL) & O_NONBLOCK));
	s = tu_assert_ok(nw_accept(l, NULL, NULL));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
	close(s);
	close(c);
	close(l);
	l = tu_assert_ok(nw_udp_bind_opts("127.0.0.1", "0", &o, sizeof o));
	c = tu_assert_ok(nw_udp_connect_opts("127.0.0.1", tu_port_str(l, port), NULL, 0));
	ck_assert(tu_cloexec(l) && tu_cloexec(c));
	close(c);
	close(l);
}
END_TEST

START_TEST(options_reach_the_socket)
{
	struct nw_sock_opts o = {
		.reuseport = 1, .rcvbuf = 65536, .sndbuf = 65536, .nodelay = 1,
		.keepalive_idle_s = 7, .keepalive_interval_s = 3, .keepalive_count = 4,
		.user_timeout_ms = 4321, .fastopen_queue = 5,
	};
	char port[8];
	int l, c, s;

	l = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, &o, sizeof o));
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_REUSEPORT), 1);
	/* The kernel doubles the size for its bookkeeping. */
	ck_assert_int_ge(int_opt(l, SOL_SOCKET, SO_RCVBUF), 65536);
	ck_assert_int_lt(int_opt(l, SOL_SOCKET, SO_RCVBUF), 4 * 65536);
	ck_assert_int_eq(int_opt(l, IPPROTO_TCP, TCP_FASTOPEN), 5);
	ck_assert_int_eq(int_opt(l, IPPROTO_TCP, TCP_USER_TIMEOUT), 4321);

	struct nw_sock_opts d = {
		.nodelay = 1, .keepalive_idle_s = 7, .keepalive_interval_s = 3,
		.keepalive_count = 4, .user_timeout_ms = 1234, .fastopen_connect = 1,
		.sndbuf = 32768,
	};

	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000, &d, sizeof d));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 1);
	ck_assert_int_eq(int_opt(c, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPIDLE), 7);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPINTVL), 3);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_KEEPCNT), 4);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 1234);
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_FASTOPEN_CONNECT), 1);
	ck_assert_int_ge(int_opt(c, SOL_SOCKET, SO_SNDBUF), 32768);
	ck_assert_int_lt(int_opt(c, SOL_SOCKET, SO_SNDBUF), 4 * 32768);
	/* Data still flows with TCP_FASTOPEN_CONNECT (the SYN may carry it). */
	ck_assert_int_eq(nw_writen(c, "hi", 2), 2);
	s = tu_assert_ok(nw_accept(l, NULL, NULL));
	char buf[2];

	ck_assert_int_eq(nw_readn(s, buf, 2), 2);
	close(s);
	close(c);
	close(l);

	struct nw_sock_opts u = { .reuseport = 1, .rcvbuf = 100000 };

	l = tu_assert_ok(nw_udp_bind_opts("127.0.0.1", "0", &u, sizeof u));
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_REUSEPORT), 1);
	ck_assert_int_ge(int_opt(l, SOL_SOCKET, SO_RCVBUF), 100000);
	close(l);
}
END_TEST

START_TEST(user_timeout_setter)
{
	int c, s;

	tu_tcp_pair(&c, &s);
	tu_assert_ok(nw_tcp_set_user_timeout(c, 2500));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 2500);
	tu_assert_ok(nw_tcp_set_user_timeout(c, 0));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	tu_assert_fails(nw_tcp_set_user_timeout(c, -1), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_set_user_timeout("));
	tu_assert_fails(nw_tcp_set_user_timeout(-1, 10), EBADF);
	close(c);
	close(s);
}
END_TEST

/* The control hook: what it saw, and what it answers. */
struct hook_log {
	int calls;
	int family;
	int bound_port;	/* the socket's port when the hook ran: 0 before bind() */
	int fail_with;	/* non-zero: fail with this errno */
};

static int hook(int fd, int family, void *arg)
{
	struct hook_log *log = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	log->calls++;
	log->family = family;
	log->bound_port = -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && family != AF_UNIX)
		log->bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (family == AF_UNIX)
		log->bound_port = len > sizeof(sa_family_t);	/* a name: bound */
	if (log->fail_with) {
		errno = log->fail_with;
		return -1;
	}
	return 0;
}

START_TEST(control_hook_runs_before_bind)
{
	struct hook_log log = { 0 };
	struct nw_sock_opts o = { .control = hook, .control_arg = &log };
	char port[8], path[108];
	int l, c;

	l = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, &o, sizeof o));
	ck_assert_int_eq(log.calls, 1);
	ck_assert_int_eq(log.family, AF_INET);
	ck_assert_int_eq(log.bound_port, 0);
	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000, &o, sizeof o));
	ck_assert_int_eq(log.calls, 2);
	close(c);
	c = tu_assert_ok(nw_udp_connect_opts("127.0.0.1", port, &o, sizeof o));
	ck_assert_int_eq(log.calls, 3);
	close(c);
	c = tu_assert_ok(nw_udp_bind_opts("127.0.0.1", "0", &o, sizeof o));
	ck_assert_int_eq(log.calls, 4);
	ck_assert_int_eq(log.bound_port, 0);
	close(c);
	tu_temp_path(path, sizeof path, "hook.sock");
	c = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));
	ck_assert_int_eq(log.calls, 5);
	ck_assert_int_eq(log.family, AF_UNIX);
	ck_assert_int_eq(log.bound_port, 0);
	close(c);
	unlink(path);
	close(l);
}
END_TEST

enum call { LISTEN, CONNECT, UDP_BIND, UDP_CONNECT, UNIX_LISTEN };

struct bad {
	enum call call;
	struct nw_sock_opts o;
	int err;		/* expected errno; 0: EINVAL, or EPERM without root */
	const char *name;	/* what the message must name */
};

static struct hook_log refusing = { .fail_with = EACCES };

static const struct bad bad_options[] = {
	{ CONNECT, { .device = "" }, EINVAL, "option device" },
	{ CONNECT, { .device = "a-name-much-too-long-for-linux" }, EINVAL, "option device" },
	{ LISTEN, { .v6only = 2 }, EINVAL, "option v6only" },
	{ CONNECT, { .keepalive_idle_s = -1 }, EINVAL, "option keepalive" },
	{ CONNECT, { .keepalive_count = -3 }, EINVAL, "option keepalive" },
	/* The kernel's own limit (MAX_TCP_KEEPIDLE 32767 s): its errno. */
	{ CONNECT, { .keepalive_idle_s = 40000 }, EINVAL, "option keepalive" },
	{ CONNECT, { .user_timeout_ms = -1 }, EINVAL, "option user_timeout_ms" },
	{ LISTEN, { .rcvbuf = -1 }, EINVAL, "option rcvbuf" },
	{ UDP_BIND, { .sndbuf = -1 }, EINVAL, "option sndbuf" },
	{ LISTEN, { .fastopen_queue = -1 }, EINVAL, "option fastopen_queue" },
	{ UNIX_LISTEN, { .unix_mode = 010000 }, EINVAL, "option unix_mode" },
	{ UNIX_LISTEN, { .unix_owner = "no-such-user-nw13" }, EINVAL, "option unix_owner" },
	{ UNIX_LISTEN, { .unix_group = "no-such-group-nw13" }, EINVAL, "option unix_group" },
	{ CONNECT, { .local_host = "" }, EINVAL, "option local_host" },
	/* Not an address of this host: bind() refuses, nothing is sent. */
	{ CONNECT, { .local_host = "192.0.2.1" }, EADDRNOTAVAIL, "option local_host" },
	{ UDP_CONNECT, { .local_host = "192.0.2.1" }, EADDRNOTAVAIL, "option local_host" },
	{ CONNECT, { .local_host = "::1" }, EAFNOSUPPORT, "source's family" },
	{ CONNECT, { .control = hook, .control_arg = &refusing }, EACCES, "option control" },
	{ LISTEN, { .control = hook, .control_arg = &refusing }, EACCES, "option control" },
	{ UNIX_LISTEN, { .control = hook, .control_arg = &refusing }, EACCES, "option control" },
	/* Options of another kind of socket. */
	{ LISTEN, { .local_host = "127.0.0.1" }, EINVAL, "option local_host" },
	{ UDP_BIND, { .local_service = "9" }, EINVAL, "option local_service" },
	{ CONNECT, { .reuseport = 1 }, EINVAL, "option reuseport" },
	{ CONNECT, { .fastopen_queue = 3 }, EINVAL, "option fastopen_queue" },
	{ LISTEN, { .fastopen_connect = 1 }, EINVAL, "option fastopen_connect" },
	{ UDP_CONNECT, { .nodelay = 1 }, EINVAL, "option nodelay" },
	{ UDP_BIND, { .user_timeout_ms = 5 }, EINVAL, "option user_timeout_ms" },
	{ LISTEN, { .unix_mode = 0600 }, EINVAL, "option unix_mode" },
	{ UNIX_LISTEN, { .device = "lo" }, EINVAL, "option device" },
	{ UNIX_LISTEN, { .nodelay = 1 }, EINVAL, "option nodelay" },
	{ UNIX_LISTEN, { .mark = 1 }, EINVAL, "option mark" },
};

static int call_with(enum call call, const char *port, const char *path,
		     const struct nw_sock_opts *o, size_t size)
{
	switch (call) {
	case LISTEN:
		return nw_tcp_listen_opts("127.0.0.1", "0", 0, o, size);
	case CONNECT:
		return nw_tcp_connect_opts("127.0.0.1", port, 2000, o, size);
	case UDP_BIND:
		return nw_udp_bind_opts("127.0.0.1", "0", o, size);
	case UDP_CONNECT:
		return nw_udp_connect_opts("127.0.0.1", port, o, size);
	case UNIX_LISTEN:
		return nw_unix_listen_opts(path, 0, o, size);
	}
	return -1;
}

START_TEST(bad_options_fail_naming_the_option)
{
	char port[8], path[108];
	int l = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	const struct bad *b = &bad_options[_i];
	int before = tu_count_fds();
	struct stat st;

	tu_port_str(l, port);
	tu_temp_path(path, sizeof path, "bad.sock");
	errno = 0;
	int rc = call_with(b->call, port, path, &b->o, sizeof b->o);
	int err = errno;

	ck_assert_msg(rc == -1 && err == b->err, "case %d: got %d / %s (%s)", _i, rc,
		      strerror(err), nw_errmsg());
	ck_assert_msg(strstr(nw_errmsg(), b->name) != NULL, "case %d: message \"%s\" lacks \"%s\"",
		      _i, nw_errmsg(), b->name);
	ck_assert_int_eq(tu_count_fds(), before);
	/* A failed Unix listener leaves no file behind. */
	ck_assert_int_eq(lstat(path, &st), -1);
	close(l);
}
END_TEST

START_TEST(device_and_mark_need_their_rights)
{
	char port[8];
	int l = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int before = tu_count_fds();
	struct nw_sock_opts dev = { .device = "nw13nosuchdev" };
	struct nw_sock_opts mark = { .mark = 7 };

	tu_port_str(l, port);
	if (geteuid() == 0) {
		tu_assert_fails(nw_tcp_connect_opts("127.0.0.1", port, 2000, &dev, sizeof dev), ENODEV);
		ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option device nw13nosuchdev"));
		tu_assert_fails(nw_udp_bind_opts("127.0.0.1", "0", &dev, sizeof dev), ENODEV);
		ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option device nw13nosuchdev"));
		int c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", port, 2000, &mark, sizeof mark));

		ck_assert_int_eq(int_opt(c, SOL_SOCKET, SO_MARK), 7);
		close(c);
	} else {
		/* Without CAP_NET_RAW/CAP_NET_ADMIN: the kernel's EPERM, named. */
		tu_assert_fails(nw_tcp_connect_opts("127.0.0.1", port, 2000, &mark, sizeof mark), EPERM);
		ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option mark"));
	}
	ck_assert_int_eq(tu_count_fds(), before);
	close(l);
}
END_TEST

START_TEST(struct_size_grows)
{
	/* A caller built against a later, larger struct. */
	struct { struct nw_sock_opts o; char more[16]; } big;
	char port[8];
	int l = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int c;

	memset(&big, 0, sizeof big);
	big.o.nodelay = 1;
	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000,
					     &big.o, sizeof big));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 1);
	close(c);
	/* ... asking for something this library does not know. */
	big.more[9] = 1;
	tu_assert_fails(nw_tcp_connect_opts("127.0.0.1", port, 2000, &big.o, sizeof big), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "struct size"));
	/* An older, shorter struct: the fields it lacks are zero. */
	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", port, 2000, &big.o,
					     offsetof(struct nw_sock_opts, nodelay)));
	ck_assert_int_eq(int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
	close(c);
	/* A size that cuts a field in two is no version of the struct. */
	tu_assert_fails(nw_tcp_connect_opts("127.0.0.1", port, 2000, &big.o, 3), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option struct size: cuts a field in two"));
	close(l);
}
END_TEST

START_TEST(source_address_and_port)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	char port[8], srcport[8], text[NW_ADDRSTRLEN];
	int l = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	struct nw_sock_opts o = { .local_host = "127.0.0.2" };
	int c, s, probe;

	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000, &o, sizeof o));
	s = tu_assert_ok(nw_accept(l, &peer, &plen));
	nw_addr_str((struct sockaddr *)&peer, plen, text, sizeof text);
	ck_assert_msg(strncmp(text, "127.0.0.2:", 10) == 0, "server saw %s", text);
	close(s);
	close(c);

	/* A fixed port too: find a free one, then ask for it. */
	probe = tu_assert_ok(nw_tcp_listen("127.0.0.2", "0", 0));
	tu_port_str(probe, srcport);
	close(probe);
	o.local_service = srcport;
	c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", port, 2000, &o, sizeof o));
	s = tu_assert_ok(nw_accept(l, &peer, &plen));
	nw_addr_str((struct sockaddr *)&peer, plen, text, sizeof text);
	ck_assert_str_eq(text + 10, srcport);
	close(s);
	close(c);

	/* UDP: the datagram comes from the source. */
	int u = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));

	o.local_service = NULL;
	c = tu_assert_ok(nw_udp_connect_opts("127.0.0.1", tu_port_str(u, port), &o, sizeof o));
	ck_assert_int_eq(nw_sendto(c, "x", 1, NULL, 0), 1);
	char b;

	ck_assert_int_eq(nw_recvfrom(u, &b, 1, &peer, &plen), 1);
	nw_addr_str((struct sockaddr *)&peer, plen, text, sizeof text);
	ck_assert_msg(strncmp(text, "127.0.0.2:", 10) == 0, "UDP server saw %s", text);
	close(c);
	close(u);
	close(l);
}
END_TEST

/* A fixed source port is used again while its last connection is in TIME_WAIT. */
START_TEST(fixed_source_port_reconnects)
{
	char port[2][8], srcport[8];
	int l[2] = { tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0)),
		     tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0)) };
	int probe = tu_assert_ok(nw_tcp_listen("127.0.0.3", "0", 0));
	struct nw_sock_opts o = { .local_host = "127.0.0.3", .local_service = srcport };

	tu_port_str(probe, srcport);
	close(probe);
	for (int k = 0; k < 2; k++) {
		int c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l[k], port[k]),
							 2000, &o, sizeof o));
		int s = tu_assert_ok(nw_accept(l[k], NULL, NULL));

		ck_assert_int_eq(nw_local_port(c), atoi(srcport));
		/* The client closes first: its side of the connection waits in TIME_WAIT. */
		close(c);
		tu_assert_closed(s);
		close(s);
	}
	close(l[0]);
	close(l[1]);
}
END_TEST

START_TEST(reuseport_listeners_share_the_load)
{
	struct nw_sock_opts o = { .reuseport = 1 };
	char port[8];
	int a = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, &o, sizeof o));
	int b, counts[2] = { 0, 0 };

	tu_port_str(a, port);
	/* Without the option the port is taken. */
	tu_assert_fails(nw_tcp_listen("127.0.0.1", port, 0), EADDRINUSE);
	b = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", port, 0, &o, sizeof o));
	/* The kernel spreads connections by a hash of their addresses. */
	for (int i = 0; i < 64; i++) {
		int c = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
		struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };

		ck_assert_int_eq(poll(p, 2, 3000), 1);
		int which = (p[1].revents & POLLIN) != 0;
		int s = tu_assert_ok(nw_accept(which ? b : a, NULL, NULL));

		counts[which]++;
		close(s);
		close(c);
	}
	ck_assert_msg(counts[0] > 0 && counts[1] > 0, "a: %d, b: %d", counts[0], counts[1]);
	close(a);
	close(b);
}
END_TEST

START_TEST(v6only_on_and_off)
{
	struct nw_sock_opts on = { .v6only = 1 }, off = { .v6only = -1 };
	char port[8];
	int l, c;

	if (!tu_have_ipv6())
		return;
	l = tu_assert_ok(nw_tcp_listen_opts("::", "0", 0, &on, sizeof on));
	ck_assert_int_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", tu_port_str(l, port), 2000), ECONNREFUSED);
	close(l);
	l = tu_assert_ok(nw_tcp_listen_opts("::", "0", 0, &off, sizeof off));
	ck_assert_int_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	c = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(l, port), 2000));
	close(c);
	close(l);
	/* The default wildcard stays dual-stack. */
	l = tu_assert_ok(nw_tcp_listen_opts(NULL, "0", 0, NULL, 0));
	ck_assert_int_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	close(l);
}
END_TEST

static int record_protocol(int fd, int family, void *arg)
{
	socklen_t len = sizeof(int);

	(void)family;
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, arg, &len);
}

START_TEST(mptcp_or_tcp)
{
	int proto = -1;
	struct nw_sock_opts o = { .mptcp = 1, .control = record_protocol, .control_arg = &proto };
	char port[8];
	int l = tu_assert_ok(nw_tcp_listen_opts("127.0.0.1", "0", 0, &o, sizeof o));
	int c = tu_assert_ok(nw_tcp_connect_opts("127.0.0.1", tu_port_str(l, port), 2000, &o, sizeof o));
	int s = tu_assert_ok(nw_accept(l, NULL, NULL));
	char buf[3];

	/* IPPROTO_MPTCP (262) where the kernel has it, IPPROTO_TCP where not. */
	FILE *f = fopen("/proc/sys/net/mptcp/enabled", "re");
	int enabled = 0;

	if (f) {
		enabled = fgetc(f) == '1';
		fclose(f);
	}
	ck_assert_msg(proto == (enabled ? 262 : IPPROTO_TCP), "protocol %d", proto);
	ck_assert_int_eq(nw_writen(c, "abc", 3), 3);
	ck_assert_int_eq(nw_readn(s, buf, 3), 3);
	close(s);
	close(c);
	close(l);
}
END_TEST

/* Can a process of another user connect to path?  0, or its errno. */
static int connect_as_nobody(const char *path)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(200);
		int fd = nw_unix_connect(path);

		_exit(fd >= 0 ? 0 : errno);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), 200);
	return WEXITSTATUS(status);
}

START_TEST(unix_mode_keeps_others_out)
{
	struct nw_sock_opts o = { .unix_mode = 0600 };
	char path[108], dir[108];
	struct stat st;
	int l;

	tu_temp_path(path, sizeof path, "mode.sock");
	/* Others may reach the directory; only the socket's mode can stop them. */
	strcpy(dir, path);
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(chmod(dir, 0755), 0);
	/* With umask 0 the file would be born 0777: the option must do it all. */
	umask(0);
	l = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	if (geteuid() == 0)
		ck_assert_int_eq(connect_as_nobody(path), EACCES);
	close(l);
	unlink(path);

	/* A mode wider than the umask allows is set exactly too. */
	umask(077);
	o.unix_mode = 0666;
	l = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0666);
	if (geteuid() == 0)
		ck_assert_int_eq(connect_as_nobody(path), 0);
	close(l);
	unlink(path);
}
END_TEST

/*
 * Another user hammers the path with connects while the listener is made
 * again and again with mode 0600 under umask 0: not one may get in.  A
 * mode set after listen() (or a file born 0777 and listening) lets some in.
 */
START_TEST(unix_mode_has_no_window)
{
	struct nw_sock_opts o = { .unix_mode = 0600 };
	char path[108], dir[108];
	int ready[2], status;
	pid_t pid;

	if (geteuid() != 0)
		return;	/* needs another uid */
	tu_temp_path(path, sizeof path, "window.sock");
	strcpy(dir, path);
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(chmod(dir, 0755), 0);
	umask(0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		strcpy(sun.sun_path, path);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		close(ready[0]);
		close(ready[1]);	/* the parent's signal to start */
		for (;;) {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (fd < 0)
				_exit(3);
			if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
				_exit(1);	/* got in */
			close(fd);
		}
	}
	close(ready[1]);
	char c;

	ck_assert_int_eq(read(ready[0], &c, 1), 0);	/* the child is running */
	close(ready[0]);
	for (int i = 0; i < 2000; i++) {
		int l = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));

		close(l);
		unlink(path);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "the other user's client %s", WIFEXITED(status) && WEXITSTATUS(status) == 1
		      ? "got in" : "failed");
}
END_TEST

START_TEST(unix_owner_and_group)
{
	struct nw_sock_opts o = { .unix_mode = 0660, .unix_owner = "65534", .unix_group = "65534" };
	char path[108];
	struct stat st;
	int l;

	if (geteuid() != 0)
		return;	/* only root gives files away */
	tu_temp_path(path, sizeof path, "owner.sock");
	l = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_uid, 65534);
	ck_assert_int_eq(st.st_gid, 65534);
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	close(l);
	unlink(path);
	/* Names work as well as numbers. */
	o.unix_owner = "root";
	o.unix_group = NULL;
	l = tu_assert_ok(nw_unix_listen_opts(path, 0, &o, sizeof o));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_uid, 0);
	close(l);
	unlink(path);
	/* An abstract name has no file to own. */
	tu_assert_fails(nw_unix_listen_opts("@nw13-abstract", 0, &o, sizeof o), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "option unix_mode"));
}
END_TEST

/* Addresses */

static void round_trip(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char back[NW_ADDRSTRLEN];

	ck_assert_msg(nw_addr_parse(text, &ss, &len) == 0, "%s: %s", text, nw_errmsg());
	ck_assert_ptr_nonnull(nw_addr_str((struct sockaddr *)&ss, len, back, sizeof back));
	ck_assert_str_eq(back, text);
}

START_TEST(addr_parse_round_trips)
{
	struct sockaddr_storage ss;
	socklen_t len;

	round_trip("1.2.3.4:80");
	round_trip("0.0.0.0:0");
	round_trip("[::1]:65535");
	round_trip("[fe80::1%lo]:22");
	round_trip("[::ffff:10.0.0.1]:8");
	round_trip("unix:/run/x.sock");
	round_trip("unix:@abstract");
	round_trip("unix:");
	ck_assert_int_eq(nw_addr_parse("[fe80::1%1]:22", &ss, &len), 0);
	ck_assert_int_eq(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 1);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(nw_addr_parse("unix:@a", &ss, &len), 0);
	ck_assert_int_eq(len, sizeof(sa_family_t) + 2);
	ck_assert_int_eq(((struct sockaddr_un *)&ss)->sun_path[0], '\0');
	static const char *const bad[] = {
		"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3:80", "::1:80",
		"[::1]80", "[::1]:", "[1.2.3.4]:80", "[::1%]:80", "[::1%nosuchif0]:80",
		"[::1%0]:80", "localhost:80", "", "unix", "1.2.3.4:080x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_assert_fails(nw_addr_parse(bad[i], &ss, &len), EINVAL);
		ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_addr_parse("));
	}
	tu_assert_fails(nw_addr_parse(NULL, &ss, &len), EINVAL);
}
END_TEST

START_TEST(addr_unmap_and_equal)
{
	struct sockaddr_storage a, b;
	socklen_t alen, blen;

	ck_assert_int_eq(nw_addr_parse("[::ffff:10.1.2.3]:99", &a, &alen), 0);
	ck_assert_int_eq(nw_addr_parse("10.1.2.3:99", &b, &blen), 0);
	/* Mapped and plain are the same host. */
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen, 1), 1);
	ck_assert_int_eq(nw_addr_unmap(&a, &alen), 1);
	ck_assert_int_eq(a.ss_family, AF_INET);
	ck_assert_int_eq(alen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(memcmp(&a, &b, sizeof(struct sockaddr_in)), 0);
	ck_assert_int_eq(nw_addr_unmap(&a, &alen), 0);	/* already plain */
	ck_assert_int_eq(nw_addr_parse("[::1]:99", &a, &alen), 0);
	ck_assert_int_eq(nw_addr_unmap(&a, &alen), 0);
	ck_assert_int_eq(a.ss_family, AF_INET6);

	ck_assert_int_eq(nw_addr_parse("10.1.2.3:100", &a, &alen), 0);
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen, 1), 0);
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen, 0), 1);
	ck_assert_int_eq(nw_addr_parse("[fe80::1%1]:1", &a, &alen), 0);
	ck_assert_int_eq(nw_addr_parse("[fe80::1]:1", &b, &blen), 0);
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen, 1), 0);
	ck_assert_int_eq(nw_addr_parse("unix:/x", &a, &alen), 0);
	ck_assert_int_eq(nw_addr_parse("unix:/x", &b, &blen), 0);
	/* A pathname with or without its NUL counted is the same name. */
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen - 1, 1), 1);
	ck_assert_int_eq(nw_addr_parse("unix:@x", &b, &blen), 0);
	ck_assert_int_eq(nw_addr_equal((struct sockaddr *)&a, alen, (struct sockaddr *)&b, blen, 1), 0);
	tu_assert_fails(nw_addr_equal(NULL, 0, (struct sockaddr *)&b, blen, 1), EINVAL);
	a.ss_family = AF_INET;
	tu_assert_fails(nw_addr_equal((struct sockaddr *)&a, 4, (struct sockaddr *)&b, blen, 1), EINVAL);
	tu_assert_fails(nw_addr_unmap(NULL, &alen), EINVAL);
}
END_TEST

static Suite *sockopts_suite(void)
{
	Suite *s = suite_create("sockopts");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, zero_options_are_the_plain_calls);
	tcase_add_test(tc, options_reach_the_socket);
	tcase_add_test(tc, user_timeout_setter);
	tcase_add_test(tc, control_hook_runs_before_bind);
	tcase_add_loop_test(tc, bad_options_fail_naming_the_option, 0,
			    (int)(sizeof bad_options / sizeof bad_options[0]));
	tcase_add_test(tc, device_and_mark_need_their_rights);
	tcase_add_test(tc, struct_size_grows);
	tcase_add_test(tc, source_address_and_port);
	tcase_add_test(tc, fixed_source_port_reconnects);
	tcase_add_test(tc, reuseport_listeners_share_the_load);
	tcase_add_test(tc, v6only_on_and_off);
	tcase_add_test(tc, mptcp_or_tcp);
	tcase_add_test(tc, unix_mode_keeps_others_out);
	tcase_add_test(tc, unix_mode_has_no_window);
	tcase_add_test(tc, unix_owner_and_group);
	tcase_add_test(tc, addr_parse_round_trips);
	tcase_add_test(tc, addr_unmap_and_equal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(sockopts_suite());
}
