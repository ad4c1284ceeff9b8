/*
 * udp-echo-concurrent - a UDP echo server for many clients at once.
 *
 *   udp-echo-concurrent [-t THREADS] PORT [HOST]
 *
 * One socket serves every client: each datagram carries its sender's
 * address, so recvfrom/sendto need no connection per client.  THREADS
 * workers (default 4) share the socket; the kernel hands each datagram to
 * exactly one of them, whole.  The first line on standard output is
 * "listening on ADDR".  SIGINT or SIGTERM stops it and it exits 0.
 */
#include <netwrap.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The largest UDP payload. */
#define MAX_DATAGRAM 65535

struct shared {
	int sock;
	int stop_fd;		/* eventfd: readable once the server stops */
};

static void *worker(void *arg)
{
	const struct shared *sh = arg;
	unsigned char *buf = malloc(MAX_DATAGRAM);

	if (buf == NULL)
		return NULL;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sh->stop_fd, .events = POLLIN },
			{ .fd = sh->sock, .events = POLLIN },
		};
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof peer;
		ssize_t n;

		if (poll(p, 2, -1) < 0 || p[0].revents)
			break;
		/* Every worker wakes for a datagram; those that lose the race see EAGAIN. */
		n = recvfrom(sh->sock, buf, MAX_DATAGRAM, MSG_DONTWAIT,
			     (struct sockaddr *)&peer, &peerlen);
		if (n < 0)
			continue;	/* EAGAIN, or an ICMP error from an earlier reply */
		/* A reply that cannot go out (buffer full, peer gone) is lost, as UDP allows. */
		sendto(sh->sock, buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&peer, peerlen);
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct shared sh;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char addr[NW_ADDRSTRLEN];
	sigset_t stop_set;
	pthread_t *threads;
	long nthreads = 4;
	int opt, sig, started = 0;
	const uint64_t one = 1;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		char *end;

		if (opt != 't')
			goto usage;
		nthreads = strtol(optarg, &end, 10);
		if (*end || nthreads < 1 || nthreads > 1024)
			goto usage;
	}
	if (argc - optind < 1 || argc - optind > 2)
		goto usage;

	/* Block the stop signals in every thread; main takes them with sigwait. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

	sh.sock = nw_udp_bind(argc - optind == 2 ? argv[optind + 1] : NULL, argv[optind]);
	if (sh.sock < 0) {
		fprintf(stderr, "udp-echo-concurrent: %s\n", nw_errmsg());
		return 1;
	}
	sh.stop_fd = eventfd(0, EFD_CLOEXEC);
	threads = calloc((size_t)nthreads, sizeof *threads);
	if (sh.stop_fd < 0 || threads == NULL) {
		perror("udp-echo-concurrent");
		return 1;
	}
	for (; started < nthreads; started++) {
		if (pthread_create(&threads[started], NULL, worker, &sh) != 0) {
			fprintf(stderr, "udp-echo-concurrent: cannot start thread %d\n", started);
			break;
		}
	}

	getsockname(sh.sock, (struct sockaddr *)&ss, &sslen);
	printf("listening on %s\n", nw_addr_str((struct sockaddr *)&ss, sslen, addr, sizeof addr));
	fflush(stdout);

	if (started == nthreads)
		while (sigwait(&stop_set, &sig) != 0)
			;
	/* Never read, the eventfd stays readable and wakes every worker. */
	if (write(sh.stop_fd, &one, sizeof one) < 0)
		perror("udp-echo-concurrent: stop");
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	close(sh.stop_fd);
	close(sh.sock);
	return started == nthreads ? 0 : 1;
usage:
	fprintf(stderr, "usage: udp-echo-concurrent [-t THREADS] PORT [HOST]\n");
	return 2;
}
