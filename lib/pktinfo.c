/*
 * pktinfo.c - datagrams with their local address: nw_set_pktinfo,
 * nw_recvfrom_to, nw_sendto_from.
 *
 * A socket bound to the wildcard does not know which of the host's
 * addresses a datagram was sent to, and sendto() lets routing choose the
 * reply's source: on a host with several addresses that may be another one,
 * and a client with a connected UDP socket drops the reply (UNP 22.2).
 * IP_PKTINFO / IPV6_RECVPKTINFO report the destination of each datagram;
 * the same control message on a send sets the source.  An AF_INET6 socket
 * gets IPv4 traffic as v4-mapped addresses, in IPV6_PKTINFO, and the kernel
 * takes a v4-mapped IPV6_PKTINFO back for its IPv4 replies.
 *
 * The option is switched on explicitly (nw_set_pktinfo), once per socket:
 * doing it inside nw_recvfrom_to would cost a system call per datagram or
 * state the library does not keep.  Without it `to` comes back empty.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Room for our control message and a few the caller may have enabled. */
union control {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 256];
};

static int socket_family(int fd)
{
	int family = 0;
	socklen_t len = sizeof family;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
		return -1;
	return family;
}

int nw_set_pktinfo(int fd, int on)
{
	int family = socket_family(fd);
	int v = on != 0;

	if (family < 0)
		return nwi_fail(errno, "nw_set_pktinfo(%d, %d)", fd, on);
	if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof v) < 0)
			return nwi_fail(errno, "nw_set_pktinfo(%d, %d): IP_PKTINFO", fd, on);
	} else if (family == AF_INET6) {
		/* Covers IPv4 on a dual-stack socket too: it arrives v4-mapped. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, sizeof v) < 0)
			return nwi_fail(errno, "nw_set_pktinfo(%d, %d): IPV6_RECVPKTINFO", fd, on);
	} else {
		return nwi_fail_text(EAFNOSUPPORT, "not an IPv4 or IPv6 socket",
				     "nw_set_pktinfo(%d, %d)", fd, on);
	}
	return 0;
}

/* The socket's own port: pktinfo carries only the address. */
static in_port_t own_port(int fd)
{
	struct sockaddr_storage self;
	socklen_t selflen = sizeof self;

	if (getsockname(fd, (struct sockaddr *)&self, &selflen) < 0)
		return 0;
	return self.ss_family == AF_INET ? ((struct sockaddr_in *)&self)->sin_port
					 : ((struct sockaddr_in6 *)&self)->sin6_port;
}

/* Fill to from the pktinfo control message; false when there is none. */
static bool local_address(int fd, struct msghdr *msg, struct sockaddr_storage *to,
			  socklen_t *tolen, int *ifindex, bool with_port)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *sin = (struct sockaddr_in *)to;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memset(to, 0, sizeof *to);
			sin->sin_family = AF_INET;
			sin->sin_port = with_port ? own_port(fd) : 0;
			sin->sin_addr = pi.ipi_addr;
			*tolen = sizeof *sin;
			*ifindex = pi.ipi_ifindex;
			return true;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)to;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memset(to, 0, sizeof *to);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = with_port ? own_port(fd) : 0;
			sin6->sin6_addr = pi.ipi6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				sin6->sin6_scope_id = pi.ipi6_ifindex;
			*tolen = sizeof *sin6;
			*ifindex = (int)pi.ipi6_ifindex;
			return true;
		}
	}
	return false;
}

