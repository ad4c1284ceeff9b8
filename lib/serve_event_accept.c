/*
 * serve_event_accept.c - how the event model's loops accept: from the one
 * listener all loops share, within the server's connection cap, each loop
 * taking about its share, backing off when descriptors or memory run out
 * (a connection accepted then waits for memory, it is never dropped), and
 * closing at once a connection over its address's per-peer cap.
 *
 * The listener sits in every loop's epoll set with EPOLLEXCLUSIVE, so a
 * new connection wakes one idle loop rather than all of them.  A loop takes
 * the listener out of its set while the cap is reached, while it backs
 * off, while it holds more than its share, and after a stop.  Leaving for
 * its share, it first takes what is queued: the kernel may have woken it
 * alone for those connections.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* accept errors that mean "not now": the listener is fine, resources are short. */
static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/*
 * EPOLLEXCLUSIVE wakes the same waiter again and again, so left alone one
 * loop would take nearly every connection while the other CPUs idle.  A
 * loop holding more than its share (plus a slack, so that the listener is
 * not added and removed at every accept) lets the others accept instead.
 */
static bool over_share(const struct nwi_loop *l)
{
	const struct nwi_events *ev = l->ev;
	int share = atomic_load(&ev->live) / (int)ev->nloops;

	return ev->nloops > 1 && l->conns > share + 1 + share / 8;
}

static void give_back(struct nwi_events *ev, struct nw_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->peer_counted)
		nwi_peers_remove(ev->peers, (struct sockaddr *)&c->peer, c->peerlen);
	free(c);
	atomic_fetch_sub(&ev->live, 1);
}

enum accept_result {
	ACCEPTED,	/* one connection taken (served, or closed over its peer's cap) */
	EMPTY,		/* nothing queued */
	HELD,		/* not now: the cap, a stop, a shortage or a failure */
};

static enum accept_result accept_one(struct nwi_loop *l)
{
	struct nwi_events *ev = l->ev;
	struct nw_conn *c;

	if (l->stopping)
		return HELD;
	if (atomic_fetch_add(&ev->live, 1) >= ev->run->max_conns) {
		atomic_fetch_sub(&ev->live, 1);
		return HELD;		/* update_listening takes the listener out */
	}
	c = nwi_conn_new(l);
	if (c == NULL) {
		atomic_fetch_sub(&ev->live, 1);
		nwi_backoff_hit(&l->backoff);
		return HELD;
	}
	c->fd = nwi_accept(ev->run->listen_fd, &c->peer, &c->peerlen, SOCK_NONBLOCK);
	if (c->fd < 0) {
		int err = errno;

		give_back(ev, c);
		if (err == EAGAIN || err == EWOULDBLOCK || err == EPERM)
			return EMPTY;
		if (out_of_resources(err))
			nwi_backoff_hit(&l->backoff);
		else
			nwi_events_fail(ev, err);
		return HELD;
	}
	l->backoff.delay_ms = 0;
	/* A stop from another loop's callback: this client came after it. */
	if (nwi_events_stopping(ev)) {
		give_back(ev, c);
		return HELD;
	}
	if (ev->peers) {
		int counted = nwi_peers_add(ev->peers, (struct sockaddr *)&c->peer,
					    c->peerlen, ev->run->max_per_peer);

		if (counted == 0) {
			give_back(ev, c);	/* over its address's cap: closed at once */
			return ACCEPTED;
		}
		/* -1: no memory to count it; serve it uncounted rather than refuse it. */
		c->peer_counted = counted > 0;
	}
	if (nwi_conn_open(c) < 0) {
		/* Out of memory: keep it and try again, never drop what was accepted. */
		l->pending = c;
		nwi_backoff_hit(&l->backoff);
		return HELD;
	}
	return ACCEPTED;
}

/*
 * After leaving the listener's wait queue for its share: take every
 * connection still queued.  EPOLLEXCLUSIVE signalled each of them to one
 * waiter only, perhaps this loop, and the others were not woken for it; a
 * connection that came after the EPOLL_CTL_DEL wakes one of them.  Held by
 * a shortage, the loop tries again when its back-off ends.
 */
static void accept_signalled(struct nwi_loop *l)
{
	enum accept_result r;

	while ((r = accept_one(l)) == ACCEPTED)
		;
	l->signalled = r == HELD && !l->stopping && nwi_backoff_left(&l->backoff) > 0;
}

/* Not accepting for now, whatever the share: a stop, a shortage, the cap. */
static bool held_back(const struct nwi_loop *l)
{
	return l->stopping || l->pending != NULL || nwi_backoff_left(&l->backoff) > 0 ||
	       atomic_load(&l->ev->live) >= l->ev->run->max_conns;
}

void nwi_events_update_listening(struct nwi_loop *l)
{
	struct nwi_events *ev = l->ev;
	bool held = held_back(l), want;

	/* A shortage interrupted taking what was signalled: take the rest now. */
	if (l->signalled && !held) {
		accept_signalled(l);
		held = held_back(l);
	}
	want = !held && !over_share(l);

	if (want == l->listening)
		return;
	if (want && nwi_loop_ctl(l, EPOLL_CTL_ADD, ev->run->listen_fd,
				 EPOLLIN | EPOLLEXCLUSIVE, &l->listening) < 0) {
		nwi_backoff_hit(&l->backoff);
		return;
	}
	l->listening = want;
	if (want)
		return;
	nwi_loop_ctl(l, EPOLL_CTL_DEL, ev->run->listen_fd, 0, NULL);
	/*
	 * Held (the cap, a back-off, a stop), connections stay queued on
	 * purpose, and the loop that adds the listener again finds them
	 * (EPOLL_CTL_ADD looks at the queue).  Leaving for its share, the
	 * loop must not keep what was signalled to it alone.
	 */
	if (!held)
		accept_signalled(l);
}

void nwi_events_accept(struct nwi_loop *l)
{
	for (int i = 0; i < NWI_ACCEPT_BATCH && !over_share(l); i++)
		if (accept_one(l) != ACCEPTED)
			return;
}

void nwi_events_open_pending(struct nwi_loop *l)
{
	if (l->pending == NULL || (nwi_backoff_left(&l->backoff) > 0 && !l->stopping))
		return;
	if (nwi_conn_open(l->pending) == 0) {
		l->pending = NULL;
	} else if (l->stopping) {
		/* After a stop there is no later: it goes, as one accepted after would. */
		give_back(l->ev, l->pending);
		l->pending = NULL;
	} else {
		nwi_backoff_hit(&l->backoff);
	}
}

void nwi_events_conn_gone(struct nwi_loop *l, struct nw_conn *c)
{
	struct nwi_events *ev = l->ev;

	if (c->peer_counted)
		nwi_peers_remove(ev->peers, (struct sockaddr *)&c->peer, c->peerlen);
	atomic_fetch_sub(&ev->live, 1);
	/* A descriptor came free: an accept that ran out of them may work now. */
	l->backoff.until = 0;
}
