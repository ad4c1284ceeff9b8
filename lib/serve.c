/*
 * serve.c - the core of nw_server that every model shares: the server
 * object and its settings, the stop request, the wake pipe, and
 * nw_server_run's dispatch to a model (serve_thread.c: a thread per
 * connection and the pool; serve_process.c: a process per connection).
 * What the models do with a connection (accept with back-off and the
 * per-peer cap, lingering close, the idle cut) is in serve_conn.c;
 * internal.h says what a model must do.
 *
 * Everything that wakes a waiting loop goes through descriptors made once
 * by nw_server_new, so a server holds the same descriptors from new to free:
 *  - stop_fd, an eventfd that nw_server_stop writes (write(2) is
 *    async-signal-safe) and that nobody reads while the server runs: it
 *    stays readable, so every thread polling it wakes, however many;
 *  - the wake pipe, written when a connection ends: a child writes its pid,
 *    a handler thread or pool worker writes 0;
 *  - the linger set's epoll descriptor, readable when a connection whose
 *    handler returned has more input or its end of file.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_GRACE_MS 5000

/*
 * A readable stop_fd counts as a stop too: a handler in a child process
 * calls nw_server_stop on its own copy of the flag, and only the shared
 * eventfd reaches the parent.
 */
bool nwi_stop_seen(nw_server *s, const struct pollfd *stop)
{
	if (stop && (stop->revents & POLLIN))
		atomic_store(&s->stopping, 1);
	return atomic_load(&s->stopping) != 0;
}

/*
 * For loops that accept several connections per wake-up: a stop may come
 * in the meantime, from a handler thread or (only through stop_fd) from a
 * handler in a child process.
 */
bool nwi_stop_arrived(nw_server *s)
{
	struct pollfd p = { .fd = s->stop_fd, .events = POLLIN };

	if (atomic_load(&s->stopping))
		return true;
	return poll(&p, 1, 0) > 0 && nwi_stop_seen(s, &p);
}

void nwi_wake_run(nw_server *s, pid_t pid)
{
	/* A full pipe already wakes the loop, and the sweep finds the child. */
	if (write(s->wake_wr, &pid, sizeof pid) < 0)
		return;
}

size_t nwi_drain_wake(nw_server *s, void (*reap)(void *, pid_t), void *ctx)
{
	pid_t pids[64];
	size_t records = 0;
	ssize_t n;

	while ((n = read(s->wake_rd, pids, sizeof pids)) > 0) {
		/* Records are written whole (< PIPE_BUF), so reads return whole ones. */
		size_t count = (size_t)n / sizeof pids[0];

		for (size_t i = 0; reap && i < count; i++)
			if (pids[i] > 0)
				reap(ctx, pids[i]);
		records += count;
		if ((size_t)n < sizeof pids)
			break;
	}
	return records;
}

void nwi_server_destroy(nw_server *s)
{
	nwi_events_free(s->events);
	nwi_linger_destroy(&s->linger);
	nwi_peers_destroy(&s->peers);
	close(s->stop_fd);
	close(s->wake_rd);
	close(s->wake_wr);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool nwi_server_unref_locked(nw_server *s)
{
	return --s->refs == 0;
}

/* ---- the public calls ---- */

nw_server *nw_server_new(int listen_fd, nw_handler handler, void *arg)
{
	int listening = 0, wake[2] = { -1, -1 }, err;
	socklen_t len = sizeof listening;
	nw_server *s = NULL;

	if (handler == NULL) {
		nwi_fail_text(EINVAL, "no handler", "nw_server_new(%d)", listen_fd);
		return NULL;
	}
	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
		nwi_fail(errno, "nw_server_new(%d)", listen_fd);
		return NULL;
	}
	if (!listening) {
		nwi_fail_text(EINVAL, "not a listening socket", "nw_server_new(%d)", listen_fd);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		nwi_fail(errno, "nw_server_new(%d)", listen_fd);
		return NULL;
	}
	if (nwi_linger_init(&s->linger) < 0)
		goto fail_linger;
	if (nwi_peers_init(&s->peers) < 0)
		goto fail_peers;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0)
		goto fail_stop;
	/* Non-blocking both ends: a child must never wait on a parent that stopped reading. */
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail_pipe;
	errno = pthread_mutex_init(&s->lock, NULL);
	if (errno)
		goto fail_mutex;
	s->wake_rd = wake[0];
	s->wake_wr = wake[1];
	s->listen_fd = listen_fd;
	s->handler = handler;
	s->arg = arg;
	s->model = NW_SERVER_THREAD;
	s->max_conns = DEFAULT_MAX_CONNS;
	s->grace_ms = DEFAULT_GRACE_MS;
	s->refs = 1;
	s->conns.next = s->conns.prev = &s->conns;
	atomic_init(&s->stopping, 0);
	atomic_init(&s->run_gen, 0);
	return s;
fail_mutex:
	nwi_close_keep_errno(wake[0]);
	nwi_close_keep_errno(wake[1]);
fail_pipe:
	nwi_close_keep_errno(s->stop_fd);
fail_stop:
	err = errno;
	nwi_peers_destroy(&s->peers);
	errno = err;
fail_peers:
	err = errno;
	nwi_linger_destroy(&s->linger);
	errno = err;
fail_linger:
	nwi_fail(errno, "nw_server_new(%d)", listen_fd);
	free(s);
	return NULL;
}

/*
 * Settings change only between runs: 0 with the lock held, so no run can
 * start half-way through the change, or the errno (EINVAL, EBUSY) unlocked.
 */
static int settings_lock(nw_server *s)
{
	if (s == NULL)
		return EINVAL;
	pthread_mutex_lock(&s->lock);
	if (s->running) {
		pthread_mutex_unlock(&s->lock);
		return EBUSY;
	}
	return 0;
}

