/*
 * serve_event.c - the event model (NW_SERVER_EVENT): N epoll loops, one per
 * thread, each accepting from the shared listener and owning the
 * connections it accepted.  Nothing in a loop blocks.
 *
 * serve_event_accept.c says how loops share the listener; evloop.c holds a
 * loop's descriptors, timers, slots and mailbox; conn.c a connection's
 * buffers and life.  This file runs the loops and stops them.
 *
 * A stop: each loop stops accepting, closes its quiet connections (nothing
 * half read, nothing queued) at once, the others as soon as they become
 * quiet, and whatever is left when the grace period ends.
 */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HIGH_WATER (1024 * 1024)
#define DEFAULT_LOW_WATER 0
#define MAX_EVENTS 256

/* Tags for the descriptors in a loop's epoll set that are not connections. */
static char tag_stop, tag_wake;

static struct nwi_events *events_new(nw_server *s, const struct nw_conn_ops *ops,
				  size_t ops_size, void *arg)
{
	struct nwi_events *ev = calloc(1, sizeof *ev);

	if (ev == NULL)
		return NULL;
	errno = pthread_mutex_init(&ev->lock, NULL);
	if (errno) {
		free(ev);
		return NULL;
	}
	/* A caller built against an older, shorter table gets NULL for the rest. */
	memcpy(&ev->ops, ops, ops_size < sizeof ev->ops ? ops_size : sizeof ev->ops);
	ev->srv = s;
	ev->arg = arg;
	ev->high_water = DEFAULT_HIGH_WATER;
	ev->low_water = DEFAULT_LOW_WATER;
	ev->gen_base = 1;
	return ev;
}

void nwi_events_free(struct nwi_events *ev)
{
	if (ev == NULL)
		return;
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

static int events_set_watermarks(struct nwi_events *ev, size_t low, size_t high)
{
	if (high == 0 || low >= high) {
		errno = EINVAL;
		return -1;
	}
	ev->low_water = low;
	ev->high_water = high;
	return 0;
}

void *nwi_events_arg(const struct nwi_events *ev)
{
	return ev->arg;
}

nw_server *nwi_events_server(const struct nwi_events *ev)
{
	return ev->srv;
}

/* ---- the loop ---- */

/* Every connection the handler still knows: the live slots. */
static void for_each_conn(struct nwi_loop *l, int err, bool all, bool hard)
{
	for (uint32_t i = 0; i < l->nslots; i++) {
		struct nw_conn *c = l->slots[i].conn;

		if (c && (all || nwi_conn_quiet(c))) {
			nwi_conn_shut(c, err, hard);
			nwi_conn_settle(c);
		}
	}
}

static void begin_stop(struct nwi_loop *l)
{
	struct nwi_events *ev = l->ev;
	int grace = ev->run->grace_ms;

	if (l->stopping)
		return;
	l->stopping = true;
	atomic_store(ev->run->stopping, 1);
	/* stop_fd stays readable for the other loops: it must leave this set. */
	nwi_loop_ctl(l, EPOLL_CTL_DEL, ev->run->stop_fd, 0, NULL);
	nwi_events_update_listening(l);
	l->grace_end = grace < 0 ? -1 : l->now + grace;
	for_each_conn(l, ECANCELED, false, false);
}

/* The grace period is over: end what is left, lingering ones included. */
static void end_grace(struct nwi_loop *l)
{
	struct nw_conn *c;

	for_each_conn(l, ECANCELED, true, true);
	while ((c = l->timers[NWI_TL_LINGER].head) != NULL)
		nwi_conn_expire(c);
}

static int wait_cap(const struct nwi_loop *l)
{
	int cap = -1;

	if (!l->stopping && !l->listening)
		cap = nwi_backoff_left(&l->backoff);
	if (!l->stopping && !l->listening && cap <= 0)
		cap = NWI_BACKOFF_MAX_MS;	/* at the cap: look again now and then */
	if (l->stopping && l->grace_end >= 0) {
		int64_t left = l->grace_end - l->now;
		int g = left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;

		cap = cap < 0 || g < cap ? g : cap;
	}
	return cap;
}

static void loop_run(struct nwi_loop *l)
{
	struct nwi_events *ev = l->ev;
	struct epoll_event events[MAX_EVENTS];

	l->now = nwi_now_ms();
	for (;;) {
		struct nw_conn *c;
		int n;

		if (!l->stopping && nwi_events_stopping(ev))
			begin_stop(l);
		nwi_events_open_pending(l);
		if (l->stopping && l->conns == 0 && l->pending == NULL)
			break;
		nwi_events_update_listening(l);
		n = epoll_wait(l->epfd, events, MAX_EVENTS, nwi_timer_wait_ms(l, wait_cap(l)));
		if (n < 0) {
			/* EINTR: a signal for the program's handler; ENOMEM: wait it out. */
			if (errno == ENOMEM)
				nanosleep(&(struct timespec){ 0, NWI_BACKOFF_MIN_MS * 1000000L }, NULL);
			n = 0;
		}
		l->now = nwi_now_ms();
		for (int i = 0; i < n; i++) {
			void *tag = events[i].data.ptr;

			if (tag == &l->listening)
				nwi_events_accept(l);
			else if (tag == &tag_stop)
				begin_stop(l);
			else if (tag == &tag_wake)
				nwi_loop_take_posts(l);
			else
				nwi_conn_event(tag, events[i].events);
		}
		while ((c = nwi_timer_expired(l)) != NULL)
			nwi_conn_expire(c);
		if (l->stopping && l->grace_end >= 0 && l->now >= l->grace_end)
			end_grace(l);
		nwi_conn_free_dead(l);
	}
	/* A stop's quiet connections may have closed just before the last look. */
	nwi_conn_free_dead(l);
}

static void *loop_thread(void *arg)
{
	loop_run(arg);
	return NULL;
}

/*
 * Loop threads take no signal the program may have blocked or wants to
 * handle in its own threads; faults (SIGSEGV, ...) still reach their
 * handlers, since a blocked fault kills the process without them.
 */
static int start_loop(struct nwi_loop *l)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	sigset_t block, old;
	int err;

	sigfillset(&block);
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
		sigdelset(&block, faults[i]);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	err = pthread_create(&l->thread, NULL, loop_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		l->started = true;
	return err;
}

void nwi_events_fail(struct nwi_events *ev, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&ev->fatal, &none, err);
	nw_server_stop(ev->srv);
}

