/*
 * serve_thread.c - the thread models of nw_server: a detached thread per
 * connection (NW_SERVER_THREAD), and a fixed pool of threads that take
 * turns to accept on the shared listener and serve what they accepted
 * (NW_SERVER_POOL).
 *
 * A connection is on the server's list while its handler may run, so that
 * the end of a grace period can shut every one of them down; it is closed
 * under the same lock that unlinks it, so that shutdown never hits a
 * descriptor number another thread has reused.  Every library thread holds
 * a reference to the server: nw_server_free after a grace period leaves the
 * last thread to free it.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Start a detached thread with every signal blocked, so signals reach the program's threads. */
static int start_detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int err = pthread_attr_init(&attr);

	if (err)
		return err;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tid, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

/* Thread bookkeeping: a connection is on the list while its handler may run. */
static void conn_link(nw_server *s, struct nwi_conn *c)
{
	pthread_mutex_lock(&s->lock);
	c->srv = s;
	c->next = &s->conns;
	c->prev = s->conns.prev;
	s->conns.prev->next = c;
	s->conns.prev = c;
	s->active++;
	pthread_mutex_unlock(&s->lock);
}

/*
 * Unlink and close under the lock, so the grace-period shutdown never hits a
 * descriptor number that another thread has reused.  Call locked.
 */
static void conn_unlink_close_locked(nw_server *s, struct nwi_conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	close(c->fd);
	c->fd = -1;
	s->active--;
}

/* The grace period is over: make every handler thread's reads and writes fail. */
static void shutdown_conns(nw_server *s)
{
	pthread_mutex_lock(&s->lock);
	for (struct nwi_conn *c = s->conns.next; c != &s->conns; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
}

static int read_locked(nw_server *s, const int *field)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = *field;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/*
 * After a stop: wait for *busy (active connections or live workers) to
 * reach 0, up to the grace period; then cut the remaining connections off.
 */
static void wait_threads(nw_server *s, const int *busy)
{
	int64_t deadline = s->grace_ms < 0 ? -1 : nwi_now_ms() + s->grace_ms;

	while (read_locked(s, busy) > 0) {
		int left = nwi_ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (left == 0) {
			shutdown_conns(s);
			return;
		}
		nwi_wait_fds(&p, 1, left);
		nwi_drain_wake(s, NULL, NULL);
	}
}

/* ---- thread per connection ---- */

static void *conn_thread(void *arg)
{
	struct nwi_conn *c = arg;
	nw_server *s = c->srv;
	bool last;

	nwi_call_handler(s, c);
	pthread_mutex_lock(&s->lock);
	conn_unlink_close_locked(s, c);
	nwi_wake_run(s, 0);
	last = nwi_server_unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	free(c);
	if (last)
		nwi_server_destroy(s);
	return NULL;
}

/* Hand c to a new thread; a failure leaves it linked, for a later retry. */
static int conn_start(nw_server *s, struct nwi_conn *c)
{
	int err;

	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	err = start_detached(conn_thread, c);
	if (err) {
		pthread_mutex_lock(&s->lock);
		s->refs--;
		pthread_mutex_unlock(&s->lock);
	}
	return err;
}

/* Accept up to a batch; 0, or the errno that broke the listener. */
static int accept_threads(nw_server *s, struct nwi_backoff *b, struct nwi_conn **pending)
{
	for (int i = 0; i < NWI_ACCEPT_BATCH; i++) {
		struct nwi_conn *c;

		if (nwi_stop_arrived(s) || read_locked(s, &s->active) >= s->max_conns)
			return 0;
		c = malloc(sizeof *c);
		if (c == NULL) {
			nwi_backoff_hit(b);
			return 0;
		}
		int got = nwi_accept_next(s, c, b);

		if (got <= 0) {
			int err = errno;

			free(c);
			return got < 0 ? err : 0;
		}
		conn_link(s, c);
		if (conn_start(s, c) != 0) {
			/* Keep the connection: nothing accepted is ever dropped. */
			*pending = c;
			nwi_backoff_hit(b);
			return 0;
		}
	}
	return 0;
}

int nwi_run_threads(nw_server *s)
{
	struct nwi_backoff b = { 0, 0 };
	struct nwi_conn *pending = NULL;
	int err = 0;

	while (!nwi_stop_seen(s, NULL) && !err) {
		/* A connection ended: its descriptor is free, so try again now. */
		if (nwi_drain_wake(s, NULL, NULL) > 0)
			b.until = 0;
		if (pending && nwi_backoff_left(&b) == 0) {
			if (conn_start(s, pending) == 0)
				pending = NULL;
			else
				nwi_backoff_hit(&b);
		}
		bool can_accept = !pending && nwi_backoff_left(&b) == 0 &&
				  read_locked(s, &s->active) < s->max_conns;
		struct pollfd p[3] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
			{ .fd = can_accept ? s->listen_fd : -1, .events = POLLIN },
		};

		if (nwi_wait_fds(p, 3, nwi_backoff_left(&b) ? nwi_backoff_left(&b) : -1) > 0 &&
		    !nwi_stop_seen(s, &p[0]) && p[2].revents)
			err = accept_threads(s, &b, &pending);
	}
	if (pending) {
		pthread_mutex_lock(&s->lock);
		conn_unlink_close_locked(s, pending);
		pthread_mutex_unlock(&s->lock);
		free(pending);
	}
	wait_threads(s, &s->active);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): accept", s->listen_fd);
	return 0;
}

