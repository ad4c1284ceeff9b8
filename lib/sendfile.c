/*
 * sendfile.c - a file range to a socket, completely: nw_sendfile.
 *
 * sendfile(2) copies inside the kernel, but it sends short, cannot read
 * every kind of file (pipes, many /proc files), and cannot be told
 * MSG_NOSIGNAL.  The loop below takes care of the first, a read/write copy
 * of the second, and holds SIGPIPE back in this thread for the third.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* Linux sends at most 0x7ffff000 bytes a call; ask for less. */
#define SENDFILE_CHUNK ((size_t)1 << 30)
#define COPY_BUFFER 65536

/* Where the next byte comes from: an offset of our own, or the file's position. */
struct source {
	int fd;
	bool own_offset;
	off_t offset;
};

/*
 * Copy with read and write, for files sendfile cannot read.  *done grows
 * with every byte sent; 0 at the end of the range or of the file, else -1.
 */
static int copy_range(int sock, struct source *src, size_t count, size_t *done)
{
	char *buf = malloc(COPY_BUFFER);

	if (buf == NULL)
		return -1;
	while (*done < count) {
		size_t want = count - *done < COPY_BUFFER ? count - *done : COPY_BUFFER;
		ssize_t n = src->own_offset ? pread(src->fd, buf, want, src->offset)
					    : read(src->fd, buf, want);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Only a non-blocking pipe or socket says EAGAIN here. */
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    nwi_wait_ready(src->fd, POLLIN) == 0)
				continue;
			goto fail;
		}
		if (nwi_write_all(sock, buf, (size_t)n) < 0)
			goto fail;
		src->offset += n;
		*done += (size_t)n;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/*
 * True when sendfile(2) itself would wait on sock: a blocking socket with a
 * send timeout.  The kernel waits up to the timeout inside each call, and a
 * call whose wait expired after part of the range went out returns that
 * part, so the next call would wait a whole timeout again: a peer that
 * stops reading would hold nw_sendfile for two or three bounds.  sendfile
 * has no MSG_DONTWAIT, and setting O_NONBLOCK would change the socket for
 * everyone who shares it; such a socket gets the copy instead, whose sends
 * never wait and whose one wait is poll, bounded once.
 */
static bool kernel_waits(int sock)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	int flags = fcntl(sock, F_GETFL);

	if (flags < 0 || (flags & O_NONBLOCK))
		return false;
	if (getsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0)
		return false;	/* not a socket: sendfile reports that */
	return tv.tv_sec != 0 || tv.tv_usec != 0;
}

/*
 * sendfile until the range or the file ends.  0, or -1 with errno; a
 * sendfile that refuses the descriptors leaves *fallback set and the rest
 * of the range to copy_range.
 */
static int sendfile_range(int sock, struct source *src, size_t count, size_t *done,
			  bool *fallback)
{
	while (*done < count) {
		size_t want = count - *done < SENDFILE_CHUNK ? count - *done : SENDFILE_CHUNK;
		ssize_t n = sendfile(sock, src->fd, src->own_offset ? &src->offset : NULL, want);

		if (n > 0) {
			*done += (size_t)n;
		} else if (n == 0) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (nwi_wait_ready(sock, POLLOUT) < 0)
				return -1;
		} else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
			*fallback = true;
			return 0;
		} else {
			return -1;
		}
	}
	return 0;
}

ssize_t nw_sendfile(int sock, int file_fd, int64_t offset, size_t count)
{
	struct source src = { .fd = file_fd, .own_offset = offset >= 0, .offset = (off_t)offset };
	struct stat st;
	size_t done = 0;
	bool fallback = false;

	if (offset < -1 || count > SSIZE_MAX ||
	    (offset > 0 && count > (uint64_t)(INT64_MAX - offset)))
		return nwi_fail(EINVAL, "nw_sendfile(%d, %d, %lld, %zu)",
				sock, file_fd, (long long)offset, count);
	if (src.offset != offset)	/* a 32-bit off_t */
		return nwi_fail(EOVERFLOW, "nw_sendfile(%d, %d, %lld, %zu)",
				sock, file_fd, (long long)offset, count);
	if (fstat(file_fd, &st) < 0)
		goto fail;
	/*
	 * A pipe or socket as the source could make sendfile say EAGAIN for
	 * either side; the copy knows which one to wait for.
	 */
	if ((S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) && !kernel_waits(sock)) {
		struct nwi_sigpipe sp;
		int rc;

		nwi_sigpipe_block(&sp);
		rc = sendfile_range(sock, &src, count, &done, &fallback);
		nwi_sigpipe_restore(&sp, rc < 0 && errno == EPIPE);
		if (rc < 0)
			goto fail;
	} else {
		fallback = true;
	}
	if (fallback && copy_range(sock, &src, count, &done) < 0)
		goto fail;
	return (ssize_t)done;
fail:
	return nwi_fail(errno, "nw_sendfile(%d, %d, %lld, %zu)",
			sock, file_fd, (long long)offset, count);
}
