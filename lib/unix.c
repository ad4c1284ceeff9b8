/*
 * unix.c - Unix-domain sockets, by path or in the abstract namespace.
 * Streams here; the message types (SOCK_SEQPACKET, SOCK_DGRAM) reach the
 * same code through unixtype.c.
 */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Fill sun from path; "@name" is the Linux abstract namespace (a leading
 * NUL byte, no file).  Returns the address length, or -1 with errno.
 */
static int make_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n;

	if (path == NULL || *path == '\0') {
		errno = EINVAL;
		return -1;
	}
	n = strlen(path);
	/* A path needs its NUL inside sun_path; an abstract name needs none. */
	if (path[0] == '@' ? n > sizeof sun->sun_path : n >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
	return 0;
}

static int connect_to(const struct sockaddr_un *sun, socklen_t len, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	const sa_family_t autobind = AF_UNIX;

	if (fd < 0)
		return -1;
	/* An unbound datagram client cannot be answered: take a unique abstract name. */
	if (type == SOCK_DGRAM && bind(fd, (const struct sockaddr *)&autobind, sizeof autobind) < 0) {
		nwi_close_keep_errno(fd);
		return -1;
	}
	while (connect(fd, (const struct sockaddr *)sun, len) < 0) {
		/* A Unix-domain connect has no handshake in flight: just try again. */
		if (errno != EINTR) {
			nwi_close_keep_errno(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * A socket file nobody listens on is what a dead server leaves behind.
 * Only that is removed: a live server, or a file of any other kind, stays.
 */
static bool remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len,
			    int type)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = connect_to(sun, len, type);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	if (errno != ECONNREFUSED)
		return false;
	return unlink(path) == 0;
}

int nwi_unix_listen(const char *call, const char *path, int type, int backlog)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (make_addr(path, &sun, &len) < 0)
		return nwi_fail(errno, "%s(%s)", call, nwi_str(path));
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nwi_fail(errno, "%s(%s)", call, path);
	if (bind(fd, (const struct sockaddr *)&sun, len) < 0) {
		int err = errno;

		if (err != EADDRINUSE || path[0] == '@' ||
		    !remove_if_stale(path, &sun, len, type)) {
			errno = err;
			goto fail;
		}
		if (bind(fd, (const struct sockaddr *)&sun, len) < 0)
			goto fail;
	}
	/* A datagram socket has no connections to queue. */
	if (type != SOCK_DGRAM && listen(fd, backlog <= 0 ? SOMAXCONN : backlog) < 0)
		goto fail;
	return fd;
fail:
	nwi_close_keep_errno(fd);
	return nwi_fail(errno, "%s(%s)", call, path);
}

int nw_unix_listen(const char *path, int backlog)
{
	return nwi_unix_listen("nw_unix_listen", path, SOCK_STREAM, backlog);
}

int nwi_unix_connect(const char *call, const char *path, int type)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (make_addr(path, &sun, &len) < 0)
		return nwi_fail(errno, "%s(%s)", call, nwi_str(path));
	fd = connect_to(&sun, len, type);
	if (fd < 0)
		return nwi_fail(errno, "%s(%s)", call, path);
	return fd;
}

int nw_unix_connect(const char *path)
{
	return nwi_unix_connect("nw_unix_connect", path, SOCK_STREAM);
}
