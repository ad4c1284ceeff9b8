/*
 * check_sigmask.c - no public call leaves the calling thread's signal mask
 * changed, on its success path or on its failure path.
 *
 * Some calls change the mask for a moment (SIGPIPE held back around a
 * write(2) to a pipe or a sendfile(2); every signal blocked while a server
 * creates a thread, so the thread starts with them blocked) and must put
 * it back exactly, whatever the call returns.  Each call runs twice, from
 * an empty mask and from one that already blocks SIGPIPE and others, in a
 * fresh fixture of its own.
 *
 * Adding a public function: add one X(...) line to PUBLIC_CALLS below.
 * The suite fails while an exported nw_ function has no line.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

struct fixture {
	int lfd;		/* TCP listener on 127.0.0.1 with one client queued */
	char port[8];
	int c, s;		/* a connected TCP pair; s has lines to read */
	int u[2];		/* a Unix-domain stream pair */
	int dead;		/* a Unix-domain stream socket whose peer closed */
	int p[2];		/* a pipe */
	int dead_pipe;		/* a pipe's write end whose read end is closed */
	int udp;		/* UDP on 127.0.0.1 with one datagram waiting */
	int file;		/* a temporary file with data */
	char dir[64], path[108], fresh_path[108];
	int unix_lfd;		/* listening at path */
	struct sockaddr_storage udp_addr, local, remote, ss;
	socklen_t udp_len, local_len, remote_len, sslen;
	nw_reader *reader;	/* over s */
	const char *line;	/* nw_reader_line's view */
	int *inherited;		/* nw_listen_fds's answer */
	nw_server *events;	/* in_callback's event server */
	int cb_call;		/* which nw_conn call in_callback makes */
	long cb_ok;		/* it did its work: 1 */
	bool cb_mask_kept;	/* and left the loop thread's mask alone */
	struct iovec iov[2];	/* two pieces of buf */
	struct sockaddr_storage to;
	socklen_t tolen;
	int ifindex;
	struct nw_dgram dgram;	/* one datagram: buf, to the UDP socket itself */
	nw_server *server;	/* over lfd */
	struct nw_tcp_info info;
	char buf[256];
	int kept[32];		/* descriptors the calls returned, closed at the end */
	int nkept;
};

static long keep(struct fixture *f, long fd)
{
	ck_assert_int_lt(f->nkept, 32);
	f->kept[f->nkept++] = (int)fd;
	return fd;
}

