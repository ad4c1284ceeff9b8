/*
 * serve.c - concurrent servers: a process or a thread per connection, or a
 * fixed pool of threads taking turns to accept on a shared listener.
 *
 * Everything that wakes a waiting loop goes through descriptors made once
 * by nw_server_new, so a server holds the same descriptors from new to free:
 *  - stop_fd, an eventfd that nw_server_stop writes (write(2) is
 *    async-signal-safe) and that nobody reads while the server runs: it
 *    stays readable, so every thread polling it wakes, however many;
 *  - the wake pipe, written when a connection ends: a child writes its pid,
 *    a handler thread or pool worker writes 0.
 *
 * Children are reaped without touching SIGCHLD: a child writes its pid to
 * the wake pipe just before _exit, and the parent calls waitpid on exactly
 * that pid.  waitpid(-1) would steal the status of children the program
 * made itself (system(), popen()), and a SIGCHLD handler or signalfd would
 * change the process's signal disposition or mask behind its back.  A child
 * that dies without writing (a crash, an exit() in the handler) is found by
 * a waitpid(WNOHANG) sweep over our own pids twice a second.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_GRACE_MS 5000
/* Out of descriptors or memory: wait this long before the next accept, doubling. */
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 500
/* How often the process model looks for children that died without a word. */
#define SWEEP_MS 500
/* A child that wrote its pid is a few instructions from _exit: look again soon. */
#define EXITING_POLL_MS 2
/* Connections accepted per wake-up before the loop looks at its other duties. */
#define ACCEPT_BATCH 32

struct conn {
	struct conn *prev, *next;	/* in nw_server.conns while a handler runs */
	struct nw_server *srv;
	int fd;
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

struct nw_server {
	int listen_fd;
	nw_handler handler;
	void *arg;
	enum nw_server_model model;
	int workers;
	int max_conns;
	int grace_ms;

	int stop_fd;
	int wake_rd, wake_wr;
	atomic_int stopping;
	/* Bumped when a run ends, so pool workers it left behind never accept again. */
	atomic_uint run_gen;

