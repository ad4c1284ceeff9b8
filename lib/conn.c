/*
 * conn.c - a connection of the event model: its life from accept to close,
 * and the nw_conn_* calls its callbacks make (its I/O is in conn_io.c).
 *
 * Memory follows need: an idle connection holds no buffer at all.  Input
 * is read into the loop's shared buffer and handed to on_data there; only
 * what on_data leaves unused is copied into the connection's own buffer.
 * Output goes straight to the kernel when nothing is queued; only what the
 * kernel does not take is copied.  Both buffers are freed once empty.
 *
 * A connection's life: OPEN (callbacks run) -> CLOSING (the handler or the
 * server closed it: queued output still goes out) -> on_close -> LINGER
 * (FIN sent, the peer's input read and discarded until its EOF, bounded in
 * time and bytes, so unread input never turns our close into a reset that
 * destroys the reply) -> DEAD.  Everything happens in settle(), after each
 * callback returns, so no callback ever sees its connection change under it.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NO_SLOT UINT32_MAX

struct nw_conn *nwi_conn_new(struct nwi_loop *l)
{
	struct nw_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->loop = l;
	c->fd = -1;
	c->slot = NO_SLOT;
	c->tlist = NWI_TL_NONE;
	c->peerlen = sizeof c->peer;
	return c;
}

bool nwi_conn_quiet(const struct nw_conn *c)
{
	return c->state == NWI_CONN_OPEN && c->in_len == 0 && nwi_conn_pending(c) == 0;
}

void nwi_conn_drop_output(struct nw_conn *c)
{
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
}

void nwi_conn_drop_input(struct nw_conn *c)
{
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
}

void nwi_conn_shut(struct nw_conn *c, int err, bool hard)
{
	if (c->state == NWI_CONN_DEAD)
		return;
	if (c->state == NWI_CONN_OPEN || (c->err == 0 && c->slot != NO_SLOT))
		c->err = err;
	if (c->state == NWI_CONN_OPEN)
		c->state = NWI_CONN_CLOSING;
	if (hard)
		c->broken = true;
}

/* The handler's part is over: free the id, then on_close. */
static void user_end(struct nw_conn *c)
{
	struct nwi_loop *l = c->loop;

	if (c->slot == NO_SLOT)
		return;
	nwi_slot_release(l, c);
	nwi_conn_drop_input(c);
	if (l->ops->on_close)
		l->ops->on_close(c, c->err);
	c->user = NULL;
}

