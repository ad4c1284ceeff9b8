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

/*
 * Start a detached thread with the signals blocked that the program's own
 * threads should take.  Those a fault raises in the thread itself stay
 * unblocked: blocked, the kernel would kill the process with the default
 * action, and the program's crash handler (or a sanitizer's report) would
 * never run.
 */
static int start_detached(void *(*fn)(void *), void *arg)
{
	static const int synchronous[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t mask, old;
	int err = pthread_attr_init(&attr);

	if (err)
		return err;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&mask);
	for (size_t i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++)
		sigdelset(&mask, synchronous[i]);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	err = pthread_create(&tid, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

static int read_locked(nw_server *s, const int *field)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = *field;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The end of the grace period of a stop seen now (-1: none). */
static int64_t grace_deadline(const nw_server *s)
{
	return s->grace_ms < 0 ? -1 : nwi_now_ms() + s->grace_ms;
}

/*
 * After a stop: wait for *busy (active connections or live workers) to
 * reach 0, up to the grace period's deadline; then cut the remaining
 * connections off.
 */
static void wait_threads(nw_server *s, const int *busy, int64_t deadline)
{
	while (read_locked(s, busy) > 0) {
		int left = nwi_ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (left == 0) {
			nwi_shutdown_conns(s);
			return;
		}
		nwi_server_wait(s, &p, 1, left);
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
	nwi_conn_unlink(s, c);
	nwi_conn_end(s, c);
	pthread_mutex_lock(&s->lock);
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
		nwi_conn_link(s, c);
		if (conn_start(s, c) != 0) {
			/* Keep the connection: nothing accepted is ever dropped. */
			*pending = c;
			nwi_backoff_hit(b);
			return 0;
		}
	}
	return 0;
}

/*
 * A connection accepted before the stop but still waiting for its thread is
 * served like the others: keep trying within the grace period.  Only when
 * no thread can be started before it ends is the connection closed unserved.
 */
static void start_pending(nw_server *s, struct nwi_conn *c, struct nwi_backoff *b,
			  int64_t deadline)
{
	while (conn_start(s, c) != 0) {
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };
		int left = nwi_ms_until(deadline);

		if (left == 0) {
			nwi_conn_unlink(s, c);
			c->cut = true;
			nwi_conn_end(s, c);
			free(c);
			return;
		}
		nwi_backoff_hit(b);
		nwi_server_wait(s, &p, 1, nwi_shorter(left, nwi_backoff_left(b)));
		nwi_drain_wake(s, NULL, NULL);
	}
}

int nwi_run_threads(nw_server *s)
{
	struct nwi_backoff b = { 0, 0 };
	struct nwi_conn *pending = NULL;
	int64_t deadline;
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

		if (nwi_server_wait(s, p, 3, nwi_backoff_left(&b) ? nwi_backoff_left(&b) : -1) > 0 &&
		    !nwi_stop_seen(s, &p[0]) && p[2].revents)
			err = accept_threads(s, &b, &pending);
	}
	deadline = grace_deadline(s);
	if (pending)
		start_pending(s, pending, &b, deadline);
	wait_threads(s, &s->active, deadline);
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
		nwi_conn_link(s, &c);
		nwi_call_handler(s, &c);
		nwi_conn_unlink(s, &c);
		nwi_conn_end(s, &c);
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
	/* The workers serve; this thread lingers, cuts idle connections, and waits for the stop. */
	while (!nwi_stop_seen(s, NULL)) {
		struct pollfd p[2] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
		};

		nwi_server_wait(s, p, 2, -1);
		nwi_drain_wake(s, NULL, NULL);
		nwi_stop_seen(s, &p[0]);
	}
	wait_threads(s, &s->live_workers, grace_deadline(s));
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
		nwi_shutdown_conns(s);
		nwi_server_wait(s, &p, 1, NWI_EXITING_POLL_MS);
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

