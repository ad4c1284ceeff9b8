/*
 * evloop.c - one epoll loop of the event model: its descriptors, its timer
 * lists, the slot table that turns connection ids into connections, and
 * the mailbox other threads post to.
 *
 * Timers: every connection on a list has the same timeout (the idle
 * timeout, or the linger bound), so appending at the tail keeps each list
 * sorted by deadline, and the loop only ever looks at the heads.  Moving a
 * connection to the tail on activity is O(1); there is no heap to keep.
 *
 * Slots: a connection's id is (generation << 32 | loop << 24 | slot).  A
 * slot's generation changes whenever the slot is freed, so an id kept by
 * another thread after its connection closed matches nothing.  The slot
 * array only grows, under the loop's lock, which posting threads take too.
 *
 * The mailbox: a posting thread copies its message, checks the id under
 * the loop's lock, queues it and writes the loop's eventfd; the loop takes
 * the whole queue at once and sends each message to its connection if
 * that connection is still open.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int nwi_loop_init(struct nwi_loop *l, struct nwi_events *ev, unsigned index)
{
	int err;

	memset(l, 0, sizeof *l);
	l->ev = ev;
	l->index = index;
	l->epfd = l->wake_fd = -1;
	l->posts_tail = &l->posts;
	l->grace_end = -1;
	l->rbuf = malloc(NWI_READ_SIZE);
	if (l->rbuf == NULL)
		return -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0)
		goto fail;
	err = pthread_mutex_init(&l->lock, NULL);
	if (err) {
		errno = err;
		goto fail;
	}
	return 0;
fail:
	nwi_close_keep_errno(l->wake_fd);
	nwi_close_keep_errno(l->epfd);
	free(l->rbuf);
	l->rbuf = NULL;
	return -1;
}

static struct nwi_post *take_all(struct nwi_loop *l);

void nwi_loop_destroy(struct nwi_loop *l)
{
	struct nwi_post *p = take_all(l);

	while (p) {
		struct nwi_post *next = p->next;

		free(p);
		p = next;
	}
	pthread_mutex_destroy(&l->lock);
	close(l->wake_fd);
	close(l->epfd);
	free(l->slots);
	free(l->rbuf);
}

int nwi_loop_ctl(struct nwi_loop *l, int op, int fd, uint32_t events, void *data)
{
	struct epoll_event e = { .events = events, .data.ptr = data };

	return epoll_ctl(l->epfd, op, fd, &e);
}

/* ---- timers ---- */

void nwi_timer_clear(struct nwi_loop *l, struct nw_conn *c)
{
	struct nwi_tlist *t;

	if (c->tlist == NWI_TL_NONE)
		return;
	t = &l->timers[c->tlist];
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		t->head = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		t->tail = c->tprev;
	c->tprev = c->tnext = NULL;
	c->tlist = NWI_TL_NONE;
}

/* (Re)start c's timer on list: its deadline is the list's timeout from now. */
void nwi_timer_set(struct nwi_loop *l, struct nw_conn *c, int list)
{
	struct nwi_tlist *t = &l->timers[list];

	if (l->timeout_ms[list] <= 0) {
		nwi_timer_clear(l, c);
		return;
	}
	if (c->tlist == list && t->tail == c) {
		c->deadline = l->now + l->timeout_ms[list];
		return;
	}
	nwi_timer_clear(l, c);
	c->tlist = (int8_t)list;
	c->deadline = l->now + l->timeout_ms[list];
	c->tnext = NULL;
	c->tprev = t->tail;
	if (t->tail)
		t->tail->tnext = c;
	else
		t->head = c;
	t->tail = c;
}

int nwi_timer_wait_ms(struct nwi_loop *l, int cap_ms)
{
	int64_t first = -1;

	for (int i = 0; i < NWI_TL_COUNT; i++) {
		const struct nw_conn *h = l->timers[i].head;

		if (h && (first < 0 || h->deadline < first))
			first = h->deadline;
	}
	if (first < 0)
		return cap_ms;
	int64_t left = first - l->now;
	/* +1: wake just after the deadline, not a millisecond too early. */
	int wait = left < 0 ? 0 : left >= INT32_MAX ? INT32_MAX : (int)left + 1;

	return cap_ms >= 0 && cap_ms < wait ? cap_ms : wait;
}

struct nw_conn *nwi_timer_expired(struct nwi_loop *l)
{
	for (int i = 0; i < NWI_TL_COUNT; i++) {
		struct nw_conn *h = l->timers[i].head;

		if (h && h->deadline <= l->now)
			return h;
	}
	return NULL;
}

/* ---- slots: ids that go stale ---- */

#define NO_SLOT UINT32_MAX
#define SLOT_MASK ((1u << NWI_SLOT_BITS) - 1)

uint64_t nwi_slot_id(const struct nwi_loop *l, uint32_t slot)
{
	return (uint64_t)l->slots[slot].gen << 32 | (uint64_t)l->index << NWI_SLOT_BITS | slot;
}