	pthread_mutex_t lock;	/* guards the fields below */
	int refs;		/* the caller's, plus one per library thread */
	bool running;
	int active;		/* connections whose handler thread runs */
	int live_workers;	/* pool workers not yet gone */
	int worker_err;		/* first fatal accept error a pool worker met */
	struct conn conns;	/* list head: connections of handler threads */
};

struct backoff {
	int64_t until;		/* no accept before this time (monotonic ms) */
	int delay_ms;		/* the last wait; 0 after a success */
};

static void backoff_hit(struct backoff *b)
{
	b->delay_ms = b->delay_ms ? b->delay_ms * 2 : BACKOFF_MIN_MS;
	if (b->delay_ms > BACKOFF_MAX_MS)
		b->delay_ms = BACKOFF_MAX_MS;
	b->until = nwi_now_ms() + b->delay_ms;
}

/* Milliseconds until deadline, 0 once it passed, -1 for no deadline (< 0). */
static int ms_until(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - nwi_now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static int backoff_left(const struct backoff *b)
{
	return b->until ? ms_until(b->until) : 0;
}

/* The shorter of two poll timeouts, where -1 means none. */
static int shorter(int a, int b)
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
static int wait_fds(struct pollfd *p, nfds_t n, int timeout_ms)
{
	int rc = poll(p, n, timeout_ms);

	if (rc >= 0)
		return rc;
	if (errno == ENOMEM) {
		const struct timespec pause = { 0, BACKOFF_MIN_MS * 1000000L };

		nanosleep(&pause, NULL);
	}
	for (nfds_t i = 0; i < n; i++)
		p[i].revents = 0;
	return 0;
}

/*
 * True once a stop was asked for.  A readable stop_fd counts too: a handler
 * in a child process calls nw_server_stop on its own copy of the flag, and
 * only the shared eventfd reaches the parent.
 */
static bool stop_seen(nw_server *s, const struct pollfd *stop)
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
static bool stop_arrived(nw_server *s)
{
	struct pollfd p = { .fd = s->stop_fd, .events = POLLIN };

	if (atomic_load(&s->stopping))
		return true;
	return poll(&p, 1, 0) > 0 && stop_seen(s, &p);
}

/* Tell the run loop a connection ended (pid: the child's, or 0 for a thread). */
static void wake_run(nw_server *s, pid_t pid)
{
	/* A full pipe already wakes the loop, and the sweep finds the child. */
	if (write(s->wake_wr, &pid, sizeof pid) < 0)
		return;
}

/* Read all wake-ups; the number of records, and each pid through reap. */
static size_t drain_wake(nw_server *s, void (*reap)(void *, pid_t), void *ctx)
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

static void server_destroy(nw_server *s)
{
	close(s->stop_fd);
	close(s->wake_rd);
	close(s->wake_wr);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Drop a reference taken by a library thread; the last one frees. Call locked. */
static bool unref_locked(nw_server *s)
{
	return --s->refs == 0;
}

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

/*
 * Whether a stop came while accept ran.  Threads of this process always set
 * the flag; a handler in a child process only writes stop_fd, so the
 * process model must look there (its fork costs far more than the poll).
 */
static bool stopped_meanwhile(nw_server *s)
{
	if (s->model == NW_SERVER_PROCESS)
		return stop_arrived(s);
	return atomic_load(&s->stopping) != 0;
}

/*
 * Accept one connection into c: 1; 0 when there is none to take now (after
 * starting a back-off if descriptors or memory ran out); -1 with errno when
 * the listener itself is broken.
 */
static int accept_next(nw_server *s, struct conn *c, struct backoff *b)
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
		backoff_hit(b);
		return 0;
	}
	return -1;
}

static void call_handler(nw_server *s, struct conn *c)
{
	s->handler(c->fd, (const struct sockaddr *)&c->peer, c->peerlen, s->arg);
}

/* Thread bookkeeping: a connection is on the list while its handler may run. */
static void conn_link(nw_server *s, struct conn *c)
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
static void conn_unlink_close_locked(nw_server *s, struct conn *c)
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
	for (struct conn *c = s->conns.next; c != &s->conns; c = c->next)
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
		int left = ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (left == 0) {
			shutdown_conns(s);
			return;
		}
		wait_fds(&p, 1, left);
		drain_wake(s, NULL, NULL);
	}
}

/* ---- thread per connection ---- */

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	nw_server *s = c->srv;
	bool last;

	call_handler(s, c);
	pthread_mutex_lock(&s->lock);
	conn_unlink_close_locked(s, c);
	wake_run(s, 0);
	last = unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	free(c);
	if (last)
		server_destroy(s);
	return NULL;
}

/* Hand c to a new thread; a failure leaves it linked, for a later retry. */
static int conn_start(nw_server *s, struct conn *c)
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
static int accept_threads(nw_server *s, struct backoff *b, struct conn **pending)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;

		if (stop_arrived(s) || read_locked(s, &s->active) >= s->max_conns)
			return 0;
		c = malloc(sizeof *c);
		if (c == NULL) {
			backoff_hit(b);
			return 0;
		}
		int got = accept_next(s, c, b);

		if (got <= 0) {
			int err = errno;

			free(c);
			return got < 0 ? err : 0;
		}
		conn_link(s, c);
		if (conn_start(s, c) != 0) {
			/* Keep the connection: nothing accepted is ever dropped. */
			*pending = c;
			backoff_hit(b);
			return 0;
		}
	}
	return 0;
}

