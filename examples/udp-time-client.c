/*
 * udp-time-client - ask a udp-time-server for the time.
 *
 * usage: udp-time-client HOST PORT [COUNT]
 *
 * Sends COUNT (default 1) requests from one unconnected socket and prints
 * each answer.  UDP may lose a request or its answer, so each try waits one
 * second and the client tries three times before giving up (exit 1).  An
 * unconnected socket accepts datagrams from anyone: a reply that does not
 * come from the server's address is reported and ignored.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netwrap.h"

#define TRIES 3
#define WAIT_MS 1000

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* Wait for the server's answer; 1 got it, 0 timed out, -1 failed. */
static int await_reply(int fd, const struct sockaddr_storage *server, char *text, size_t size)
{
	char who[NW_ADDRSTRLEN];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen;
		ssize_t n = nw_recvfrom(fd, text, size - 1, &from, &fromlen);

		if (n < 0 && errno == ETIMEDOUT)
			return 0;
		if (n < 0) {
			fprintf(stderr, "udp-time-client: %s\n", nw_errmsg());
			return -1;
		}
		if (same_address(&from, server)) {
			text[n] = '\0';
			return 1;
		}
		fprintf(stderr, "udp-time-client: ignored a datagram from %s\n",
			nw_addr_str((struct sockaddr *)&from, fromlen, who, sizeof who));
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_storage server;
	socklen_t serverlen;
	char name[NW_ADDRSTRLEN], answer[128];
	int count = argc > 3 ? atoi(argv[3]) : 1;
	int fd;

	if (argc < 3 || argc > 4 || count < 1) {
		fprintf(stderr, "usage: %s HOST PORT [COUNT]\n", argv[0]);
		return 2;
	}
	if (nw_resolve(argv[1], argv[2], SOCK_DGRAM, &server, &serverlen) < 0 ||
	    (fd = nw_udp_socket(server.ss_family)) < 0 ||
	    nw_set_timeout(fd, WAIT_MS) < 0) {
		fprintf(stderr, "udp-time-client: %s\n", nw_errmsg());
		return 1;
	}
	nw_addr_str((struct sockaddr *)&server, serverlen, name, sizeof name);

	for (int i = 0; i < count; i++) {
		int got = 0;

		for (int try = 1; try <= TRIES && got == 0; try++) {
			if (nw_sendto(fd, "time?", 5, (struct sockaddr *)&server, serverlen) < 0) {
				fprintf(stderr, "udp-time-client: %s\n", nw_errmsg());
				got = -1;
				break;
			}
			got = await_reply(fd, &server, answer, sizeof answer);
			if (got == 0)
				fprintf(stderr, "udp-time-client: no answer from %s within %d ms"
					" (try %d of %d)\n", name, WAIT_MS, try, TRIES);
		}
		if (got <= 0) {
			fprintf(stderr, "udp-time-client: %s does not answer, giving up\n", name);
			close(fd);
			return 1;
		}
		printf("%s says %s\n", name, answer);
	}
	close(fd);
	return 0;
}
