/*
 * internal.h - private helpers shared by the library's source files.
 * Nothing here is exported: the build hides every symbol but the public
 * nw_ calls, which netwrap.h declares with default visibility below.
 */
#ifndef NETWRAP_INTERNAL_H
#define NETWRAP_INTERNAL_H

#include "config.h"

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
int nwi_bind_service(const char *call, const char *host, const char *service,
		     int socktype, int backlog);
/* Most telling of two connect errors: a refusal beats a silent network. */
int nwi_more_telling(int current, int candidate);

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

/*
 * Write all n bytes to any descriptor: send(MSG_NOSIGNAL) on a socket,
 * write(2) with SIGPIPE held back on anything else.  Retries EINTR and
 * short writes, waits like nwi_wait_ready on EAGAIN.  n, or -1 with errno
 * and no message recorded (the public caller names itself).
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