static unsigned loop_count(int workers)
{
	long n = workers > 0 ? workers : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > NWI_MAX_LOOPS ? NWI_MAX_LOOPS : (unsigned)n;
}

static int loops_start(struct nwi_events *ev, unsigned n)
{
	struct nwi_loop *loops = calloc(n, sizeof *loops);
	unsigned made = 0;

	if (loops == NULL)
		return -1;
	for (; made < n; made++) {
		struct nwi_loop *l = &loops[made];

		if (nwi_loop_init(l, ev, made) < 0)
			goto fail;
		l->ops = &ev->ops;
		l->high_water = ev->high_water;
		l->low_water = ev->low_water;
		l->gen_base = ev->gen_base;
		l->timeout_ms[NWI_TL_IDLE] = ev->run->idle_ms;
		l->timeout_ms[NWI_TL_LINGER] = NWI_LINGER_MS;
		if (nwi_loop_ctl(l, EPOLL_CTL_ADD, ev->run->stop_fd, EPOLLIN, &tag_stop) < 0 ||
		    nwi_loop_ctl(l, EPOLL_CTL_ADD, l->wake_fd, EPOLLIN, &tag_wake) < 0) {
			nwi_loop_destroy(l);
			goto fail;
		}
	}
	pthread_mutex_lock(&ev->lock);
	ev->loops = loops;
	ev->nloops = n;
	pthread_mutex_unlock(&ev->lock);
	return 0;
fail:
	while (made-- > 0)
		nwi_loop_destroy(&loops[made]);
	free(loops);
	return -1;
}

static void loops_end(struct nwi_events *ev)
{
	struct nwi_loop *loops;
	unsigned n;

	pthread_mutex_lock(&ev->lock);
	loops = ev->loops;
	n = ev->nloops;
	ev->loops = NULL;
	ev->nloops = 0;
	pthread_mutex_unlock(&ev->lock);
	for (unsigned i = 0; i < n; i++) {
		for (uint32_t s = 0; s < loops[i].nslots; s++)
			if (loops[i].slots[s].gen >= ev->gen_base)
				ev->gen_base = loops[i].slots[s].gen + 1;
		nwi_loop_destroy(&loops[i]);
	}
	if (ev->gen_base == 0)
		ev->gen_base = 1;
	free(loops);
}

