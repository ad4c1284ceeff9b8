/*
 * udp-echo-client - send standard input one line a datagram, check each echo.
 *
 *   udp-echo-client HOST PORT
 *
 * Datagrams can be lost: each line is sent again when no echo comes within
 * a second, up to three tries; then the client gives up with a message that
 * says why, when it knows ("Connection refused": nothing listens on the
 * port).  Every try waits its whole second, whatever went wrong, so a
 * server that is just starting gets its chance.  A late echo of the
 * previous line (its retry crossed the reply) is ignored.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

/* The same message, for a helper whose -1 means "give up". */
static int fail_try(const char *what, const char *why)
{
	fail(what, why);
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to REPLY_WAIT_MS for the echo of line[0..n), whatever arrives
 * meanwhile.  A refusal (an ICMP port unreachable for an earlier datagram,
 * reported by recv or send) is remembered in *refused, not acted on: the
 * rest of the second is still waited, so retries are spaced out.
 * 1 when echoed, 0 when not, -1 after a message on a real failure.
 */
static int await_echo(int fd, const char *line, ssize_t n, const char *prev, ssize_t prevlen,
		      char *echo, size_t echo_size, bool *refused)
{
	int64_t deadline = now_ms() + REPLY_WAIT_MS;
	int64_t left;

	while ((left = deadline - now_ms()) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, (int)left);

		if (rc < 0 && errno != EINTR)
			return fail_try("poll", strerror(errno));
		if (rc <= 0)
			continue;
		ssize_t m = recv(fd, echo, echo_size, MSG_DONTWAIT);

		if (m < 0) {
			if (errno == ECONNREFUSED)
				*refused = true;
			else if (errno != EAGAIN && errno != EINTR)
				return fail_try("recv", strerror(errno));
			continue;
		}
		if (m == n && memcmp(echo, line, (size_t)n) == 0)
			return 1;
		if (!(m == prevlen && memcmp(echo, prev, (size_t)m) == 0))
			return fail_try("echo differs", "the server sent back other bytes than it got");
	}
	return 0;
}

/* Echo standard input line by line through fd; the exit status. */
static int echo_lines(int fd, nw_reader *in, const char *host, const char *port)
{
	static char line[DATAGRAM_MAX + 2], prev[DATAGRAM_MAX + 2], echo[DATAGRAM_MAX + 1];
	ssize_t n, prevlen = -1;

	while ((n = nw_readline(in, line, sizeof line)) > 0) {
		bool refused = false;
		int echoed = 0;

		if (n > DATAGRAM_MAX)
			return fail("standard input", "line too long for one datagram");
		for (int tries = 0; echoed == 0 && tries < TRIES; tries++) {
			/* ECONNREFUSED: an earlier datagram met a closed port. */
			if (send(fd, line, (size_t)n, 0) < 0) {
				if (errno != ECONNREFUSED)
					return fail("send", strerror(errno));
				refused = true;
			}
			echoed = await_echo(fd, line, n, prev, prevlen, echo, sizeof echo, &refused);
			if (echoed < 0)
				return 1;
		}
		if (echoed == 0) {
			fprintf(stderr, "udp-echo-client: no echo from %s port %s after %d tries%s%s\n",
				host, port, TRIES, refused ? ": " : "",
				refused ? strerror(ECONNREFUSED) : "");
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
