/*
 * reader.c - a buffered reader for line protocols mixed with binary data.
 *
 * Nothing read from the descriptor is ever dropped.  When a read fails
 * after part of a result was copied out, the part is returned now and the
 * error on the next call; when nothing was copied out yet, the buffered
 * bytes stay buffered for the call after the error (a timeout can simply
 * be retried).
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * 64 KiB: large enough that a read(2) moves many lines at once (the
 * syscall, not the copy, dominates small reads), small enough for a
 * thread-per-connection server.
 */
#define DEFAULT_BUFSIZE (64 * 1024)
/* nw_reader_line's default longest line, unless the buffer is larger. */
#define DEFAULT_MAX_LINE (1024 * 1024)

struct nw_reader {
	int fd;
	int pending_err;	/* an error held back so earlier data came first */
	char *buf;		/* own_buf, or a larger one while a long line needs it */
	size_t cap;
	size_t start, end;	/* unread bytes are buf[start..end) */
	size_t own_cap;		/* the size asked for at creation */
	size_t max_line;	/* nw_reader_line's longest line, '\n' included */
	/* Aligned as malloc aligns, so read(2) copies into it as into any buffer. */
	_Alignas(16) char own_buf[];
};

nw_reader *nw_reader_new(int fd, size_t bufsize)
{
	nw_reader *r;

	if (fd < 0) {
		nwi_fail(EBADF, "nw_reader_new(%d, %zu)", fd, bufsize);
		return NULL;
	}
	if (bufsize == 0)
		bufsize = DEFAULT_BUFSIZE;
	if (bufsize > SSIZE_MAX - sizeof *r ||
	    (r = malloc(sizeof *r + bufsize)) == NULL) {
		nwi_fail(ENOMEM, "nw_reader_new(%d, %zu)", fd, bufsize);
		return NULL;
	}
	r->fd = fd;
	r->pending_err = 0;
	r->buf = r->own_buf;
	r->cap = r->own_cap = bufsize;
	r->start = r->end = 0;
	r->max_line = bufsize > DEFAULT_MAX_LINE ? bufsize : DEFAULT_MAX_LINE;
	return r;
}

void nw_reader_free(nw_reader *r)
{
	if (r != NULL && r->buf != r->own_buf)
		free(r->buf);
	free(r);
}

/*
 * Back to the buffer the reader was made with once what is buffered fits
 * in it again, with room to read: one long line must not keep a
 * connection's memory large for the rest of its life.
 */
static void shrink(nw_reader *r)
{
	size_t avail = r->end - r->start;

	if (r->buf == r->own_buf || avail >= r->own_cap)
		return;
	memcpy(r->own_buf, r->buf + r->start, avail);
	free(r->buf);
	r->buf = r->own_buf;
	r->cap = r->own_cap;
	r->start = 0;
	r->end = avail;
}

/* One read(2) or readv(2): bytes read, 0 at end of file, -1 with errno. */
static ssize_t read_some(int fd, const struct iovec *iov, int iovcnt)
{
	for (;;) {
		ssize_t got = iovcnt == 1 ? read(fd, iov[0].iov_base, iov[0].iov_len)
					  : readv(fd, iov, iovcnt);

		if (got >= 0)
			return got;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (nwi_wait_ready(fd, POLLIN) < 0)
			return -1;
	}
}

/* Read more into the free tail of the buffer, which the caller made room in. */
static ssize_t fill(nw_reader *r)
{
	shrink(r);

	struct iovec tail = { .iov_base = r->buf + r->end, .iov_len = r->cap - r->end };
	ssize_t got = read_some(r->fd, &tail, 1);

	if (got > 0)
		r->end += (size_t)got;
	return got;
}

/* Report an error held back by the previous call, once. */
static int take_pending(nw_reader *r, const char *call)
{
	int err = r->pending_err;

	r->pending_err = 0;
	return nwi_fail(err, "%s(fd %d)", call, r->fd);
}

