/*
 * internal.h - private helpers shared by the library's source files.
 * Nothing here is exported: the build hides every symbol but the public
 * nw_ calls, which netwrap.h declares with default visibility below.
 */
#ifndef NETWRAP_INTERNAL_H
#define NETWRAP_INTERNAL_H

#include "config.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#pragma GCC visibility push(default)
#include "netwrap.h"
#pragma GCC visibility pop

/* error.c: the one way the library reports a failure. */

/* Record "CALL(ARGS): strerror(err)" for this thread, set errno = err, return -1. */
int nwi_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* As nwi_fail, but with the caller's own reason text instead of strerror. */
int nwi_fail_text(int err, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The text for err: thread-safe, in buf or a constant string (either strerror_r). */
const char *nwi_strerror(int err, char *buf, size_t size);
/* Close fd without disturbing errno (for error paths). */
void nwi_close_keep_errno(int fd);
/* Show a possibly NULL string in a message. */
static inline const char *nwi_str(const char *s) { return s ? s : "(null)"; }

/* resolve.c: host and service to socket addresses. */

struct nwi_addr {
	int family;
	socklen_t len;
	struct sockaddr_storage ss;
};

/* The list a resolution produced; small lists live in the struct itself. */
struct nwi_addrlist {
	size_t count;
	struct nwi_addr *addrs;
	struct nwi_addr inline_addrs[2];
};

enum nwi_resolve_flags {
	NWI_PASSIVE = 1,      /* NULL or "*" host: the wildcard address */
};

/*
 * Resolve host and service for socktype.  Numeric hosts and ports never
 * reach the resolver.  On failure errno is set and the message names call
 * and its arguments; the list needs no freeing then.
 */
int nwi_resolve(const char *call, const char *host, const char *service,
		int socktype, int flags, struct nwi_addrlist *out);
/* The same, giving up with ETIMEDOUT at deadline (nwi_now_ms(); -1: never). */
int nwi_resolve_until(const char *call, const char *host, const char *service,
		      int socktype, int flags, int64_t deadline, struct nwi_addrlist *out);
void nwi_addrlist_free(struct nwi_addrlist *list);
/* True when host means every local address. */
bool nwi_host_is_wildcard(const char *host);

/* lookup.c: getaddrinfo that a deadline can cut short. */

/*
 * getaddrinfo(node, service, hints, res) before deadline (nwi_now_ms();
 * -1: none, a plain call).  With a deadline it runs in a detached thread
 * of the library's own with every signal blocked; a caller that gives up
 * returns at once and the thread frees its answer.  NWI_EAI_TIMEOUT when
 * the deadline passes first; for EAI_SYSTEM, errno is the lookup's.
 */
#define NWI_EAI_TIMEOUT 1
struct addrinfo;
int nwi_getaddrinfo_until(const char *node, const char *service,
			  const struct addrinfo *hints, int64_t deadline,
			  struct addrinfo **res);

/* socket.c: descriptors shared by TCP, UDP and Unix-domain sockets. */

/*
 * Open a socket of socktype on every address host and service name (host
 * NULL or "*": the dual-stack wildcard), bind it, and listen when backlog
 * is not NWI_NO_LISTEN.  Returns the first socket that works.
 */
#define NWI_NO_LISTEN INT32_MIN
/*
 * listen(2)'s backlog for a caller's 0 or less: the kernel's own limit,
 * net.core.somaxconn, which it applies to any larger value.  Not SOMAXCONN:
 * that is the C library's idea of the limit, 4096 in glibc but 128 in musl.
 */
static inline int nwi_backlog(int backlog) { return backlog <= 0 ? INT_MAX : backlog; }
int nwi_bind_service(const char *call, const char *host, const char *service,
		     int socktype, int backlog);
/* Most telling of two connect errors: a refusal beats a silent network. */
int nwi_more_telling(int current, int candidate);

/* sockopts.c: struct nw_sock_opts (issue 13). */

enum nwi_sock_kind {
	NWI_TCP_LISTEN,
	NWI_TCP_CONNECT,
	NWI_UDP_BIND,
	NWI_UDP_CONNECT,
	NWI_UNIX_LISTEN,
};

/* Who is setting options, for the messages: "CALL(ARG1, ARG2): option X: why". */
struct nwi_opts_ctx {
	const char *call;
	const char *arg1;
	const char *arg2;
	enum nwi_sock_kind kind;
};

/*
 * Copy the caller's opts of size bytes into *out (NULL: all zero), and
 * check every value and that it fits ctx->kind.  -1 with the message set.
 */
int nwi_opts_load(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *in,
		  size_t size, struct nw_sock_opts *out);
/* socket() of family and type (close-on-exec), MPTCP when asked and available; no message. */
int nwi_opts_socket(const struct nw_sock_opts *o, int family, int type);
/* Set every option of o on a new socket, then run the control hook; -1 with the message set. */
int nwi_opts_apply(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		   int fd, int family);
/* The source address and port of a connect (local_host, local_service). */
struct nwi_source {
	bool set;		/* false: the kernel picks, as without options */
	bool no_port;		/* only the address is fixed */
	struct nwi_addrlist list;
};
/* Resolve o's source, if any, by deadline (-1: none); -1 with the message set.  Free with nwi_source_free. */
int nwi_source_resolve(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		       int socktype, int64_t deadline, struct nwi_source *src);
/* True if a destination of family can be reached from the source. */
bool nwi_source_has(const struct nwi_source *src, int family);
/* Bind fd (of family) to the source, if one is set; -1 with the message set. */
int nwi_source_bind(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		    const struct nwi_source *src, int fd, int family);
void nwi_source_free(struct nwi_source *src);
/* nwi_bind_service with options (NULL: none); the message names ctx->call. */
int nwi_bind_service_opts(const struct nwi_opts_ctx *ctx, const char *host,
			  const char *service, int socktype, int backlog,
			  const struct nw_sock_opts *o);

/* unix.c: the address rules nw_unix_listen_opts shares (struct sockaddr_un). */
struct sockaddr_un;
/* Fill sun from path ("@name": abstract); -1 with errno, no message. */
int nwi_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len);
/* Remove path if it is a socket file nobody listens on; true if removed. */
bool nwi_unix_remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len);

