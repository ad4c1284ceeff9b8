/*
 * echo-load - many concurrent clients of an echo server, every byte checked.
 *
 *   echo-load [-c CONNS] [-n BYTES] [-p MAX_PIECE] [-s SEED] [-t SECONDS] HOST PORT
 *
 * Opens CONNS connections (default 100) before sending anything, so all of
 * them are connected at the same time.  Then each sends BYTES (default
 * 65536) of its own pseudo-random data in pieces of random size (1 to
 * MAX_PIECE, default 4096), reads the echo in pieces of random size, and
 * compares every byte.  One thread drives every connection with poll.
 * Exits 0 when every connection got all its bytes back intact within
 * SECONDS (default 60), 1 with a message naming the connection otherwise.
 */
#include <netwrap.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A reproducible byte stream: the sender and the checker each hold a copy. */
struct stream {
	uint64_t state;
	uint64_t word;
	int left;
};

struct client {
	int fd;
	size_t sent, received;
	struct stream tx, rx;
	uint64_t sizes;			/* draws the piece sizes */
	unsigned char *piece;		/* the piece being sent */
	size_t piece_len, piece_off;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void stream_fill(struct stream *st, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (st->left == 0) {
			st->word = splitmix64(&st->state);
			st->left = 8;
		}
		buf[i] = (unsigned char)st->word;
		st->word >>= 8;
		st->left--;
	}
}

static size_t random_size(uint64_t *sizes, size_t max, size_t remaining)
{
	size_t n = 1 + (size_t)(splitmix64(sizes) % max);

	return n < remaining ? n : remaining;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t parse_size(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > SIZE_MAX / 2) {
		fprintf(stderr, "echo-load: bad %s: %s\n", what, s);
		exit(2);
	}
	return (size_t)v;
}

/* Room for every connection, if the hard limit allows it. */
static void raise_fd_limit(size_t conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < conns + 16) {
		rl.rlim_cur = conns + 16 < rl.rlim_max ? conns + 16 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Send what the socket takes; a new piece of random size when one is done. */
static int client_send(struct client *c, size_t total, size_t max_piece, size_t index)
{
	while (c->sent < total) {
		if (c->piece_off == c->piece_len) {
			c->piece_len = random_size(&c->sizes, max_piece, total - c->sent);
			c->piece_off = 0;
			stream_fill(&c->tx, c->piece, c->piece_len);
		}
		ssize_t n = send(c->fd, c->piece + c->piece_off, c->piece_len - c->piece_off,
				 MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;	/* the socket is full: poll again */
		if (n < 0) {
			fprintf(stderr, "echo-load: connection %zu: send after %zu bytes: %s\n",
				index, c->sent, strerror(errno));
			return -1;
		}
		c->piece_off += (size_t)n;
		c->sent += (size_t)n;
	}
	return 0;
}

/* Read a piece of random size and compare it with what was sent. */
static int client_receive(struct client *c, size_t total, size_t max_piece, size_t index,
			  unsigned char *got, unsigned char *want)
{
	size_t len = random_size(&c->sizes, max_piece, total - c->received);
	ssize_t n = read(c->fd, got, len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		fprintf(stderr, "echo-load: connection %zu: %s after %zu of %zu bytes echoed\n",
			index, n == 0 ? "server closed" : strerror(errno), c->received, total);
		return -1;
	}
	stream_fill(&c->rx, want, (size_t)n);
	if (memcmp(got, want, (size_t)n) != 0) {
		size_t i = 0;

		while (got[i] == want[i])
			i++;
		fprintf(stderr, "echo-load: connection %zu: byte %zu differs: sent 0x%02x, got 0x%02x\n",
			index, c->received + i, want[i], got[i]);
		return -1;
	}
	c->received += (size_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	size_t conns = 100, total = 65536, max_piece = 4096, open_count = 0;
	uint64_t seed = 1;
	double timeout_s = 60, start;
	struct client *clients;
	struct pollfd *pfds;
	unsigned char *got, *want;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "c:n:p:s:t:")) != -1) {
		switch (opt) {
		case 'c':
			conns = parse_size(optarg, "connection count");
			break;
		case 'n':
			total = parse_size(optarg, "byte count");
			break;
		case 'p':
			max_piece = parse_size(optarg, "piece size");
			break;
		case 's':
			seed = parse_size(optarg, "seed");
			break;
		case 't':
			timeout_s = (double)parse_size(optarg, "timeout");
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;

	raise_fd_limit(conns);
	clients = calloc(conns, sizeof *clients);
	pfds = calloc(conns, sizeof *pfds);
	got = malloc(max_piece);
	want = malloc(max_piece);
	if (!clients || !pfds || !got || !want) {
		fprintf(stderr, "echo-load: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < conns; i++)
		clients[i].fd = -1;
	start = now_s();
	for (size_t i = 0; i < conns; i++) {
		struct client *c = &clients[i];
		uint64_t mix = seed * 1000003 + i;

		c->fd = nw_tcp_connect(argv[optind], argv[optind + 1], 10000);
		if (c->fd < 0 || nw_set_nonblock(c->fd, 1) < 0) {
			fprintf(stderr, "echo-load: connection %zu of %zu: %s\n", i, conns, nw_errmsg());
			goto done;
		}
		open_count++;
		c->piece = malloc(max_piece);
		if (c->piece == NULL) {
			fprintf(stderr, "echo-load: out of memory\n");
			goto done;
		}
		/* Distinct data for each connection, the same on every run with one seed. */
		c->tx.state = c->rx.state = splitmix64(&mix);
		c->sizes = splitmix64(&mix);
	}

	while (open_count > 0) {
		int left_ms = (int)((start + timeout_s - now_s()) * 1000);

		if (left_ms <= 0) {
			fprintf(stderr, "echo-load: timed out after %.0f s with %zu of %zu connections"
				" unfinished\n", timeout_s, open_count, conns);
			goto done;
		}
		for (size_t i = 0; i < conns; i++) {
			struct client *c = &clients[i];

			pfds[i].fd = c->fd;
			pfds[i].events = (short)(POLLIN | (c->sent < total ? POLLOUT : 0));
		}
		if (poll(pfds, conns, left_ms) < 0 && errno != EINTR) {
			perror("echo-load: poll");
			goto done;
		}
		for (size_t i = 0; i < conns; i++) {
			struct client *c = &clients[i];

			if (c->fd < 0 || pfds[i].revents == 0)
				continue;
			if ((pfds[i].revents & POLLOUT) && client_send(c, total, max_piece, i) < 0)
				goto done;
			if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    client_receive(c, total, max_piece, i, got, want) < 0)
				goto done;
			if (c->received == total) {
				close(c->fd);
				c->fd = -1;	/* poll skips negative descriptors */
				free(c->piece);
				c->piece = NULL;
				open_count--;
			}
		}
	}
	printf("echo-load: %zu connections, %zu bytes each, every byte echoed and verified"
	       " in %.2f s\n", conns, total, now_s() - start);
	rc = 0;
done:
	for (size_t i = 0; clients && i < conns; i++) {
		if (clients[i].fd >= 0)
			close(clients[i].fd);
		free(clients[i].piece);
	}
	free(clients);
	free(pfds);
	free(got);
	free(want);
	return rc;
usage:
	fprintf(stderr, "usage: echo-load [-c CONNS] [-n BYTES] [-p MAX_PIECE] [-s SEED]"
			" [-t SECONDS] HOST PORT\n");
	return 2;
}
