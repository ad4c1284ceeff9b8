/*
 * idle.c - idle timeouts for the blocking server models: every wait of a
 * handler's reads and writes is bounded (the socket's own timeouts), and a
 * handler that keeps waiting anyway is cut off by the server when the
 * kernel says no data moved on its connection for longer than the limit.
 */
#include "internal.h"

#include <netinet/in.h>
#include <stddef.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/time.h>

int nwi_idle_arm(int fd, int idle_ms)
{
	struct timeval tv = { idle_ms / 1000, (idle_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return -1;
	return 0;
}

/*
 * Idle is the client's silence, not the server's: input waiting unread in
 * the receive queue means the handler has not come to it yet (a child still
 * starting, a busy worker), so such a connection is never cut, however long
 * ago that input arrived.
 */
bool nwi_idle_for(int fd, int ms)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	int unread = 0;

	if (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0)
		return false;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_last_ack_recv))
		return false;
	return ti.tcpi_last_data_recv >= (unsigned)ms && ti.tcpi_last_data_sent >= (unsigned)ms;
}
