/*
 * tcp-echo-server - echo every byte back, one client after another.
 *
 *   tcp-echo-server PORT [HOST]
 *
 * PORT 0 picks a free port.  The first line on standard output is
 * "listening on ADDR".  SIGINT or SIGTERM stops the server (exit 0), also
 * while a client is connected.
 *
 * Signals are blocked except inside ppoll(), so a signal can never slip in
 * between checking the stop flag and going to sleep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netwrap.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Wait until fd is readable; 0 when it is, -1 when the server must stop. */
static int wait_readable(int fd, const sigset_t *unblocked)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!stop) {
		if (ppoll(&p, 1, NULL, unblocked) > 0)
			return 0;
		if (errno != EINTR) {
			perror("tcp-echo-server: ppoll");
			return -1;
		}
	}
	return -1;
}

/* Echo until the client leaves; the byte count. */
static long long serve(int fd, const sigset_t *unblocked)
{
	char buf[65536];
	long long total = 0;

	while (wait_readable(fd, unblocked) == 0) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "tcp-echo-server: read: %s\n", strerror(errno));
			break;
		}
		if (nw_writen(fd, buf, (size_t)n) < 0) {
			fprintf(stderr, "tcp-echo-server: %s\n", nw_errmsg());
			break;
		}
		total += n;
	}
	return total;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stops, unblocked;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[NW_ADDRSTRLEN];
	int lfd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: tcp-echo-server PORT [HOST]\n");
		return 2;
	}
	lfd = nw_tcp_listen(argc == 3 ? argv[2] : NULL, argv[1], 0);
	if (lfd < 0) {
		fprintf(stderr, "tcp-echo-server: %s\n", nw_errmsg());
		return 1;
	}
	/* Non-blocking, so a client that vanishes before accept cannot block us. */
	if (nw_set_nonblock(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len) < 0 ||
	    nw_addr_str((struct sockaddr *)&ss, len, addr, sizeof addr) == NULL) {
		fprintf(stderr, "tcp-echo-server: %s\n", nw_errmsg());
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

	while (wait_readable(lfd, &unblocked) == 0) {
		struct sockaddr_storage peer;
		socklen_t peerlen;
		int fd = nw_accept(lfd, &peer, &peerlen);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fprintf(stderr, "tcp-echo-server: %s\n", nw_errmsg());
				/* Out of descriptors: give a closing client time to free one. */
				if (errno == EMFILE || errno == ENFILE)
					usleep(100 * 1000);
			}
			continue;
		}
		if (nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr) == NULL)
			strcpy(addr, "?");
		printf("client %s connected\n", addr);
		fflush(stdout);
		long long bytes = serve(fd, &unblocked);

		printf("client %s done, %lld bytes echoed\n", addr, bytes);
		fflush(stdout);
		close(fd);
	}
	close(lfd);
	printf("stopped\n");
	return 0;
}
