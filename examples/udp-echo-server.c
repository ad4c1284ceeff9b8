/*
 * udp-echo-server - send every datagram back to where it came from.
 *
 *   udp-echo-server PORT [HOST]
 *
 * PORT 0 picks a free port.  The first line on standard output is
 * "listening on ADDR".  Each echo leaves from the address its datagram was
 * sent to (nw_recvfrom_to, nw_sendto_from), so a server bound to every
 * address of a multi-homed host answers clients with connected sockets.  A new client's address is logged when its first
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
	/*
	 * A timeout bounds the rare read that finds nothing after poll said
	 * ready (a datagram dropped for a bad checksum), so stops are seen.
	 */
	if (fd < 0 || nw_set_pktinfo(fd, 1) < 0 || nw_set_timeout(fd, 1000) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
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
		struct sockaddr_storage peer, local;
		socklen_t peerlen, locallen;
		int ifindex;
		ssize_t n;

		if (ppoll(&p, 1, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			perror("udp-echo-server: ppoll");
			return 1;
		}
		n = nw_recvfrom_to(fd, buf, sizeof buf, &peer, &peerlen, &local, &locallen,
				   &ifindex);
		if (n < 0) {
			if (errno != ETIMEDOUT)
				fprintf(stderr, "udp-echo-server: %s\n", nw_errmsg());
			continue;
		}
		if (peerlen != lastlen || memcmp(&peer, &last, peerlen) != 0) {
			if (nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr))
				printf("client %s\n", addr);
			fflush(stdout);
			last = peer;
			lastlen = peerlen;
		}
		/*
		 * From the address asked; routing still picks the interface.  A
		 * datagram sent to a broadcast address cannot be answered from
		 * it (the kernel says ENETUNREACH): that one, or any other reply
		 * refused its source, goes from any address instead.
		 */
		if (nw_sendto_from(fd, buf, (size_t)n, (struct sockaddr *)&peer, peerlen,
				   locallen ? (struct sockaddr *)&local : NULL, locallen, 0) < 0 &&
		    (locallen == 0 ||
		     nw_sendto(fd, buf, (size_t)n, (struct sockaddr *)&peer, peerlen) < 0))
			fprintf(stderr, "udp-echo-server: %s\n", nw_errmsg());
	}
	close(fd);
	printf("stopped\n");
	return 0;
}