/* tcp.c: accepting connections. */

/*
 * nw_accept without a message: accept4 with SOCK_CLOEXEC | flags, retrying
 * EINTR and peers that vanished while queued.  For callers (the server's
 * accept loops) that expect EAGAIN and errors they handle themselves.
 */
int nwi_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peerlen,
	       int flags);

/* unix.c: Unix-domain sockets of any type (unixtype.c's public calls). */

/* Listening (SOCK_DGRAM: bound) socket of type at path; call names the caller. */
int nwi_unix_listen(const char *call, const char *path, int type, int backlog);
/* Socket of type connected to path (SOCK_DGRAM: autobound, so it can be answered). */
int nwi_unix_connect(const char *call, const char *path, int type);

/* io.c: waiting for readiness with the socket's own timeout, whole writes. */

/*
 * After an EAGAIN on fd, wait until it is ready for events, for as long as
 * the socket's SO_RCVTIMEO/SO_SNDTIMEO allows.  0 when ready, -1 with errno
 * ETIMEDOUT (or the poll error) otherwise.
 */
int nwi_wait_ready(int fd, short events);
/* The same wait on any descriptor, blocking or not: after a MSG_DONTWAIT call. */
int nwi_poll_ready(int fd, short events);
/*
 * recvmsg(fd, msg, flags) through EINTR, and through EAGAIN for as long as
 * nwi_wait_ready allows.  The name and control lengths the caller set are
 * given again to each try.  The bytes, or -1 with errno and no message.
 */
ssize_t nwi_recvmsg(int fd, struct msghdr *msg, int flags);

/*
 * Write all n bytes to any descriptor: send(MSG_NOSIGNAL) on a socket,
 * write(2) with SIGPIPE held back on anything else.  Retries EINTR and
 * short writes.  Sockets are sent to with MSG_DONTWAIT and waited on with
 * nwi_poll_ready, so a timeout bounds each wait once even when a send went
 * out in part; other descriptors wait like nwi_wait_ready.  n, or -1 with
 * errno and no message recorded (the public caller names itself).
 */