int nwi_run_events(nw_server *s)
{
	struct nwi_events *ev = s->events;
	const struct nwi_event_run runv = {
		.listen_fd = s->listen_fd, .stop_fd = s->stop_fd, .stopping = &s->stopping,
		.max_conns = s->max_conns, .grace_ms = s->grace_ms,
		.idle_ms = s->idle_ms, .max_per_peer = s->max_per_peer,
	};
	const struct nwi_event_run *run = &runv;
	unsigned n = loop_count(s->workers);
	int err = 0;

	ev->run = run;
	atomic_store(&ev->live, 0);
	atomic_store(&ev->fatal, 0);
	ev->peers = run->max_per_peer > 0 ? &s->peers : NULL;
	if (loops_start(ev, n) < 0)
		return nwi_fail(errno, "nw_server_run(%d)", run->listen_fd);
	/* Loop 0 runs in the caller's thread: one worker costs no thread at all. */
	for (unsigned i = 1; i < n && !err; i++) {
		err = start_loop(&ev->loops[i]);
		if (err)
			nw_server_stop(ev->srv);
	}
	loop_run(&ev->loops[0]);
	for (unsigned i = 1; i < n; i++)
		if (ev->loops[i].started)
			pthread_join(ev->loops[i].thread, NULL);
	loops_end(ev);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): pthread_create", run->listen_fd);
	err = atomic_load(&ev->fatal);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): accept", run->listen_fd);
	return 0;
}

/* ---- the public calls ---- */

static void no_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	(void)fd;
	(void)peer;
	(void)peerlen;
	(void)arg;
}

nw_server *nw_server_new_events(int listen_fd, const struct nw_conn_ops *ops,
				size_t ops_size, void *arg)
{
	char why[256];
	nw_server *s;

	if (ops == NULL || ops_size < offsetof(struct nw_conn_ops, on_data) +
			   sizeof ops->on_data || ops->on_data == NULL) {
		nwi_fail_text(EINVAL, "no on_data callback", "nw_server_new_events(%d)", listen_fd);
		return NULL;
	}
	/* The core makes the server; the event model replaces the handler. */
	s = nw_server_new(listen_fd, no_handler, arg);
	if (s == NULL) {
		int err = errno;

		snprintf(why, sizeof why, "%s", nw_errmsg());
		nwi_fail_text(err, why, "nw_server_new_events(%d)", listen_fd);
		return NULL;
	}
	s->events = events_new(s, ops, ops_size, arg);
	if (s->events == NULL) {
		nwi_fail(errno, "nw_server_new_events(%d)", listen_fd);
		nw_server_free(s);
		return NULL;
	}
	s->model = NW_SERVER_EVENT;
	s->workers = 0;
	return s;
}

int nw_server_set_watermarks(nw_server *s, size_t low, size_t high)
{
	int err = 0;

	if (s == NULL || s->events == NULL)
		return nwi_fail_text(EINVAL, "not an event server",
				     "nw_server_set_watermarks(%zu, %zu)", low, high);
	pthread_mutex_lock(&s->lock);
	if (s->running)
		err = EBUSY;
	else if (events_set_watermarks(s->events, low, high) < 0)
		err = errno;
	pthread_mutex_unlock(&s->lock);
	if (err)
		return nwi_fail(err, "nw_server_set_watermarks(%zu, %zu)", low, high);
	return 0;
}

int nw_server_post(nw_server *s, uint64_t id, const void *data, size_t len, int flags)
{
	if (s == NULL || s->events == NULL || (data == NULL && len > 0) ||
	    (flags & ~NW_POST_CLOSE))
		return nwi_fail(EINVAL, "nw_server_post(%zu, %d)", len, flags);
	if (nwi_events_post(s->events, id, data, len, flags) < 0)
		return nwi_fail(errno, "nw_server_post(%zu, %d)", len, flags);
	return 0;
}
