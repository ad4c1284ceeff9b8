/*
 * unix.c - Unix-domain sockets, by path or in the abstract namespace.
 * Streams here; the message types (SOCK_SEQPACKET, SOCK_DGRAM) reach the
 * same code through unixtype.c.
 */
#include "internal.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
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
 * Is a Unix-domain socket bound to the file with inode ino listening in
 * this network namespace?  1 yes, 0 no, -1 when the kernel cannot say (no
 * sock_diag).  The kernel lists its listeners with the inode of the file
 * each is bound to (UNIX_DIAG_VFS), so asking involves no connection: a
 * live server never sees the question, and a full queue cannot stall it.
 * Only the inode is compared: the device the kernel reports is encoded
 * differently from st_dev, and a coincidence on another file system can
 * only make us keep a file, never remove a live one.
 */
static int listener_on_inode(ino_t ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} request = {
		.nlh = {
			.nlmsg_len = sizeof request,
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = 1 << TCP_LISTEN,
			.udiag_show = UDIAG_SHOW_VFS,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)];	/* aligned for struct nlmsghdr */
	int found = -1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	if (sendto(fd, &request, sizeof request, 0, (struct sockaddr *)&kernel,
		   sizeof kernel) != (ssize_t)sizeof request)
		goto out;
	while (found < 0) {
		/*
		 * The kernel queues each part of the dump before we ask for it
		 * (the first in sendto, the next in the recv that takes one), so
		 * this never needs to wait; if it would, we say we do not know.
		 */
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				found = 0;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
			struct unix_diag_msg *m = NLMSG_DATA(h);
			int attrlen = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof *m);

			for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, attrlen);
			     a = RTA_NEXT(a, attrlen)) {
				struct unix_diag_vfs vfs;

				if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof vfs)
					continue;
				memcpy(&vfs, RTA_DATA(a), sizeof vfs);
				if (vfs.udiag_vfs_ino == ino) {
					found = 1;	/* the rest of the dump dies with fd */
					goto out;
				}
			}
		}
	}
out:
	close(fd);
	return found;
}

/*
 * A socket file nobody listens on is what a dead server leaves behind.
 * Only that is removed: a live server, or a file of any other kind, stays.
 * Nothing here waits, and a live server is never connected to when the
 * kernel can list its listeners.  A listener it does not list may live in
 * another network namespace that shares the file; a non-blocking connect
 * answers for those: refused means dead, a full queue (EAGAIN) or a
 * connection means live.
 */
static bool remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len,
			    int type)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (listener_on_inode(st.st_ino) == 1)
		return false;
	/*
	 * Of the message types, only a datagram socket is not a listener the
	 * kernel lists; connecting one to it is no connection its owner sees.
	 */
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	do
		rc = connect(fd, (const struct sockaddr *)sun, len);
	while (rc < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (rc == 0 || err != ECONNREFUSED)
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
	if (type != SOCK_DGRAM && listen(fd, nwi_backlog(backlog)) < 0)
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

/* For nw_unix_listen_opts (unixopts.c), which binds the same way. */
int nwi_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	return make_addr(path, sun, len);
}

bool nwi_unix_remove_if_stale(const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	return remove_if_stale(path, sun, len, SOCK_STREAM);
}

int nw_unix_connect(const char *path)
{
	return nwi_unix_connect("nw_unix_connect", path, SOCK_STREAM);
}
