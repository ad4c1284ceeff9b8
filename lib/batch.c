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
 *
 * On a UDP socket, a run of datagrams to one peer, all of one length (the
 * last may be shorter), goes as one message with UDP_SEGMENT (UDP GSO,
 * Linux 4.18): the stack handles the run once and cuts it into the same
 * datagrams at the device, or at the receiving socket on loopback.  That,
 * not the saved system calls, is what makes a batch several times cheaper
 * (sendmmsg alone saves one kernel entry in a datagram's dozen steps).
 * Where the kernel or the route refuses it (an old kernel, a device without
 * checksum offload, a run longer than the path MTU allows), the call sends
 * the rest of the batch one datagram per message.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdalign.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Headers built per kernel call, on the stack: 64 x (64 + 16) bytes. */
#define CHUNK 64

/* Limits of one UDP_SEGMENT message: the kernel's UDP_MAX_SEGMENTS (64
 * before Linux 5.5), and a total well inside one IP packet's 64 KiB. */
#define SEGMENTS_MAX 64
#define SEGMENTED_BYTES_MAX 60000

struct chunk {
	struct mmsghdr hdr[CHUNK];
	struct iovec iov[CHUNK];
	unsigned count[CHUNK];		/* datagrams in each message (sending) */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} control[CHUNK];
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
		c->count[i] = 1;
	}
}

/* Can datagram g join a segmented run that starts with head and has n members? */
static bool joins_run(const struct nw_dgram *head, const struct nw_dgram *g, unsigned n,
		      size_t bytes)
{
	return n < SEGMENTS_MAX && g->len > 0 && g->len <= head->len &&
	       bytes + g->len <= SEGMENTED_BYTES_MAX && g->peerlen == head->peerlen &&
	       memcmp(&g->peer, &head->peer, head->peerlen) == 0;
}

/*
 * Describe datagrams first.. (at most n) as messages, runs to one peer
 * merged under UDP_SEGMENT; returns the number of messages.  A run ends
 * after a datagram shorter than its first, as the kernel's segments do.
 */
static unsigned fill_segmented(struct chunk *c, struct nw_dgram *d, size_t size, size_t first,
			       size_t n)
{
	unsigned msgs = 0;
	size_t i = 0;

	memset(c->hdr, 0, n * sizeof c->hdr[0]);
	while (i < n) {
		struct nw_dgram *head = elem(d, size, first + i);
		struct msghdr *m = &c->hdr[msgs].msg_hdr;
		size_t bytes = head->len;
		unsigned k = 1;

		c->iov[i].iov_base = head->buf;
		c->iov[i].iov_len = head->len;
		while (i + k < n && head->len > 0 && head->len <= SEGMENTED_BYTES_MAX) {
			struct nw_dgram *g = elem(d, size, first + i + k);

			if (!joins_run(head, g, k, bytes))
				break;
			c->iov[i + k].iov_base = g->buf;
			c->iov[i + k].iov_len = g->len;
			bytes += g->len;
			k++;
			if (g->len < head->len)
				break;
		}
		m->msg_iov = &c->iov[i];
		m->msg_iovlen = k;
		if (head->peerlen > 0) {
			m->msg_name = &head->peer;
			m->msg_namelen = head->peerlen;
		}
		if (k > 1) {
			struct cmsghdr *cm;
			uint16_t seg = (uint16_t)head->len;

			memset(c->control[msgs].buf, 0, sizeof c->control[msgs].buf);
			m->msg_control = c->control[msgs].buf;
			m->msg_controllen = sizeof c->control[msgs].buf;
			cm = CMSG_FIRSTHDR(m);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof seg);
			memcpy(CMSG_DATA(cm), &seg, sizeof seg);
		}
		c->count[msgs++] = k;
		i += k;
	}
	return msgs;
}

/* UDP GSO only means something on a UDP socket: elsewhere the option is ignored. */
static bool is_udp(int fd)
{
	int proto = 0;
	socklen_t len = sizeof proto;

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
	       proto == IPPROTO_UDP;
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
	bool segment = count > 1 && is_udp(fd);

	while (sent < count) {
		size_t n = count - sent < CHUNK ? count - sent : CHUNK;
		unsigned msgs;
		int r;

		if (segment) {
			msgs = fill_segmented(&c, dgrams, size, sent, n);
		} else {
			fill(&c, dgrams, size, sent, n, false);
			msgs = (unsigned)n;
		}
		/* Fewer than asked is normal (a full buffer, a signal): go on from there. */
		r = sendmmsg(fd, c.hdr, msgs, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    nwi_wait_ready(fd, POLLOUT) == 0)
				continue;
			/* A refused run: nothing of it went; send it datagram by datagram. */
			if (segment && c.count[0] > 1 &&
			    (errno == EINVAL || errno == EIO || errno == EMSGSIZE ||
			     errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				segment = false;
				continue;
			}
			return nwi_fail(errno, "nw_send_batch(%d, %zu): datagram %zu (%zu bytes)",
					fd, count, sent, elem(dgrams, size, sent)->len);
		}
		for (int m = 0; m < r; m++)
			for (unsigned k = 0; k < c.count[m]; k++)
				elem(dgrams, size, sent++)->flags |= NW_DGRAM_SENT;
	}
	return (ssize_t)count;
}