ssize_t nw_recvfrom_to(int fd, void *buf, size_t size,
		       struct sockaddr_storage *from, socklen_t *fromlen,
		       struct sockaddr_storage *to, socklen_t *tolen, int *ifindex)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct sockaddr_storage local;
	socklen_t locallen = 0;
	union control control;
	struct msghdr msg;
	int index = 0;
	ssize_t r;

	if ((buf == NULL && size > 0) || size > SSIZE_MAX)
		return nwi_fail(EINVAL, "nw_recvfrom_to(%d, %zu)", fd, size);
	memset(&msg, 0, sizeof msg);
	msg.msg_name = from;
	msg.msg_namelen = from ? sizeof *from : 0;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	r = nwi_recvmsg(fd, &msg, 0);
	if (r < 0)
		return nwi_fail(errno, "nw_recvfrom_to(%d, %zu)", fd, size);
	if (fromlen)
		*fromlen = from ? msg.msg_namelen : 0;
	/* The port costs a getsockname: only for a caller who wants `to`. */
	if (!local_address(fd, &msg, &local, &locallen, &index, to != NULL))
		memset(&local, 0, sizeof local);
	if (to)
		memcpy(to, &local, sizeof local);
	if (tolen)
		*tolen = to ? locallen : 0;
	if (ifindex)
		*ifindex = index;
	if (msg.msg_flags & MSG_TRUNC)
		return nwi_fail_text(EMSGSIZE, "datagram truncated: longer than the buffer",
				     "nw_recvfrom_to(%d, %zu)", fd, size);
	return r;
}

static bool is_v4_mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/*
 * Build the control message choosing source and interface.  The source's
 * family must be the destination's (v4-mapped with v4-mapped): the kernel
 * quietly ignores a message of the other level.  0, or -1 with EINVAL.
 */
static int source_control(int fd, const struct sockaddr *to, const struct sockaddr *from, socklen_t fromlen, int ifindex,
			  union control *control, struct msghdr *msg)
{
	int family = from ? from->sa_family : to ? to->sa_family : socket_family(fd);
	struct cmsghdr *c;

	if (ifindex < 0 || (from && to && (from->sa_family != to->sa_family ||
					   is_v4_mapped(from) != is_v4_mapped(to)))) {
		errno = EINVAL;
		return -1;
	}
	memset(control, 0, sizeof *control);
	msg->msg_control = control->buf;
	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_ifindex = ifindex };

		if (from) {
			if (fromlen < sizeof(struct sockaddr_in))
				goto invalid;
			pi.ipi_spec_dst = ((const struct sockaddr_in *)from)->sin_addr;
		}
		msg->msg_controllen = CMSG_SPACE(sizeof pi);
		c = CMSG_FIRSTHDR(msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	} else if (family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned)ifindex };

		if (from) {
			if (fromlen < sizeof(struct sockaddr_in6))
				goto invalid;
			pi.ipi6_addr = ((const struct sockaddr_in6 *)from)->sin6_addr;
		}
		msg->msg_controllen = CMSG_SPACE(sizeof pi);
		c = CMSG_FIRSTHDR(msg);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	} else {
		goto invalid;
	}
	return 0;
invalid:
	if (family >= 0)	/* else socket_family's errno says why */
		errno = EINVAL;
	return -1;
}

ssize_t nw_sendto_from(int fd, const void *buf, size_t len,
		       const struct sockaddr *to, socklen_t tolen,
		       const struct sockaddr *from, socklen_t fromlen, int ifindex)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	union control control;

	if ((buf == NULL && len > 0) || len > SSIZE_MAX || (to == NULL && tolen != 0) ||
	    (from == NULL && fromlen != 0))
		return nwi_fail(EINVAL, "nw_sendto_from(%d, %zu bytes)", fd, len);
	/* Nothing to choose: a plain send, as nw_sendto. */
	if ((from != NULL || ifindex != 0) &&
	    source_control(fd, to, from, fromlen, ifindex, &control, &msg) < 0)
		return nwi_fail(errno, "nw_sendto_from(%d, %zu bytes, ifindex %d)", fd, len,
				ifindex);
	for (;;) {
		char where[NW_ADDRSTRLEN], source[NW_ADDRSTRLEN];
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && nwi_wait_ready(fd, POLLOUT) == 0)
			continue;
		{
			int err = errno;
			const char *dst = to ? nw_addr_str(to, tolen, where, sizeof where) : NULL;
			const char *src = from ? nw_addr_str(from, fromlen, source, sizeof source)
					       : NULL;

			return nwi_fail(err, "nw_sendto_from(%d, %zu bytes, to %s, from %s)", fd,
					len, dst ? dst : "connected peer", src ? src : "any");
		}
	}
}
