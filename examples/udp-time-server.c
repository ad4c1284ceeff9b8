/*
 * udp-time-server - answer each datagram with the current time (UTC).
 *
 * usage: udp-time-server PORT [HOST]
 *
 * One unbound-peer socket serves every client: nw_recvfrom says who asked,
 * nw_sendto answers that address.  PORT 0 picks an ephemeral port; the
 * first line on standard output is "listening on ADDR" with the real port.
 * A request longer than the buffer is reported, not taken for a short one.
 * SIGINT or SIGTERM stops the server (exit 0).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netwrap.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Wait until fd has a datagram, or a stop signal came.  nw_recvfrom retries
 * EINTR by design, so the server waits in its own poll, which does not.
 */
static int wait_request(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!stop) {
		if (poll(&p, 1, -1) > 0)
			return 0;
		if (errno != EINTR) {
			perror("udp-time-server: poll");
			return -1;
		}
	}
	return -1;
}

/* "2026-11-25T09:28:00.123Z" */
static size_t format_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return n;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char addr[NW_ADDRSTRLEN];
	struct sockaddr_storage self;
	socklen_t selflen = sizeof self;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = nw_udp_bind(argc > 2 ? argv[2] : NULL, argv[1]);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&self, &selflen) < 0) {
		fprintf(stderr, "udp-time-server: %s\n", nw_errmsg());
		return 1;
	}
	printf("listening on %s\n",
	       nw_addr_str((struct sockaddr *)&self, selflen, addr, sizeof addr));
	fflush(stdout);

	while (wait_request(fd) == 0) {
		char request[512], reply[64];
		struct sockaddr_storage from;
		socklen_t fromlen;
		ssize_t n = nw_recvfrom(fd, request, sizeof request, &from, &fromlen);
		size_t len;

		if (n < 0 && errno != EMSGSIZE) {
			fprintf(stderr, "udp-time-server: %s\n", nw_errmsg());
			break;
		}
		nw_addr_str((struct sockaddr *)&from, fromlen, addr, sizeof addr);
		if (n < 0) {
			/* Answer anyway: the client learns its request was cut. */
			printf("request from %s: too long (over %zu bytes)\n", addr, sizeof request);
			len = (size_t)snprintf(reply, sizeof reply, "error: request too long");
		} else {
			printf("request from %s (%zd bytes)\n", addr, n);
			len = format_now(reply, sizeof reply);
		}
		fflush(stdout);
		/* A client that went away is its own problem, not the server's. */
		if (nw_sendto(fd, reply, len, (struct sockaddr *)&from, fromlen) < 0)
			fprintf(stderr, "udp-time-server: %s\n", nw_errmsg());
	}
	close(fd);
	return stop ? 0 : 1;
}
