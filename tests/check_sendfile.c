/*
 * check_sendfile.c - nw_sendfile over real sockets, from regular files,
 * sparse files, pipes and /proc, with the sendfile(2) and copy paths.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BIG (8u << 20)

static char *random_data(size_t n, unsigned seed)
{
	char *data = malloc(n);

	ck_assert_ptr_nonnull(data);
	tu_fill_random(data, n, seed);
	return data;
}

/* An unlinked temporary file holding n reproducible bytes, also returned in *data. */
static int temp_file(size_t n, unsigned seed, char **data)
{
	char path[] = "/tmp/nwsendfile.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	*data = random_data(n, seed);
	ck_assert_int_eq(nw_writen(fd, *data, n), (ssize_t)n);
	return fd;
}

/* An unlinked sparse file of n bytes: big without using the disk. */
static int sparse_file(off_t n)
{
	char path[] = "/tmp/nwsparse.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(fd, n), 0);
	return fd;
}

/* Most tests send from client to server over loopback TCP. */
static int client = -1, server = -1;

static void open_pair(void)
{
	tu_tcp_pair(&client, &server);
}

static void close_pair(void)
{
	if (client >= 0)
		close(client);
	if (server >= 0)
		close(server);
	client = server = -1;
}

/* Reads what the sender sends, in another thread, so the sender can block. */
struct reader {
	pthread_t thread;
	int fd, delay_ms;
	char *buf;
	size_t want;
	ssize_t got;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;

	tu_sleep_ms(r->delay_ms);
	r->got = nw_readn(r->fd, r->buf, r->want);
	return NULL;
}

static void reader_start(struct reader *r, int fd, size_t want, int delay_ms)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->want = want;
	r->delay_ms = delay_ms;
	r->buf = malloc(want + 1);
	ck_assert_ptr_nonnull(r->buf);
	ck_assert_int_eq(pthread_create(&r->thread, NULL, read_all, r), 0);
}

/* Join the reader; what it read must be exactly expect[0..n). */
static void reader_check(struct reader *r, const char *expect, size_t n)
{
	pthread_join(r->thread, NULL);
	ck_assert_msg(r->got == (ssize_t)n, "read %zd, want %zu", r->got, n);
	ck_assert_msg(memcmp(r->buf, expect, n) == 0, "bytes differ");
	free(r->buf);
}

START_TEST(multi_megabyte_file_byte_for_byte)
{
	char *data;
	int f = temp_file(BIG, 1, &data);
	struct reader r;

	reader_start(&r, server, BIG, 0);
	ck_assert_int_eq(nw_sendfile(client, f, 0, BIG), (ssize_t)BIG);
	reader_check(&r, data, BIG);
	close(f);
	free(data);
}
END_TEST

START_TEST(offset_and_count_leave_the_file_position_alone)
{
	char *data;
	int f = temp_file(BIG, 2, &data);
	struct reader r;

	ck_assert_int_eq(lseek(f, 7, SEEK_SET), 7);
	reader_start(&r, server, 100000, 0);
	ck_assert_int_eq(nw_sendfile(client, f, 12345, 100000), 100000);
	reader_check(&r, data + 12345, 100000);
	ck_assert_int_eq(lseek(f, 0, SEEK_CUR), 7);
	close(f);
	free(data);
}
END_TEST

START_TEST(offset_minus_one_uses_and_moves_the_position)
{
	char *data;
	int f = temp_file(100000, 3, &data);
	struct reader r;

	ck_assert_int_eq(lseek(f, 1000, SEEK_SET), 1000);
	reader_start(&r, server, 5000, 0);
	ck_assert_int_eq(nw_sendfile(client, f, -1, 5000), 5000);
	reader_check(&r, data + 1000, 5000);
	ck_assert_int_eq(lseek(f, 0, SEEK_CUR), 6000);
	close(f);
	free(data);
}
END_TEST

START_TEST(stops_at_end_of_file)
{
	char *data;
	int f = temp_file(50000, 4, &data);
	struct reader r;

	reader_start(&r, server, 40000, 0);
	ck_assert_int_eq(nw_sendfile(client, f, 10000, 1000000), 40000);
	reader_check(&r, data + 10000, 40000);
	ck_assert_int_eq(nw_sendfile(client, f, 50000, 10), 0);
	ck_assert_int_eq(nw_sendfile(client, f, 90000, 10), 0);
	ck_assert_int_eq(nw_sendfile(client, f, 0, 0), 0);
	close(f);
	free(data);
}
END_TEST