/* ---- pool of workers ---- */

/* A fatal error in one worker stops the whole server; the run reports it. */
static void worker_failed(nw_server *s, int err)
{
	pthread_mutex_lock(&s->lock);
	if (!s->worker_err)
		s->worker_err = err;
	pthread_mutex_unlock(&s->lock);
	nw_server_stop(s);
}

static void *pool_worker(void *arg)
{
	nw_server *s = arg;
	unsigned gen = atomic_load(&s->run_gen);
	struct nwi_backoff b = { 0, 0 };
	struct nwi_conn c;
	bool last;

	memset(&c, 0, sizeof c);
	while (!nwi_stop_seen(s, NULL) && atomic_load(&s->run_gen) == gen) {
		int left = nwi_backoff_left(&b);
		struct pollfd p[2] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = left ? -1 : s->listen_fd, .events = POLLIN },
		};

		/* Any event on the listener, errors included, is for accept to report. */
		if (nwi_wait_fds(p, 2, left ? left : -1) <= 0 || nwi_stop_seen(s, &p[0]) ||
		    !p[1].revents)
			continue;
		/* Every worker wakes for a connection; those that lose the race see EAGAIN. */
		int got = nwi_accept_next(s, &c, &b);

		if (got < 0)
			worker_failed(s, errno);
		if (got <= 0)
			continue;
		conn_link(s, &c);
		nwi_call_handler(s, &c);
		pthread_mutex_lock(&s->lock);
		conn_unlink_close_locked(s, &c);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	s->live_workers--;
	nwi_wake_run(s, 0);
	last = nwi_server_unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (last)
		nwi_server_destroy(s);
	return NULL;
}

int nwi_run_pool(nw_server *s)
{
	int size = s->workers < s->max_conns ? s->workers : s->max_conns;
	int err = 0, worker_err;

	for (int i = 0; i < size && !err; i++) {
		pthread_mutex_lock(&s->lock);
		s->refs++;
		s->live_workers++;
		pthread_mutex_unlock(&s->lock);
		err = start_detached(pool_worker, s);
		if (err) {
			pthread_mutex_lock(&s->lock);
			s->refs--;
			s->live_workers--;
			pthread_mutex_unlock(&s->lock);
			nw_server_stop(s);
		}
	}
	while (!nwi_stop_seen(s, NULL)) {
		struct pollfd p = { .fd = s->stop_fd, .events = POLLIN };

		nwi_wait_fds(&p, 1, -1);
		nwi_stop_seen(s, &p);
	}
	wait_threads(s, &s->live_workers);
	/*
	 * Workers still in a handler after the grace period return to a loop
	 * that checks run_gen; idle ones leave at once, and must be gone
	 * before the stop request is cleared or they would sleep for ever.
	 */
	for (;;) {
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		pthread_mutex_lock(&s->lock);
		int idle = s->live_workers - s->active;
		pthread_mutex_unlock(&s->lock);
		if (idle <= 0)
			break;
		shutdown_conns(s);
		nwi_wait_fds(&p, 1, NWI_EXITING_POLL_MS);
		nwi_drain_wake(s, NULL, NULL);
	}
	pthread_mutex_lock(&s->lock);
	worker_err = s->worker_err;
	s->worker_err = 0;
	pthread_mutex_unlock(&s->lock);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): pthread_create", s->listen_fd);
	if (worker_err)
		return nwi_fail(worker_err, "nw_server_run(%d): accept", s->listen_fd);
	return 0;
}

