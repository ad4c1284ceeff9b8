/*
 * tcp.c - listening TCP sockets and accepting connections.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

int nw_tcp_listen(const char *host, const char *service, int backlog)
{
	return nwi_bind_service("nw_tcp_listen", host, service, SOCK_STREAM, backlog);
}

int nw_tcp_listen_opts(const char *host, const char *service, int backlog,
		       const struct nw_sock_opts *opts, size_t opts_size)
{
	const struct nwi_opts_ctx ctx = { "nw_tcp_listen_opts", host, service, NWI_TCP_LISTEN };
	struct nw_sock_opts o;

	if (nwi_opts_load(&ctx, opts, opts_size, &o) < 0)
		return -1;
	return nwi_bind_service_opts(&ctx, host, service, SOCK_STREAM, backlog, &o);
}

/*
 * Errors that belong to the connection being accepted, not to the listener:
 * the peer gave up while queued, or (as accept(2) advises for TCP/IP) the
 * network under it went away.  The listener is fine; wait for the next one.
 */
static bool peer_gone(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

int nwi_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peerlen,
	       int flags)
{
	socklen_t len = 0;
	int fd;

	do {
		/* The storage is always whole, so the caller need not preset peerlen. */
		len = sizeof(struct sockaddr_storage);
		fd = accept4(listen_fd, (struct sockaddr *)peer, peer ? &len : NULL,
			     SOCK_CLOEXEC | flags);
	} while (fd < 0 && peer_gone(errno));
	if (fd >= 0 && peerlen)
		*peerlen = peer ? len : 0;
	return fd;
}

int nw_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peerlen)
{
	int fd = nwi_accept(listen_fd, peer, peerlen, 0);

	if (fd < 0) {
		int err = errno;

		/* On a blocking listener EAGAIN means its receive timeout expired. */
		if (err == EAGAIN || err == EWOULDBLOCK) {
			int flags = fcntl(listen_fd, F_GETFL);

			if (flags >= 0 && !(flags & O_NONBLOCK))
				err = ETIMEDOUT;
		}
		return nwi_fail(err, "nw_accept(%d)", listen_fd);
	}
	return fd;
}