static void close_now(struct nw_conn *c)
{
	struct nwi_loop *l = c->loop;

	user_end(c);
	nwi_timer_clear(l, c);
	/*
	 * Out of the epoll set first: close() alone leaves the registration
	 * alive while a forked child still holds a copy of the descriptor, and
	 * its events would then name a freed connection.
	 */
	nwi_loop_ctl(l, EPOLL_CTL_DEL, c->fd, 0, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = NWI_CONN_DEAD;
	nwi_conn_drop_output(c);
	c->tnext = l->dead;
	l->dead = c;
	l->conns--;
	nwi_events_conn_gone(l, c);
}

void nwi_conn_free_dead(struct nwi_loop *l)
{
	while (l->dead) {
		struct nw_conn *c = l->dead;

		l->dead = c->tnext;
		free(c->in);
		free(c);
	}
}

void nwi_conn_expire(struct nw_conn *c)
{
	int list = c->tlist;

	nwi_timer_clear(c->loop, c);
	/* Idle with output stuck (a peer that does not read): no point waiting for it. */
	if (list == NWI_TL_IDLE)
		nwi_conn_shut(c, ETIMEDOUT, nwi_conn_pending(c) > 0 || c->state != NWI_CONN_OPEN);
	else
		c->broken = true;
	nwi_conn_settle(c);
}

/* The events c waits for in its state. */
static uint32_t wanted(const struct nw_conn *c)
{
	/* A due on_drain waits for a writable event, so other connections get their turn. */
	uint32_t ev = nwi_conn_pending(c) || (c->drain_due && c->state == NWI_CONN_OPEN) ? EPOLLOUT : 0;

	if (c->state == NWI_CONN_LINGER || (c->state == NWI_CONN_OPEN && !c->paused))
		ev |= EPOLLIN;
	return ev;
}

void nwi_conn_settle(struct nw_conn *c)
{
	struct nwi_loop *l = c->loop;

	if (c->state == NWI_CONN_OPEN && !c->paused && nwi_conn_pending(c) > l->high_water) {
		c->paused = true;
	} else if (c->state == NWI_CONN_OPEN && c->paused && nwi_conn_pending(c) <= l->low_water) {
		c->paused = false;
		if (c->in_len)
			nwi_conn_deliver_kept(c);
	}
	if (c->state == NWI_CONN_OPEN && l->stopping && nwi_conn_quiet(c))
		nwi_conn_shut(c, ECANCELED, false);
	if (c->state == NWI_CONN_CLOSING && !c->broken && nwi_conn_pending(c) == 0) {
		user_end(c);
		/*
		 * Unread input would make close() send a reset that destroys the
		 * reply still in flight: send FIN, then wait for the peer's.
		 */
		c->linger_budget = NWI_LINGER_MAX_BYTES;
		if (c->peer_eof || nwi_linger_begin(c->fd, &c->linger_budget) != 0) {
			c->broken = true;
		} else {
			c->state = NWI_CONN_LINGER;
			nwi_timer_set(l, c, NWI_TL_LINGER);
		}
	}
	if (c->broken) {
		close_now(c);
		return;
	}
	uint32_t want = wanted(c);

	if (want != ((c->reading ? EPOLLIN : 0u) | (c->writing ? EPOLLOUT : 0u))) {
		/* ENOMEM here leaves the old interest; the idle timer still bounds it. */
		if (nwi_loop_ctl(l, EPOLL_CTL_MOD, c->fd, want, c) == 0) {
			c->reading = (want & EPOLLIN) != 0;
			c->writing = (want & EPOLLOUT) != 0;
		}
	}
}

int nwi_conn_open(struct nw_conn *c)
{
	struct nwi_loop *l = c->loop;

	if (nwi_slot_take(l, c) < 0)
		return -1;
	if (nwi_loop_ctl(l, EPOLL_CTL_ADD, c->fd, EPOLLIN, c) < 0) {
		int err = errno;

		nwi_slot_release(l, c);
		errno = err;
		return -1;
	}
	c->reading = true;
	l->conns++;
	nwi_timer_set(l, c, NWI_TL_IDLE);
	if (l->ops->on_open)
		l->ops->on_open(c);
	nwi_conn_settle(c);
	return 0;
}

/* ---- the calls callbacks make ---- */

ssize_t nw_conn_send(nw_conn *c, const void *data, size_t len)
{
	if (c == NULL || (data == NULL && len > 0))
		return nwi_fail(EINVAL, "nw_conn_send(%zu)", len);
	if (c->state != NWI_CONN_OPEN || c->broken)
		return nwi_fail(EPIPE, "nw_conn_send(%d, %zu): connection closing", c->fd, len);
	if (nwi_conn_queue(c, data, len) < 0)
		return nwi_fail(errno, "nw_conn_send(%d, %zu)", c->fd, len);
	return (ssize_t)len;
}

int nw_conn_close(nw_conn *c)
{
	if (c == NULL)
		return nwi_fail(EINVAL, "nw_conn_close(NULL)");
	nwi_conn_shut(c, 0, false);
	return 0;
}

const struct sockaddr *nw_conn_peer(nw_conn *c, socklen_t *len)
{
	if (c == NULL) {
		nwi_fail(EINVAL, "nw_conn_peer(NULL)");
		return NULL;
	}
	if (len)
		*len = c->peerlen;
	return (const struct sockaddr *)&c->peer;
}

int nw_conn_fd(nw_conn *c)
{
	if (c == NULL)
		return nwi_fail(EINVAL, "nw_conn_fd(NULL)");
	return c->fd;
}

uint64_t nw_conn_id(nw_conn *c)
{
	if (c == NULL || c->slot == NO_SLOT)
		return 0;
	return nwi_slot_id(c->loop, c->slot);
}

void *nw_conn_data(nw_conn *c)
{
	return c ? c->user : NULL;
}

void nw_conn_set_data(nw_conn *c, void *data)
{
	if (c)
		c->user = data;
}

void *nw_conn_arg(nw_conn *c)
{
	return c ? nwi_events_arg(c->loop->ev) : NULL;
}

nw_server *nw_conn_server(nw_conn *c)
{
	return c ? nwi_events_server(c->loop->ev) : NULL;
}
