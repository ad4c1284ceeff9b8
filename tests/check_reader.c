/*
 * check_reader.c - nw_reader: nw_readline and nw_reader_read.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
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
	return s;
}

int main(void)
{
	return tu_run(reader_suite());
}