ssize_t nwi_write_all(int fd, const void *buf, size_t n);

/*
 * For calls that cannot say MSG_NOSIGNAL (write to a pipe, sendfile):
 * block SIGPIPE in this thread around them, then take back the SIGPIPE
 * the call raised when it failed with EPIPE, unless one was pending
 * before.  The process's signal dispositions are never touched.
 */
struct nwi_sigpipe {
	sigset_t old;
	bool was_pending;
};
void nwi_sigpipe_block(struct nwi_sigpipe *sp);
/* Restore the thread's mask; errno is preserved. */
void nwi_sigpipe_restore(struct nwi_sigpipe *sp, bool got_epipe);

/* Monotonic milliseconds, for deadlines. */
int64_t nwi_now_ms(void);

/*
 * linger.c: lingering close (nw_close_graceful), and the linger set a
 * server's loop polls so that no thread or process waits for a peer's end
 * of file.  Usable by any model, an event loop included:
 *  - a loop that watches fd itself calls nwi_linger_begin(fd, &budget)
 *    once (shutdown(SHUT_WR) and a non-blocking drain), then
 *    nwi_linger_step(fd, &budget) whenever fd is readable, until either
 *    returns non-zero or NWI_LINGER_MS passed; then it closes fd;
 *  - or it hands fd to a linger set with nwi_linger_add and polls
 *    l->epfd, calling nwi_linger_service when it is readable and at the
 *    timeout nwi_linger_service returned.
 */
#define NWI_LINGER_MS 2000			/* at most this long per connection */
#define NWI_LINGER_MAX_BYTES (256 * 1024)	/* and at most this much discarded */

/* 1: end of file or an error (close now); 0: wait for more; -1: budget spent. */
int nwi_linger_begin(int fd, size_t *budget);
int nwi_linger_step(int fd, size_t *budget);

struct nwi_lingering;
struct nwi_linger {
	int epfd;		/* readable when a lingering connection is */
	pthread_mutex_t lock;	/* guards the fields below; any thread may add */
	struct nwi_lingering *head, *tail;	/* oldest first: deadline order */
	size_t count;
	bool open;		/* someone services the set; closed: add closes at once */
};

int nwi_linger_init(struct nwi_linger *l);
/* Close every connection still lingering and the set's descriptors. */
void nwi_linger_destroy(struct nwi_linger *l);
/* In a child process of the server's: close its copies of what the set holds. */
void nwi_linger_close_copies(struct nwi_linger *l);
/* Start accepting connections (a run begins). */
void nwi_linger_open(struct nwi_linger *l);
/*
 * Half-close fd and keep it until the peer's end of file, at most
 * NWI_LINGER_MS and NWI_LINGER_MAX_BYTES; always takes fd (closed at once
 * when it is done already, memory is short, or the set is not open).  True
 * when the set was empty: the servicing loop may be asleep without a
 * timeout and must be woken.
 */
bool nwi_linger_add(struct nwi_linger *l, int fd);
/* Drain what is readable, close what is done or expired; ms to the next deadline, or -1. */
int nwi_linger_service(struct nwi_linger *l);
/* If nothing lingers, close the set to new connections; true then. */
bool nwi_linger_close_if_empty(struct nwi_linger *l);
/* Close every lingering connection now and close the set. */
void nwi_linger_close_all(struct nwi_linger *l);

/*
 * peers.c: live connections per client IP address (IPv4-mapped IPv6 counted
 * as IPv4; other families are not counted).  Thread-safe.
 */
struct nwi_peer;
struct nwi_peers {
	pthread_mutex_t lock;
	struct nwi_peer **buckets;
};

int nwi_peers_init(struct nwi_peers *p);
void nwi_peers_destroy(struct nwi_peers *p);
/* Count one more from the peer if it has fewer than max: 1; 0 at the cap; -1 out of memory. */
int nwi_peers_add(struct nwi_peers *p, const struct sockaddr *sa, socklen_t len, int max);
/* One connection from the peer ended. */
void nwi_peers_remove(struct nwi_peers *p, const struct sockaddr *sa, socklen_t len);

