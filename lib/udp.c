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

int nw_udp_connect(const char *host, const char *service)
{
	struct nwi_addrlist list;
	int fd = -1, err = 0;

	if (nwi_resolve("nw_udp_connect", host, service, SOCK_DGRAM, 0, &list) < 0)
		return -1;
	/*
	 * A datagram connect sends nothing, so it cannot race like TCP: take
	 * the first address the kernel can route to.
	 */
	for (size_t i = 0; i < list.count && fd < 0; i++) {
		const struct nwi_addr *a = &list.addrs[i];

		fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = nwi_more_telling(err, errno);
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
			err = nwi_more_telling(err, errno);
			close(fd);
			fd = -1;
		}
	}
	nwi_addrlist_free(&list);
	if (fd < 0)
		return nwi_fail(err, "nw_udp_connect(%s, %s)", host, service);
	return fd;
}
