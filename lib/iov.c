/*
 * iov.c - whole vectored transfers: nw_writev, nw_readv.
 *
 * A short writev leaves the caller's array describing bytes that are
 * already gone.  Instead of editing that array (it is const, and may be
 * reused), the loop keeps a cursor (entry, offset) into it and hands the
 * kernel either the caller's own entries, untouched, or a small copy whose
 * first entry starts at the offset.  At most IOV_MAX entries go to one
 * call: more is EINVAL from the kernel, not a short transfer.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Entries copied when a transfer resumes inside an entry; more wait for the next call. */
#define RESUME_WINDOW 64

struct cursor {
	const struct iovec *iov;
	int cnt;
	int index;		/* first entry not yet done */
	size_t offset;		/* bytes of iov[index] already done */
	struct iovec window[RESUME_WINDOW];	/* left uninitialised: filled when used */
};

static void cursor_init(struct cursor *c, const struct iovec *iov, int cnt)
{
	c->iov = iov;
	c->cnt = cnt;
	c->index = 0;
	c->offset = 0;
}

/* Sum the lengths; -1 with EINVAL for a bad array or a total over SSIZE_MAX. */
static ssize_t iov_total(const struct iovec *iov, int cnt)
{
	size_t total = 0;

	if (cnt < 0 || (iov == NULL && cnt > 0)) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total ||
		    (iov[i].iov_base == NULL && iov[i].iov_len > 0)) {
			errno = EINVAL;
			return -1;
		}
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/* The entries for the next call: the caller's own when at an entry's start. */
static const struct iovec *next_slice(struct cursor *c, int *n)
{
	int left = c->cnt - c->index;

	if (c->offset == 0) {
		*n = left < IOV_MAX ? left : IOV_MAX;
		return &c->iov[c->index];
	}
	*n = left < RESUME_WINDOW ? left : RESUME_WINDOW;
	memcpy(c->window, &c->iov[c->index], (size_t)*n * sizeof c->window[0]);
	c->window[0].iov_base = (char *)c->window[0].iov_base + c->offset;
	c->window[0].iov_len -= c->offset;
	return c->window;
}

/* Move the cursor past done bytes, and past the empty entries that follow. */
static void advance(struct cursor *c, size_t done)
{
	while (c->index < c->cnt) {
		size_t rest = c->iov[c->index].iov_len - c->offset;

		if (done < rest) {
			c->offset += done;
			return;
		}
		done -= rest;
		c->index++;
		c->offset = 0;
	}
}

/* writev(2) on a pipe or file without SIGPIPE; sockets use sendmsg instead. */
static ssize_t writev_nosigpipe(int fd, const struct iovec *iov, int n)
{
	struct nwi_sigpipe sp;
	ssize_t w;

	nwi_sigpipe_block(&sp);
	w = writev(fd, iov, n);
	nwi_sigpipe_restore(&sp, w < 0 && errno == EPIPE);
	return w;
}

ssize_t nw_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct cursor c;
	ssize_t total = iov_total(iov, iovcnt);
	size_t done = 0;
	bool is_socket = true;

	if (total < 0)
		return nwi_fail(EINVAL, "nw_writev(%d, %d entries)", fd, iovcnt);
	cursor_init(&c, iov, iovcnt);
	/*
	 * The common case first: the caller's array, whole, in one call.  A
	 * failure here is left to the loop, which meets it again and decides.
	 */
	if (total > 0 && iovcnt <= IOV_MAX) {
		struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (w == total)
			return total;
		if (w > 0) {
			done = (size_t)w;
			advance(&c, done);
		} else if (w < 0 && errno == ENOTSOCK) {
			is_socket = false;
		}
	}
	while (done < (size_t)total) {
		int n;
		const struct iovec *slice;
		ssize_t w;

		advance(&c, 0);
		slice = next_slice(&c, &n);

		if (is_socket) {
			struct msghdr msg = { .msg_iov = (struct iovec *)slice, .msg_iovlen = (size_t)n };

			w = sendmsg(fd, &msg, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				is_socket = false;
				continue;
			}
		} else {
			w = writev_nosigpipe(fd, slice, n);
		}
		if (w >= 0) {
			done += (size_t)w;
			advance(&c, (size_t)w);
		} else if (errno == EINTR) {
			continue;
		} else if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			   nwi_wait_ready(fd, POLLOUT) < 0) {
			return nwi_fail(errno, "nw_writev(%d, %d entries, %zd bytes) after %zu",
					fd, iovcnt, total, done);
		}
	}
	return total;
}

ssize_t nw_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct cursor c;
	ssize_t total = iov_total(iov, iovcnt);
	size_t done = 0;

	if (total < 0)
		return nwi_fail(EINVAL, "nw_readv(%d, %d entries)", fd, iovcnt);
	cursor_init(&c, iov, iovcnt);
	while (done < (size_t)total) {
		int n;
		const struct iovec *slice;
		ssize_t r;

		/* Empty entries first: a read of nothing would look like end of file. */
		advance(&c, 0);
		slice = next_slice(&c, &n);
		r = readv(fd, slice, n);

		if (r > 0) {
			done += (size_t)r;
			advance(&c, (size_t)r);
		} else if (r == 0) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			   nwi_wait_ready(fd, POLLIN) < 0) {
			return nwi_fail(errno, "nw_readv(%d, %d entries, %zd bytes) after %zu",
					fd, iovcnt, total, done);
		}
	}
	return (ssize_t)done;
}
