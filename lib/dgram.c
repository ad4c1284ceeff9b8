/*
 * dgram.c - unconnected datagrams: one address for sendto, a socket to send
 * it from, and sendto/recvfrom that finish what they start.
 *
 * A datagram is all or nothing: the kernel never sends part of one, but it
 * does cut one that does not fit the reader's buffer and only says so in a
 * flag.  nw_recvfrom turns that flag into an error, so a short read cannot
 * pass for a whole message.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

int nw_resolve(const char *host, const char *service, int socktype,
	       struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct nwi_addrlist list;

	if (socktype != 0 && socktype != SOCK_DGRAM && socktype != SOCK_STREAM)
		return nwi_fail_text(EINVAL, "socktype must be 0, SOCK_DGRAM or SOCK_STREAM",
				     "nw_resolve(%s, %s, %d)", nwi_str(host),
				     nwi_str(service), socktype);
	if (addr == NULL)
		return nwi_fail_text(EINVAL, "no address to fill", "nw_resolve(%s, %s)",
				     nwi_str(host), nwi_str(service));
	/* NULL is caught by nwi_resolve; "*" would otherwise go to DNS. */
	if (host != NULL && nwi_host_is_wildcard(host))
		return nwi_fail_text(EINVAL, "the wildcard address is not a destination",
				     "nw_resolve(%s, %s)", host, nwi_str(service));
	if (nwi_resolve("nw_resolve", host, service, socktype, 0, &list) < 0)
		return -1;
	/* getaddrinfo sorted the list by RFC 6724: the first is the best guess. */
	memset(addr, 0, sizeof *addr);
	memcpy(addr, &list.addrs[0].ss, list.addrs[0].len);
	if (addrlen)
		*addrlen = list.addrs[0].len;
	nwi_addrlist_free(&list);
	return 0;
}

int nw_udp_socket(int family)
{
	int fd;

	if (family != AF_INET && family != AF_INET6)
		return nwi_fail_text(EAFNOSUPPORT, "family must be AF_INET or AF_INET6",
				     "nw_udp_socket(%d)", family);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nwi_fail(errno, "nw_udp_socket(%s)",
				family == AF_INET ? "AF_INET" : "AF_INET6");
	return fd;
}

/* An address as text for a failure message; NULL is the connected peer. */
static const char *peer_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	int saved = errno;
	const char *s = sa ? nw_addr_str(sa, len, buf, size) : "connected peer";

	errno = saved;
	return s ? s : "unprintable address";
}

ssize_t nw_sendto(int fd, const void *buf, size_t len,
		  const struct sockaddr *to, socklen_t tolen)
{
	char where[NW_ADDRSTRLEN];

	if ((buf == NULL && len > 0) || len > SSIZE_MAX || (to == NULL && tolen != 0))
		return nwi_fail(EINVAL, "nw_sendto(%d, %zu bytes)", fd, len);
	for (;;) {
		ssize_t w = sendto(fd, buf, len, MSG_NOSIGNAL, to, tolen);

		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || nwi_wait_ready(fd, POLLOUT) < 0)
			return nwi_fail(errno, "nw_sendto(%d, %zu bytes, %s)", fd, len,
					peer_text(to, tolen, where, sizeof where));
	}
}

ssize_t nw_recvfrom(int fd, void *buf, size_t size,
		    struct sockaddr_storage *from, socklen_t *fromlen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg;
	ssize_t r;

	if ((buf == NULL && size > 0) || size > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_recvfrom(%d, %zu)", fd, size);
	memset(&msg, 0, sizeof msg);
	msg.msg_name = from;
	msg.msg_namelen = from ? sizeof *from : 0;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/*
	 * No MSG_TRUNC in flags: on a TCP socket it discards the data.
	 * The flag the kernel returns in msg_flags is safe on any socket.
	 */
	r = nwi_recvmsg(fd, &msg, 0);
	if (r < 0)
		return nwi_fail(errno, "nw_recvfrom(%d, %zu)", fd, size);
	if (fromlen)
		*fromlen = from ? msg.msg_namelen : 0;
	if (msg.msg_flags & MSG_TRUNC) {
		char who[NW_ADDRSTRLEN];

		return nwi_fail_text(EMSGSIZE, "datagram truncated: longer than the buffer",
				     "nw_recvfrom(%d, %zu) from %s", fd, size,
				     from ? peer_text((struct sockaddr *)from, msg.msg_namelen,
						      who, sizeof who) : "?");
	}
	return r;
}