START_TEST(non_blocking_socket_waits_for_room)
{
	char *data;
	int f = temp_file(BIG, 5, &data);
	struct reader r;

	tu_assert_ok(nw_set_nonblock(client, 1));
	/* The reader starts late: the socket's buffers fill and sendfile says EAGAIN. */
	reader_start(&r, server, BIG, 100);
	ck_assert_int_eq(nw_sendfile(client, f, 0, BIG), (ssize_t)BIG);
	reader_check(&r, data, BIG);
	close(f);
	free(data);
}
END_TEST

START_TEST(closed_peer_is_epipe_and_the_process_survives)
{
	int f = sparse_file(64 << 20);
	sigset_t mask, pending;

	close(server);
	server = -1;
	/* SIGPIPE keeps its default action: if it were raised, the test would die. */
	errno = 0;
	ck_assert_int_eq(nw_sendfile(client, f, 0, 64 << 20), -1);
	ck_assert_msg(errno == EPIPE || errno == ECONNRESET, "%s", nw_errmsg());
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_sendfile("));
	/* Nothing left behind: no SIGPIPE pending, the mask as it was. */
	sigpending(&pending);
	ck_assert(!sigismember(&pending, SIGPIPE));
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	ck_assert(!sigismember(&mask, SIGPIPE));
	/* Once the reset is in, it fails at once. */
	tu_assert_fails(nw_sendfile(client, f, 0, 1000), EPIPE);
	close(f);
}
END_TEST

/* A SIGPIPE the caller already had pending is not ours to take. */
START_TEST(callers_pending_sigpipe_stays_pending)
{
	int f = sparse_file(1 << 20);
	sigset_t pipe_set, pending;
	const struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	raise(SIGPIPE);
	close(server);
	server = -1;
	while (nw_sendfile(client, f, 0, 1 << 20) >= 0)
		;
	sigpending(&pending);
	ck_assert(sigismember(&pending, SIGPIPE));
	ck_assert_int_eq(sigtimedwait(&pipe_set, NULL, &zero), SIGPIPE);
	close(f);
}
END_TEST

struct pipe_writer {
	pthread_t thread;
	int fd;
	const char *data;
	size_t n, piece;
	int pause_ms;
};

/* Write the data in pieces with pauses, then close: a slow producer. */
static void *write_pieces(void *arg)
{
	struct pipe_writer *w = arg;

	for (size_t off = 0; off < w->n; off += w->piece) {
		size_t len = w->n - off < w->piece ? w->n - off : w->piece;

		if (nw_writen(w->fd, w->data + off, len) < 0)
			abort();
		tu_sleep_ms(w->pause_ms);
	}
	close(w->fd);
	return NULL;
}

START_TEST(pipe_source_uses_the_copy)
{
	char *data = random_data(1 << 20, 6);
	int p[2];
	struct pipe_writer w;
	struct reader r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	w = (struct pipe_writer){ .fd = p[1], .data = data, .n = 1 << 20, .piece = 300000 };
	ck_assert_int_eq(pthread_create(&w.thread, NULL, write_pieces, &w), 0);
	reader_start(&r, server, 1 << 20, 0);
	/* More than the pipe will ever hold: the count stops at its end of file. */
	ck_assert_int_eq(nw_sendfile(client, p[0], -1, 4 << 20), 1 << 20);
	reader_check(&r, data, 1 << 20);
	pthread_join(w.thread, NULL);
	close(p[0]);
	free(data);
}
END_TEST

START_TEST(non_blocking_pipe_source_waits_for_data)
{
	char *data = random_data(200000, 7);
	int p[2];
	struct pipe_writer w;
	struct reader r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	tu_assert_ok(nw_set_nonblock(p[1], 0));
	w = (struct pipe_writer){ .fd = p[1], .data = data, .n = 200000, .piece = 50000,
				  .pause_ms = 20 };
	ck_assert_int_eq(pthread_create(&w.thread, NULL, write_pieces, &w), 0);
	reader_start(&r, server, 200000, 0);
	ck_assert_int_eq(nw_sendfile(client, p[0], -1, 200000), 200000);
	reader_check(&r, data, 200000);
	pthread_join(w.thread, NULL);
	close(p[0]);
	free(data);
}
END_TEST

START_TEST(pipe_with_an_offset_is_espipe)
{
	int p[2], sv[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(write(p[1], "abc", 3), 3);
	tu_assert_fails(nw_sendfile(sv[0], p[0], 0, 3), ESPIPE);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* /proc/self/environ is a regular file that sendfile(2) refuses with EINVAL. */
START_TEST(proc_file_falls_back_to_the_copy)
{
	char expect[65536], got[65536];
	int fd, sv[2];
	ssize_t n;

	fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = nw_readn(fd, expect, sizeof expect);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (ssize_t)sizeof expect);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_sendfile(sv[0], fd, 0, sizeof expect), n);
	close(sv[0]);
	ck_assert_int_eq(nw_readn(sv[1], got, sizeof got), n);
	ck_assert_int_eq(memcmp(got, expect, (size_t)n), 0);
	close(sv[1]);
	close(fd);
}
END_TEST

/* sendfile(2) refuses an O_APPEND output (EINVAL); the copy does not. */
START_TEST(append_only_output_falls_back_to_the_copy)
{
	char *data, *back;
	int f = temp_file(300000, 8, &data), out;
	char path[] = "/tmp/nwappend.XXXXXX";

	out = mkostemp(path, O_CLOEXEC);
	ck_assert_int_ge(out, 0);
	ck_assert_int_eq(nw_writen(out, "head", 4), 4);
	close(out);
	out = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(out, 0);
	ck_assert_int_eq(nw_sendfile(out, f, 1000, 299000), 299000);
	close(out);
	out = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	back = malloc(300000);
	ck_assert_int_eq(nw_readn(out, back, 300000), 4 + 299000);
	ck_assert_int_eq(memcmp(back, "head", 4), 0);
	ck_assert_int_eq(memcmp(back + 4, data + 1000, 299000), 0);
	close(out);
	close(f);
	free(back);
	free(data);
}
END_TEST

START_TEST(interrupted_send_is_retried)
{
	char *data;
	int f = temp_file(BIG, 9, &data);
	struct reader r;
	struct itimerval it = { .it_interval = { 0, 5000 }, .it_value = { 0, 5000 } };

	tu_interrupting_handler(SIGALRM);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	reader_start(&r, server, BIG, 100);
	ssize_t sent = nw_sendfile(client, f, 0, BIG);
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	ck_assert_msg(sent == (ssize_t)BIG, "sent %zd: %s", sent, nw_errmsg());
	reader_check(&r, data, BIG);
	close(f);
	free(data);
}
END_TEST

START_TEST(send_timeout_is_etimedout)
{
	int f = sparse_file(256 << 20);

	tu_assert_ok(nw_set_timeout(client, 100));
	/* Nobody reads: the buffers fill, and the socket's timeout ends the wait. */
	tu_assert_fails(nw_sendfile(client, f, 0, 256 << 20), ETIMEDOUT);
	tu_assert_ok(nw_set_nonblock(client, 1));
	tu_assert_fails(nw_sendfile(client, f, 0, 256 << 20), ETIMEDOUT);
	close(f);
}
END_TEST

/*
 * Offsets past 2 and 4 GiB, in a sparse file: a 32-bit build must reach
 * them too (configure's AC_SYS_LARGEFILE), by sendfile (_i 0) and by the
 * copy a blocking socket with a send timeout gets (_i 1).  The test itself
 * uses the 64-bit calls and O_LARGEFILE, so it means the same in any build.
 */
START_TEST(offsets_past_4_gib)
{
	static const struct { int64_t offset; const char *text; } far[] = {
		{ INT64_C(3) << 30, "three GiB" },
		{ (INT64_C(5) << 30) + 7, "five GiB and seven" },
	};
	char path[] = "/tmp/nwsparse.XXXXXX", buf[32];
	/* O_LARGEFILE: without it a 32-bit process cannot write past 2 GiB. */
	int fd = mkostemp(path, O_CLOEXEC | O_LARGEFILE);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	if (_i == 1)
		tu_assert_ok(nw_set_timeout(client, 5000));
	for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
		size_t n = strlen(far[i].text);

		ck_assert_int_eq(pwrite64(fd, far[i].text, n, far[i].offset), (ssize_t)n);
	}
	for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
		size_t n = strlen(far[i].text);

		ck_assert_int_eq(tu_assert_ok(nw_sendfile(client, fd, far[i].offset, n)), (long)n);
		ck_assert_int_eq(nw_readn(server, buf, n), (ssize_t)n);
		ck_assert_int_eq(memcmp(buf, far[i].text, n), 0);
	}
	/* From the file's own position, which moves past 4 GiB. */
	ck_assert_int_eq(lseek64(fd, far[1].offset, SEEK_SET), far[1].offset);
	ck_assert_int_eq(tu_assert_ok(nw_sendfile(client, fd, -1, 4)), 4);
	ck_assert_int_eq(nw_readn(server, buf, 4), 4);
	ck_assert_int_eq(memcmp(buf, far[1].text, 4), 0);
	ck_assert_int_eq(lseek64(fd, 0, SEEK_CUR), far[1].offset + 4);
	close(fd);
}
END_TEST

