/*
 * udp-echo-batch - a UDP echo server that moves datagrams in batches.
 *
 *   udp-echo-batch PORT [HOST]
 *
 * Each turn takes every datagram already queued (up to 64) with one
 * nw_recv_batch and sends them all back with one nw_send_batch: under load
 * that is two system calls for 64 echoes instead of 128.  A datagram longer
 * than the buffer comes back flagged NW_DGRAM_TRUNC and is dropped, not
 * echoed cut short.  The first line on standard output is "listening on
 * ADDR"; SIGINT or SIGTERM stops it (exit 0), and it then prints how many
 * datagrams it echoed in how many batches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netwrap.h>

#define BATCH 64
#define ROOM 65536		/* more than any UDP payload */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stops, unblocked;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[NW_ADDRSTRLEN];
	struct nw_dgram d[BATCH];
	char *bufs;
	unsigned long echoed = 0, batches = 0;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: udp-echo-batch PORT [HOST]\n");
		return 2;
	}
	bufs = malloc((size_t)BATCH * ROOM);
	if (bufs == NULL) {
		perror("udp-echo-batch");
		return 1;
	}
	fd = nw_udp_bind(argc == 3 ? argv[2] : NULL, argv[1]);
	/* The timeout bounds a read that finds nothing after poll said ready. */
	if (fd < 0 || nw_set_timeout(fd, 1000) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    nw_addr_str((struct sockaddr *)&ss, len, addr, sizeof addr) == NULL) {
		fprintf(stderr, "udp-echo-batch: %s\n", nw_errmsg());
		free(bufs);
		return 1;
	}
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	printf("listening on %s\n", addr);
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		size_t keep = 0;

		if (ppoll(&p, 1, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			perror("udp-echo-batch: ppoll");
			break;
		}
		for (int i = 0; i < BATCH; i++) {
			d[i].buf = bufs + (size_t)i * ROOM;
			d[i].size = ROOM;
		}
		n = nw_recv_batch(fd, d, BATCH, sizeof d[0]);
		if (n < 0) {
			if (errno != ETIMEDOUT)
				fprintf(stderr, "udp-echo-batch: %s\n", nw_errmsg());
			continue;
		}
		/* Each datagram goes back to its sender: peer and len are already set. */
		for (ssize_t i = 0; i < n; i++) {
			if (d[i].flags & NW_DGRAM_TRUNC)
				fprintf(stderr, "udp-echo-batch: dropped a datagram longer than %d bytes\n",
					ROOM);
			else
				d[keep++] = d[i];
		}
		if (nw_send_batch(fd, d, keep, sizeof d[0]) < 0)
			fprintf(stderr, "udp-echo-batch: %s\n", nw_errmsg());
		echoed += keep;
		batches++;
	}
	close(fd);
	free(bufs);
	printf("stopped: %lu datagrams echoed in %lu batches\n", echoed, batches);
	return 0;
}
