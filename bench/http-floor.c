/*
 * http-floor - the floor for `make bench-http`: the least an HTTP responder
 * on epoll can do.  Not a server anyone should run: it answers each blank
 * line ("\r\n\r\n") with the same 200 response and never parses anything,
 * so a real server's cost is measured against the kernel's and wrk's.
 *
 *   http-floor [THREADS]
 *
 * Listens on 127.0.0.1, an ephemeral port; the first line on standard
 * output is "listening on ADDR".  THREADS loops (default 2), each with its
 * own listener on the same port (SO_REUSEPORT), so the kernel spreads the
 * connections evenly.  Runs until killed.
 */
#define _GNU_SOURCE	/* accept4 */
#include <netwrap.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536

static const char response[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

static struct sockaddr_in where = { .sin_family = AF_INET };
/* Per descriptor: how much of "\r\n\r\n" the last read ended with. */
static unsigned char matched[MAX_FDS];

static void serve(int fd)
{
	static const char end[] = "\r\n\r\n";
	char in[16384], out[16384];
	size_t out_len = 0;
	ssize_t n = read(fd, in, sizeof in);
	unsigned m = matched[fd];

	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		matched[fd] = 0;
		close(fd);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		m = in[i] == end[m] ? m + 1 : in[i] == '\r' ? 1 : 0;
		if (m == 4) {
			m = 0;
			if (out_len + sizeof response - 1 > sizeof out) {
				if (send(fd, out, out_len, MSG_NOSIGNAL) < 0)
					break;
				out_len = 0;
			}
			memcpy(out + out_len, response, sizeof response - 1);
			out_len += sizeof response - 1;
		}
	}
	matched[fd] = (unsigned char)m;
	/* Small responses into an idle socket: the kernel takes them whole. */
	if (out_len && send(fd, out, out_len, MSG_NOSIGNAL) < 0) {
		matched[fd] = 0;
		close(fd);
	}
}

/* A listener of this loop's own on the shared port. */
static int listen_here(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof where;

	where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &(int){ 1 }, sizeof(int)) < 0 ||
	    bind(fd, (struct sockaddr *)&where, sizeof where) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&where, &len) < 0) {
		perror("http-floor: listen");
		exit(1);
	}
	return fd;
}

static void *loop(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("http-floor: epoll");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd != lfd) {
				serve(evs[i].data.fd);
				continue;
			}
			for (;;) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct epoll_event c = { .events = EPOLLIN, .data.fd = fd };

				if (fd < 0)
					break;
				if (fd >= MAX_FDS || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &c) < 0)
					close(fd);
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	char addr[NW_ADDRSTRLEN];
	pthread_t tid;

	if (threads < 1 || threads > 64) {
		fprintf(stderr, "usage: http-floor [THREADS]\n");
		return 2;
	}
	int first = listen_here();

	printf("listening on %s\n", nw_addr_str((struct sockaddr *)&where, sizeof where,
						  addr, sizeof addr));
	fflush(stdout);
	for (int i = 1; i < threads; i++)
		pthread_create(&tid, NULL, loop, (void *)(intptr_t)listen_here());
	loop((void *)(intptr_t)first);
	return 0;
}
