/*
 * serve_process.c - the process model of nw_server: a child process per
 * connection (NW_SERVER_PROCESS).
 *
 * Children are reaped without touching SIGCHLD: a child writes its pid to
 * the wake pipe just before _exit, and the parent waits for exactly that
 * child.  waitpid(-1) would steal the status of children the program made
 * itself (system(), popen()), and a SIGCHLD handler or signalfd would
 * change the process's signal disposition or mask behind its back.  A child
 * that dies without writing (a crash, an exit() in the handler) is found by
 * a sweep over our own children twice a second.
 *
 * Every child is signalled and waited for through a pidfd, never by its
 * pid: a program that reaps children itself (SIGCHLD set to SIG_IGN, or
 * waitpid(-1)) can make a child vanish and its pid be reused by another
 * process, which kill() or waitpid() would then hit.  The child waits for
 * the parent's go-ahead until the pidfd is open, so the pidfd is always
 * the child's own.  Where the kernel has no pidfds (before Linux 5.4) or a
 * tool does not know them (valgrind 3.19), the pid is used instead; then a
 * program that reaps children itself can make it hit the wrong process.
 *
 * The parent keeps its copy of each connection: the idle timeout and the
 * grace period cut it off from here, and when the child is gone the parent
 * lingers on it, so the child need not stay for the linger.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often the process model looks for children that died without a word. */
#define SWEEP_MS 500
/* waitid(2)'s id type for a pidfd (Linux 5.4), whatever the C library knows. */
#define ID_PIDFD 3

