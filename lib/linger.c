/*
 * linger.c - closing a connection without destroying the reply (lingering
 * close), for users (nw_close_graceful) and for servers (a linger set).
 *
 * close() on a TCP socket whose receive queue still holds unread bytes, or
 * that receives bytes after the close, makes Linux answer with a RST
 * (RFC 1122 4.2.2.13), and a RST makes the peer's kernel throw away
 * whatever of our reply it has not yet handed to the application.  So:
 * half-close (the reply and a FIN go out in order), read and discard what
 * the peer still sends until its end of file or a bound, then close with an
 * empty receive queue.
 *
 * A server must not hold a thread or process for that: its connections go
 * into a linger set, an epoll descriptor any loop can poll (the run loop of
 * the blocking models, an event loop), whose entries are kept in the order
 * they came, which is also the order of their deadlines.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct nwi_lingering {
	struct nwi_lingering *prev, *next;
	int fd;
	size_t bytes;		/* discarded so far */
	int64_t deadline;
};

/*
 * Read and discard what fd has now, without waiting.  1 at the peer's end of
 * file (or a reset: nothing left to protect), 0 when more may come, -1 when
 * *budget bytes were discarded without an end.  errno: the read's error.
 */
static int drain(int fd, size_t *budget)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n == 0) {
			errno = 0;
			return 1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
		}
		if ((size_t)n >= *budget)
			return -1;
		*budget -= (size_t)n;
	}
}

int nwi_linger_begin(int fd, size_t *budget)
{
	/* ENOTCONN: reset already, or not connected; the drain then ends at once. */
	shutdown(fd, SHUT_WR);
	return drain(fd, budget);
}

int nwi_linger_step(int fd, size_t *budget)
{
	return drain(fd, budget);
}

int nw_close_graceful(int fd, int timeout_ms)
{
	size_t budget = SIZE_MAX;
	int64_t deadline;
	int type, err = 0, done;
	socklen_t len = sizeof type;

	if (timeout_ms < 0)
		return nwi_fail_text(EINVAL, "negative timeout", "nw_close_graceful(%d, %d)",
				     fd, timeout_ms);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
		err = errno;
		if (err != EBADF)
			close(fd);
		return nwi_fail(err, "nw_close_graceful(%d, %d)", fd, timeout_ms);
	}
	/* Datagrams have no stream to protect: nothing to drain, a close is all. */
	if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
		close(fd);
		return 0;
	}
	deadline = nwi_now_ms() + timeout_ms;
	done = nwi_linger_begin(fd, &budget);
	while (done == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = nwi_ms_until(deadline);

		if (left == 0) {
			err = ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, left) < 0 && errno != EINTR) {
			err = errno;
			break;
		}
		done = nwi_linger_step(fd, &budget);
	}
	if (done == 1 && errno == ECONNRESET)
		err = ECONNRESET;
	if (close(fd) < 0 && !err && errno != EINTR)
		err = errno;
	if (err)
		return nwi_fail(err, "nw_close_graceful(%d, %d)", fd, timeout_ms);
	return 0;
}

/* ---- the linger set ---- */

int nwi_linger_init(struct nwi_linger *l)
{
	l->head = NULL;
	l->tail = NULL;
	l->count = 0;
	l->open = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -1;
	errno = pthread_mutex_init(&l->lock, NULL);
	if (errno) {
		nwi_close_keep_errno(l->epfd);
		return -1;
	}
	return 0;
}

static void unlink_close(struct nwi_linger *l, struct nwi_lingering *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	l->count--;
	/*
	 * Removed explicitly: a close drops the registration only with the
	 * last reference to the socket, and a process model child just forked
	 * may still hold one, which would report events for a freed entry.
	 */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	free(e);
}

void nwi_linger_destroy(struct nwi_linger *l)
{
	while (l->head)
		unlink_close(l, l->head);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
}

void nwi_linger_close_copies(struct nwi_linger *l)
{
	for (struct nwi_lingering *e = l->head; e; e = e->next)
		close(e->fd);
	close(l->epfd);
}

void nwi_linger_open(struct nwi_linger *l)
{
	pthread_mutex_lock(&l->lock);
	l->open = true;
	pthread_mutex_unlock(&l->lock);
}

bool nwi_linger_add(struct nwi_linger *l, int fd)
{
	size_t budget = NWI_LINGER_MAX_BYTES;
	struct nwi_lingering *e;
	struct epoll_event ev;
	bool was_empty;

	if (nwi_linger_begin(fd, &budget) != 0)
		goto close_now;
	e = malloc(sizeof *e);
	if (e == NULL)
		goto close_now;
	e->fd = fd;
	e->bytes = NWI_LINGER_MAX_BYTES - budget;
	e->deadline = nwi_now_ms() + NWI_LINGER_MS;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = e;
	pthread_mutex_lock(&l->lock);
	/* A set nobody services (the run ended) cannot keep its promise of a bound. */
	if (!l->open || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pthread_mutex_unlock(&l->lock);
		free(e);
		goto close_now;
	}
	e->next = NULL;
	e->prev = l->tail;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
	was_empty = l->count++ == 0;
	pthread_mutex_unlock(&l->lock);
	return was_empty;
close_now:
	close(fd);
	return false;
}

int nwi_linger_service(struct nwi_linger *l)
{
	struct epoll_event evs[64];
	int n, next = -1;

	pthread_mutex_lock(&l->lock);
	while ((n = epoll_wait(l->epfd, evs, 64, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			struct nwi_lingering *e = evs[i].data.ptr;
			size_t budget = NWI_LINGER_MAX_BYTES - e->bytes;

			if (nwi_linger_step(e->fd, &budget) != 0)
				unlink_close(l, e);
			else
				e->bytes = NWI_LINGER_MAX_BYTES - budget;
		}
		if (n < 64)
			break;
	}
	/* Deadlines come in the order of the list: expire from the head. */
	while (l->head && nwi_ms_until(l->head->deadline) == 0)
		unlink_close(l, l->head);
	if (l->head)
		next = nwi_ms_until(l->head->deadline);
	pthread_mutex_unlock(&l->lock);
	return next;
}

bool nwi_linger_close_if_empty(struct nwi_linger *l)
{
	bool empty;

	pthread_mutex_lock(&l->lock);
	empty = l->count == 0;
	if (empty)
		l->open = false;
	pthread_mutex_unlock(&l->lock);
	return empty;
}

void nwi_linger_close_all(struct nwi_linger *l)
{
	pthread_mutex_lock(&l->lock);
	while (l->head)
		unlink_close(l, l->head);
	l->open = false;
	pthread_mutex_unlock(&l->lock);
}
