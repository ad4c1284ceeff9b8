/*
 * batch.c - many datagrams per system call: nw_recv_batch, nw_send_batch.
 *
 * recvmmsg/sendmmsg save a kernel entry per datagram, but each has a catch
 * the loops below absorb: sendmmsg may send fewer than asked (the rest then
 * has to be sent again, from where it stopped), an error after the first
 * datagram is only reported by the next call, and recvmmsg's own timeout is
 * checked only between datagrams (so it is not used: the socket's
 * SO_RCVTIMEO bounds the wait for the first datagram, and the rest are
 * taken only if already queued, MSG_WAITFORONE).
 *
 * The caller's array is walked with its own element size, so a later
 * struct nw_dgram can grow without breaking programs built against this one.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdalign.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Headers built per kernel call, on the stack: 64 x (64 + 16) bytes. */
#define CHUNK 64

struct chunk {
	struct mmsghdr hdr[CHUNK];
	struct iovec iov[CHUNK];
};

static struct nw_dgram *elem(struct nw_dgram *d, size_t size, size_t i)
{
	return (struct nw_dgram *)((char *)d + i * size);
}

static bool bad_array(const struct nw_dgram *d, size_t count, size_t size)
{
	return (d == NULL && count > 0) || size < sizeof(struct nw_dgram) ||
	       size % alignof(struct nw_dgram) != 0;
}

/* Describe n datagrams from first in c; receiving gives each its whole peer room. */
static void fill(struct chunk *c, struct nw_dgram *d, size_t size, size_t first, size_t n,
		 bool receiving)
{
	memset(c->hdr, 0, n * sizeof c->hdr[0]);
	for (size_t i = 0; i < n; i++) {
		struct nw_dgram *g = elem(d, size, first + i);
		struct msghdr *m = &c->hdr[i].msg_hdr;

		c->iov[i].iov_base = g->buf;
		c->iov[i].iov_len = receiving ? g->size : g->len;
		m->msg_iov = &c->iov[i];
		m->msg_iovlen = 1;
		if (receiving) {
			m->msg_name = &g->peer;
			m->msg_namelen = sizeof g->peer;
		} else if (g->peerlen > 0) {
			m->msg_name = &g->peer;
			m->msg_namelen = g->peerlen;
		}
	}
}

ssize_t nw_recv_batch(int fd, struct nw_dgram *dgrams, size_t count, size_t size)
{
	struct chunk c;
	size_t got = 0;

	if (bad_array(dgrams, count, size))
		return nwi_fail(EINVAL, "nw_recv_batch(%d, %zu, size %zu)", fd, count, size);
	for (size_t i = 0; i < count; i++) {
		struct nw_dgram *g = elem(dgrams, size, i);

		if (g->buf == NULL && g->size > 0)
			return nwi_fail_text(EINVAL, "a datagram without a buffer",
					     "nw_recv_batch(%d, %zu): entry %zu", fd, count, i);
	}
	while (got < count) {
		size_t n = count - got < CHUNK ? count - got : CHUNK;
		/* Only the first datagram of the call is waited for. */
		int flags = got == 0 ? MSG_WAITFORONE : MSG_DONTWAIT;
		int r;

		fill(&c, dgrams, size, got, n, true);
		r = recvmmsg(fd, c.hdr, (unsigned)n, flags, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (got > 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (got == 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
			    nwi_wait_ready(fd, POLLIN) == 0)
				continue;
			/* Datagrams already taken are the caller's; the error comes back next. */
			if (got > 0)
				break;
			return nwi_fail(errno, "nw_recv_batch(%d, %zu)", fd, count);
		}
		for (int i = 0; i < r; i++) {
			struct nw_dgram *g = elem(dgrams, size, got + (size_t)i);

			g->len = c.hdr[i].msg_len;
			g->peerlen = c.hdr[i].msg_hdr.msg_namelen;
			g->flags = (c.hdr[i].msg_hdr.msg_flags & MSG_TRUNC) ? NW_DGRAM_TRUNC : 0;
		}
		got += (size_t)r;
		if ((size_t)r < n)
			break;	/* the queue is empty */
	}
	return (ssize_t)got;
}

ssize_t nw_send_batch(int fd, struct nw_dgram *dgrams, size_t count, size_t size)
{
	struct chunk c;
	size_t sent = 0;

	if (bad_array(dgrams, count, size))
		return nwi_fail(EINVAL, "nw_send_batch(%d, %zu, size %zu)", fd, count, size);
	for (size_t i = 0; i < count; i++) {
		struct nw_dgram *g = elem(dgrams, size, i);

		g->flags &= ~NW_DGRAM_SENT;
		if ((g->buf == NULL && g->len > 0) || g->peerlen > sizeof g->peer)
			return nwi_fail_text(EINVAL, "a datagram without a buffer or with a bad peer length",
					     "nw_send_batch(%d, %zu): entry %zu", fd, count, i);
	}
	while (sent < count) {
		size_t n = count - sent < CHUNK ? count - sent : CHUNK;
		int r;

		fill(&c, dgrams, size, sent, n, false);
		/* Fewer than n is normal (a full buffer, a signal): go on from there. */
		r = sendmmsg(fd, c.hdr, (unsigned)n, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    nwi_wait_ready(fd, POLLOUT) == 0)
				continue;
			return nwi_fail(errno, "nw_send_batch(%d, %zu): datagram %zu (%zu bytes)",
					fd, count, sent, elem(dgrams, size, sent)->len);
		}
		for (int i = 0; i < r; i++)
			elem(dgrams, size, sent + (size_t)i)->flags |= NW_DGRAM_SENT;
		sent += (size_t)r;
	}
	return (ssize_t)count;
}