/* A call that must succeed, or fail with -1 (NULL for pointers). */
#define OK(e) tu_assert_ok(e)
#define FAILS(e) ({ long r_ = (long)(e); \
	ck_assert_msg(r_ == -1, "%s should have failed, returned %ld", #e, r_); r_; })
#define OKPTR(e) ({ __typeof__(e) p_ = (e); \
	ck_assert_msg(p_ != NULL, "%s returned NULL: %s", #e, nw_errmsg()); p_; })
#define FAILSPTR(e) ({ __typeof__(e) p_ = (e); \
	ck_assert_msg(p_ == NULL, "%s should have failed", #e); p_; })
#define KEEP(e) keep(f, OK(e))
#define NONE ((void)0)	/* the call has no failure path */

/* Options for the *_opts calls: one that applies everywhere, one that cannot. */
static const struct nw_sock_opts good_opts = { .rcvbuf = 65536 };
static const struct nw_sock_opts bad_opts = { .device = "nwnosuchif0" };
static const struct nw_sock_opts unix_opts = { .unix_mode = 0600 };

/* The server's handler stops its server: one connection served, then return. */
static void stop_after_one(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	struct fixture *f = arg;

	(void)fd;
	(void)peer;
	(void)peerlen;
	nw_server_stop(f->server);
}

/*
 * The nw_conn calls run only in an event server's callbacks, on its loop
 * thread: in_callback runs one there (on the client queued on lfd) and
 * compares that thread's mask before and after it; the test thread's mask
 * is compared as for every other call.
 */
enum cb_call {
	CB_SEND, CB_SEND_BAD, CB_CLOSE, CB_PEER, CB_FD, CB_ID, CB_DATA, CB_SET_DATA, CB_ARG,
	CB_SERVER, CB_POST
};

static void cb_open(nw_conn *c)
{
	struct fixture *f = nw_conn_arg(c);
	sigset_t before, after;
	long r = 0;

	pthread_sigmask(SIG_BLOCK, NULL, &before);
	switch (f->cb_call) {
	case CB_SEND: r = nw_conn_send(c, "x", 1) == 1; break;
	case CB_SEND_BAD: r = nw_conn_send(c, NULL, 1) == -1; break;
	case CB_CLOSE: r = nw_conn_close(c) == 0; break;
	case CB_PEER: r = nw_conn_peer(c, NULL) != NULL; break;
	case CB_FD: r = nw_conn_fd(c) >= 0; break;
	case CB_ID: r = nw_conn_id(c) != 0; break;
	case CB_DATA: r = nw_conn_data(c) == NULL; break;
	case CB_SET_DATA: nw_conn_set_data(c, f); r = nw_conn_data(c) == f; break;
	case CB_ARG: r = nw_conn_arg(c) == f; break;
	case CB_SERVER: r = nw_conn_server(c) == f->events; break;
	case CB_POST: r = nw_server_post(nw_conn_server(c), nw_conn_id(c), "x", 1, 0) == 0; break;
	}
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	f->cb_ok = r;
	f->cb_mask_kept = true;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&before, sig) != sigismember(&after, sig))
			f->cb_mask_kept = false;
	nw_server_stop(nw_conn_server(c));
}

static size_t cb_data(nw_conn *c, const char *data, size_t len)
{
	(void)c;
	(void)data;
	return len;
}

static const struct nw_conn_ops cb_ops = { .on_open = cb_open, .on_data = cb_data };

static long in_callback(struct fixture *f, enum cb_call call)
{
	f->events = nw_server_new_events(f->lfd, &cb_ops, sizeof cb_ops, f);
	ck_assert_ptr_nonnull(f->events);
	ck_assert_int_eq(nw_server_set_model(f->events, NW_SERVER_EVENT, 1), 0);
	f->cb_call = call;
	f->cb_ok = -1;
	/* A client of its own: a test may run two callbacks. */
	keep(f, tu_assert_ok(nw_tcp_connect("127.0.0.1", f->port, -1)));
	ck_assert_int_eq(nw_server_run(f->events), 0);
	nw_server_free(f->events);
	f->events = NULL;
	ck_assert_msg(f->cb_ok == 1, "the call in the callback (%d) did not do its work", (int)call);
	ck_assert_msg(f->cb_mask_kept, "the call in the callback (%d) changed the loop's mask",
		      (int)call);
	return 0;
}

/* An event server's own calls, outside callbacks. */
static long with_events(struct fixture *f, int set_watermarks)
{
	nw_server *ev = nw_server_new_events(f->lfd, &cb_ops, sizeof cb_ops, f);
	long r;

	ck_assert_ptr_nonnull(ev);
	r = set_watermarks ? nw_server_set_watermarks(ev, 1024, 65536)
			   : nw_server_post(ev, 12345, "x", 1, 0);
	nw_server_free(ev);
	return r;
}

/*
 * Every public call: X(name, a use that succeeds, a use that fails).  The
 * uses see the fixture as f and may keep descriptors with KEEP.
 */
#define PUBLIC_CALLS(X) \
	X(nw_errmsg, OKPTR(nw_errmsg()), NONE) \
	X(nw_tcp_listen, KEEP(nw_tcp_listen("127.0.0.1", "0", 1)), \
	  FAILS(nw_tcp_listen("127.0.0.1", "70000", 1))) \
	X(nw_accept, KEEP(nw_accept(f->lfd, NULL, NULL)), FAILS(nw_accept(f->c, NULL, NULL))) \
	X(nw_tcp_connect, KEEP(nw_tcp_connect("localhost", f->port, 5000)), \
	  FAILS(nw_tcp_connect("127.0.0.1", "70000", 5000))) \
	X(nw_udp_bind, KEEP(nw_udp_bind("127.0.0.1", "0")), FAILS(nw_udp_bind("127.0.0.1", "70000"))) \
	X(nw_udp_connect, KEEP(nw_udp_connect("127.0.0.1", f->port)), \
	  FAILS(nw_udp_connect("127.0.0.1", "70000"))) \
	X(nw_unix_listen, KEEP(nw_unix_listen(f->fresh_path, 0)), FAILS(nw_unix_listen(f->path, 0))) \
	X(nw_unix_connect, KEEP(nw_unix_connect(f->path)), FAILS(nw_unix_connect(f->fresh_path))) \
	X(nw_readn, OK(nw_readn(f->s, f->buf, 4)), FAILS(nw_readn(-1, f->buf, 4))) \
	X(nw_writen, OK(nw_writen(f->p[1], "x", 1)), FAILS(nw_writen(f->dead_pipe, "x", 1))) \
	X(nw_reader_new, nw_reader_free(OKPTR(nw_reader_new(f->s, 0))), FAILSPTR(nw_reader_new(-1, 0))) \
	X(nw_reader_free, nw_reader_free(nw_reader_new(f->s, 0)), nw_reader_free(NULL)) \
	X(nw_readline, OK(nw_readline(f->reader, f->buf, sizeof f->buf)), \
	  FAILS(nw_readline(NULL, f->buf, sizeof f->buf))) \
	X(nw_reader_read, OK(nw_reader_read(f->reader, f->buf, 4)), FAILS(nw_reader_read(NULL, f->buf, 4))) \
	X(nw_reader_line, OK(nw_reader_line(f->reader, &f->line)), FAILS(nw_reader_line(NULL, &f->line))) \
	X(nw_reader_set_max_line, OK(nw_reader_set_max_line(f->reader, 4096)), \
	  FAILS(nw_reader_set_max_line(NULL, 4096))) \
	X(nw_addr_str, OKPTR(nw_addr_str((struct sockaddr *)&f->udp_addr, f->udp_len, f->buf, \
					 sizeof f->buf)), \
	  FAILSPTR(nw_addr_str((struct sockaddr *)&f->udp_addr, f->udp_len, f->buf, 2))) \
	X(nw_local_port, OK(nw_local_port(f->lfd)), FAILS(nw_local_port(-1))) \
	X(nw_set_nonblock, OK(nw_set_nonblock(f->c, 0)), FAILS(nw_set_nonblock(-1, 1))) \
	X(nw_set_nodelay, OK(nw_set_nodelay(f->c, 1)), FAILS(nw_set_nodelay(f->p[0], 1))) \
	X(nw_set_timeout, OK(nw_set_timeout(f->c, 1000)), FAILS(nw_set_timeout(f->p[0], 1000))) \
	X(nw_set_keepalive, OK(nw_set_keepalive(f->c, 60, 10, 3)), \
	  FAILS(nw_set_keepalive(f->c, 60, -1, 3))) \
	X(nw_resolve, OK(nw_resolve("127.0.0.1", "80", SOCK_STREAM, &f->ss, &f->sslen)), \
	  FAILS(nw_resolve("127.0.0.1", "80", -7, &f->ss, &f->sslen))) \
	X(nw_udp_socket, KEEP(nw_udp_socket(AF_INET)), FAILS(nw_udp_socket(AF_UNIX))) \
	X(nw_sendto, OK(nw_sendto(f->udp, "ping", 4, (struct sockaddr *)&f->udp_addr, f->udp_len)), \
	  FAILS(nw_sendto(f->dead, "x", 1, NULL, 0))) \
	X(nw_recvfrom, OK(nw_recvfrom(f->udp, f->buf, sizeof f->buf, &f->ss, &f->sslen)), \
	  FAILS(nw_recvfrom(-1, f->buf, sizeof f->buf, &f->ss, &f->sslen))) \
	X(nw_set_broadcast, OK(nw_set_broadcast(f->udp, 1)), FAILS(nw_set_broadcast(f->p[0], 1))) \
	X(nw_mcast_join, OK(nw_mcast_join(f->udp, "239.255.42.1", "lo")), \
	  FAILS(nw_mcast_join(f->udp, "10.0.0.1", "lo"))) \
	X(nw_mcast_leave, ((void)OK(nw_mcast_join(f->udp, "239.255.42.1", "lo")), \
			   OK(nw_mcast_leave(f->udp, "239.255.42.1", "lo"))), \
	  FAILS(nw_mcast_leave(f->udp, "239.255.42.1", "lo"))) \
	X(nw_mcast_set_if, OK(nw_mcast_set_if(f->udp, "lo")), \
	  FAILS(nw_mcast_set_if(f->udp, "nwnosuchif0"))) \
	X(nw_mcast_set_ttl, OK(nw_mcast_set_ttl(f->udp, 1)), FAILS(nw_mcast_set_ttl(f->udp, 256))) \
	X(nw_mcast_set_loop, OK(nw_mcast_set_loop(f->udp, 1)), FAILS(nw_mcast_set_loop(f->p[0], 1))) \
	X(nw_tcp_info, OK(nw_tcp_info(f->c, &f->info, sizeof f->info)), \
	  FAILS(nw_tcp_info(f->p[0], &f->info, sizeof f->info))) \
	X(nw_tcp_info_by_addr, OK(nw_tcp_info_by_addr((struct sockaddr *)&f->local, f->local_len, \
						      (struct sockaddr *)&f->remote, f->remote_len, \
						      &f->info, sizeof f->info)), \
	  FAILS(nw_tcp_info_by_addr(NULL, 0, NULL, 0, &f->info, sizeof f->info))) \
	X(nw_tcp_state_name, OKPTR(nw_tcp_state_name(NW_TCP_LISTEN)), \
	  OKPTR(nw_tcp_state_name((enum nw_tcp_state)99))) \
	X(nw_shutdown_write, OK(nw_shutdown_write(f->c)), FAILS(nw_shutdown_write(f->p[0]))) \
	X(nw_send_fd, OK(nw_send_fd(f->u[0], f->p[1])), FAILS(nw_send_fd(f->dead, f->p[1]))) \
	X(nw_recv_fd, ((void)OK(nw_send_fd(f->u[0], f->p[1])), KEEP(nw_recv_fd(f->u[1]))), \
	  FAILS(nw_recv_fd(f->c))) \
	X(nw_peer_cred, OK(nw_peer_cred(f->u[0], NULL, NULL, NULL)), \
	  FAILS(nw_peer_cred(f->c, NULL, NULL, NULL))) \
	X(nw_sendfile, OK(nw_sendfile(f->c, f->file, 0, 4)), FAILS(nw_sendfile(f->dead, f->file, 0, 4))) \
	X(nw_tcp_listen_opts, KEEP(nw_tcp_listen_opts("127.0.0.1", "0", 1, &good_opts, sizeof good_opts)), \
	  FAILS(nw_tcp_listen_opts("127.0.0.1", "0", 1, &bad_opts, sizeof bad_opts))) \
	X(nw_tcp_connect_opts, KEEP(nw_tcp_connect_opts("localhost", f->port, 5000, &good_opts, \
						     sizeof good_opts)), \
	  FAILS(nw_tcp_connect_opts("127.0.0.1", f->port, 5000, &bad_opts, sizeof bad_opts))) \
	X(nw_udp_bind_opts, KEEP(nw_udp_bind_opts("127.0.0.1", "0", &good_opts, sizeof good_opts)), \
	  FAILS(nw_udp_bind_opts("127.0.0.1", "0", &bad_opts, sizeof bad_opts))) \
	X(nw_udp_connect_opts, KEEP(nw_udp_connect_opts("127.0.0.1", f->port, &good_opts, \
							sizeof good_opts)), \
	  FAILS(nw_udp_connect_opts("127.0.0.1", f->port, &bad_opts, sizeof bad_opts))) \
	X(nw_unix_listen_opts, KEEP(nw_unix_listen_opts(f->fresh_path, 0, &unix_opts, sizeof unix_opts)), \
	  FAILS(nw_unix_listen_opts(f->path, 0, &unix_opts, sizeof unix_opts))) \
	X(nw_tcp_set_user_timeout, OK(nw_tcp_set_user_timeout(f->c, 1000)), \
	  FAILS(nw_tcp_set_user_timeout(f->p[0], 1000))) \
	X(nw_listen_fds, (OK(nw_listen_fds(&f->inherited, NULL)), free(f->inherited)), \
	  FAILS(nw_listen_fds(NULL, NULL))) \
	X(nw_addr_parse, OK(nw_addr_parse("[::1]:80", &f->ss, &f->sslen)), \
	  FAILS(nw_addr_parse("[::1:80", &f->ss, &f->sslen))) \
	X(nw_addr_unmap, OK(nw_addr_unmap(&f->udp_addr, &f->udp_len)), FAILS(nw_addr_unmap(NULL, NULL))) \
	X(nw_addr_equal, OK(nw_addr_equal((struct sockaddr *)&f->local, f->local_len, \
					  (struct sockaddr *)&f->remote, f->remote_len, 1)), \
	  FAILS(nw_addr_equal((struct sockaddr *)&f->local, 0, (struct sockaddr *)&f->remote, 0, 1))) \
	X(nw_unix_listen_type, KEEP(nw_unix_listen_type(f->fresh_path, SOCK_SEQPACKET, 0)), \
	  FAILS(nw_unix_listen_type(f->path, SOCK_SEQPACKET, 0))) \
	X(nw_unix_connect_type, KEEP(nw_unix_connect_type(f->path, SOCK_STREAM)), \
	  FAILS(nw_unix_connect_type(f->fresh_path, SOCK_STREAM))) \
	X(nw_writev, OK(nw_writev(f->p[1], f->iov, 2)), FAILS(nw_writev(f->dead_pipe, f->iov, 2))) \
	X(nw_readv, OK(nw_readv(f->s, f->iov, 2)), FAILS(nw_readv(-1, f->iov, 2))) \
	X(nw_set_pktinfo, OK(nw_set_pktinfo(f->udp, 1)), FAILS(nw_set_pktinfo(f->p[0], 1))) \
	X(nw_recvfrom_to, OK(nw_recvfrom_to(f->udp, f->buf, sizeof f->buf, &f->ss, &f->sslen, \
					    &f->to, &f->tolen, &f->ifindex)), \
	  FAILS(nw_recvfrom_to(-1, f->buf, sizeof f->buf, &f->ss, &f->sslen, &f->to, &f->tolen, \
			       &f->ifindex))) \
	X(nw_sendto_from, OK(nw_sendto_from(f->udp, "x", 1, (struct sockaddr *)&f->udp_addr, \
					    f->udp_len, NULL, 0, 0)), \
	  FAILS(nw_sendto_from(f->dead, "x", 1, NULL, 0, NULL, 0, 0))) \
	X(nw_recv_batch, OK(nw_recv_batch(f->udp, &f->dgram, 1, sizeof f->dgram)), \
	  FAILS(nw_recv_batch(-1, &f->dgram, 1, sizeof f->dgram))) \
	X(nw_send_batch, OK(nw_send_batch(f->udp, &f->dgram, 1, sizeof f->dgram)), \
	  FAILS(nw_send_batch(-1, &f->dgram, 1, sizeof f->dgram))) \
	X(nw_server_new, nw_server_free(OKPTR(nw_server_new(f->lfd, stop_after_one, f))), \
	  FAILSPTR(nw_server_new(f->c, stop_after_one, f))) \
	X(nw_server_set_model, OK(nw_server_set_model(f->server, NW_SERVER_POOL, 2)), \
	  FAILS(nw_server_set_model(f->server, NW_SERVER_POOL, 0))) \
	X(nw_server_set_max_conns, OK(nw_server_set_max_conns(f->server, 4)), \
	  FAILS(nw_server_set_max_conns(f->server, 0))) \
	X(nw_server_set_grace, OK(nw_server_set_grace(f->server, 1000)), \
	  FAILS(nw_server_set_grace(NULL, 1000))) \
	X(nw_server_set_idle_timeout, OK(nw_server_set_idle_timeout(f->server, 1000)), \
	  FAILS(nw_server_set_idle_timeout(f->server, -2))) \
	X(nw_server_set_max_per_peer, OK(nw_server_set_max_per_peer(f->server, 4)), \
	  FAILS(nw_server_set_max_per_peer(NULL, 4))) \
	X(nw_close_graceful, (OK(nw_close_graceful(f->dead, 1000)), f->dead = -1), \
	  FAILS(nw_close_graceful(-1, 1000))) \
	X(nw_server_new_events, nw_server_free(OKPTR(nw_server_new_events(f->lfd, &cb_ops, \
									  sizeof cb_ops, f))), \
	  FAILSPTR(nw_server_new_events(f->c, &cb_ops, sizeof cb_ops, f))) \
	X(nw_server_set_watermarks, OK(with_events(f, 1)), \
	  FAILS(nw_server_set_watermarks(f->server, 1024, 65536))) \
	X(nw_server_post, in_callback(f, CB_POST), FAILS(with_events(f, 0))) \
	X(nw_conn_send, in_callback(f, CB_SEND), in_callback(f, CB_SEND_BAD)) \
	X(nw_conn_close, in_callback(f, CB_CLOSE), FAILS(nw_conn_close(NULL))) \
	X(nw_conn_peer, in_callback(f, CB_PEER), FAILSPTR(nw_conn_peer(NULL, NULL))) \
	X(nw_conn_fd, in_callback(f, CB_FD), FAILS(nw_conn_fd(NULL))) \
	X(nw_conn_id, in_callback(f, CB_ID), ck_assert(nw_conn_id(NULL) == 0)) \
	X(nw_conn_data, in_callback(f, CB_DATA), FAILSPTR(nw_conn_data(NULL))) \
	X(nw_conn_set_data, in_callback(f, CB_SET_DATA), nw_conn_set_data(NULL, f)) \
	X(nw_conn_arg, in_callback(f, CB_ARG), FAILSPTR(nw_conn_arg(NULL))) \
	X(nw_conn_server, in_callback(f, CB_SERVER), FAILSPTR(nw_conn_server(NULL))) \
	X(nw_server_run, OK(nw_server_run(f->server)), FAILS(nw_server_run(NULL))) \
	X(nw_server_stop, OK(nw_server_stop(f->server)), FAILS(nw_server_stop(NULL))) \
	X(nw_server_free, nw_server_free(nw_server_new(f->lfd, stop_after_one, f)), \
	  nw_server_free(NULL))

#define DEFINE_USES(name, ok, bad) \
	static void ok_##name(struct fixture *f) { (void)f; (void)(ok); } \
	static void bad_##name(struct fixture *f) { (void)f; (void)(bad); }
PUBLIC_CALLS(DEFINE_USES)

struct public_call {
	const char *name;
	void (*ok)(struct fixture *);
	void (*bad)(struct fixture *);
};

#define TABLE_ENTRY(name, ok, bad) { #name, ok_##name, bad_##name },
static const struct public_call calls[] = { PUBLIC_CALLS(TABLE_ENTRY) };
#define NCALLS ((int)(sizeof calls / sizeof calls[0]))

static void fixture_open(struct fixture *f)
{
	int d[2], n;

	memset(f, 0, sizeof *f);
	f->lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	tu_port_str(f->lfd, f->port);
	f->c = tu_assert_ok(nw_tcp_connect("127.0.0.1", f->port, -1));
	f->s = tu_assert_ok(nw_accept(f->lfd, NULL, NULL));
	/* One more client waits in the queue, for nw_accept and the server. */
	keep(f, tu_assert_ok(nw_tcp_connect("127.0.0.1", f->port, -1)));
	tu_assert_ok(nw_writen(f->c, "line one\nline two\n", 18));
	f->local_len = sizeof f->local;
	f->remote_len = sizeof f->remote;
	ck_assert_int_eq(getsockname(f->c, (struct sockaddr *)&f->local, &f->local_len), 0);
	ck_assert_int_eq(getpeername(f->c, (struct sockaddr *)&f->remote, &f->remote_len), 0);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->u), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, d), 0);
	close(d[1]);
	f->dead = d[0];
	ck_assert_int_eq(pipe2(f->p, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(d, O_CLOEXEC), 0);
	close(d[0]);
	f->dead_pipe = d[1];

	f->udp = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	f->udp_len = sizeof f->udp_addr;
	ck_assert_int_eq(getsockname(f->udp, (struct sockaddr *)&f->udp_addr, &f->udp_len), 0);
	ck_assert_int_eq(sendto(f->udp, "waiting", 7, 0, (struct sockaddr *)&f->udp_addr,
				f->udp_len), 7);

	snprintf(f->dir, sizeof f->dir, "/tmp/nwtest-sigmask.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/live", f->dir);
	snprintf(f->fresh_path, sizeof f->fresh_path, "%s/fresh", f->dir);
	f->unix_lfd = tu_assert_ok(nw_unix_listen(f->path, 0));
	snprintf(f->buf, sizeof f->buf, "%s/file", f->dir);
	f->file = open(f->buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(f->file, 0);
	n = (int)write(f->file, "file data", 9);
	ck_assert_int_eq(n, 9);

	f->iov[0] = (struct iovec){ .iov_base = f->buf, .iov_len = 2 };
	f->iov[1] = (struct iovec){ .iov_base = f->buf + 2, .iov_len = 2 };
	f->dgram.buf = f->buf;
	f->dgram.size = f->dgram.len = 7;
	memcpy(&f->dgram.peer, &f->udp_addr, f->udp_len);
	f->dgram.peerlen = f->udp_len;

	f->reader = nw_reader_new(f->s, 0);
	ck_assert_ptr_nonnull(f->reader);
	f->server = nw_server_new(f->lfd, stop_after_one, f);
	ck_assert_ptr_nonnull(f->server);
}

static void fixture_close(struct fixture *f)
{
	nw_server_free(f->server);
	nw_reader_free(f->reader);
	for (int i = 0; i < f->nkept; i++)
		close(f->kept[i]);
	int fds[] = { f->lfd, f->c, f->s, f->u[0], f->u[1], f->dead, f->p[0], f->p[1],
		      f->dead_pipe, f->udp, f->file, f->unix_lfd };

	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		close(fds[i]);
	snprintf(f->buf, sizeof f->buf, "%s/file", f->dir);
	unlink(f->buf);
	unlink(f->path);
	unlink(f->fresh_path);
	rmdir(f->dir);
}

/* The thread's mask now, as a string of the blocked signals' numbers. */
static void mask_text(char *out, size_t size)
{
	sigset_t now;
	size_t len = 0;

	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
	out[0] = '\0';
	for (int sig = 1; sig < NSIG && len + 5 < size; sig++)
		if (sigismember(&now, sig) == 1)
			len += (size_t)snprintf(out + len, size - len, " %d", sig);
}

static void assert_mask_is(const char *before, const char *call, const char *path)
{
	char after[512];

	mask_text(after, sizeof after);
	ck_assert_msg(strcmp(before, after) == 0,
		      "%s (%s path) changed the signal mask: blocked before [%s], after [%s]",
		      call, path, before, after);
}

START_TEST(mask_is_unchanged)
{
	const struct public_call *call = &calls[_i % NCALLS];
	struct fixture fx;
	sigset_t start;
	char before[512];

	sigemptyset(&start);
	if (_i >= NCALLS) {
		/* A program that blocks signals for sigwait, SIGPIPE among them. */
		sigaddset(&start, SIGPIPE);
		sigaddset(&start, SIGTERM);
		sigaddset(&start, SIGUSR1);
		sigaddset(&start, SIGHUP);
	}
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &start, NULL), 0);
	fixture_open(&fx);
	mask_text(before, sizeof before);
	call->ok(&fx);
	assert_mask_is(before, call->name, "success");
	call->bad(&fx);
	assert_mask_is(before, call->name, "failure");
	fixture_close(&fx);
}
END_TEST

