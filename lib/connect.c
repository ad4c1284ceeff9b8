/*
 * connect.c - nw_tcp_connect: racing connection attempts (RFC 8305).
 *
 * Addresses are tried in the resolver's order with the families
 * interleaved (RFC 8305 section 4), so a broken IPv6 path costs one
 * attempt delay, not a TCP timeout.  A new attempt starts when the previous
 * one fails or after the attempt delay, whichever comes first; the first
 * to complete wins.
 *
 * nw_tcp_connect_opts gives each attempt's socket the options and the
 * source address before connect(); with a source, only the destination
 * addresses of the source's families take part.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* RFC 8305 section 5 recommends 250 ms as the Connection Attempt Delay. */
#define ATTEMPT_DELAY_MS 250
/* Address lists up to this size need no allocation. */
#define SMALL_LIST 16

/* What each attempt's socket gets before connect(): nw_tcp_connect_opts. */
struct dial {
	const struct nwi_opts_ctx *ctx;
	const struct nw_sock_opts *opts;	/* NULL: the plain nw_tcp_connect */
	const struct nwi_source *src;
};

struct race {
	const struct nwi_addrlist *list;
	const struct dial *dial;
	size_t count;		/* entries in order */
	size_t *order;		/* indices into list, families interleaved */
	struct pollfd *pending;	/* attempts in flight */
	size_t npending;
	size_t next;		/* next index into order to try */
	int err;		/* most telling failure so far */
	bool fatal;		/* an option failed: the message is recorded */
};

/* Interleave the families; only those the source has.  The entries made. */
static size_t interleave(const struct nwi_addrlist *list, const struct nwi_source *src,
			 size_t *order)
{
	int first = list->addrs[0].family;
	size_t a = 0, b = 0, n = 0;

	while (n < list->count) {
		while (a < list->count && list->addrs[a].family != first)
			a++;
		if (a < list->count)
			order[n++] = a++;
		while (b < list->count && list->addrs[b].family == first)
			b++;
		if (b < list->count)
			order[n++] = b++;
	}
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (nwi_source_has(src, list->addrs[order[i]].family))
			order[kept++] = order[i];
	return kept;
}

/*
 * A socket for a, with the options and the source address set: the fd,
 * -1 with errno (this address failed), or -2 (an option failed, the
 * message is recorded, no other address will do better).
 */
static int dial_socket(const struct dial *d, const struct nwi_addr *a, int flags)
{
	int fd;

	if (d->opts == NULL)
		return socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	fd = nwi_opts_socket(d->opts, a->family, SOCK_STREAM | flags);
	if (fd < 0)
		return -1;
	if (nwi_opts_apply(d->ctx, d->opts, fd, a->family) < 0 ||
	    nwi_source_bind(d->ctx, d->opts, d->src, fd, a->family) < 0) {
		nwi_close_keep_errno(fd);
		return -2;
	}
	return fd;
}

/* Start the next attempt: 1 connected (fd in *winner), 0 in flight, -1 failed. */
static int start_attempt(struct race *r, int *winner)
{
	const struct nwi_addr *a = &r->list->addrs[r->order[r->next++]];
	int fd = dial_socket(r->dial, a, SOCK_NONBLOCK);

	if (fd < 0) {
		if (fd == -2) {
			r->fatal = true;
			return -2;
		}
		r->err = nwi_more_telling(r->err, errno);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		*winner = fd;
		return 1;
	}
	if (errno == EINPROGRESS) {
		r->pending[r->npending].fd = fd;
		r->pending[r->npending].events = POLLOUT;
		r->pending[r->npending].revents = 0;
		r->npending++;
		return 0;
	}
	r->err = nwi_more_telling(r->err, errno);
	close(fd);
	return -1;
}

/* Collect finished attempts: 1 with a winner, 0 otherwise. */
static int reap_attempts(struct race *r, int *winner)
{
	size_t i = 0;

	while (i < r->npending) {
		struct pollfd *p = &r->pending[i];
		int soerr = 0;
		socklen_t len = sizeof soerr;

		if (p->revents == 0) {
			i++;
			continue;
		}
		/*
		 * A failed attempt always raises POLLERR (and POLLHUP) beside
		 * POLLOUT, so a plain POLLOUT is a connection: only a failure
		 * needs the extra system call to learn its error.
		 */
		if ((p->revents & (POLLOUT | POLLERR | POLLHUP)) != POLLOUT &&
		    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr == 0) {
			*winner = p->fd;
			*p = r->pending[--r->npending];
			return 1;
		}
		r->err = nwi_more_telling(r->err, soerr);
		close(p->fd);
		*p = r->pending[--r->npending];
	}
	return 0;
}