/*
 * Everything but a whole line already in the buffer: lines split across
 * reads, lines longer than the caller's room, end of file and errors.
 * Kept out of line so that nw_readline's fast path needs no stack frame.
 */
static __attribute__((noinline)) ssize_t readline_slow(nw_reader *r, char *line, size_t size)
{
	size_t copied = 0, checked = 0;

	for (;;) {
		size_t avail = r->end - r->start;
		size_t want = size - 1 - copied;
		size_t scan = avail < want ? avail : want;
		char *nl = memchr(r->buf + r->start + checked, '\n', scan - checked);

		if (nl != NULL) {
			size_t k = (size_t)(nl - (r->buf + r->start)) + 1;

			memcpy(line + copied, r->buf + r->start, k);
			r->start += k;
			copied += k;
			break;
		}
		if (avail >= want) {
			/* A line longer than the caller's buffer: this piece now, the rest later. */
			memcpy(line + copied, r->buf + r->start, want);
			r->start += want;
			copied += want;
			break;
		}
		checked = avail;
		if (r->start > 0) {
			/*
			 * Move the partial line (shorter than the caller's room) to
			 * the front, so the read below gets the whole free buffer,
			 * not a sliver of it: fewer, fuller reads.
			 */
			memmove(r->buf, r->buf + r->start, avail);
			r->start = 0;
			r->end = avail;
		} else if (r->end == r->cap) {
			/* Full of one line shorter than the caller's room: hand it over. */
			memcpy(line + copied, r->buf, avail);
			copied += avail;
			r->start = r->end = 0;
			checked = 0;
		}

		ssize_t got = fill(r);

		if (got == 0) {
			/* End of file: the last line has no newline. */
			avail = r->end - r->start;
			memcpy(line + copied, r->buf + r->start, avail);
			copied += avail;
			r->start = r->end = 0;
			break;
		}
		if (got < 0) {
			if (copied == 0)
				return nwi_fail(errno, "nw_readline(fd %d)", r->fd);
			r->pending_err = errno;
			break;
		}
	}
	line[copied] = '\0';
	return (ssize_t)copied;
}

ssize_t nw_readline(nw_reader *r, char *line, size_t size)
{
	/* size < 2 wraps around: one comparison checks both ends of the range. */
	if (r == NULL || line == NULL || size - 2 > (size_t)SSIZE_MAX - 1)
		return nwi_fail(EINVAL, "nw_readline(size %zu)", size);
	if (r->pending_err)
		return take_pending(r, "nw_readline");

	/*
	 * The common case, a whole line already buffered, costs one memchr and
	 * one memcpy and little else: it is most of the time a line protocol
	 * spends in this library.  Anything else searches again from the start
	 * of the buffer, once per read(2), not per line.
	 */
	size_t avail = r->end - r->start;
	const char *nl = memchr(r->buf + r->start, '\n', avail < size - 1 ? avail : size - 1);

	if (nl == NULL)
		return readline_slow(r, line, size);

	const char *p = r->buf + r->start;
	size_t k = (size_t)(nl - p) + 1;

	r->start += k;
	line[k] = '\0';
	memcpy(line, p, k);
	return (ssize_t)k;
}