struct kid {
	pid_t pid;
	int pidfd;		/* -1: no pidfds here, the pid stands in */
	bool exiting;		/* said goodbye on the wake pipe but not reaped yet */
	struct nwi_conn *conn;	/* the parent's copy of the connection */
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

/* Reap the child without blocking (or, wait: blocking); true once it is gone. */
static bool kid_gone(const struct kid *kid, bool wait)
{
	siginfo_t info;

	info.si_pid = 0;
	while ((kid->pidfd >= 0 ?
		syscall(SYS_waitid, ID_PIDFD, kid->pidfd, &info, WEXITED | (wait ? 0 : WNOHANG),
			NULL) :
		waitid(P_PID, (id_t)kid->pid, &info, WEXITED | (wait ? 0 : WNOHANG))) < 0) {
		/* ECHILD: the kernel reaped it (SIGCHLD = SIG_IGN), or the program did. */
		if (errno != EINTR)
			return true;
	}
	return info.si_pid != 0;
}

/* The child is gone: its connection lingers in the parent. */
static void kids_remove(nw_server *s, struct kids *k, size_t i)
{
	struct kid *kid = &k->list[i];

	if (kid->exiting)
		k->exiting--;
	if (kid->pidfd >= 0)
		close(kid->pidfd);
	nwi_conn_unlink(s, kid->conn);
	nwi_conn_end(s, kid->conn);
	free(kid->conn);
	k->list[i] = k->list[--k->count];
}

struct reap_ctx {
	nw_server *s;
	struct kids *k;
};

/* A child wrote its pid: reap it, or look again soon if it is not quite gone. */
static void kids_reap(void *ctx, pid_t pid)
{
	struct reap_ctx *r = ctx;
	struct kids *k = r->k;

	for (size_t i = 0; i < k->count; i++) {
		if (k->list[i].pid != pid)
			continue;
		if (kid_gone(&k->list[i], false))
			kids_remove(r->s, k, i);
		else if (!k->list[i].exiting) {
			k->list[i].exiting = true;
			k->exiting++;
		}
		return;
	}
}

static void kids_sweep(nw_server *s, struct kids *k, bool only_exiting)
{
	for (size_t i = k->count; i-- > 0;)
		if ((!only_exiting || k->list[i].exiting) && kid_gone(&k->list[i], false))
			kids_remove(s, k, i);
}

/* Reap what can be reaped; the poll timeout until the next look. */
static int kids_tend(nw_server *s, struct kids *k, int64_t *next_sweep)
{
	struct reap_ctx r = { s, k };

	nwi_drain_wake(s, kids_reap, &r);
	if (nwi_now_ms() >= *next_sweep) {
		kids_sweep(s, k, false);
		*next_sweep = nwi_now_ms() + SWEEP_MS;
	} else if (k->exiting) {
		kids_sweep(s, k, true);
	}
	if (k->exiting)
		return NWI_EXITING_POLL_MS;
	return k->count ? nwi_ms_until(*next_sweep) : -1;
}

/* In the child: serve the one connection and leave without running atexit handlers. */
static _Noreturn void child_serve(nw_server *s, struct kids *k, struct nwi_conn *c)
{
	pid_t self;

	/*
	 * The child keeps stop_fd, so nw_server_stop in a handler stops the
	 * parent too.  Everything else of the parent's goes: the listener, the
	 * wake pipe's read end, the other connections and the pidfds (a copy
	 * held here would keep those connections open after the parent ends
	 * them).
	 */
	close(s->listen_fd);
	close(s->wake_rd);
	nwi_linger_close_copies(&s->linger);
	for (struct nwi_conn *o = s->conns.next; o != &s->conns; o = o->next)
		close(o->fd);
	for (size_t i = 0; i < k->count; i++)
		if (k->list[i].pidfd >= 0)
			close(k->list[i].pidfd);
	nwi_call_handler(s, c);
	/* The reply's end of file goes out now; the parent lingers for the client's. */
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	self = getpid();
	nwi_wake_run(s, self);
	/* exit() would flush stdio buffers copied from the parent a second time. */
	_exit(0);
}

/* The child's first step: wait until the parent holds its pidfd. */
static void child_wait_go(int go)
{
	char byte;
	ssize_t n;

	while ((n = read(go, &byte, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(0);	/* the parent could not watch it: not served */
	close(go);
}

/*
 * The parent could not open the child's pidfd (another thread took the
 * descriptor slot just freed, or memory ran out): end the child before it
 * serves.  Waiting by pid is safe only while the child cannot have been
 * reaped by anyone: not when the kernel reaps children (SIGCHLD ignored).
 */
static void child_abandon(pid_t pid, int go)
{
	struct sigaction chld;

	close(go);
	if (sigaction(SIGCHLD, NULL, &chld) == 0 &&
	    (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT)))
		return;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Fork a child for c (malloc'd; the kid owns it from now on). */
static int spawn(nw_server *s, struct kids *k, struct nwi_conn *c)
{
	int go[2], pidfd;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		nwi_close_keep_errno(go[0]);
		nwi_close_keep_errno(go[1]);
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		child_wait_go(go[0]);
		child_serve(s, k, c);
	}
	/* The slot go[0] frees is there for the pidfd. */
	close(go[0]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ENOSYS) {
		child_abandon(pid, go[1]);
		return -1;
	}
	nwi_write_all(go[1], "g", 1);
	close(go[1]);
	nwi_conn_link(s, c);
	k->list[k->count++] = (struct kid){ .pid = pid, .pidfd = pidfd, .conn = c };
	return 0;
}

/* Accept up to a batch; 0, or the errno that broke the listener. */
static int accept_children(nw_server *s, struct kids *k, struct nwi_backoff *b,
			   struct nwi_conn **pending)
{
	for (int i = 0; i < NWI_ACCEPT_BATCH && k->count < (size_t)s->max_conns; i++) {
		struct nwi_conn *c;

		if (nwi_stop_arrived(s))
			return 0;
		c = malloc(sizeof *c);
		if (c == NULL || kids_reserve(k) < 0) {
			free(c);
			nwi_backoff_hit(b);
			return 0;
		}
		int got = nwi_accept_next(s, c, b);

		if (got <= 0) {
			int err = errno;

			free(c);
			return got < 0 ? err : 0;
		}
		if (spawn(s, k, c) < 0) {
			/* Out of processes or memory: keep the connection and retry. */
			*pending = c;
			nwi_backoff_hit(b);
			return 0;
		}
	}
	return 0;
}

/*
 * After a stop: serve a connection still waiting for its child, and let
 * children finish, up to the grace period; then cut the rest off, kill and
 * reap them.
 */
static void finish_children(nw_server *s, struct kids *k, int64_t *next_sweep,
			    struct nwi_conn *pending, struct nwi_backoff *b)
{
	int64_t deadline = s->grace_ms < 0 ? -1 : nwi_now_ms() + s->grace_ms;

	for (;;) {
		int timeout = kids_tend(s, k, next_sweep);
		int left = nwi_ms_until(deadline);
		struct pollfd p = { .fd = s->wake_rd, .events = POLLIN };

		if (pending && nwi_backoff_left(b) == 0) {
			if (kids_reserve(k) == 0 && spawn(s, k, pending) == 0)
				pending = NULL;
			else
				nwi_backoff_hit(b);
		}
		if ((k->count == 0 && !pending) || left == 0)
			break;
		if (pending)
			timeout = nwi_shorter(timeout, nwi_backoff_left(b));
		nwi_server_wait(s, &p, 1, nwi_shorter(timeout, left));
	}
	if (pending) {
		/* No process could be started for it within the grace period. */
		pending->cut = true;
		nwi_conn_end(s, pending);
		free(pending);
	}
	nwi_shutdown_conns(s);
	for (size_t i = 0; i < k->count; i++) {
		if (k->list[i].pidfd >= 0)
			syscall(SYS_pidfd_send_signal, k->list[i].pidfd, SIGKILL, NULL, 0);
		else
			kill(k->list[i].pid, SIGKILL);
		kid_gone(&k->list[i], true);
	}
	while (k->count)
		kids_remove(s, k, k->count - 1);
}

int nwi_run_process(nw_server *s)
{
	struct kids k = { NULL, 0, 0, 0 };
	struct nwi_backoff b = { 0, 0 };
	struct nwi_conn *pending = NULL;
	int64_t next_sweep = nwi_now_ms() + SWEEP_MS;
	int err = 0;

	while (!nwi_stop_seen(s, NULL) && !err) {
		int timeout = kids_tend(s, &k, &next_sweep);

		if (pending && nwi_backoff_left(&b) == 0) {
			if (kids_reserve(&k) == 0 && spawn(s, &k, pending) == 0)
				pending = NULL;
			else
				nwi_backoff_hit(&b);
		}
		bool can_accept = !pending && nwi_backoff_left(&b) == 0 &&
				  k.count < (size_t)s->max_conns;
		struct pollfd p[3] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->wake_rd, .events = POLLIN },
			{ .fd = can_accept ? s->listen_fd : -1, .events = POLLIN },
		};

		if (nwi_backoff_left(&b))
			timeout = nwi_shorter(timeout, nwi_backoff_left(&b));
		if (nwi_server_wait(s, p, 3, timeout) > 0 && !nwi_stop_seen(s, &p[0]) &&
		    p[2].revents)
			err = accept_children(s, &k, &b, &pending);
	}
	finish_children(s, &k, &next_sweep, pending, &b);
	free(k.list);
	if (err)
		return nwi_fail(err, "nw_server_run(%d): accept", s->listen_fd);
	return 0;
}
