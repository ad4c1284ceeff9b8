/*
 * udp-echo-server - send every datagram back to where it came from.
 *
 *   udp-echo-server PORT [HOST]
 *
 * PORT 0 picks a free port.  The first line on standard output is
 * "listening on ADDR".  A new client's address is logged when its first
 * datagram arrives.  SIGINT or SIGTERM stops the server (exit 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netwrap.h>

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
	struct sockaddr_storage ss, last = { 0 };
	socklen_t len = sizeof ss, lastlen = 0;
	char addr[NW_ADDRSTRLEN];
	char buf[65536];
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: udp-echo-server PORT [HOST]\n");
		return 2;
	}
	fd = nw_udp_bind(argc == 3 ? argv[2] : NULL, argv[1]);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    nw_addr_str((struct sockaddr *)&ss, len, addr, sizeof addr) == NULL) {
		fprintf(stderr, "udp-echo-server: %s\n", nw_errmsg());
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
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof peer;
		ssize_t n;

		if (ppoll(&p, 1, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			perror("udp-echo-server: ppoll");
			return 1;
		}
		/* MSG_TRUNC: the datagram's real length, to refuse what did not fit. */
		n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&peer, &peerlen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fprintf(stderr, "udp-echo-server: recvfrom: %s\n", strerror(errno));
			continue;
		}
		if ((size_t)n > sizeof buf) {
			fprintf(stderr, "udp-echo-server: dropped a %zd-byte datagram\n", n);
			continue;
		}
		if (peerlen != lastlen || memcmp(&peer, &last, peerlen) != 0) {
			if (nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr))
				printf("client %s\n", addr);
			fflush(stdout);
			last = peer;
			lastlen = peerlen;
		}
		if (sendto(fd, buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&peer, peerlen) < 0)
			fprintf(stderr, "udp-echo-server: sendto: %s\n", strerror(errno));
	}
	close(fd);
	printf("stopped\n");
	return 0;
}
