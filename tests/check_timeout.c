/*
 * check_timeout.c - a timeout set with nw_set_timeout bounds each wait
 * once: a call fails with ETIMEDOUT no later than 1.5 times the bound after
 * the last call that completed, on blocking and non-blocking sockets.
 *
 * The writers' peer never reads, so the socket's buffers fill up and the
 * call that cannot finish has usually sent part of its data before it
 * starts to wait: that partial send is what used to restart the bound.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BOUND_MS 500
/* 1.5 times the bound, as the issue asks; the machine is loaded, not slow. */
#define LATEST_MS (BOUND_MS * 3 / 2)
/* A bound honoured, not skipped: the kernel's jiffies may end it a little early. */
#define EARLIEST_MS (BOUND_MS * 9 / 10)
#define CHUNK (64 * 1024)
/* Loopback buffers take a few MiB; far more than that means no timeout came. */
#define MAX_CHUNKS 4096

/* _i of the loop tests: 0 blocking, 1 non-blocking. */
static void prepare(int fd, int nonblocking)
{
	tu_assert_ok(nw_set_timeout(fd, BOUND_MS));
	tu_assert_ok(nw_set_nonblock(fd, nonblocking));
}

/* The failure came as ETIMEDOUT, one bound (not two or three) after the last success. */
static void assert_bounded_once(const char *call, long rc, int err, int64_t last_ok,
				int64_t failed_at)
{
	int64_t late = failed_at - last_ok;

	ck_assert_msg(rc == -1 && err == ETIMEDOUT, "%s: %ld / %s (%s), want ETIMEDOUT",
		      call, rc, strerror(err), nw_errmsg());
	ck_assert_msg(late <= LATEST_MS, "%s: ETIMEDOUT %lld ms after the last call that "
		      "completed (bound %d ms)", call, (long long)late, BOUND_MS);
	ck_assert_msg(late >= EARLIEST_MS, "%s: ETIMEDOUT after only %lld ms (bound %d ms)",
		      call, (long long)late, BOUND_MS);
}

/* Evaluate expr until it fails, then check when and how. */
#define WRITE_UNTIL_TIMEOUT(call, expr) do { \
	int64_t last_ok = tu_now_ms(); \
	long rc_ = 0; \
	int n_; \
	for (n_ = 0; n_ < MAX_CHUNKS; n_++) { \
		rc_ = (long)(expr); \
		if (rc_ < 0) \
			break; \
		last_ok = tu_now_ms(); \
	} \
	int err_ = errno; \
	ck_assert_msg(n_ < MAX_CHUNKS, "%s never timed out", call); \
	assert_bounded_once(call, rc_, err_, last_ok, tu_now_ms()); \
} while (0)

static char chunk[CHUNK];

START_TEST(writen_times_out_once)
{
	int c, s;

	tu_tcp_pair(&c, &s);
	prepare(c, _i);
	WRITE_UNTIL_TIMEOUT("nw_writen", nw_writen(c, chunk, sizeof chunk));
	close(c);
	close(s);
}
END_TEST

START_TEST(sendfile_times_out_once)
{
	char path[] = "/tmp/nwtest-timeout.XXXXXX";
	int file = mkstemp(path);
	int c, s;

	ck_assert_int_ge(file, 0);
	unlink(path);
	ck_assert_int_eq(write(file, chunk, sizeof chunk), (ssize_t)sizeof chunk);
	tu_tcp_pair(&c, &s);
	prepare(c, _i);
	WRITE_UNTIL_TIMEOUT("nw_sendfile", nw_sendfile(c, file, 0, sizeof chunk));
	close(c);
	close(s);
	close(file);
}
END_TEST

/* Datagrams: a Unix-domain peer that never reads refuses more after its queue. */
START_TEST(sendto_times_out_once)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	prepare(sv[0], _i);
	WRITE_UNTIL_TIMEOUT("nw_sendto", nw_sendto(sv[0], chunk, 1024, NULL, 0));
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A stream peer that never reads: nw_sendto on TCP is a send like any other. */
START_TEST(sendto_on_a_stream_times_out_once)
{
	int c, s;

	tu_tcp_pair(&c, &s);
	prepare(c, _i);
	WRITE_UNTIL_TIMEOUT("nw_sendto", nw_sendto(c, chunk, sizeof chunk, NULL, 0));
	close(c);
	close(s);
}
END_TEST

/*
 * The readers' peer sends part of what is asked for and then nothing: the
 * read that gets the part completes at once, the wait after it is bounded.
 */
static void reader_case(int which, int nonblocking)
{
	static const char *const calls[] = { "nw_readline", "nw_reader_read", "nw_readn" };
	char buf[64];
	int c, s;
	long rc;
	int err;
	int64_t start;

	tu_tcp_pair(&c, &s);
	prepare(s, nonblocking);
	tu_assert_ok(nw_writen(c, "no newline", 10));
	nw_reader *r = nw_reader_new(s, 0);

	ck_assert_ptr_nonnull(r);
	start = tu_now_ms();
	if (which == 0)
		rc = nw_readline(r, buf, sizeof buf);
	else if (which == 1)
		rc = nw_reader_read(r, buf, 20);
	else
		rc = nw_readn(s, buf, 20);
	err = errno;
	if (which == 1 && rc == 10) {
		/* The reader hands over the part first and keeps the error for the next call. */
		int64_t late = tu_now_ms() - start;

		ck_assert_msg(late >= EARLIEST_MS && late <= LATEST_MS,
			      "nw_reader_read: the part came back after %lld ms (bound %d ms)",
			      (long long)late, BOUND_MS);
		/* The error held back comes at once, with no second wait. */
		start = tu_now_ms();
		rc = nw_reader_read(r, buf, 20);
		err = errno;
		late = tu_now_ms() - start;
		ck_assert_msg(rc == -1 && err == ETIMEDOUT, "nw_reader_read: %ld / %s, want ETIMEDOUT",
			      rc, strerror(err));
		ck_assert_msg(late < BOUND_MS / 2, "nw_reader_read: the held-back error took %lld ms",
			      (long long)late);
	} else {
		assert_bounded_once(calls[which], rc, err, start, tu_now_ms());
	}
	nw_reader_free(r);
	close(c);
	close(s);
}

START_TEST(readline_times_out_once)
{
	reader_case(0, _i);
}
END_TEST

START_TEST(reader_read_times_out_once)
{
	reader_case(1, _i);
}
END_TEST

START_TEST(readn_times_out_once)
{
	reader_case(2, _i);
}
END_TEST

static Suite *timeout_suite(void)
{
	Suite *s = suite_create("timeout");
	TCase *w = tcase_create("writes");
	TCase *r = tcase_create("reads");

	/* Each loop runs blocking (0) and non-blocking (1). */
	tcase_set_timeout(w, 30);
	tcase_add_loop_test(w, writen_times_out_once, 0, 2);
	tcase_add_loop_test(w, sendfile_times_out_once, 0, 2);
	tcase_add_loop_test(w, sendto_times_out_once, 0, 2);
	tcase_add_loop_test(w, sendto_on_a_stream_times_out_once, 0, 2);
	suite_add_tcase(s, w);
	tcase_set_timeout(r, 30);
	tcase_add_loop_test(r, readline_times_out_once, 0, 2);
	tcase_add_loop_test(r, reader_read_times_out_once, 0, 2);
	tcase_add_loop_test(r, readn_times_out_once, 0, 2);
	suite_add_tcase(s, r);
	return s;
}

int main(void)
{
	return tu_run(timeout_suite());
}