static int run_threads(nw_server *s)
{
	struct backoff b = { 0, 0 };
	struct conn *pending = NULL;
	int err = 0;

	while (!stop_seen(s, NULL) && !err) {
		/* A connection ended: its descriptor is free, so try again now. */
		if (drain_wake(s, NULL, NULL) > 0)
			b.until = 0;
		if (pending && backoff_left(&b) == 0) {
			if (conn_start(s, pending) == 0)
				pending = NULL;
			else
				backoff_hit(&b);
		}
		bool can_accept = !pending && backoff_left(&b) == 0 &&
				  read_locked(s, &s->active) < s->max_conns;
		struct pollfd p[3] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
			{ .fd = can_accept ? s->listen_fd : -1, .events = POLLIN },
		};

		if (wait_fds(p, 3, backoff_left(&b) ? backoff_left(&b) : -1) > 0 &&
		    !stop_seen(s, &p[0]) && p[2].revents)
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
	struct backoff b = { 0, 0 };
	struct conn c;
	bool last;

	memset(&c, 0, sizeof c);
	while (!stop_seen(s, NULL) && atomic_load(&s->run_gen) == gen) {
		int left = backoff_left(&b);
		struct pollfd p[2] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = left ? -1 : s->listen_fd, .events = POLLIN },
		};

		/* Any event on the listener, errors included, is for accept to report. */
		if (wait_fds(p, 2, left ? left : -1) <= 0 || stop_seen(s, &p[0]) ||
		    !p[1].revents)
			continue;
		/* Every worker wakes for a connection; those that lose the race see EAGAIN. */
		int got = accept_next(s, &c, &b);

		if (got < 0)
			worker_failed(s, errno);
		if (got <= 0)
			continue;
		conn_link(s, &c);
		call_handler(s, &c);
		pthread_mutex_lock(&s->lock);
		conn_unlink_close_locked(s, &c);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	s->live_workers--;
	wake_run(s, 0);
	last = unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (last)
		server_destroy(s);
	return NULL;
}

