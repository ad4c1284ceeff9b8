/*
 * conn_io.c - a connection's I/O in the event model: reading into the
 * loop's buffer and handing it to on_data, keeping what it leaves unused,
 * sending straight to the kernel and queueing only what it refuses, and
 * discarding input while lingering.  conn.c says why the buffers exist
 * only while needed; its settle() acts on what happens here.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Smallest buffer a connection allocates. */
#define MIN_BUFFER 1024

/* A buffer of at least need bytes, keeping its contents, growing by doubling. */
static int reserve(char **buf, size_t *cap, size_t need)
{
	size_t size = *cap ? *cap : MIN_BUFFER;
	char *bigger;

	if (need <= *cap)
		return 0;
	while (size < need)
		size = size * 2 > size ? size * 2 : need;
	bigger = realloc(*buf, size);
	if (bigger == NULL)
		return -1;
	*buf = bigger;
	*cap = size;
	return 0;
}

/* Send what the kernel takes of buf: bytes sent, or -1 with errno (never EAGAIN). */
static ssize_t send_some(struct nw_conn *c, const char *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(c->fd, buf + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return -1;
	}
	if (sent > 0)
		nwi_timer_set(c->loop, c, NWI_TL_IDLE);
	return (ssize_t)sent;
}

ssize_t nwi_conn_queue(struct nw_conn *c, const void *data, size_t len)
{
	ssize_t sent = 0;
	size_t rest;

	if (len == 0)
		return 0;
	if (nwi_conn_pending(c) == 0) {
		sent = send_some(c, data, len);
		if (sent < 0) {
			nwi_conn_shut(c, errno, true);
			return -1;
		}
		if ((size_t)sent == len) {
			/* All taken at once: a producer may send more right away. */
			c->drain_due = c->loop->ops->on_drain != NULL &&
				       nwi_conn_pending(c) <= c->loop->low_water;
			return (ssize_t)len;
		}
	}
	rest = len - (size_t)sent;
	if (c->out_off > 0 && c->out_len + rest > c->out_cap) {
		memmove(c->out, c->out + c->out_off, nwi_conn_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (reserve(&c->out, &c->out_cap, c->out_len + rest) < 0) {
		/* Part went out already: the stream would have a hole, so it ends. */
		if (sent > 0)
			nwi_conn_shut(c, ENOMEM, true);
		errno = ENOMEM;
		return -1;
	}
	memcpy(c->out + c->out_len, (const char *)data + sent, rest);
	c->out_len += rest;
	return (ssize_t)len;
}

/* Hand input to on_data until it uses no more, the connection closes, or output is too high. */
static size_t deliver(struct nw_conn *c, const char *data, size_t len)
{
	const struct nwi_loop *l = c->loop;
	size_t used = 0;

	while (used < len && c->state == NWI_CONN_OPEN && !c->paused) {
		size_t k;

		c->in_callback = true;
		k = l->ops->on_data(c, data + used, len - used);
		c->in_callback = false;
		if (k > len - used)
			k = len - used;
		if (k == 0)
			break;
		used += k;
		if (nwi_conn_pending(c) > l->high_water)
			c->paused = true;
	}
	return used;
}

void nwi_conn_deliver_kept(struct nw_conn *c)
{
	size_t used = deliver(c, c->in, c->in_len);

	if (used == c->in_len) {
		nwi_conn_drop_input(c);
	} else if (used > 0) {
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
}

static void read_input(struct nw_conn *c)
{
	struct nwi_loop *l = c->loop;
	/* Unused input is bounded by the high-water mark too. */
	size_t room = l->high_water > c->in_len ? l->high_water - c->in_len : 0;
	size_t want = room < NWI_READ_SIZE ? room : NWI_READ_SIZE;
	ssize_t n;

	if (want == 0) {
		nwi_conn_shut(c, EMSGSIZE, false);
		return;
	}
	do
		n = recv(c->fd, l->rbuf, want, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			nwi_conn_shut(c, errno, true);
		return;
	}
	if (n == 0) {
		/* The peer is done sending: answer what is queued, then close. */
		c->peer_eof = true;
		nwi_conn_shut(c, 0, false);
		return;
	}
	nwi_timer_set(l, c, NWI_TL_IDLE);
	if (c->in_len == 0) {
		size_t used = deliver(c, l->rbuf, (size_t)n);

		if (used == (size_t)n || c->state != NWI_CONN_OPEN)
			return;
		if (reserve(&c->in, &c->in_cap, (size_t)n - used) < 0) {
			nwi_conn_shut(c, ENOMEM, true);
			return;
		}
		memcpy(c->in, l->rbuf + used, (size_t)n - used);
		c->in_len = (size_t)n - used;
		return;
	}
	if (reserve(&c->in, &c->in_cap, c->in_len + (size_t)n) < 0) {
		nwi_conn_shut(c, ENOMEM, true);
		return;
	}
	memcpy(c->in + c->in_len, l->rbuf, (size_t)n);
	c->in_len += (size_t)n;
	nwi_conn_deliver_kept(c);
}

static void flush_output(struct nw_conn *c)
{
	const struct nwi_loop *l = c->loop;
	size_t before = nwi_conn_pending(c);
	ssize_t n;

	if (before == 0)
		return;
	n = send_some(c, c->out + c->out_off, before);
	if (n < 0) {
		nwi_conn_drop_output(c);
		nwi_conn_shut(c, errno, true);
		return;
	}
	c->out_off += (size_t)n;
	if (nwi_conn_pending(c) == 0)
		nwi_conn_drop_output(c);
	if (before > l->low_water && nwi_conn_pending(c) <= l->low_water)
		c->drain_due = l->ops->on_drain != NULL;
}

/* While lingering: read and discard until the peer's EOF (linger.c's drain). */
static void linger_read(struct nw_conn *c)
{
	if (nwi_linger_step(c->fd, &c->linger_budget) != 0)
		c->broken = true;	/* EOF, an error, or too much: nothing left to wait for */
}

void nwi_conn_event(struct nw_conn *c, uint32_t events)
{
	if (c->state == NWI_CONN_DEAD)
		return;
	if (events & EPOLLOUT) {
		flush_output(c);
		if (c->drain_due && c->state == NWI_CONN_OPEN &&
		    nwi_conn_pending(c) <= c->loop->low_water) {
			c->drain_due = false;
			c->loop->ops->on_drain(c);
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (c->state == NWI_CONN_LINGER)
			linger_read(c);
		else if (c->state == NWI_CONN_OPEN && !c->paused)
			read_input(c);
		else if (events & (EPOLLHUP | EPOLLERR))
			nwi_conn_shut(c, ECONNRESET, true);
	}
	nwi_conn_settle(c);
}
