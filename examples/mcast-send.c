/*
 * mcast-send - send a few datagrams to a multicast group.
 *
 * usage: mcast-send GROUP PORT [IFNAME [COUNT]]
 *
 * Sends COUNT (default 3) datagrams "hello N" to GROUP:PORT, 200 ms apart,
 * leaving by interface IFNAME (a name or an index; omitted or "-": the
 * routing table decides).  The hop limit is 1, so nothing goes past the
 * first link; loopback stays on, so members on this host hear it too.
 * Use a group of local scope: 239.255.0.0/16 or ff02::/16.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netwrap.h"

int main(int argc, char **argv)
{
	const char *ifname = argc > 3 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL;
	int count = argc > 4 ? atoi(argv[4]) : 3;
	struct sockaddr_storage group;
	socklen_t grouplen;
	char name[NW_ADDRSTRLEN];
	int fd;

	if (argc < 3 || argc > 5 || count < 1) {
		fprintf(stderr, "usage: %s GROUP PORT [IFNAME [COUNT]]\n", argv[0]);
		return 2;
	}
	if (nw_resolve(argv[1], argv[2], SOCK_DGRAM, &group, &grouplen) < 0 ||
	    (fd = nw_udp_socket(group.ss_family)) < 0) {
		fprintf(stderr, "mcast-send: %s\n", nw_errmsg());
		return 1;
	}
	if (nw_mcast_set_if(fd, ifname) < 0 || nw_mcast_set_ttl(fd, 1) < 0 ||
	    nw_mcast_set_loop(fd, 1) < 0)
		goto fail;
	nw_addr_str((struct sockaddr *)&group, grouplen, name, sizeof name);

	for (int i = 1; i <= count; i++) {
		char text[32];
		int len = snprintf(text, sizeof text, "hello %d", i);

		if (nw_sendto(fd, text, (size_t)len, (struct sockaddr *)&group, grouplen) < 0)
			goto fail;
		printf("sent \"%s\" to %s via %s\n", text, name, ifname ? ifname : "the routing table");
		fflush(stdout);
		if (i < count)
			usleep(200 * 1000);
	}
	close(fd);
	return 0;
fail:
	fprintf(stderr, "mcast-send: %s\n", nw_errmsg());
	close(fd);
	return 1;
}
