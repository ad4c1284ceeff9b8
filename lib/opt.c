/*
 * opt.c - the socket options most programs set.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

int nw_set_nonblock(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return nwi_fail(errno, "nw_set_nonblock(%d, %d)", fd, on);
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, flags) < 0)
		return nwi_fail(errno, "nw_set_nonblock(%d, %d)", fd, on);
	return 0;
}

int nw_set_nodelay(int fd, int on)
{
	int v = on != 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
		return nwi_fail(errno, "nw_set_nodelay(%d, %d)", fd, on);
	return 0;
}

int nw_set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { 0, 0 };

	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return nwi_fail(errno, "nw_set_timeout(%d, %d)", fd, timeout_ms);
	return 0;
}

int nw_set_keepalive(int fd, int idle_s, int interval_s, int count)
{
	int on = idle_s >= 0;

	if (on && (interval_s < 0 || count < 0))
		return nwi_fail(EINVAL, "nw_set_keepalive(%d, %d, %d, %d)",
				fd, idle_s, interval_s, count);
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0)
		goto fail;
	if (!on)
		return 0;
	/* 0 leaves the system's default (net.ipv4.tcp_keepalive_*) in force. */
	if (idle_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) < 0)
		goto fail;
	if (interval_s > 0 &&
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) < 0)
		goto fail;
	if (count > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) < 0)
		goto fail;
	return 0;
fail:
	return nwi_fail(errno, "nw_set_keepalive(%d, %d, %d, %d)", fd, idle_s, interval_s, count);
}
