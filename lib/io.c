/*
 * io.c - whole reads and writes: nw_readn, nw_writen.
 *
 * Timeouts live in the kernel (SO_RCVTIMEO/SO_SNDTIMEO, set by
 * nw_set_timeout), so the library keeps no per-descriptor state: a blocking
 * socket reports an expired timeout as EAGAIN, and a non-blocking one is
 * waited on with poll for the same time.  Writes to a socket never block in
 * the kernel (see nwi_write_all): they poll for the timeout themselves.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t nwi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The socket's own timeout for this direction in ms, -1 for none. */
static int socket_timeout_ms(int fd, short events)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	int opt = (events & POLLIN) ? SO_RCVTIMEO : SO_SNDTIMEO;

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
		return -1;	/* not a socket: pipes and files wait forever */
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		return -1;
	if (tv.tv_sec >= INT_MAX / 1000)
		return INT_MAX;
	return (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

int nwi_wait_ready(int fd, short events)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	if (!(flags & O_NONBLOCK)) {
		/* A blocking descriptor says EAGAIN only when its timeout expired. */
		errno = ETIMEDOUT;
		return -1;
	}
	return nwi_poll_ready(fd, events);
}

int nwi_poll_ready(int fd, short events)
{
	int timeout = socket_timeout_ms(fd, events);
	int64_t deadline = timeout >= 0 ? nwi_now_ms() + timeout : -1;
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int wait = -1;

		if (deadline >= 0) {
			int64_t left = deadline - nwi_now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		int rc = poll(&p, 1, wait);

		if (rc > 0)
			return 0;	/* ready, or an error the next call will report */
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

ssize_t nwi_recvmsg(int fd, struct msghdr *msg, int flags)
{
	/* A failed try may have written them: each try starts from the caller's. */
	socklen_t namelen = msg->msg_namelen;
	size_t controllen = msg->msg_controllen;

	for (;;) {
		ssize_t r;

		msg->msg_namelen = namelen;
		msg->msg_controllen = controllen;
		msg->msg_flags = 0;
		r = recvmsg(fd, msg, flags);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || nwi_wait_ready(fd, POLLIN) < 0)
			return -1;
	}
}

ssize_t nw_readn(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;

	if ((buf == NULL && n > 0) || n > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_readn(%d, %zu)", fd, n);
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r > 0) {
			got += (size_t)r;
		} else if (r == 0) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return nwi_fail(errno, "nw_readn(%d, %zu)", fd, n);
		} else if (nwi_wait_ready(fd, POLLIN) < 0) {
			return nwi_fail(errno, "nw_readn(%d, %zu)", fd, n);
		}
	}
	return (ssize_t)got;
}

void nwi_sigpipe_block(struct nwi_sigpipe *sp)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	sp->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &sp->old);
}

void nwi_sigpipe_restore(struct nwi_sigpipe *sp, bool got_epipe)
{
	int saved = errno;

	/* A SIGPIPE pending before we blocked belongs to someone else: leave it. */
	if (got_epipe && !sp->was_pending) {
		const struct timespec zero = { 0, 0 };
		sigset_t pipe_set;

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
	errno = saved;
}

/*
 * write(2) on a pipe or a file, without SIGPIPE.  Sockets never come here:
 * send(MSG_NOSIGNAL) is cheaper than two signal-mask changes.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t n)
{
	struct nwi_sigpipe sp;
	ssize_t w;

	nwi_sigpipe_block(&sp);
	w = write(fd, buf, n);
	nwi_sigpipe_restore(&sp, w < 0 && errno == EPIPE);
	return w;
}

ssize_t nwi_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;
	bool is_socket = true;

	while (done < n) {
		ssize_t w;

		if (is_socket) {
			/*
			 * Never let the kernel wait: a blocking send whose timeout
			 * expires after part of the buffer went out returns that part,
			 * and the next send would wait a whole timeout again.  poll
			 * below waits once, for the socket's own timeout.
			 */
			w = send(fd, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == ENOTSOCK) {
				is_socket = false;
				continue;
			}
		} else {
			w = write_nosigpipe(fd, p + done, n - done);
		}
		if (w >= 0) {
			done += (size_t)w;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -1;
		} else if ((is_socket ? nwi_poll_ready(fd, POLLOUT)
				      : nwi_wait_ready(fd, POLLOUT)) < 0) {
			return -1;
		}
	}
	return (ssize_t)n;
}

ssize_t nw_writen(int fd, const void *buf, size_t n)
{
	if ((buf == NULL && n > 0) || n > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_writen(%d, %zu)", fd, n);
	if (nwi_write_all(fd, buf, n) < 0)
		return nwi_fail(errno, "nw_writen(%d, %zu)", fd, n);
	return (ssize_t)n;
}