static int race(struct race *r, int64_t deadline)
{
	int64_t now = nwi_now_ms();
	int64_t next_at = now;
	int winner = -1;

	for (;;) {
		if (r->next < r->count && (r->npending == 0 || now >= next_at)) {
			int started = start_attempt(r, &winner);

			if (started > 0)
				return winner;
			if (started == -2)
				return -1;
			/* A failed attempt hands its turn to the next address at once. */
			next_at = started == 0 ? now + ATTEMPT_DELAY_MS : now;
			continue;
		}
		if (r->npending == 0) {
			errno = r->err ? r->err : ECONNREFUSED;
			return -1;
		}
		if (deadline >= 0 && now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}

		int64_t wait = -1;

		if (r->next < r->count)
			wait = next_at - now;
		if (deadline >= 0 && (wait < 0 || deadline - now < wait))
			wait = deadline - now;
		if (poll(r->pending, r->npending, (int)wait) < 0 && errno != EINTR)
			return -1;
		size_t before = r->npending;

		if (reap_attempts(r, &winner))
			return winner;
		/* A failed attempt hands its turn to the next address at once. */
		if (r->npending < before)
			next_at = now;
		now = nwi_now_ms();
	}
}

/* One address and no deadline: the plain blocking connect is all it takes. */
static int connect_blocking(const struct dial *d, const struct nwi_addr *a, bool *fatal)
{
	int fd = dial_socket(d, a, 0);

	if (fd < 0) {
		*fatal = fd == -2;
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		return fd;
	if (errno == EINTR) {
		/* The handshake goes on after a signal; wait for its outcome. */
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t len = sizeof soerr;

		while (poll(&p, 1, -1) < 0)
			if (errno != EINTR)
				goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			goto fail;
		if (soerr == 0)
			return fd;
		errno = soerr;
	}
fail:
	nwi_close_keep_errno(fd);
	return -1;
}

static int tcp_connect(const struct nwi_opts_ctx *ctx, const char *host, const char *service,
		       int timeout_ms, const struct nw_sock_opts *opts)
{
	struct nwi_addrlist list;
	struct nwi_source src;
	size_t small_order[SMALL_LIST];
	struct pollfd small_pending[SMALL_LIST];
	struct dial dial = { .ctx = ctx, .opts = opts, .src = &src };
	struct race r = { .list = &list, .dial = &dial, .order = small_order,
			  .pending = small_pending };
	/* The bound covers the name lookup too. */
	int64_t deadline = timeout_ms >= 0 ? nwi_now_ms() + timeout_ms : -1;
	bool no_family = false;
	int fd;

	if (nwi_source_resolve(ctx, opts, SOCK_STREAM, deadline, &src) < 0)
		return -1;
	if (nwi_resolve_until(ctx->call, host, service, SOCK_STREAM, 0, deadline, &list) < 0) {
		nwi_source_free(&src);
		return -1;
	}
	if (list.count > SMALL_LIST) {
		r.order = calloc(list.count, sizeof *r.order);
		r.pending = calloc(list.count, sizeof *r.pending);
		if (r.order == NULL || r.pending == NULL) {
			errno = ENOMEM;
			fd = -1;
			goto out;
		}
	}
	r.count = interleave(&list, &src, r.order);
	if (r.count == 0) {
		no_family = true;
		fd = -1;
		errno = EAFNOSUPPORT;
		goto out;
	}
	if (r.count == 1 && timeout_ms < 0) {
		fd = connect_blocking(&dial, &list.addrs[r.order[0]], &r.fatal);
		goto out;
	}
	fd = race(&r, deadline);
	for (size_t i = 0; i < r.npending; i++)
		nwi_close_keep_errno(r.pending[i].fd);
	if (fd >= 0) {
		int off = 0;

		/* The caller gets an ordinary blocking socket. */
		if (ioctl(fd, FIONBIO, &off) < 0) {
			nwi_close_keep_errno(fd);
			fd = -1;
		}
	}
out:;
	int err = errno;

	if (r.order != small_order) {
		free(r.order);
		free(r.pending);
	}
	nwi_addrlist_free(&list);
	nwi_source_free(&src);
	if (fd >= 0)
		return fd;
	if (r.fatal) {
		errno = err;	/* the option's message is already recorded */
		return -1;
	}
	if (no_family)
		return nwi_fail_text(err, "no address of the source's family",
				     "%s(%s, %s)", ctx->call, host, service);
	return nwi_fail(err, "%s(%s, %s)", ctx->call, host, service);
}

int nw_tcp_connect(const char *host, const char *service, int timeout_ms)
{
	const struct nwi_opts_ctx ctx = { "nw_tcp_connect", host, service, NWI_TCP_CONNECT };

	return tcp_connect(&ctx, host, service, timeout_ms, NULL);
}

int nw_tcp_connect_opts(const char *host, const char *service, int timeout_ms,
			const struct nw_sock_opts *opts, size_t opts_size)
{
	const struct nwi_opts_ctx ctx = { "nw_tcp_connect_opts", host, service, NWI_TCP_CONNECT };
	struct nw_sock_opts o;

	if (nwi_opts_load(&ctx, opts, opts_size, &o) < 0)
		return -1;
	return tcp_connect(&ctx, host, service, timeout_ms, &o);
}
