/*
 * check_reader.c - nw_reader: nw_readline and nw_reader_read.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socketpair whose [0] end already holds data, written then half-closed. */
static void pair_with(int sv[2], const void *data, size_t n, bool close_after)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_writen(sv[1], data, n), (ssize_t)n);
	if (close_after)
		shutdown(sv[1], SHUT_WR);
}

START_TEST(lines_come_back_with_newline_and_crlf)
{
	const char text[] = "first\nsecond line\r\n\nlast";
	char line[64];
	int sv[2];
	nw_reader *r;

	pair_with(sv, text, strlen(text), true);
	r = nw_reader_new(sv[0], 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 6);
	ck_assert_str_eq(line, "first\n");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 13);
	ck_assert_str_eq(line, "second line\r\n");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 1);
	ck_assert_str_eq(line, "\n");
	/* The last line has no newline; then end of file, twice. */
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 4);
	ck_assert_str_eq(line, "last");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	ck_assert_str_eq(line, "");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Reassemble a stream read in pieces of at most size-1 bytes; compare. */
static void check_pieces(const char *text, size_t len, size_t bufsize, size_t size)
{
	char *line = malloc(size), *all = malloc(len + 1);
	size_t total = 0;
	ssize_t n;
	int sv[2];
	nw_reader *r;

	pair_with(sv, text, len, true);
	r = nw_reader_new(sv[0], bufsize);
	while ((n = nw_readline(r, line, size)) > 0) {
		ck_assert_uint_le((size_t)n, size - 1);
		ck_assert_int_eq(line[n], '\0');
		/* A piece ends at a newline, or fills the caller's buffer, or ends the stream. */
		ck_assert(line[n - 1] == '\n' || (size_t)n == size - 1 || total + (size_t)n == len);
		memcpy(all + total, line, (size_t)n);
		total += (size_t)n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(total, len);
	ck_assert(memcmp(all, text, len) == 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
	free(line);
	free(all);
}

START_TEST(long_lines_come_back_in_pieces)
{
	size_t len = 100000;
	char *text = malloc(len);

	memset(text, 'x', len);
	text[5000] = '\n';
	text[len - 1] = '\n';
	check_pieces(text, len, 0, 100);	/* caller's buffer smaller than the line */
	check_pieces(text, len, 16, 100);	/* and the reader's smaller still */
	check_pieces(text, len, 16, 8192);	/* line longer than the reader's buffer only */
	check_pieces(text, len, 7, 2);		/* one byte at a time */
	free(text);
}
END_TEST

START_TEST(line_longer_than_reader_buffer_fills_caller_buffer)
{
	char text[1001], line[2048];
	int sv[2];
	nw_reader *r;

	memset(text, 'a', 999);
	text[999] = '\n';
	pair_with(sv, text, 1000, true);
	r = nw_reader_new(sv[0], 16);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 1000);
	ck_assert(memcmp(line, text, 1000) == 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(embedded_nul_bytes_are_counted)
{
	const char text[] = { 'a', '\0', 'b', '\n', '\0', '\n' };
	char line[16];
	int sv[2];
	nw_reader *r;

	pair_with(sv, text, sizeof text, true);
	r = nw_reader_new(sv[0], 0);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 4);
	ck_assert(memcmp(line, "a\0b\n", 5) == 0);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 2);
	ck_assert(memcmp(line, "\0\n", 3) == 0);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(lines_and_binary_mix)
{
	/* A header line, a 100000-byte body, a trailer line: like HTTP. */
	size_t body = 100000;
	char *stream = malloc(body + 64), *got = malloc(body);
	char line[64];
	size_t len;
	int sv[2];
	nw_reader *r;

	strcpy(stream, "LENGTH 100000\r\n");
	len = strlen(stream);
	tu_fill_random(stream + len, body, 5);
	len += body;
	memcpy(stream + len, "END\n", 4);
	len += 4;
	for (size_t bufsize = 8; bufsize <= 1u << 20; bufsize *= 16) {
		pair_with(sv, stream, len, true);
		r = nw_reader_new(sv[0], bufsize);
		ck_assert_int_eq(nw_readline(r, line, sizeof line), 15);
		ck_assert_str_eq(line, "LENGTH 100000\r\n");
		ck_assert_int_eq(nw_reader_read(r, got, 10), 10);
		ck_assert_int_eq(nw_reader_read(r, got + 10, body - 10), (ssize_t)body - 10);
		ck_assert(memcmp(got, stream + 15, body) == 0);
		ck_assert_int_eq(nw_readline(r, line, sizeof line), 4);
		ck_assert_str_eq(line, "END\n");
		/* Fewer than asked only at end of file. */
		ck_assert_int_eq(nw_reader_read(r, got, 10), 0);
		nw_reader_free(r);
		close(sv[0]);
		close(sv[1]);
	}
	free(stream);
	free(got);
}
END_TEST

START_TEST(reader_read_short_only_at_eof)
{
	char got[32];
	int sv[2];
	nw_reader *r;

	pair_with(sv, "abcdefgh", 8, true);
	r = nw_reader_new(sv[0], 4);
	ck_assert_int_eq(nw_reader_read(r, got, 3), 3);
	ck_assert_int_eq(nw_reader_read(r, got, 32), 5);
	ck_assert(memcmp(got, "defgh", 5) == 0);
	ck_assert_int_eq(nw_reader_read(r, got, 32), 0);
	ck_assert_int_eq(nw_reader_read(r, got, 0), 0);
	ck_assert_int_eq(nw_reader_read(r, NULL, 0), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(timeout_keeps_a_partial_line)
{
	char line[64];
	int sv[2];
	nw_reader *r;

	pair_with(sv, "abc", 3, false);
	tu_assert_ok(nw_set_timeout(sv[0], 100));
	r = nw_reader_new(sv[0], 0);
	tu_assert_fails(nw_readline(r, line, sizeof line), ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_readline"));
	/* Nothing was lost: the rest of the line completes it. */
	ck_assert_int_eq(nw_writen(sv[1], "def\n", 4), 4);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 7);
	ck_assert_str_eq(line, "abcdef\n");
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(error_after_data_comes_after_the_data)
{
	char line[64], got[64];
	int sv[2];
	nw_reader *r;

	/* The reader's 4-byte buffer hands bytes over before the timeout hits. */
	pair_with(sv, "abcdefgh", 8, false);
	tu_assert_ok(nw_set_timeout(sv[0], 100));
	r = nw_reader_new(sv[0], 4);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 8);
	ck_assert_str_eq(line, "abcdefgh");
	tu_assert_fails(nw_readline(r, line, sizeof line), ETIMEDOUT);
	ck_assert_int_eq(nw_writen(sv[1], "ij\n0123456789", 13), 13);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 3);
	ck_assert_str_eq(line, "ij\n");
	/* The same for nw_reader_read: data first, then the error, then more data. */
	ck_assert_int_eq(nw_reader_read(r, got, 20), 10);
	ck_assert(memcmp(got, "0123456789", 10) == 0);
	tu_assert_fails(nw_reader_read(r, got, 20), ETIMEDOUT);
	ck_assert_int_eq(nw_writen(sv[1], "xyz", 3), 3);
	shutdown(sv[1], SHUT_WR);
	ck_assert_int_eq(nw_reader_read(r, got, 20), 3);
	ck_assert_int_eq(nw_reader_read(r, got, 20), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void *write_later(void *arg)
{
	usleep(100 * 1000);
	nw_writen(*(int *)arg, "late line\n", 10);
	return NULL;
}

START_TEST(nonblocking_descriptor_is_waited_for)
{
	char line[64];
	int sv[2];
	pthread_t t;
	nw_reader *r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	tu_assert_ok(nw_set_nonblock(sv[0], 1));
	r = nw_reader_new(sv[0], 0);
	pthread_create(&t, NULL, write_later, &sv[1]);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 10);
	ck_assert_str_eq(line, "late line\n");
	pthread_join(t, NULL);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(reader_works_on_pipes_and_never_closes)
{
	char line[64];
	int p[2];
	nw_reader *r;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(nw_writen(p[1], "pipe line\n", 10), 10);
	close(p[1]);
	r = nw_reader_new(p[0], 0);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 10);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	nw_reader_free(r);
	ck_assert_int_ge(fcntl(p[0], F_GETFD), 0);
	close(p[0]);
	nw_reader_free(NULL);
}
END_TEST

START_TEST(bad_arguments)
{
	char line[8];
	int sv[2];
	nw_reader *r;

	errno = 0;
	ck_assert_ptr_null(nw_reader_new(-1, 0));
	ck_assert_int_eq(errno, EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_new"));
	errno = 0;
	ck_assert_ptr_null(nw_reader_new(0, (size_t)-1));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r = nw_reader_new(sv[0], 0);
	tu_assert_fails(nw_readline(NULL, line, sizeof line), EINVAL);
	tu_assert_fails(nw_readline(r, NULL, sizeof line), EINVAL);
	tu_assert_fails(nw_readline(r, line, 1), EINVAL);
	tu_assert_fails(nw_readline(r, line, 0), EINVAL);
	tu_assert_fails(nw_reader_read(NULL, line, 1), EINVAL);
	tu_assert_fails(nw_reader_read(r, NULL, 1), EINVAL);
	nw_reader_free(r);
	/* A descriptor closed under the reader. */
	r = nw_reader_new(sv[0], 0);
	close(sv[0]);
	tu_assert_fails(nw_readline(r, line, sizeof line), EBADF);
	nw_reader_free(r);
	close(sv[1]);
}
END_TEST

/* ---- nw_reader_line: lines in place ---- */

/* Assert that the next view is exactly want (n bytes); returns the view. */
static const char *expect_line(nw_reader *r, const char *want, size_t n)
{
	const char *line = NULL;
	ssize_t got = nw_reader_line(r, &line);

	ck_assert_msg(got == (ssize_t)n, "nw_reader_line: %zd bytes, %zu expected (%s)",
		      got, n, got < 0 ? nw_errmsg() : "");
	if (n > 0)
		ck_assert_msg(memcmp(line, want, n) == 0, "nw_reader_line: wrong bytes, wanted %.*s",
			      (int)n, want);
	return line;
}

/* Writes n bytes from a thread (more than a socket buffer holds), then half-closes. */
struct writing {
	int fd;
	const char *p;
	size_t n;
	size_t piece;		/* at most this many bytes a write; 0: all at once */
};

static void *write_all_then_close(void *arg)
{
	struct writing *w = arg;

	for (size_t i = 0, k; i < w->n; i += k) {
		k = w->piece == 0 || w->n - i < w->piece ? w->n - i : w->piece;
		if (nw_writen(w->fd, w->p + i, k) != (ssize_t)k)
			break;
		if (w->piece != 0 && i / w->piece % 8 == 0)
			usleep(200);	/* let the reader catch up and find the socket empty */
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* A reader on one end of a socket pair whose other end w's thread writes. */
static nw_reader *fed_reader(struct writing *w, int sv[2], size_t bufsize, pthread_t *t)
{
	nw_reader *r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	w->fd = sv[1];
	r = nw_reader_new(sv[0], bufsize);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(pthread_create(t, NULL, write_all_then_close, w), 0);
	return r;
}

/* Lines of random lengths (about 1 in every `every` bytes a '\n'), reproducible. */
static void make_lines(char *text, size_t n, unsigned seed, unsigned every)
{
	tu_fill_random(text, n, seed);
	for (size_t k = 0; k < n; k++)
		text[k] = (unsigned char)text[k] % every == 0 ? '\n'
			  : (char)('a' + (unsigned char)text[k] % 26);
}

START_TEST(line_view_in_place_and_eof_without_newline)
{
	const char text[] = "first\nsecond\r\n\nlast";
	const char *a, *b;
	int sv[2];
	nw_reader *r;

	pair_with(sv, text, strlen(text), true);
	r = nw_reader_new(sv[0], 0);
	a = expect_line(r, "first\n", 6);
	b = expect_line(r, "second\r\n", 8);
	/* No copy: the second line follows the first in the reader's buffer. */
	ck_assert_ptr_eq(b, a + 6);
	expect_line(r, "\n", 1);
	/* The last line has no newline; then end of file, and again. */
	expect_line(r, "last", 4);
	expect_line(r, "", 0);
	expect_line(r, "", 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(line_view_across_buffer_refills)
{
	enum { LEN = 30000 };
	char *text = malloc(LEN);
	size_t sizes[] = { 7, 64, 0 };

	make_lines(text, LEN, 17, 40);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		struct writing w = { .p = text, .n = LEN, .piece = 1 + s * 50 };
		size_t pos = 0, longest = 0;
		const char *line;
		ssize_t n;
		pthread_t t;
		int sv[2];
		nw_reader *r;

		r = fed_reader(&w, sv, sizes[s], &t);
		while ((n = nw_reader_line(r, &line)) > 0) {
			const char *nl = memchr(text + pos, '\n', LEN - pos);
			size_t want = nl ? (size_t)(nl - (text + pos)) + 1 : LEN - pos;

			ck_assert_uint_eq((size_t)n, want);
			ck_assert(memcmp(line, text + pos, want) == 0);
			pos += want;
			longest = want > longest ? want : longest;
		}
		ck_assert_msg(n == 0, "nw_reader_line: %s", nw_errmsg());
		ck_assert_uint_eq(pos, LEN);
		/* Lines longer than the small buffer were there, and came back whole. */
		ck_assert_uint_gt(longest, sizes[0]);
		pthread_join(t, NULL);
		nw_reader_free(r);
		close(sv[0]);
		close(sv[1]);
	}
	free(text);
}
END_TEST

START_TEST(line_view_line_exactly_the_buffer_size)
{
	/* 16-byte lines in a 16-byte buffer, and no line may be longer. */
	const char text[] = "0123456789abcde\nABCDEFGHIJKLMNO\nxy\nz23456789abcdef\n";
	int sv[2];
	nw_reader *r;

	pair_with(sv, text, strlen(text), true);
	r = nw_reader_new(sv[0], 16);
	tu_assert_ok(nw_reader_set_max_line(r, 16));
	expect_line(r, text, 16);
	expect_line(r, text + 16, 16);
	expect_line(r, "xy\n", 3);
	/* This one starts part-way into the buffer: moved to the front. */
	expect_line(r, text + 35, 16);
	expect_line(r, "", 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(line_view_grows_to_the_maximum_then_emsgsize_loses_nothing)
{
	char text[400], got[128], piece[64];
	const char *line;
	int sv[2];
	nw_reader *r;

	/* A 100-byte line, a 101-byte line, a short one, and a last 100 bytes without '\n'. */
	memset(text, 'a', 99);
	text[99] = '\n';
	memset(text + 100, 'b', 100);
	text[200] = '\n';
	memcpy(text + 201, "ok\n", 3);
	memset(text + 204, 'c', 100);
	pair_with(sv, text, 304, true);
	r = nw_reader_new(sv[0], 16);
	tu_assert_ok(nw_reader_set_max_line(r, 100));
	expect_line(r, text, 100);
	tu_assert_fails(nw_reader_line(r, &line), EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_line"));
	/* Again: the oversized line is still there, nothing was consumed. */
	tu_assert_fails(nw_reader_line(r, &line), EMSGSIZE);
	ck_assert_int_eq(nw_reader_read(r, got, 40), 40);
	ck_assert(memcmp(got, text + 100, 40) == 0);
	/* The rest of it through nw_readline, in pieces; then lines again. */
	ck_assert_int_eq(nw_readline(r, piece, sizeof piece), 61);
	ck_assert(memcmp(piece, text + 140, 61) == 0);
	expect_line(r, "ok\n", 3);
	/* A last line of exactly the maximum, without '\n', fits. */
	expect_line(r, text + 204, 100);
	expect_line(r, "", 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(line_view_default_maximum_is_one_mib)
{
	size_t mib = 1024 * 1024, len = 2 * mib + 2;
	char *text = malloc(len);
	const char *line;
	struct writing w = { .p = text, .n = len };
	pthread_t t;
	int sv[2];
	nw_reader *r;

	/* A line of exactly 1 MiB, then one of 1 MiB + 1 (the last byte '\n'). */
	memset(text, 'x', len);
	text[mib - 1] = '\n';
	text[len - 1] = '\n';
	r = fed_reader(&w, sv, 0, &t);
	ck_assert_int_eq(nw_reader_line(r, &line), (ssize_t)mib);
	ck_assert_int_eq(line[mib - 1], '\n');
	tu_assert_fails(nw_reader_line(r, &line), EMSGSIZE);
	/* A larger maximum lets it through, whole. */
	tu_assert_ok(nw_reader_set_max_line(r, 2 * mib));
	ck_assert_int_eq(nw_reader_line(r, &line), (ssize_t)mib + 2);
	ck_assert(line[0] == 'x' && line[mib] == 'x' && line[mib + 1] == '\n');
	expect_line(r, "", 0);
	pthread_join(t, NULL);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
	free(text);
}
END_TEST

START_TEST(line_view_buffer_shrinks_back_after_a_long_line)
{
	char text[202];
	const char *first, *line;
	int sv[2];
	nw_reader *r;

	/* A short line, a 200-byte line (the buffer grows), later short lines again. */
	memset(text, 'L', 201);
	memcpy(text, "a\n", 2);
	text[201] = '\n';
	pair_with(sv, text, 202, false);
	r = nw_reader_new(sv[0], 16);
	first = expect_line(r, "a\n", 2);
	expect_line(r, text + 2, 200);
	ck_assert_int_eq(nw_writen(sv[1], "b\nc\n", 4), 4);
	shutdown(sv[1], SHUT_WR);
	/* Read into the reader's own 16 bytes again: the large buffer was given back. */
	line = expect_line(r, "b\n", 2);
	ck_assert_msg(line >= first && line < first + 16, "still in the grown buffer");
	expect_line(r, "c\n", 2);
	expect_line(r, "", 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * The three reading calls in a random order on random lines (some longer
 * than the maximum), against the stream itself: every byte comes back once,
 * in order, whichever call takes it.
 */
START_TEST(line_view_mixes_with_readline_and_reader_read)
{
	enum { LEN = 40000, MAX = 50 };
	char *text = malloc(LEN), out[128];
	size_t bufsizes[] = { 8, 13, 64, 0 };
	uint64_t seed = 0x2545F4914F6CDD1Du;

	make_lines(text, LEN, 23, 45);
	for (size_t s = 0; s < sizeof bufsizes / sizeof bufsizes[0]; s++) {
		struct writing w = { .p = text, .n = LEN, .piece = 333 };
		size_t pos = 0, calls[3] = { 0, 0, 0 }, too_long = 0;
		pthread_t t;
		int sv[2];
		nw_reader *r;

		r = fed_reader(&w, sv, bufsizes[s], &t);
		tu_assert_ok(nw_reader_set_max_line(r, MAX));
		while (pos < LEN) {
			const char *nl = memchr(text + pos, '\n', LEN - pos);
			size_t line_len = nl ? (size_t)(nl - (text + pos)) + 1 : LEN - pos;
			size_t n, want;
			const char *got;
			ssize_t k;
			unsigned op;

			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			op = (unsigned)(seed % 3);
			n = 2 + (size_t)(seed >> 8) % 90;
			calls[op]++;
			if (op == 0) {
				k = nw_reader_line(r, &got);
				if (line_len > MAX) {
					ck_assert_int_eq(k, -1);
					ck_assert_int_eq(errno, EMSGSIZE);
					too_long++;
					continue;
				}
				want = line_len;
			} else if (op == 1) {
				k = nw_readline(r, out, n);
				want = line_len < n - 1 ? line_len : n - 1;
				got = out;
			} else {
				k = nw_reader_read(r, out, n);
				want = LEN - pos < n ? LEN - pos : n;
				got = out;
			}
			ck_assert_msg(k == (ssize_t)want, "call %u at %zu: %zd bytes, %zu expected (%s)",
				      op, pos, k, want, k < 0 ? nw_errmsg() : "");
			ck_assert(memcmp(got, text + pos, want) == 0);
			pos += want;
		}
		expect_line(r, "", 0);
		ck_assert_int_eq(nw_readline(r, out, sizeof out), 0);
		ck_assert_int_eq(nw_reader_read(r, out, 1), 0);
		ck_assert(calls[0] > 100 && calls[1] > 100 && calls[2] > 100 && too_long > 0);
		pthread_join(t, NULL);
		nw_reader_free(r);
		close(sv[0]);
		close(sv[1]);
	}
	free(text);
}
END_TEST

START_TEST(line_view_timeout_keeps_a_partial_line)
{
	char line[64];
	int sv[2];
	nw_reader *r;

	/* A partial line longer than the 4-byte buffer (so it grew), then a timeout. */
	pair_with(sv, "abcdefgh", 8, false);
	tu_assert_ok(nw_set_timeout(sv[0], 100));
	r = nw_reader_new(sv[0], 4);
	tu_assert_fails(nw_reader_line(r, &(const char *){ NULL }), ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_line"));
	ck_assert_int_eq(nw_writen(sv[1], "ij\n", 3), 3);
	expect_line(r, "abcdefghij\n", 11);
	nw_reader_free(r);

	/*
	 * An error nw_readline held back (after handing over 8 bytes) comes
	 * next, here, before the line that has arrived since.
	 */
	r = nw_reader_new(sv[0], 4);
	ck_assert_int_eq(nw_writen(sv[1], "abcdefgh", 8), 8);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 8);
	ck_assert_int_eq(nw_writen(sv[1], "mn\n", 3), 3);
	tu_assert_fails(nw_reader_line(r, &(const char *){ NULL }), ETIMEDOUT);
	expect_line(r, "mn\n", 3);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(line_view_bad_arguments)
{
	const char *line;
	int sv[2];
	nw_reader *r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r = nw_reader_new(sv[0], 0);
	tu_assert_fails(nw_reader_line(NULL, &line), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_line"));
	tu_assert_fails(nw_reader_line(r, NULL), EINVAL);
	tu_assert_fails(nw_reader_set_max_line(NULL, 10), EINVAL);
	tu_assert_fails(nw_reader_set_max_line(r, 0), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_set_max_line"));
	tu_assert_fails(nw_reader_set_max_line(r, (size_t)SSIZE_MAX + 1), EINVAL);
	ck_assert_int_eq(nw_reader_set_max_line(r, SSIZE_MAX), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, lines_come_back_with_newline_and_crlf);
	tcase_add_test(tc, long_lines_come_back_in_pieces);
	tcase_add_test(tc, line_longer_than_reader_buffer_fills_caller_buffer);
	tcase_add_test(tc, embedded_nul_bytes_are_counted);
	tcase_add_test(tc, lines_and_binary_mix);
	tcase_add_test(tc, reader_read_short_only_at_eof);
	tcase_add_test(tc, timeout_keeps_a_partial_line);
	tcase_add_test(tc, error_after_data_comes_after_the_data);
	tcase_add_test(tc, nonblocking_descriptor_is_waited_for);
	tcase_add_test(tc, reader_works_on_pipes_and_never_closes);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("line view");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, line_view_in_place_and_eof_without_newline);
	tcase_add_test(tc, line_view_across_buffer_refills);
	tcase_add_test(tc, line_view_line_exactly_the_buffer_size);
	tcase_add_test(tc, line_view_grows_to_the_maximum_then_emsgsize_loses_nothing);
	tcase_add_test(tc, line_view_default_maximum_is_one_mib);
	tcase_add_test(tc, line_view_buffer_shrinks_back_after_a_long_line);
	tcase_add_test(tc, line_view_mixes_with_readline_and_reader_read);
	tcase_add_test(tc, line_view_timeout_keeps_a_partial_line);
	tcase_add_test(tc, line_view_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(reader_suite());
}
