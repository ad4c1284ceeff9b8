/*
 * internal.h - private helpers shared by the library's source files.
 * Nothing here is exported: the build hides every symbol but the public
 * nw_ calls, which netwrap.h declares with default visibility below.
 */
#ifndef NETWRAP_INTERNAL_H
#define NETWRAP_INTERNAL_H

#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

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

#endif /* NETWRAP_INTERNAL_H */