static int run_pool(nw_server *s)
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
	while (!stop_seen(s, NULL)) {
		struct pollfd p = { .fd = s->stop_fd, .events = POLLIN };

		wait_fds(&p, 1, -1);
		stop_seen(s, &p);
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
		wait_fds(&p, 1, EXITING_POLL_MS);
		drain_wake(s, NULL, NULL);
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

/* ---- process per connection ---- */

struct kid {
	pid_t pid;
	bool exiting;		/* said goodbye on the wake pipe but not reaped yet */
};

struct kids {
	struct kid *list;
	size_t count, size;
	size_t exiting;
};

static int kids_reserve(struct kids *k)
{
	struct kid *bigger;
	size_t size;

	if (k->count < k->size)
		return 0;
	size = k->size ? k->size * 2 : 64;
	bigger = realloc(k->list, size * sizeof *bigger);
	if (bigger == NULL)
		return -1;
	k->list = bigger;
	k->size = size;
	return 0;
}

/* waitpid one of our children without blocking; true once it is gone. */
static bool kid_gone(pid_t pid)
{
	int status;
	pid_t rc;

	while ((rc = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or waitpid(-1)). */
	return rc == pid || (rc < 0 && errno == ECHILD);
}

static void kids_remove(struct kids *k, size_t i)
{
	if (k->list[i].exiting)
		k->exiting--;
	k->list[i] = k->list[--k->count];
}

/* A child wrote its pid: reap it, or look again soon if it is not quite gone. */
static void kids_reap(void *ctx, pid_t pid)
{
	struct kids *k = ctx;

	for (size_t i = 0; i < k->count; i++) {
		if (k->list[i].pid != pid)
			continue;
		if (kid_gone(pid))
			kids_remove(k, i);
		else if (!k->list[i].exiting) {
			k->list[i].exiting = true;
			k->exiting++;
		}
		return;
	}
}

static void kids_sweep(struct kids *k, bool only_exiting)
{
	for (size_t i = k->count; i-- > 0;)
		if ((!only_exiting || k->list[i].exiting) && kid_gone(k->list[i].pid))
			kids_remove(k, i);
}

/* Reap what can be reaped; the poll timeout until the next look. */
static int kids_tend(nw_server *s, struct kids *k, int64_t *next_sweep)
{
	drain_wake(s, kids_reap, k);
	if (nwi_now_ms() >= *next_sweep) {
		kids_sweep(k, false);
		*next_sweep = nwi_now_ms() + SWEEP_MS;
	} else if (k->exiting) {
		kids_sweep(k, true);
	}
	if (k->exiting)
		return EXITING_POLL_MS;
	return k->count ? ms_until(*next_sweep) : -1;
}

/* In the child: serve the one connection and leave without running atexit handlers. */
static _Noreturn void child_serve(nw_server *s, struct conn *c)
{
	pid_t self;

	/*
	 * The child keeps stop_fd, so nw_server_stop in a handler stops the
	 * parent too; the listener and the pipe's read end are the parent's.
	 */
	close(s->listen_fd);
	close(s->wake_rd);
	call_handler(s, c);
	close(c->fd);
	self = getpid();
	wake_run(s, self);
	/* exit() would flush stdio buffers copied from the parent a second time. */
	_exit(0);
}

/* Fork a child for c; the parent closes its copy of the connection. */
static int spawn(nw_server *s, struct kids *k, struct conn *c)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		child_serve(s, c);
	close(c->fd);
	c->fd = -1;
	k->list[k->count++] = (struct kid){ .pid = pid, .exiting = false };
	return 0;
}

/* Accept up to a batch; 0, or the errno that broke the listener. */
static int accept_children(nw_server *s, struct kids *k, struct backoff *b,
			   struct conn *pending)
{
	for (int i = 0; i < ACCEPT_BATCH && k->count < (size_t)s->max_conns; i++) {
		if (stop_arrived(s))
			return 0;
		if (kids_reserve(k) < 0) {
			backoff_hit(b);
			return 0;
		}
		int got = accept_next(s, pending, b);

		if (got <= 0)
			return got < 0 ? errno : 0;
		if (spawn(s, k, pending) < 0) {
			/* Out of processes or memory: keep the connection and retry. */
			backoff_hit(b);
			return 0;
		}
	}
	return 0;
}

/* After a stop: let children finish up to the grace period, then kill and reap the rest. */
static void finish_children(nw_server *s, struct kids *k, int64_t *next_sweep)
{
	int64_t deadline = s->grace_ms < 0 ? -1 : nwi_now_ms() + s->grace_ms;

	for (;;) {
		int timeout = kids_tend(s, k, next_sweep);
		int left = ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (k->count == 0 || left == 0)
			break;
		wait_fds(&p, 1, shorter(timeout, left));
	}
	for (size_t i = 0; i < k->count; i++) {
		kill(k->list[i].pid, SIGKILL);
		while (waitpid(k->list[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	k->count = 0;
}

static int run_process(nw_server *s)
{
	struct kids k = { NULL, 0, 0, 0 };
	struct backoff b = { 0, 0 };
	struct conn pending = { .fd = -1 };
	int64_t next_sweep = nwi_now_ms() + SWEEP_MS;
	int err = 0;

	while (!stop_seen(s, NULL) && !err) {
		int timeout = kids_tend(s, &k, &next_sweep);

		if (pending.fd >= 0 && backoff_left(&b) == 0 && spawn(s, &k, &pending) < 0)
			backoff_hit(&b);
		bool can_accept = pending.fd < 0 && backoff_left(&b) == 0 &&
				  k.count < (size_t)s->max_conns;
		struct pollfd p[3] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
			{ .fd = can_accept ? s->listen_fd : -1, .events = POLLIN },
		};

		if (backoff_left(&b))
			timeout = shorter(timeout, backoff_left(&b));
		if (wait_fds(p, 3, timeout) > 0 && !stop_seen(s, &p[0]) &&
		    p[2].revents)
			err = accept_children(s, &k, &b, &pending);
	}
	if (pending.fd >= 0)
		close(pending.fd);
	finish_children(s, &k, &next_sweep);
	free(k.list);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): accept", s->listen_fd);
	return 0;
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

	if (model != NW_SERVER_PROCESS && model != NW_SERVER_THREAD && model != NW_SERVER_POOL)
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
			rc = run_process(s);
		else if (s->model == NW_SERVER_POOL)
			rc = run_pool(s);
		else
			rc = run_threads(s);
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
	last = unref_locked(s);
	pthread_mutex_unlock(&s->lock);
	/* Handler threads still running after a grace period free it when they end. */
	if (last)
		server_destroy(s);
}
