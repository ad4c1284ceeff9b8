/*
 * udp-echo-client - send standard input one line a datagram, check each echo.
 *
 *   udp-echo-client HOST PORT
 *
 * Datagrams can be lost: each line is sent again when no echo comes within
 * a second, up to three tries; then the client gives up with a message.  A
 * late echo of the previous line (its retry crossed the reply) is ignored.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netwrap.h>

#define TRIES 3
#define REPLY_WAIT_MS 1000
/* The largest UDP payload over IPv4, plus one byte to notice longer lines. */
#define DATAGRAM_MAX 65507

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "udp-echo-client: %s: %s\n", what, why);
	return 1;
}

/* Echo standard input line by line through fd; the exit status. */
static int echo_lines(int fd, nw_reader *in, const char *host, const char *port)
{
	static char line[DATAGRAM_MAX + 2], prev[DATAGRAM_MAX + 2], echo[DATAGRAM_MAX + 1];
	ssize_t n, prevlen = -1;

	while ((n = nw_readline(in, line, sizeof line)) > 0) {
		int tries = 0;
		bool echoed = false;

		if (n > DATAGRAM_MAX)
			return fail("standard input", "line too long for one datagram");
		while (!echoed && tries < TRIES) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			tries++;
			/* ECONNREFUSED: an earlier datagram met a closed port; try again. */
			if (send(fd, line, (size_t)n, 0) < 0 && errno != ECONNREFUSED)
				return fail("send", strerror(errno));
			while (!echoed && poll(&p, 1, REPLY_WAIT_MS) > 0) {
				ssize_t m = recv(fd, echo, sizeof echo, MSG_DONTWAIT);

				if (m < 0) {
					if (errno == ECONNREFUSED || errno == EAGAIN || errno == EINTR)
						break;
					return fail("recv", strerror(errno));
				}
				if (m == n && memcmp(echo, line, (size_t)n) == 0)
					echoed = true;
				else if (!(m == prevlen && memcmp(echo, prev, (size_t)m) == 0))
					return fail("echo differs", "the server sent back other bytes than it got");
			}
		}
		if (!echoed) {
			fprintf(stderr, "udp-echo-client: no echo from %s port %s after %d tries\n",
				host, port, TRIES);
			return 1;
		}
		if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
			return fail("stdout", "write failed");
		memcpy(prev, line, (size_t)n);
		prevlen = n;
	}
	if (n < 0)
		return fail("standard input", nw_errmsg());
	return 0;
}

int main(int argc, char **argv)
{
	nw_reader *in;
	int fd, status;

	if (argc != 3) {
		fprintf(stderr, "usage: udp-echo-client HOST PORT\n");
		return 2;
	}
	fd = nw_udp_connect(argv[1], argv[2]);
	if (fd < 0)
		return fail("connect", nw_errmsg());
	in = nw_reader_new(STDIN_FILENO, 0);
	if (in == NULL) {
		close(fd);
		return fail("reader", nw_errmsg());
	}
	status = echo_lines(fd, in, argv[1], argv[2]);
	nw_reader_free(in);
	close(fd);
	return status;
}
