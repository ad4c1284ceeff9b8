/*
 * socket.c - binding and listening, shared by the TCP and UDP calls.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Open, set up and bind one socket.  -1 with errno on failure; -2 when an
 * option failed, with the message recorded (no other address can help).
 */
static int bind_one(const struct nwi_addr *a, int socktype, int backlog, bool wildcard,
		    const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o)
{
	int one = 1, zero = 0;
	int fd = o ? nwi_opts_socket(o, a->family, socktype)
		   : socket(a->family, socktype | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (socktype == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		goto fail;
	/* The wildcard is one socket for both families, whatever bindv6only says. */
	if (wildcard && a->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
		goto fail;
	/* After our defaults, so that an explicit v6only wins. */
	if (o && nwi_opts_apply(ctx, o, fd, a->family) < 0) {
		nwi_close_keep_errno(fd);
		return -2;
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		goto fail;
	if (backlog != NWI_NO_LISTEN && listen(fd, nwi_backlog(backlog)) < 0)
		goto fail;
	return fd;
fail:
	nwi_close_keep_errno(fd);
	return -1;
}

static bool family_missing(int err)
{
	return err == EAFNOSUPPORT || err == EPROTONOSUPPORT || err == EADDRNOTAVAIL;
}

int nwi_bind_service_opts(const struct nwi_opts_ctx *ctx, const char *host,
			  const char *service, int socktype, int backlog,
			  const struct nw_sock_opts *o)
{
	struct nwi_addrlist list;
	bool wildcard = nwi_host_is_wildcard(host);
	int err = 0;
	int fd = -1;

	if (nwi_resolve(ctx->call, host, service, socktype, NWI_PASSIVE, &list) < 0)
		return -1;
	for (size_t i = 0; i < list.count; i++) {
		fd = bind_one(&list.addrs[i], socktype, backlog, wildcard, ctx, o);
		if (fd >= 0)
			break;
		if (fd == -2) {
			nwi_addrlist_free(&list);
			return -1;
		}
		err = errno;
		/*
		 * The wildcard falls back to IPv4 only when IPv6 is missing; any
		 * other failure (EADDRINUSE above all) must not be papered over by
		 * a socket that serves half the clients.
		 */
		if (wildcard && !(list.addrs[i].family == AF_INET6 && family_missing(err)))
			break;
	}
	nwi_addrlist_free(&list);
	if (fd < 0)
		return nwi_fail(err, "%s(%s, %s)", ctx->call, host ? host : "*", service);
	return fd;
}

int nwi_bind_service(const char *call, const char *host, const char *service,
		     int socktype, int backlog)
{
	const struct nwi_opts_ctx ctx = { .call = call, .arg1 = host, .arg2 = service };

	return nwi_bind_service_opts(&ctx, host, service, socktype, backlog, NULL);
}

static int error_rank(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return 5;	/* a host answered: the most precise diagnosis */
	case ETIMEDOUT:
	case ECONNRESET:
		return 4;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return 3;
	case ENETUNREACH:
	case ENETDOWN:
	case EADDRNOTAVAIL:
		return 2;
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return 0;
	default:
		return 1;
	}
}

int nwi_more_telling(int current, int candidate)
{
	if (current == 0)
		return candidate;
	return error_rank(candidate) > error_rank(current) ? candidate : current;
}
