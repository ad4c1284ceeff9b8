/*
 * unix.c - Unix-domain stream sockets, by path or in the abstract namespace.
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

static int connect_to(const struct sockaddr_un *sun, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
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
static bool remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = connect_to(sun, len);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	if (errno != ECONNREFUSED)
		return false;
	return unlink(path) == 0;
}

int nw_unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (make_addr(path, &sun, &len) < 0)
		return nwi_fail(errno, "nw_unix_listen(%s)", nwi_str(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nwi_fail(errno, "nw_unix_listen(%s)", path);
	if (bind(fd, (const struct sockaddr *)&sun, len) < 0) {
		int err = errno;

		if (err != EADDRINUSE || path[0] == '@' || !remove_if_stale(path, &sun, len)) {
			errno = err;
			goto fail;
		}
		if (bind(fd, (const struct sockaddr *)&sun, len) < 0)
			goto fail;
	}
	if (listen(fd, backlog <= 0 ? SOMAXCONN : backlog) < 0)
		goto fail;
	return fd;
fail:
	nwi_close_keep_errno(fd);
	return nwi_fail(errno, "nw_unix_listen(%s)", path);
}

int nw_unix_connect(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (make_addr(path, &sun, &len) < 0)
		return nwi_fail(errno, "nw_unix_connect(%s)", nwi_str(path));
	fd = connect_to(&sun, len);
	if (fd < 0)
		return nwi_fail(errno, "nw_unix_connect(%s)", path);
	return fd;
}

/* For nw_unix_listen_opts (unixopts.c), which binds the same way. */
int nwi_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	return make_addr(path, sun, len);
}

bool nwi_unix_remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	return remove_if_stale(path, sun, len);
}
