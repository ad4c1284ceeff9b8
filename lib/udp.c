/*
 * udp.c - bound and connected datagram sockets.
 */
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int nw_udp_bind(const char *host, const char *service)
{
	return nwi_bind_service("nw_udp_bind", host, service, SOCK_DGRAM, NWI_NO_LISTEN);
}

int nw_udp_bind_opts(const char *host, const char *service,
		     const struct nw_sock_opts *opts, size_t opts_size)
{
	const struct nwi_opts_ctx ctx = { "nw_udp_bind_opts", host, service, NWI_UDP_BIND };
	struct nw_sock_opts o;

	if (nwi_opts_load(&ctx, opts, opts_size, &o) < 0)
		return -1;
	return nwi_bind_service_opts(&ctx, host, service, SOCK_DGRAM, NWI_NO_LISTEN, &o);
}

static int udp_connect(const struct nwi_opts_ctx *ctx, const char *host, const char *service,
		       const struct nw_sock_opts *o)
{
	struct nwi_addrlist list;
	struct nwi_source src;
	int fd = -1, err = 0;

	if (nwi_source_resolve(ctx, o, SOCK_DGRAM, -1, &src) < 0)
		return -1;
	if (nwi_resolve(ctx->call, host, service, SOCK_DGRAM, 0, &list) < 0) {
		nwi_source_free(&src);
		return -1;
	}
	/*
	 * A datagram connect sends nothing, so it cannot race like TCP: take
	 * the first address the kernel can route to.
	 */
	for (size_t i = 0; i < list.count && fd < 0; i++) {
		const struct nwi_addr *a = &list.addrs[i];

		if (!nwi_source_has(&src, a->family)) {
			err = nwi_more_telling(err, EAFNOSUPPORT);
			continue;
		}
		fd = o ? nwi_opts_socket(o, a->family, SOCK_DGRAM)
		       : socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = nwi_more_telling(err, errno);
			continue;
		}
		/* An option that fails fails the call: its message is recorded. */
		if (o && (nwi_opts_apply(ctx, o, fd, a->family) < 0 ||
			  nwi_source_bind(ctx, o, &src, fd, a->family) < 0)) {
			nwi_close_keep_errno(fd);
			nwi_addrlist_free(&list);
			nwi_source_free(&src);
			return -1;
		}
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
			err = nwi_more_telling(err, errno);
			close(fd);
			fd = -1;
		}
	}
	nwi_addrlist_free(&list);
	nwi_source_free(&src);
	if (fd < 0)
		return nwi_fail(err, "%s(%s, %s)", ctx->call, host, service);
	return fd;
}

int nw_udp_connect(const char *host, const char *service)
{
	const struct nwi_opts_ctx ctx = { "nw_udp_connect", host, service, NWI_UDP_CONNECT };

	return udp_connect(&ctx, host, service, NULL);
}

int nw_udp_connect_opts(const char *host, const char *service,
			const struct nw_sock_opts *opts, size_t opts_size)
{
	const struct nwi_opts_ctx ctx = { "nw_udp_connect_opts", host, service, NWI_UDP_CONNECT };
	struct nw_sock_opts o;

	if (nwi_opts_load(&ctx, opts, opts_size, &o) < 0)
		return -1;
	return udp_connect(&ctx, host, service, &o);
}