/*
 * idle.c: idle timeouts for blocking handlers.  A connection is idle when
 * no data moved in either direction (TCP_INFO's last_data_recv and
 * last_data_sent, counted from the handshake).
 */
/* SO_RCVTIMEO and SO_SNDTIMEO of idle_ms on fd, so each blocking wait is bounded. */
int nwi_idle_arm(int fd, int idle_ms);
/* True when the TCP connection fd moved no data for at least ms (false if not TCP). */
bool nwi_idle_for(int fd, int ms);

/*
 * serve.c, serve_conn.c, serve_thread.c, serve_process.c: nw_server.
 *
 * serve.c is the core every model shares: the server object and its
 * settings, the stop request, the wake pipe, and the dispatch in
 * nw_server_run; serve_conn.c what every model does with a connection.
 * A model is one function, nwi_run_MODEL(s), that nw_server_run calls with
 * the server marked running, O_NONBLOCK set on the listener, the linger set
 * open and no stop seen yet; it accepts with nwi_accept_next, ends each
 * connection with nwi_conn_end, waits with nwi_server_wait (which does the
 * linger and idle duties), and returns once nwi_stop_seen is true and its
 * connections are finished (or cut off after the grace period): 0, or -1
 * with the message recorded.  The core then lets lingering connections
 * finish and clears the stop request so the server can run again.
 */

/* One accepted connection, as a model holds it. */
struct nwi_conn {
	struct nwi_conn *prev, *next;	/* in nw_server.conns while a handler runs */
	struct nw_server *srv;
	int fd;
	bool counted;			/* in the per-peer table */
	bool cut;			/* shut down by the server (idle, grace) */
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

struct nw_server {
	int listen_fd;
	nw_handler handler;
	void *arg;
	enum nw_server_model model;
	int workers;
	int max_conns;
	int grace_ms;
	int idle_ms;		/* 0: no idle timeout */
	int max_per_peer;	/* 0: no cap per client address */

	struct nwi_linger linger;	/* connections whose handler returned */
	struct nwi_peers peers;		/* live connections per client address */
	int64_t next_idle_check;	/* run thread only */

	/*
	 * stop_fd: an eventfd that nw_server_stop writes and nobody reads while
	 * the server runs, so it wakes every poller; the wake pipe carries one
	 * pid_t per ended connection (a child's pid, or 0 from a thread).
	 */
	int stop_fd;
	int wake_rd, wake_wr;
	atomic_int stopping;
	/* Bumped when a run ends, so pool workers it left behind never accept again. */
	atomic_uint run_gen;