/* The exported nw_ functions, one a line, from nm as tests/man-lib.sh reads them. */
static FILE *exported(void)
{
	const char *nm = getenv("NM");
	char cmd[512];

	snprintf(cmd, sizeof cmd,
		 "{ %s -D --defined-only lib/.libs/libnetwrap.so 2>/dev/null ||"
		 "  %s --defined-only lib/.libs/libnetwrap.a; } |"
		 " awk '$2 ~ /^[TDBRWiV]$/ { sub(/@.*/, \"\", $3); print $3 }' |"
		 " grep '^nw_' | sort -u", nm ? nm : "nm", nm ? nm : "nm");
	return popen(cmd, "r");
}

START_TEST(every_exported_function_is_here)
{
	FILE *in = exported();
	char name[128], missing[1024] = "";
	int count = 0;

	ck_assert_ptr_nonnull(in);
	while (fgets(name, sizeof name, in) != NULL) {
		bool found = false;

		name[strcspn(name, "\n")] = '\0';
		count++;
		for (int i = 0; i < NCALLS && !found; i++)
			found = strcmp(calls[i].name, name) == 0;
		if (!found && strlen(missing) + strlen(name) + 2 < sizeof missing) {
			strcat(missing, " ");
			strcat(missing, name);
		}
	}
	ck_assert_int_eq(pclose(in), 0);
	ck_assert_msg(count >= NCALLS, "nm listed %d functions, the table has %d", count, NCALLS);
	ck_assert_msg(missing[0] == '\0',
		      "exported but not in PUBLIC_CALLS of tests/check_sigmask.c:%s", missing);
}
END_TEST

static Suite *sigmask_suite(void)
{
	Suite *s = suite_create("sigmask");
	TCase *tc = tcase_create("public calls");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, every_exported_function_is_here);
	/* Each call from an empty mask (first NCALLS), then from a full one. */
	tcase_add_loop_test(tc, mask_is_unchanged, 0, 2 * NCALLS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(sigmask_suite());
}
