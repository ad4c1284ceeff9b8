/*
 * fdpass.c - descriptors and credentials over Unix-domain sockets:
 * nw_send_fd, nw_recv_fd, nw_peer_cred.
 *
 * A descriptor travels as SCM_RIGHTS control data riding on one data byte:
 * control data alone is not a message on a stream socket, and the byte
 * keeps each descriptor's message apart from the next.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Room for more descriptors than we accept, and for the credentials a
 * SO_PASSCRED socket adds: a peer that sends a few too many is told so
 * (EPROTO), not merely truncated.  Whatever the kernel installs, beyond
 * the one we return, is closed.
 */
#define CONTROL_ROOM (CMSG_SPACE(sizeof(int) * 8) + CMSG_SPACE(sizeof(struct ucred)))

/*
 * Only a Unix-domain socket carries descriptors and credentials; on any
 * other socket SCM_RIGHTS is refused and SO_PEERCRED reports nobody, which
 * an access check must never mistake for an answer.
 */
static int check_unix(int sock, bool need_peer)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int rc = need_peer ? getpeername(sock, (struct sockaddr *)&sun, &len)
			   : getsockname(sock, (struct sockaddr *)&sun, &len);

	if (rc < 0)
		return -1;
	if (sun.sun_family != AF_UNIX) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

/* Record call's failure; check_unix's EAFNOSUPPORT is put in plain words. */
static int fail(int err, const char *call)
{
	if (err == EAFNOSUPPORT)
		return nwi_fail_text(err, "not a Unix-domain socket", "%s", call);
	return nwi_fail(err, "%s", call);
}

int nw_send_fd(int sock, int fd)
{
	char call[48];
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof control.buf,
	};
	struct cmsghdr *c;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return nwi_fail(EBADF, "nw_send_fd(%d, %d)", sock, fd);
	if (check_unix(sock, false) < 0)
		goto fail;
	memset(&control, 0, sizeof control);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	for (;;) {
		if (sendmsg(sock, &msg, MSG_NOSIGNAL) == 1)
			return 0;
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || nwi_wait_ready(sock, POLLOUT) < 0)
			goto fail;
	}
fail:
	snprintf(call, sizeof call, "nw_send_fd(%d, %d)", sock, fd);
	return fail(errno, call);
}

/*
 * Keep the message's first descriptor in *first and close every other one
 * the kernel installed; the count of all of them.
 */
static int take_first_fd(struct msghdr *msg, int *first)
{
	int count = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			if (count++ == 0)
				*first = fd;
			else
				close(fd);
		}
	}
	return count;
}

/*
 * The kernel truncates control data both when it does not fit and when it
 * cannot install a descriptor because this process is at its limit; only
 * the second leaves no descriptor free.
 */
static int truncation_errno(int sock)
{
	int probe = fcntl(sock, F_DUPFD_CLOEXEC, 0);

	if (probe < 0)
		return errno == EMFILE ? EMFILE : EMSGSIZE;
	close(probe);
	return EMSGSIZE;
}

int nw_recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CONTROL_ROOM];
	} control;
	struct msghdr msg;
	int fd = -1, count;
	char call[32];
	ssize_t n;

	if (check_unix(sock, false) < 0)
		goto fail;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	n = nwi_recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		goto fail;

	count = take_first_fd(&msg, &fd);
	if (count == 1 && !(msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)))
		return fd;
	if (count > 0)
		close(fd);
	if (msg.msg_flags & MSG_CTRUNC)
		return nwi_fail_text(truncation_errno(sock),
				     "control data truncated, descriptors closed",
				     "nw_recv_fd(%d)", sock);
	/*
	 * Only on a datagram or seqpacket socket: the rest of a message longer
	 * than our one byte is gone, so it was not nw_send_fd's, and a caller
	 * must not take its descriptor as if nothing had been lost.
	 */
	if (msg.msg_flags & MSG_TRUNC)
		return nwi_fail_text(EMSGSIZE, "message truncated: longer than one byte, "
				     "descriptors closed", "nw_recv_fd(%d)", sock);
	if (count > 1)
		return nwi_fail_text(EPROTO, "more than one descriptor, all closed",
				     "nw_recv_fd(%d)", sock);
	if (n == 0)
		return nwi_fail_text(ECONNRESET, "connection closed by peer", "nw_recv_fd(%d)", sock);
	return nwi_fail_text(ENOMSG, "message carried no descriptor", "nw_recv_fd(%d)", sock);
fail:
	snprintf(call, sizeof call, "nw_recv_fd(%d)", sock);
	return fail(errno, call);
}

int nw_peer_cred(int sock, pid_t *pid, uid_t *uid, gid_t *gid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	char call[32];

	if (check_unix(sock, true) < 0 ||
	    getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(call, sizeof call, "nw_peer_cred(%d)", sock);
		return fail(errno, call);
	}
	if (pid != NULL)
		*pid = cred.pid;
	if (uid != NULL)
		*uid = cred.uid;
	if (gid != NULL)
		*gid = cred.gid;
	return 0;
}