	pthread_mutex_t lock;	/* guards the fields below */
	int refs;		/* the caller's, plus one per library thread */
	bool running;
	int active;		/* connections whose handler thread runs */
	int live_workers;	/* pool workers not yet gone */
	int worker_err;		/* first fatal accept error a pool worker met */
	struct nwi_conn conns;	/* list head: connections of handler threads */
	struct nwi_events *events;	/* NW_SERVER_EVENT's callbacks and loops, or NULL */
};

/* Out of descriptors or memory: wait this long before the next accept, doubling. */
#define NWI_BACKOFF_MIN_MS 10
#define NWI_BACKOFF_MAX_MS 500
/* Connections accepted per wake-up before a loop looks at its other duties. */
#define NWI_ACCEPT_BATCH 32
/* A short poll for something known to be a few instructions from done. */
#define NWI_EXITING_POLL_MS 2

struct nwi_backoff {
	int64_t until;		/* no accept before this time (monotonic ms) */
	int delay_ms;		/* the last wait; 0 after a success */
};

/* Start (or double) the back-off after a shortage. */
void nwi_backoff_hit(struct nwi_backoff *b);
/* Milliseconds of back-off left; 0 when accepting is allowed. */
int nwi_backoff_left(const struct nwi_backoff *b);
/* Milliseconds until deadline, 0 once it passed, -1 for no deadline (< 0). */
int nwi_ms_until(int64_t deadline);
/* The shorter of two poll timeouts, where -1 means none. */
int nwi_shorter(int a, int b);
/* poll; EINTR is an early wake-up with nothing ready, ENOMEM is waited out. */
int nwi_wait_fds(struct pollfd *p, nfds_t n, int timeout_ms);
/* True once a stop was asked for; stop (may be NULL) is a polled stop_fd. */
bool nwi_stop_seen(nw_server *s, const struct pollfd *stop);
/* The same, looking at stop_fd now (a stop from a handler in a child). */
bool nwi_stop_arrived(nw_server *s);
/* Tell the run loop a connection ended (pid: the child's, or 0 for a thread). */
void nwi_wake_run(nw_server *s, pid_t pid);
/* Read all wake-ups; the number of records, and each pid > 0 through reap. */
size_t nwi_drain_wake(nw_server *s, void (*reap)(void *, pid_t), void *ctx);
/*
 * Accept one connection into c: 1; 0 when there is none to take now (after
 * starting a back-off if descriptors or memory ran out, or closing one that
 * came after a stop); -1 with errno when the listener itself is broken.
 */
int nwi_accept_next(nw_server *s, struct nwi_conn *c, struct nwi_backoff *b);
/* Run the user's handler on c. */
void nwi_call_handler(nw_server *s, struct nwi_conn *c);
/*
 * The connection's handler is done: uncount its peer and hand fd to the
 * linger set (closed at once when the server cut it off).  c->fd is -1 after.
 */
void nwi_conn_end(nw_server *s, struct nwi_conn *c);
/* Put c on, or take it off, the server's list of live connections. */
void nwi_conn_link(nw_server *s, struct nwi_conn *c);
void nwi_conn_unlink(nw_server *s, struct nwi_conn *c);
/* Shut down every live connection (the grace period is over). */
void nwi_shutdown_conns(nw_server *s);
/*
 * The run thread's wait: nwi_wait_fds on p[0..n-1] (n <= 3) and the linger
 * set, doing the server's own duties (lingering connections, cutting idle
 * ones) before and after.  The count of p's entries with events.
 */
int nwi_server_wait(nw_server *s, struct pollfd *p, nfds_t n, int timeout_ms);
/* Drop a reference taken by a library thread; true for the last. Call locked. */
bool nwi_server_unref_locked(nw_server *s);
/* Free the server and close its own descriptors (not the listener). */
void nwi_server_destroy(nw_server *s);

/* The models. */
int nwi_run_threads(nw_server *s);
int nwi_run_pool(nw_server *s);
int nwi_run_process(nw_server *s);
int nwi_run_events(nw_server *s);	/* serve_event.c */

/*
 * evloop.c, conn.c, serve_event.c: the event model (NW_SERVER_EVENT).
 * A server runs N loops, one per thread; each loop owns its connections
 * outright, so a connection is touched by one thread only.  Other threads
 * reach a connection through its loop's mailbox, by an id that carries the
 * slot's generation, so a handle to a closed connection goes stale.
 */
#include <pthread.h>
#include <stdatomic.h>

/* Each read takes at most this much: the loop's buffer, shared by its connections. */
#define NWI_READ_SIZE (64 * 1024)

enum nwi_conn_state {
	NWI_CONN_OPEN,		/* serving: callbacks run */
	NWI_CONN_CLOSING,	/* closed by the handler or the server: sending what is queued */
	NWI_CONN_LINGER,	/* all sent and FIN queued: discarding input until EOF */
	NWI_CONN_DEAD,		/* descriptor closed; freed after this batch of events */
};

/* A connection waits on at most one timer list; a list's entries share one timeout. */
enum { NWI_TL_IDLE, NWI_TL_LINGER, NWI_TL_COUNT, NWI_TL_NONE = -1 };

struct nw_conn {
	struct nwi_loop *loop;
	struct nw_conn *tprev, *tnext;	/* on a timer list, or the loop's dead list */
	int64_t deadline;		/* of that timer (monotonic ms) */
	void *user;
	char *in;			/* input on_data has not used yet */
	size_t in_len, in_cap;
	char *out;			/* output the kernel has not taken yet: [out_off, out_len) */
	size_t out_off, out_len, out_cap;
	size_t linger_budget;		/* bytes left to discard while lingering */
	int fd;
	int err;			/* for on_close: why it ends */
	uint32_t slot;
	uint8_t state;
	int8_t tlist;
	bool peer_eof;			/* the peer ended its side */
	bool reading, writing;		/* EPOLLIN / EPOLLOUT registered */
	bool paused;			/* reading stopped by the high-water mark */
	bool in_callback;		/* on_data runs: close takes effect after it */
	bool peer_counted;		/* counted in the per-peer table */
	bool broken;			/* cannot send any more: close without lingering */
	bool drain_due;			/* on_drain to call at the next writable event */
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

struct nwi_tlist {
	struct nw_conn *head, *tail;
};

/* A message from another thread (nw_server_post). */
struct nwi_post {
	struct nwi_post *next;
	uint64_t id;
	int flags;
	size_t len;
	char data[];
};

struct nwi_slot {
	struct nw_conn *conn;		/* NULL: free */
	uint32_t gen;			/* bumped at each reuse, so old ids go stale */
	uint32_t next_free;
};

struct nwi_events;

struct nwi_loop {
	struct nwi_events *ev;
	const struct nw_conn_ops *ops;	/* the server's, complete (missing ones NULL) */
	size_t high_water, low_water;
	unsigned index;
	int epfd;
	int wake_fd;			/* eventfd: a post arrived */
	int64_t now;			/* cached at each wake-up */
	struct nwi_tlist timers[NWI_TL_COUNT];
	int timeout_ms[NWI_TL_COUNT];	/* <= 0: that list is not used */
	struct nw_conn *dead;		/* closed in this batch, freed after it */
	int conns;			/* connections not yet dead, lingering ones included */
	char *rbuf;			/* NWI_READ_SIZE bytes */
	pthread_mutex_t lock;		/* guards slots and posts against posting threads */
	struct nwi_slot *slots;
	uint32_t nslots, free_slot;
	uint32_t gen_base;
	struct nwi_post *posts, **posts_tail;
	/* Accepting: */
	bool listening;			/* the listener is in this loop's epoll set */
	bool signalled;			/* left the listener for its share with connections
					   the kernel signalled to it alone still queued */
	bool stopping;			/* a stop was seen: no more accepts */
	struct nwi_backoff backoff;	/* after running out of descriptors or memory */
	struct nw_conn *pending;	/* accepted, waiting for memory to be served */
	int64_t grace_end;		/* after a stop: close the rest then (-1: never) */
	pthread_t thread;
	bool started;
};

#define NWI_SLOT_BITS 24
#define NWI_LOOP_BITS 8
#define NWI_MAX_LOOPS (1 << NWI_LOOP_BITS)

/* evloop.c */
int nwi_loop_init(struct nwi_loop *l, struct nwi_events *ev, unsigned index);
void nwi_loop_destroy(struct nwi_loop *l);
/* Register fd with events (0: remove) under data; op as for epoll_ctl. */
int nwi_loop_ctl(struct nwi_loop *l, int op, int fd, uint32_t events, void *data);
void nwi_timer_set(struct nwi_loop *l, struct nw_conn *c, int list);
void nwi_timer_clear(struct nwi_loop *l, struct nw_conn *c);
/* Poll timeout until the first timer (-1: none), at most cap_ms when cap_ms >= 0. */
int nwi_timer_wait_ms(struct nwi_loop *l, int cap_ms);
/* The first connection whose timer expired, or NULL. */
struct nw_conn *nwi_timer_expired(struct nwi_loop *l);
/* Give c a slot (its id); -1 with errno ENOMEM. */
int nwi_slot_take(struct nwi_loop *l, struct nw_conn *c);
void nwi_slot_release(struct nwi_loop *l, struct nw_conn *c);
uint64_t nwi_slot_id(const struct nwi_loop *l, uint32_t slot);
/* Under l->lock: the connection an id names, or NULL when it went stale. */
struct nw_conn *nwi_slot_find_locked(struct nwi_loop *l, uint64_t id);

/* conn.c */
struct nw_conn *nwi_conn_new(struct nwi_loop *l);
/* c's timer expired: idle (ETIMEDOUT) or done lingering. */
void nwi_conn_expire(struct nw_conn *c);
/* conn_io.c: serve a readiness event on c. */
void nwi_conn_event(struct nw_conn *c, uint32_t events);
/* Start serving an accepted connection: slot, epoll, timers, on_open. */
int nwi_conn_open(struct nw_conn *c);
/* End c for err (no more callbacks but on_close); graceful unless hard. */
void nwi_conn_shut(struct nw_conn *c, int err, bool hard);
/* Queue data without the caller checks of nw_conn_send. */
ssize_t nwi_conn_queue(struct nw_conn *c, const void *data, size_t len);
/* After anything happened to c: the next state, and its epoll interest. */
void nwi_conn_settle(struct nw_conn *c);
/* Free the connections closed in the last batch. */
void nwi_conn_free_dead(struct nwi_loop *l);
/* True when c has nothing half done: no input kept, no output queued. */
bool nwi_conn_quiet(const struct nw_conn *c);
/* Output queued, not yet taken by the kernel. */
static inline size_t nwi_conn_pending(const struct nw_conn *c)
{
	return c->out_len - c->out_off;
}
void nwi_conn_drop_output(struct nw_conn *c);
void nwi_conn_drop_input(struct nw_conn *c);

/* conn_io.c */
/* Hand the input c kept to on_data, and keep what is still unused. */
void nwi_conn_deliver_kept(struct nw_conn *c);

/* serve_event.c: what conn.c needs from the server. */
void *nwi_events_arg(const struct nwi_events *ev);
nw_server *nwi_events_server(const struct nwi_events *ev);
/* A connection of this loop is gone for good: cap, per-peer count, accept again. */
void nwi_events_conn_gone(struct nwi_loop *l, struct nw_conn *c);

/* serve_event.c: an event server's state, from nw_server_new_events to free. */
/* What a run uses, read from the server when it starts. */
struct nwi_event_run {
	int listen_fd;
	int stop_fd;			/* readable once a stop was asked for */
	atomic_int *stopping;
	int max_conns;
	int grace_ms;			/* < 0: wait for ever */
	int idle_ms;			/* <= 0: no idle timeout */
	int max_per_peer;		/* <= 0: no cap */
};

struct nwi_events {
	nw_server *srv;
	struct nw_conn_ops ops;
	void *arg;
	size_t high_water, low_water;
	uint32_t gen_base;		/* ids of the next run start above the last run's */

