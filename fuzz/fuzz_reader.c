/*
 * fuzz_reader.c - libFuzzer target: nw_readline, nw_reader_read and the
 * line view nw_reader_line mixed on an arbitrary stream, delivered in
 * arbitrary chunks, compared call by call with a reference reader that
 * sees the whole stream at once.
 *
 * The stream goes through a real socketpair, but reader.c is compiled into
 * this file with read() renamed, so the input decides how many bytes each
 * read(2) returns, where it is interrupted (EINTR) and where one read
 * times out (EAGAIN on a blocking socket: nw_reader reports ETIMEDOUT and
 * must lose nothing when called again).
 *
 * Input: buffer size (0: the default), index of the read that times out
 * (0: none), two bytes of stream length, the stream, then a script: its
 * first half picks the calls, its second half the size of each read.
 * A call's byte: odd, nw_readline into op >> 1 bytes; a multiple of 4,
 * nw_reader_read of op >> 2 bytes; else nw_reader_line, after setting the
 * longest line to m = op >> 2 (1..62), to the default (63), or as it is (0).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

struct script {
	const uint8_t *p;
	size_t n;
};

static struct script chunks;	/* steers scripted_read */
static unsigned reads, timeout_at;
static bool timed_out;		/* the timeout was injected */

static unsigned next(struct script *s, unsigned fallback)
{
	if (s->n == 0)
		return fallback;
	s->n--;
	return *s->p++;
}

static ssize_t scripted_read(int fd, void *buf, size_t n)
{
	unsigned c = next(&chunks, 255);

	if (++reads == timeout_at) {
		timed_out = true;
		errno = EAGAIN;
		return -1;
	}
	if (c == 0) {
		errno = EINTR;
		return -1;
	}
	return read(fd, buf, c == 255 || c > n ? n : c);
}

#define read scripted_read
#include "reader.c"
#undef read

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: what fgets, or an exact read, would return at pos. */
static size_t expected(const uint8_t *s, size_t len, size_t pos, bool line, size_t n)
{
	size_t room = len - pos < n ? len - pos : n;

	if (line) {
		const uint8_t *nl = memchr(s + pos, '\n', room);

		if (nl)
			return (size_t)(nl - (s + pos)) + 1;
	}
	return room;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script ops;
	const uint8_t *stream;
	size_t len, pos = 0, bufsize;
	bool surfaced = false, must_fail = false;
	nw_reader *r;
	char out[300];
	int sv[2];

	if (size < 4)
		return 0;
	bufsize = data[0];
	timeout_at = data[1];
	len = (size_t)data[2] | (size_t)data[3] << 8;
	data += 4;
	size -= 4;
	if (len > size)
		len = size;
	if (len > 8192)
		len = 8192;
	stream = data;
	ops.p = data + len;
	ops.n = (size - len) / 2;
	chunks.p = ops.p + ops.n;
	chunks.n = size - len - ops.n;
	reads = 0;
	timed_out = false;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (len > 0 && send(sv[1], stream, len, MSG_DONTWAIT) != (ssize_t)len)
		abort();
	shutdown(sv[1], SHUT_WR);
	r = nw_reader_new(sv[0], bufsize);
	if (r == NULL)
		abort();

	/* The script's calls, then lines until the end of the stream. */
	for (unsigned step = 0; step < 3 * size + 16; step++) {
		unsigned op = next(&ops, 0x81);
		bool view = (op & 3) == 2;
		bool line = op & 1 || view;
		size_t n = op & 1 ? op >> 1 : op >> 2;
		const char *at = out;
		size_t want;
		ssize_t got;

		if (view && n != 0 && nw_reader_set_max_line(r, n == 63 ? DEFAULT_MAX_LINE : n) != 0)
			abort();
		errno = 0;
		got = view ? nw_reader_line(r, &at)
		      : line ? nw_readline(r, out, n) : nw_reader_read(r, out, n);
		if (line && !view && n < 2) {
			if (got != -1 || errno != EINVAL)
				abort();
			continue;
		}
		want = view ? expected(stream, len, pos, true, SIZE_MAX)
			    : expected(stream, len, pos, line, line ? n - 1 : n);
		if (view && want > r->max_line) {
			/* Too long: refused, whole, every time, and nothing consumed. */
			if (got != -1 || (errno != EMSGSIZE && errno != ETIMEDOUT) ||
			    (errno == EMSGSIZE && must_fail))
				abort();
			if (errno == EMSGSIZE)
				continue;
		}
		if (got == -1) {
			/* Only the injected timeout, reported once. */
			if (!timed_out || surfaced || errno != ETIMEDOUT)
				abort();
			surfaced = true;
			must_fail = false;
			continue;
		}
		/* A part came back: the timeout that cut it short comes next. */
		if (must_fail || got < 0 || (size_t)got > want)
			abort();
		if (memcmp(at, stream + pos, (size_t)got) != 0)
			abort();
		if (line && !view && out[got] != '\0')
			abort();
		/* The view is whole or nothing: never a part. */
		if (view && (size_t)got != want)
			abort();
		if ((size_t)got < want) {
			if (got == 0 || !timed_out || surfaced)
				abort();
			must_fail = true;
		}
		pos += (size_t)got;
		if (ops.n == 0 && got == 0 && want == 0 && n > 0)
			break;
	}
	/* Every byte arrived, in order, and the timeout was not swallowed. */
	if (pos != len || must_fail || (timed_out && !surfaced))
		abort();
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
