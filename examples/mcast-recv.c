/*
 * mcast-recv - join a multicast group and print what arrives.
 *
 * usage: mcast-recv GROUP PORT [IFNAME [COUNT]]
 *
 * Joins GROUP on interface IFNAME (a name or an index; omitted or "-": the
 * kernel picks by route), prints "joined ..." once it listens, then prints
 * COUNT (default 3) datagrams with their senders, leaves the group and
 * exits 0.  Waits at most 5 seconds for each datagram (then exit 1).
 *
 * The socket is bound to the wildcard address on PORT, so it would also
 * take unicast datagrams sent to that port; a receiver that must see only
 * the group's traffic checks the destination (IP_PKTINFO) or binds to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netwrap.h"

#define WAIT_MS 5000

int main(int argc, char **argv)
{
	const char *ifname = argc > 3 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL;
	int count = argc > 4 ? atoi(argv[4]) : 3;
	struct sockaddr_storage group;
	socklen_t grouplen;
	int fd;

	if (argc < 3 || argc > 5 || count < 1) {
		fprintf(stderr, "usage: %s GROUP PORT [IFNAME [COUNT]]\n", argv[0]);
		return 2;
	}
	if (nw_resolve(argv[1], argv[2], SOCK_DGRAM, &group, &grouplen) < 0 ||
	    (fd = nw_udp_bind(group.ss_family == AF_INET ? "0.0.0.0" : "::", argv[2])) < 0) {
		fprintf(stderr, "mcast-recv: %s\n", nw_errmsg());
		return 1;
	}
	if (nw_mcast_join(fd, argv[1], ifname) < 0 || nw_set_timeout(fd, WAIT_MS) < 0)
		goto fail;
	printf("joined %s on %s, waiting on port %d\n", argv[1],
	       ifname ? ifname : "the kernel's choice", nw_local_port(fd));
	fflush(stdout);

	for (int i = 0; i < count; i++) {
		char text[1024], who[NW_ADDRSTRLEN];
		struct sockaddr_storage from;
		socklen_t fromlen;
		ssize_t n = nw_recvfrom(fd, text, sizeof text - 1, &from, &fromlen);

		if (n < 0 && errno == ETIMEDOUT) {
			fprintf(stderr, "mcast-recv: nothing arrived within %d ms\n", WAIT_MS);
			close(fd);
			return 1;
		}
		if (n < 0)
			goto fail;
		text[n] = '\0';
		printf("from %s: %s\n", nw_addr_str((struct sockaddr *)&from, fromlen,
						    who, sizeof who), text);
		fflush(stdout);
	}
	if (nw_mcast_leave(fd, argv[1], ifname) < 0)
		goto fail;
	printf("left %s\n", argv[1]);
	close(fd);
	return 0;
fail:
	fprintf(stderr, "mcast-recv: %s\n", nw_errmsg());
	close(fd);
	return 1;
}