START_TEST(bad_arguments)
{
	char *data;
	int f = temp_file(100, 10, &data), sv[2], wr;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	tu_assert_fails(nw_sendfile(sv[0], -1, 0, 10), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_sendfile(" ));
	tu_assert_fails(nw_sendfile(-1, f, 0, 10), EBADF);
	tu_assert_fails(nw_sendfile(sv[0], f, -2, 10), EINVAL);
	tu_assert_fails(nw_sendfile(sv[0], f, 0, (size_t)SSIZE_MAX + 1), EINVAL);
	tu_assert_fails(nw_sendfile(sv[0], f, INT64_MAX - 5, 10), EINVAL);
	wr = open("/dev/null", O_WRONLY | O_CLOEXEC);
	tu_assert_fails(nw_sendfile(sv[0], wr, 0, 10), EBADF);	/* not open for reading */
	close(wr);
	close(sv[0]);
	close(sv[1]);
	close(f);
	free(data);
}
END_TEST

START_TEST(failures_leak_no_descriptor)
{
	int f = sparse_file(1 << 20), before;

	close(server);
	server = -1;
	(void)nw_sendfile(client, f, 0, 1 << 20);	/* draws the reset */
	before = tu_count_fds();
	for (int i = 0; i < 100; i++) {
		tu_assert_fails(nw_sendfile(client, f, 0, 1 << 20), EPIPE);
		tu_assert_fails(nw_sendfile(client, -1, 0, 1), EBADF);
	}
	ck_assert_int_eq(tu_count_fds(), before);
	close(f);
}
END_TEST

static Suite *sendfile_suite(void)
{
	Suite *s = suite_create("sendfile");
	TCase *files = tcase_create("files");
	TCase *peers = tcase_create("peers");
	TCase *copy = tcase_create("copy");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(files, open_pair, close_pair);
	tcase_set_timeout(files, 20);
	tcase_add_test(files, multi_megabyte_file_byte_for_byte);
	tcase_add_test(files, offset_and_count_leave_the_file_position_alone);
	tcase_add_test(files, offset_minus_one_uses_and_moves_the_position);
	tcase_add_test(files, stops_at_end_of_file);
	tcase_add_test(files, non_blocking_socket_waits_for_room);
	tcase_add_test(files, interrupted_send_is_retried);
	tcase_add_loop_test(files, offsets_past_4_gib, 0, 2);
	suite_add_tcase(s, files);

	tcase_add_checked_fixture(peers, open_pair, close_pair);
	tcase_set_timeout(peers, 10);
	tcase_add_test(peers, closed_peer_is_epipe_and_the_process_survives);
	tcase_add_test(peers, callers_pending_sigpipe_stays_pending);
	tcase_add_test(peers, send_timeout_is_etimedout);
	suite_add_tcase(s, peers);

	tcase_add_checked_fixture(copy, open_pair, close_pair);
	tcase_set_timeout(copy, 10);
	tcase_add_test(copy, pipe_source_uses_the_copy);
	tcase_add_test(copy, non_blocking_pipe_source_waits_for_data);
	tcase_add_test(copy, pipe_with_an_offset_is_espipe);
	tcase_add_test(copy, proc_file_falls_back_to_the_copy);
	tcase_add_test(copy, append_only_output_falls_back_to_the_copy);
	suite_add_tcase(s, copy);

	tcase_add_checked_fixture(errors, open_pair, close_pair);
	tcase_set_timeout(errors, 10);
	tcase_add_test(errors, bad_arguments);
	tcase_add_test(errors, failures_leak_no_descriptor);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return tu_run(sendfile_suite());
}