static int slots_grow_locked(struct nwi_loop *l)
{
	uint32_t size = l->nslots ? l->nslots * 2 : 256;
	struct nwi_slot *bigger;

	if (l->nslots >= SLOT_MASK)
		return -1;
	if (size > SLOT_MASK)
		size = SLOT_MASK;
	bigger = realloc(l->slots, size * sizeof *bigger);
	if (bigger == NULL)
		return -1;
	/* Chain the new slots onto the free list, lowest first. */
	for (uint32_t i = l->nslots; i < size; i++) {
		bigger[i].conn = NULL;
		bigger[i].gen = l->gen_base;
		bigger[i].next_free = i + 1 < size ? i + 1 : l->free_slot;
	}
	l->free_slot = l->nslots;
	l->slots = bigger;
	l->nslots = size;
	return 0;
}

int nwi_slot_take(struct nwi_loop *l, struct nw_conn *c)
{
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	if (l->nslots == 0)
		l->free_slot = NO_SLOT;
	if (l->free_slot == NO_SLOT && slots_grow_locked(l) < 0) {
		errno = ENOMEM;
		rc = -1;
	} else {
		struct nwi_slot *s = &l->slots[l->free_slot];

		c->slot = l->free_slot;
		l->free_slot = s->next_free;
		s->conn = c;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void nwi_slot_release(struct nwi_loop *l, struct nw_conn *c)
{
	struct nwi_slot *s = &l->slots[c->slot];

	pthread_mutex_lock(&l->lock);
	s->conn = NULL;
	/* Generation 0 never appears in an id, so id 0 never names a connection. */
	if (++s->gen == 0)
		s->gen = 1;
	s->next_free = l->free_slot;
	l->free_slot = c->slot;
	pthread_mutex_unlock(&l->lock);
	c->slot = NO_SLOT;
}

struct nw_conn *nwi_slot_find_locked(struct nwi_loop *l, uint64_t id)
{
	uint32_t slot = (uint32_t)id & SLOT_MASK;

	if (slot >= l->nslots || l->slots[slot].conn == NULL ||
	    l->slots[slot].gen != (uint32_t)(id >> 32))
		return NULL;
	return l->slots[slot].conn;
}

/* ---- the mailbox: posts from other threads ---- */

static struct nwi_post *take_all(struct nwi_loop *l)
{
	struct nwi_post *p;

	pthread_mutex_lock(&l->lock);
	p = l->posts;
	l->posts = NULL;
	l->posts_tail = &l->posts;
	pthread_mutex_unlock(&l->lock);
	return p;
}

int nwi_events_post(struct nwi_events *ev, uint64_t id, const void *data, size_t len,
		    int flags)
{
	unsigned index = (unsigned)(id >> NWI_SLOT_BITS) & (NWI_MAX_LOOPS - 1);
	struct nwi_post *p = malloc(sizeof *p + len);
	int err = 0;

	if (p == NULL)
		return -1;
	p->next = NULL;
	p->id = id;
	p->flags = flags;
	p->len = len;
	if (len)
		memcpy(p->data, data, len);
	pthread_mutex_lock(&ev->lock);
	if (ev->loops == NULL || index >= ev->nloops) {
		err = ENOTCONN;
	} else {
		struct nwi_loop *l = &ev->loops[index];
		const uint64_t one = 1;
		bool first;

		pthread_mutex_lock(&l->lock);
		if (nwi_slot_find_locked(l, id) == NULL) {
			err = ENOTCONN;
		} else {
			first = l->posts == NULL;
			*l->posts_tail = p;
			l->posts_tail = &p->next;
			p = NULL;
		}
		pthread_mutex_unlock(&l->lock);
		/* One wake-up per batch: the loop takes every post at once. */
		if (!err && first && write(l->wake_fd, &one, sizeof one) < 0) {
			/* EAGAIN: the counter is full, so the loop is awake anyway. */
		}
	}
	pthread_mutex_unlock(&ev->lock);
	free(p);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

void nwi_loop_take_posts(struct nwi_loop *l)
{
	uint64_t count;
	struct nwi_post *p;

	if (read(l->wake_fd, &count, sizeof count) < 0) {
		/* EAGAIN: a post already taken with an earlier wake-up. */
	}
	p = take_all(l);
	while (p) {
		struct nwi_post *next = p->next;
		/* Only this thread changes the slots: no lock needed to read them. */
		struct nw_conn *c = nwi_slot_find_locked(l, p->id);

		/* A connection that closed meanwhile: the post is dropped (nw_server_post(3)). */
		if (c && c->state == NWI_CONN_OPEN && !c->broken) {
			nwi_conn_queue(c, p->data, p->len);
			if (p->flags & NW_POST_CLOSE)
				nwi_conn_shut(c, 0, false);
			nwi_conn_settle(c);
		}
		free(p);
		p = next;
	}
}