	/* This run's; posting threads look at loops under the lock. */
	pthread_mutex_t lock;
	struct nwi_loop *loops;
	unsigned nloops;
	const struct nwi_event_run *run;
	atomic_int live;		/* connections open, for the cap */
	atomic_int fatal;		/* the error that broke the listener */
	struct nwi_peers *peers;	/* the server's; NULL: no per-peer cap */
};

void nwi_events_free(struct nwi_events *ev);
/* The listener broke: the run stops and reports err. */
void nwi_events_fail(struct nwi_events *ev, int err);
static inline bool nwi_events_stopping(const struct nwi_events *ev)
{
	return atomic_load(ev->run->stopping) != 0;
}

/* serve_event_accept.c: accepting into a loop (cap, share, back-off, per-peer). */
/* Put the listener in the loop's epoll set (tag: &l->listening) exactly when it may accept. */
void nwi_events_update_listening(struct nwi_loop *l);
/* The listener is readable: accept a batch. */
void nwi_events_accept(struct nwi_loop *l);
/* Retry the connection a shortage of memory left waiting (l->pending). */
void nwi_events_open_pending(struct nwi_loop *l);

/* evloop.c: the mailbox, from any thread; 0 or -1 with errno (ENOTCONN, ENOMEM). */
int nwi_events_post(struct nwi_events *ev, uint64_t id, const void *data, size_t len,
		    int flags);
/* In the loop: send what was posted to its live connections, drop the rest. */
void nwi_loop_take_posts(struct nwi_loop *l);

#endif /* NETWRAP_INTERNAL_H */