int nw_server_set_model(nw_server *s, enum nw_server_model model, int workers)
{
	int err = 0;

	if (model != NW_SERVER_PROCESS && model != NW_SERVER_THREAD && model != NW_SERVER_POOL &&
	    model != NW_SERVER_EVENT)
		err = EINVAL;
	/* Callbacks and handlers are not interchangeable: a server keeps its kind. */
	else if (s && (model == NW_SERVER_EVENT) != (s->events != NULL))
		return nwi_fail_text(EINVAL, s->events ? "an event server runs only the event model"
					   : "the event model needs nw_server_new_events",
				     "nw_server_set_model(%d, %d)", (int)model, workers);
	else if (model == NW_SERVER_EVENT && workers < 0)
		err = EINVAL;
	else if (model == NW_SERVER_POOL && workers < 1)
		return nwi_fail_text(EINVAL, "a pool needs at least one worker",
				     "nw_server_set_model(%d, %d)", (int)model, workers);
	if (err || (err = settings_lock(s)) != 0)
		return nwi_fail(err, "nw_server_set_model(%d, %d)", (int)model, workers);
	s->model = model;
	s->workers = workers;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int nw_server_set_max_conns(nw_server *s, int max)
{
	int err = max < 1 ? EINVAL : settings_lock(s);

	if (err)
		return nwi_fail(err, "nw_server_set_max_conns(%d)", max);
	s->max_conns = max;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int nw_server_set_grace(nw_server *s, int grace_ms)
{
	int err = settings_lock(s);

	if (err)
		return nwi_fail(err, "nw_server_set_grace(%d)", grace_ms);
	s->grace_ms = grace_ms;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int nw_server_set_idle_timeout(nw_server *s, int idle_ms)
{
	int err = idle_ms < 0 ? EINVAL : settings_lock(s);

	if (err)
		return nwi_fail(err, "nw_server_set_idle_timeout(%d)", idle_ms);
	s->idle_ms = idle_ms;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int nw_server_set_max_per_peer(nw_server *s, int max)
{
	int err = max < 0 ? EINVAL : settings_lock(s);

	if (err)
		return nwi_fail(err, "nw_server_set_max_per_peer(%d)", max);
	s->max_per_peer = max;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/*
 * The run's connections have ended: let those still lingering finish, each
 * within its own bound, while a stop's grace period lasts.
 */
static void finish_linger(nw_server *s)
{
	int64_t deadline = s->grace_ms < 0 ? -1 : nwi_now_ms() + s->grace_ms;

	while (!nwi_linger_close_if_empty(&s->linger)) {
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (nwi_ms_until(deadline) == 0) {
			nwi_linger_close_all(&s->linger);
			break;
		}
		nwi_server_wait(s, &p, 1, nwi_ms_until(deadline));
		nwi_drain_wake(s, NULL, NULL);
	}
}

/* Clear this run's stop request, so the server can run again. Keeps errno. */
static void end_run(nw_server *s)
{
	int saved = errno;
	uint64_t count;

	atomic_fetch_add(&s->run_gen, 1);
	if (read(s->stop_fd, &count, sizeof count) < 0) {
		/* EAGAIN: the run ended on an error, not on a stop request. */
	}
	atomic_store(&s->stopping, 0);
	pthread_mutex_lock(&s->lock);
	s->running = false;
	pthread_mutex_unlock(&s->lock);
	errno = saved;
}

int nw_server_run(nw_server *s)
{
	int flags, rc = 0;

	if (s == NULL)
		return nwi_fail(EINVAL, "nw_server_run(NULL)");
	pthread_mutex_lock(&s->lock);
	if (s->running) {
		pthread_mutex_unlock(&s->lock);
		return nwi_fail(EBUSY, "nw_server_run(%d)", s->listen_fd);
	}
	s->running = true;
	pthread_mutex_unlock(&s->lock);

	/*
	 * Readiness on a shared listener is only a hint (another worker, or
	 * another process, may take the connection first), so accept must not
	 * block.  O_NONBLOCK belongs to the open file, which a pre-forked
	 * server in another process may share: it is set and left set, since
	 * clearing it at the end would make that server's accepts block.
	 */
	flags = fcntl(s->listen_fd, F_GETFL);
	if (flags < 0 || (!(flags & O_NONBLOCK) &&
			  fcntl(s->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
		rc = nwi_fail(errno, "nw_server_run(%d)", s->listen_fd);
	} else if (atomic_load(&s->stopping)) {
		rc = 0;		/* a stop that came before the run makes it return at once */
	} else {
		nwi_linger_open(&s->linger);
		if (s->model == NW_SERVER_PROCESS)
			rc = nwi_run_process(s);
		else if (s->model == NW_SERVER_POOL)
			rc = nwi_run_pool(s);
		else if (s->model == NW_SERVER_EVENT)
			rc = nwi_run_events(s);
		else
			rc = nwi_run_threads(s);
		int saved = errno;

		finish_linger(s);
		errno = saved;
	}
	end_run(s);
	return rc;
}

int nw_server_stop(nw_server *s)
{
	const uint64_t one = 1;
	int saved = errno;

	/* Only async-signal-safe steps here: no lock, no message. */
	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (atomic_exchange(&s->stopping, 1) == 0) {
		while (write(s->stop_fd, &one, sizeof one) < 0 && errno == EINTR)
			;
	}
	errno = saved;
	return 0;
}

void nw_server_free(nw_server *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	last = nwi_server_unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	/* Handler threads still running after a grace period free it when they end. */
	if (last)
		nwi_server_destroy(s);
}
