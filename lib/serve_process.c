/*
 * serve_process.c - the process model of nw_server: a child process per
 * connection (NW_SERVER_PROCESS).
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
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often the process model looks for children that died without a word. */
#define SWEEP_MS 500


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
	nwi_drain_wake(s, kids_reap, k);
	if (nwi_now_ms() >= *next_sweep) {
		kids_sweep(k, false);
		*next_sweep = nwi_now_ms() + SWEEP_MS;
	} else if (k->exiting) {
		kids_sweep(k, true);
	}
	if (k->exiting)
		return NWI_EXITING_POLL_MS;
	return k->count ? nwi_ms_until(*next_sweep) : -1;
}

/* In the child: serve the one connection and leave without running atexit handlers. */
static _Noreturn void child_serve(nw_server *s, struct nwi_conn *c)
{
	pid_t self;

	/*
	 * The child keeps stop_fd, so nw_server_stop in a handler stops the
	 * parent too; the listener and the pipe's read end are the parent's.
	 */
	close(s->listen_fd);
	close(s->wake_rd);
	nwi_call_handler(s, c);
	close(c->fd);
	self = getpid();
	nwi_wake_run(s, self);
	/* exit() would flush stdio buffers copied from the parent a second time. */
	_exit(0);
}

/* Fork a child for c; the parent closes its copy of the connection. */
static int spawn(nw_server *s, struct kids *k, struct nwi_conn *c)
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
static int accept_children(nw_server *s, struct kids *k, struct nwi_backoff *b,
			   struct nwi_conn *pending)
{
	for (int i = 0; i < NWI_ACCEPT_BATCH && k->count < (size_t)s->max_conns; i++) {
		if (nwi_stop_arrived(s))
			return 0;
		if (kids_reserve(k) < 0) {
			nwi_backoff_hit(b);
			return 0;
		}
		int got = nwi_accept_next(s, pending, b);

		if (got <= 0)
			return got < 0 ? errno : 0;
		if (spawn(s, k, pending) < 0) {
			/* Out of processes or memory: keep the connection and retry. */
			nwi_backoff_hit(b);
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
		int left = nwi_ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (k->count == 0 || left == 0)
			break;
		nwi_wait_fds(&p, 1, nwi_shorter(timeout, left));
	}
	for (size_t i = 0; i < k->count; i++) {
		kill(k->list[i].pid, SIGKILL);
		while (waitpid(k->list[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	k->count = 0;
}

int nwi_run_process(nw_server *s)
{
	struct kids k = { NULL, 0, 0, 0 };
	struct nwi_backoff b = { 0, 0 };
	struct nwi_conn pending = { .fd = -1 };
	int64_t next_sweep = nwi_now_ms() + SWEEP_MS;
	int err = 0;

	while (!nwi_stop_seen(s, NULL) && !err) {
		int timeout = kids_tend(s, &k, &next_sweep);

		if (pending.fd >= 0 && nwi_backoff_left(&b) == 0 && spawn(s, &k, &pending) < 0)
			nwi_backoff_hit(&b);
		bool can_accept = pending.fd < 0 && nwi_backoff_left(&b) == 0 &&
				  k.count < (size_t)s->max_conns;
		struct pollfd p[3] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
			{ .fd = can_accept ? s->listen_fd : -1, .events = POLLIN },
		};

		if (nwi_backoff_left(&b))
			timeout = nwi_shorter(timeout, nwi_backoff_left(&b));
		if (nwi_wait_fds(p, 3, timeout) > 0 && !nwi_stop_seen(s, &p[0]) &&
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