ssize_t nw_reader_read(nw_reader *r, void *buf, size_t n)
{
	char *p = buf;
	size_t got;

	if (r == NULL || (buf == NULL && n > 0) || n > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_reader_read(%zu)", n);
	if (r->pending_err)
		return take_pending(r, "nw_reader_read");
	got = r->end - r->start < n ? r->end - r->start : n;
	/* buf may be NULL when n is 0, and memcpy must not see a NULL even then. */
	if (got > 0)
		memcpy(p, r->buf + r->start, got);
	r->start += got;
	while (got < n) {
		/*
		 * The buffer is empty.  One readv puts the rest of the request
		 * straight into the caller's memory (one copy, by the kernel,
		 * however large the request) and what else has arrived into the
		 * buffer, for the next call.
		 */
		shrink(r);

		size_t rest = n - got;
		struct iovec iov[2] = {
			{ .iov_base = p + got, .iov_len = rest },
			{ .iov_base = r->buf, .iov_len = r->cap },
		};
		/* readv fails when the lengths add up to more than SSIZE_MAX. */
		ssize_t k = read_some(r->fd, iov, rest <= SSIZE_MAX - r->cap ? 2 : 1);

		r->start = r->end = 0;
		if (k == 0)
			break;
		if (k < 0) {
			if (got == 0)
				return nwi_fail(errno, "nw_reader_read(fd %d, %zu)", r->fd, n);
			r->pending_err = errno;
			break;
		}
		if ((size_t)k > rest) {
			r->end = (size_t)k - rest;
			k = (ssize_t)rest;
		}
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int nw_reader_set_max_line(nw_reader *r, size_t max)
{
	if (r == NULL || max == 0 || max > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_reader_set_max_line(%zu)", max);
	r->max_line = max;
	return 0;
}

/*
 * Make room for a line that fills the buffer: double it, up to one byte
 * more than the longest line, the byte that tells a line of exactly
 * max_line bytes at end of file from a longer one.
 */
static int grow(nw_reader *r)
{
	size_t limit = r->max_line + 1;
	size_t cap = r->cap > limit / 2 ? limit : 2 * r->cap;
	char *buf;

	if (r->buf == r->own_buf) {
		buf = malloc(cap);
		if (buf != NULL)
			memcpy(buf, r->buf + r->start, r->end - r->start);
	} else {
		buf = realloc(r->buf, cap);
	}
	if (buf == NULL)
		return nwi_fail(ENOMEM, "nw_reader_line(fd %d): a buffer of %zu bytes", r->fd, cap);
	r->buf = buf;
	r->cap = cap;
	return 0;
}

/*
 * No whole line in the buffer: read until there is one, growing the buffer
 * when one line fills it.  Nothing is consumed unless a line is returned,
 * so every failure leaves the bytes for the next call.
 */
static __attribute__((noinline)) ssize_t line_slow(nw_reader *r, const char **line)
{
	size_t checked = 0;

	if (r->pending_err)
		return take_pending(r, "nw_reader_line");
	for (;;) {
		size_t avail = r->end - r->start;
		size_t scan = avail < r->max_line ? avail : r->max_line;
		char *nl = memchr(r->buf + r->start + checked, '\n', scan - checked);

		if (nl != NULL) {
			*line = r->buf + r->start;
			avail = (size_t)(nl - *line) + 1;
			r->start += avail;
			return (ssize_t)avail;
		}
		if (avail > r->max_line)
			return nwi_fail(EMSGSIZE, "nw_reader_line(fd %d): a line longer than %zu bytes",
					r->fd, r->max_line);
		checked = avail;
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, avail);
			r->start = 0;
			r->end = avail;
		}
		if (r->end == r->cap && grow(r) < 0)
			return -1;

		ssize_t got = fill(r);

		if (got < 0)
			return nwi_fail(errno, "nw_reader_line(fd %d)", r->fd);
		if (got == 0) {
			/* End of file: the last line has no newline. */
			*line = r->buf + r->start;
			r->start = r->end;
			return (ssize_t)avail;
		}
	}
}

ssize_t nw_reader_line(nw_reader *r, const char **line)
{
	if (r == NULL || line == NULL)
		return nwi_fail(EINVAL, "nw_reader_line(%p, %p)", (void *)r, (void *)line);

	/*
	 * A whole line already buffered costs one memchr and a few stores: the
	 * line stays where read(2) put it.  Anything else takes the slow path,
	 * a held-back error too: one is only ever held back with no newline
	 * left in the buffer (nw_reader_read empties it, readline_slow holds
	 * one back only after searching all that is buffered).
	 */
	char *p = r->buf + r->start;
	size_t avail = r->end - r->start;
	const char *nl = memchr(p, '\n', avail < r->max_line ? avail : r->max_line);

	if (nl == NULL)
		return line_slow(r, line);

	size_t k = (size_t)(nl - p) + 1;

	r->start += k;
	*line = p;
	return (ssize_t)k;
}
