/*
 * serve_conn.c - what every nw_server model does with a connection: accept
 * it (with the back-off when descriptors or memory run out, and the cap
 * per client address), keep it on the server's list while its handler
 * runs, end it with a lingering close, and wait in the run thread while
 * doing the server's own duties (the linger set, cutting idle connections).
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * A handler that keeps waiting after its reads and writes timed out is cut
 * off this long after the idle limit (its own timeout comes first).
 */
#define IDLE_CUT_SLACK_MS 200
/* How often the run thread looks for idle connections, at most. */
#define IDLE_CHECK_MAX_MS 250

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

/* One connection more than its address may have: closed at once, never queued. */
static bool over_peer_cap(nw_server *s, struct nwi_conn *c, struct nwi_backoff *b)
{
	int rc;

	if (s->max_per_peer <= 0)
		return false;
	rc = nwi_peers_add(&s->peers, (struct sockaddr *)&c->peer, c->peerlen, s->max_per_peer);
	if (rc < 0)
		nwi_backoff_hit(b);
	c->counted = rc > 0;
	return rc <= 0;
}

int nwi_accept_next(nw_server *s, struct nwi_conn *c, struct nwi_backoff *b)
{
	c->cut = false;
	c->counted = false;
	c->peerlen = sizeof c->peer;
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
		if (stopped_meanwhile(s) || over_peer_cap(s, c, b)) {
			nwi_close_keep_errno(c->fd);
			c->fd = -1;
			return 0;
		}
		/* Not for every socket type: a failure leaves the waits unbounded, not broken. */
		if (s->idle_ms > 0)
			nwi_idle_arm(c->fd, s->idle_ms);
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

void nwi_conn_link(nw_server *s, struct nwi_conn *c)
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

void nwi_conn_unlink(nw_server *s, struct nwi_conn *c)
{
	pthread_mutex_lock(&s->lock);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	s->active--;
	pthread_mutex_unlock(&s->lock);
}

/*
 * Call after nwi_conn_unlink: nothing else shuts the descriptor down then,
 * so its number can be reused without a grace-period or idle shutdown
 * hitting another connection.
 */
void nwi_conn_end(nw_server *s, struct nwi_conn *c)
{
	if (c->counted)
		nwi_peers_remove(&s->peers, (struct sockaddr *)&c->peer, c->peerlen);
	c->counted = false;
	if (c->cut)
		close(c->fd);
	else if (nwi_linger_add(&s->linger, c->fd))
		nwi_wake_run(s, 0);	/* the run thread may sleep without a timeout */
	c->fd = -1;
}

void nwi_shutdown_conns(nw_server *s)
{
	pthread_mutex_lock(&s->lock);
	for (struct nwi_conn *c = s->conns.next; c != &s->conns; c = c->next) {
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Cut connections idle for too long; the ms until the next look, or -1. */
static int cut_idle(nw_server *s)
{
	int every;

	if (s->idle_ms <= 0)
		return -1;
	every = s->idle_ms / 4 > IDLE_CHECK_MAX_MS ? IDLE_CHECK_MAX_MS : s->idle_ms / 4 + 1;
	if (nwi_now_ms() < s->next_idle_check)
		return nwi_ms_until(s->next_idle_check);
	pthread_mutex_lock(&s->lock);
	for (struct nwi_conn *c = s->conns.next; c != &s->conns; c = c->next) {
		if (!c->cut && nwi_idle_for(c->fd, s->idle_ms + IDLE_CUT_SLACK_MS)) {
			/* The handler's reads see end of file, its writes EPIPE. */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	s->next_idle_check = nwi_now_ms() + every;
	return every;
}

int nwi_server_wait(nw_server *s, struct pollfd *p, nfds_t n, int timeout_ms)
{
	struct pollfd all[4];
	int duties, ready = 0;

	duties = nwi_shorter(nwi_linger_service(&s->linger), cut_idle(s));
	memcpy(all, p, n * sizeof *p);
	all[n] = (struct pollfd){ .fd = s->linger.epfd, .events = POLLIN };
	nwi_wait_fds(all, n + 1, nwi_shorter(timeout_ms, duties));
	memcpy(p, all, n * sizeof *p);
	for (nfds_t i = 0; i < n; i++)
		ready += p[i].revents != 0;
	nwi_linger_service(&s->linger);
	return ready;
}
