/*
 * serve.c - the core of nw_server that every model shares: the server
 * object and its settings, the stop request, the wake pipe, accept with
 * back-off, and nw_server_run's dispatch to a model (serve_thread.c: a
 * thread per connection and the pool; serve_process.c: a process per
 * connection).  internal.h says what a model must do.
 *
 * Everything that wakes a waiting loop goes through descriptors made once
 * by nw_server_new, so a server holds the same descriptors from new to free:
 *  - stop_fd, an eventfd that nw_server_stop writes (write(2) is
 *    async-signal-safe) and that nobody reads while the server runs: it
 *    stays readable, so every thread polling it wakes, however many;
 *  - the wake pipe, written when a connection ends: a child writes its pid,
 *    a handler thread or pool worker writes 0.
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

void nwi_backoff_hit(struct nwi_backoff *b)
{
	b->delay_ms = b->delay_ms ? b->delay_ms * 2 : NWI_BACKOFF_MIN_MS;
	if (b->delay_ms > NWI_BACKOFF_MAX_MS)
		b->delay_ms = NWI_BACKOFF_MAX_MS;
	b->until = nwi_now_ms() + b->delay_ms;
}

int nwi_ms_until(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - nwi_now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int nwi_backoff_left(const struct nwi_backoff *b)
{
	return b->until ? nwi_ms_until(b->until) : 0;
}

int nwi_shorter(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* accept errors that mean "not now": the listener is fine, resources are short. */
static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* accept errors that cost nothing but a retry: no one waiting, or a firewall veto. */
static bool nothing_to_accept(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EPERM;
}

/*
 * poll, where an interrupting signal is an early wake-up with nothing ready
 * (a SIGCHLD handler installed without SA_RESTART lands here) and a kernel
 * short of memory is waited out rather than spun on.
 */
int nwi_wait_fds(struct pollfd *p, nfds_t n, int timeout_ms)
{
	int rc = poll(p, n, timeout_ms);

	if (rc >= 0)
		return rc;
	if (errno == ENOMEM) {
		const struct timespec pause = { 0, NWI_BACKOFF_MIN_MS * 1000000L };

		nanosleep(&pause, NULL);
	}
	for (nfds_t i = 0; i < n; i++)
		p[i].revents = 0;
	return 0;
}

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

/*
 * Whether a stop came while accept ran.  Threads of this process always set
 * the flag; a handler in a child process only writes stop_fd, so the
 * process model must look there (its fork costs far more than the poll).
 */
static bool stopped_meanwhile(nw_server *s)
{
	if (s->model == NW_SERVER_PROCESS)
		return nwi_stop_arrived(s);
	return atomic_load(&s->stopping) != 0;
}

int nwi_accept_next(nw_server *s, struct nwi_conn *c, struct nwi_backoff *b)
{
	c->fd = nwi_accept(s->listen_fd, &c->peer, &c->peerlen, 0);
	if (c->fd >= 0) {
		b->delay_ms = 0;
		/*
		 * The check before accept leaves a window: a thread woken by an
		 * earlier connection can be descheduled there while a handler
		 * stops the server and a new client connects.  That client came
		 * after the stop, so it is closed unserved (nw_server_new(3));
		 * those still queued wait for the next run.
		 */
		if (stopped_meanwhile(s)) {
			nwi_close_keep_errno(c->fd);
			c->fd = -1;
			return 0;
		}
		return 1;
	}
	if (nothing_to_accept(errno))
		return 0;
	if (out_of_resources(errno)) {
		nwi_backoff_hit(b);
		return 0;
	}
	return -1;
}

void nwi_call_handler(nw_server *s, struct nwi_conn *c)
{
	s->handler(c->fd, (const struct sockaddr *)&c->peer, c->peerlen, s->arg);
}

/* ---- the public calls ---- */


nw_server *nw_server_new(int listen_fd, nw_handler handler, void *arg)
{
	int listening = 0, wake[2] = { -1, -1 };
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
	if (s == NULL)
		goto fail;
	s->stop_fd = -1;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0)
		goto fail;
	/* Non-blocking both ends: a child must never wait on a parent that stopped reading. */
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail;
	errno = pthread_mutex_init(&s->lock, NULL);
	if (errno)
		goto fail;
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
fail:
	nwi_fail(errno, "nw_server_new(%d)", listen_fd);
	if (s) {
		nwi_close_keep_errno(wake[0]);
		nwi_close_keep_errno(wake[1]);
		nwi_close_keep_errno(s->stop_fd);
		free(s);
	}
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
	 * block.  The listener's own flags come back when the run ends.
	 */
	flags = fcntl(s->listen_fd, F_GETFL);
	if (flags < 0 || fcntl(s->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		rc = nwi_fail(errno, "nw_server_run(%d)", s->listen_fd);
	} else {
		/* A stop that came before the run makes it return at once. */
		if (atomic_load(&s->stopping))
			rc = 0;
		else if (s->model == NW_SERVER_PROCESS)
			rc = nwi_run_process(s);
		else if (s->model == NW_SERVER_POOL)
			rc = nwi_run_pool(s);
		else if (s->model == NW_SERVER_EVENT)
			rc = nwi_run_events(s);
		else
			rc = nwi_run_threads(s);
		int saved = errno;

		fcntl(s->listen_fd, F_SETFL, flags);
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
