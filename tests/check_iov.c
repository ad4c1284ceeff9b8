/*
 * check_iov.c - nw_writev and nw_readv: whole vectored transfers over
 * random layouts (empty entries, more than IOV_MAX entries), short writes,
 * non-blocking descriptors, pipes, EPIPE without SIGPIPE, end of file.
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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define LAYOUTS 1000
#define POOL (64 * 1024)

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

/* A random layout: a quarter above IOV_MAX entries, a quarter of entries empty. */
static struct iovec *make_layout(uint64_t *s, unsigned char *pool, int *cnt)
{
	bool big = rng_below(s, 4) == 0;
	int n = big ? IOV_MAX + 1 + (int)rng_below(s, 2 * IOV_MAX) : (int)rng_below(s, 48);
	size_t maxlen = big ? 40 : 400;
	struct iovec *iov = calloc((size_t)n + 1, sizeof *iov);

	ck_assert_ptr_nonnull(iov);
	for (int i = 0; i < n; i++) {
		size_t len = rng_below(s, 4) == 0 ? 0 : 1 + rng_below(s, maxlen);

		/* Entries point anywhere in the pool, so a wrong base shows in the bytes. */
		iov[i].iov_base = pool + rng_below(s, POOL - len);
		iov[i].iov_len = len;
	}
	*cnt = n;
	return iov;
}

/* Cut total into a random reading layout over buf, empty entries included. */
static struct iovec *split_layout(uint64_t *s, unsigned char *buf, size_t total, int *cnt)
{
	int room = 64, n = 0;
	struct iovec *iov = malloc((size_t)room * sizeof *iov);
	size_t done = 0, step = rng_below(s, 3) == 0 ? 8 : 2000;

	ck_assert_ptr_nonnull(iov);
	while (done < total || (n < 3 && rng_below(s, 2))) {
		size_t len = rng_below(s, 5) == 0 ? 0 : 1 + rng_below(s, step);

		if (len > total - done)
			len = total - done;
		if (n == room) {
			room *= 2;
			iov = realloc(iov, (size_t)room * sizeof *iov);
			ck_assert_ptr_nonnull(iov);
		}
		iov[n].iov_base = buf + done;
		iov[n].iov_len = len;
		done += len;
		n++;
	}
	*cnt = n;
	return iov;
}

struct reader_job {
	int fd;
	const struct iovec *iov;
	int cnt;
	ssize_t got;
	int err;
};

static void *read_layout(void *arg)
{
	struct reader_job *job = arg;

	job->got = nw_readv(job->fd, job->iov, job->cnt);
	job->err = errno;
	return NULL;
}

/* Write one layout through nw_writev, read it with nw_readv, compare. */
static void one_layout(uint64_t *s, unsigned char *pool, int wfd, int rfd)
{
	int wcnt, rcnt;
	struct iovec *wiov = make_layout(s, pool, &wcnt);
	struct iovec *snapshot = malloc(((size_t)wcnt + 1) * sizeof *snapshot);
	size_t total = 0, off = 0;
	unsigned char *want, *got;
	struct reader_job job;
	pthread_t t;

	ck_assert_ptr_nonnull(snapshot);
	memcpy(snapshot, wiov, (size_t)wcnt * sizeof *wiov);
	for (int i = 0; i < wcnt; i++)
		total += wiov[i].iov_len;
	want = malloc(total + 1);
	got = malloc(total + 1);
	ck_assert(want && got);
	for (int i = 0; i < wcnt; i++) {
		memcpy(want + off, wiov[i].iov_base, wiov[i].iov_len);
		off += wiov[i].iov_len;
	}
	memset(got, 0xee, total + 1);
	job = (struct reader_job){ .fd = rfd };
	job.iov = split_layout(s, got, total, &rcnt);
	job.cnt = rcnt;
	ck_assert_int_eq(pthread_create(&t, NULL, read_layout, &job), 0);
	ck_assert_msg(nw_writev(wfd, wiov, wcnt) == (ssize_t)total,
		      "nw_writev of %d entries, %zu bytes: %s", wcnt, total, nw_errmsg());
	pthread_join(t, NULL);
	ck_assert_msg(job.got == (ssize_t)total, "nw_readv of %d entries: %zd of %zu (%s)",
		      rcnt, job.got, total, strerror(job.err));
	ck_assert_msg(memcmp(want, got, total) == 0, "bytes differ: %d entries written, %d read",
		      wcnt, rcnt);
	ck_assert_int_eq(got[total], 0xee);
	ck_assert_msg(memcmp(snapshot, wiov, (size_t)wcnt * sizeof *wiov) == 0,
		      "nw_writev changed the caller's array");
	free((void *)job.iov);
	free(snapshot);
	free(wiov);
	free(want);
	free(got);
}

START_TEST(random_layouts_are_byte_exact)
{
	unsigned char *pool = malloc(POOL);
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ (uint64_t)_i;
	int layouts = RUNNING_ON_VALGRIND ? LAYOUTS / 10 : LAYOUTS;

	ck_assert_ptr_nonnull(pool);
	tu_fill_random(pool, POOL, 14);
	for (int k = 0; k < layouts; k++) {
		int sv[2];
		int small = 4096;

		/* Socket pairs with a small buffer (short writes), some non-blocking; pipes. */
		if (_i == 2) {
			ck_assert_int_eq(pipe2(sv, O_CLOEXEC), 0);
			int tmp = sv[0];
			sv[0] = sv[1];
			sv[1] = tmp;
		} else {
			ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
			setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
			setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		}
		if (_i == 1) {
			ck_assert_int_eq(nw_set_nonblock(sv[0], 1), 0);
			ck_assert_int_eq(nw_set_nonblock(sv[1], 1), 0);
		}
		one_layout(&s, pool, sv[0], sv[1]);
		close(sv[0]);
		close(sv[1]);
	}
	free(pool);
}
END_TEST

START_TEST(epipe_without_sigpipe)
{
	char a[] = "head", b[] = "body";
	struct iovec iov[3] = { { a, 4 }, { NULL, 0 }, { b, 4 } };
	sigset_t pending;
	int sv[2], p[2];

	/* SIGPIPE's default action would end this process. */
	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	tu_assert_fails(nw_writev(sv[0], iov, 3), EPIPE);
	close(sv[0]);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	tu_assert_fails(nw_writev(p[1], iov, 3), EPIPE);
	close(p[1]);
	sigpending(&pending);
	ck_assert(!sigismember(&pending, SIGPIPE));
}
END_TEST

START_TEST(readv_stops_at_end_of_file)
{
	char x[8], y[8];
	struct iovec iov[2] = { { x, sizeof x }, { y, sizeof y } };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_writen(sv[1], "0123456789", 10), 10);
	close(sv[1]);
	ck_assert_int_eq(nw_readv(sv[0], iov, 2), 10);
	ck_assert_int_eq(memcmp(x, "01234567", 8), 0);
	ck_assert_int_eq(memcmp(y, "89", 2), 0);
	ck_assert_int_eq(nw_readv(sv[0], iov, 2), 0);
	close(sv[0]);
}
END_TEST

/* More than IOV_MAX empty entries before the data: not an end of file. */
START_TEST(long_runs_of_empty_entries)
{
	int cnt = IOV_MAX + 5;
	struct iovec *iov = calloc((size_t)cnt, sizeof *iov);
	char out[4] = "data", in[4];
	int sv[2];

	ck_assert_ptr_nonnull(iov);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	iov[cnt - 1] = (struct iovec){ out, sizeof out };
	ck_assert_int_eq(nw_writev(sv[0], iov, cnt), 4);
	iov[cnt - 1] = (struct iovec){ in, sizeof in };
	ck_assert_int_eq(nw_readv(sv[1], iov, cnt), 4);
	ck_assert_int_eq(memcmp(in, "data", 4), 0);
	close(sv[0]);
	close(sv[1]);
	free(iov);
}
END_TEST

START_TEST(readv_times_out)
{
	char x[4];
	struct iovec iov = { x, sizeof x };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_set_timeout(sv[0], 200), 0);
	tu_assert_fails(nw_readv(sv[0], &iov, 1), ETIMEDOUT);
	ck_assert_int_eq(nw_set_nonblock(sv[0], 1), 0);
	tu_assert_fails(nw_readv(sv[0], &iov, 1), ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(bad_arrays_are_einval)
{
	char x[4];
	struct iovec iov[2] = { { x, sizeof x }, { NULL, 4 } };
	struct iovec huge[2] = { { x, SSIZE_MAX }, { x, 2 } };

	tu_assert_fails(nw_writev(1, iov, -1), EINVAL);
	tu_assert_fails(nw_writev(1, NULL, 1), EINVAL);
	tu_assert_fails(nw_readv(0, iov, 2), EINVAL);
	tu_assert_fails(nw_writev(1, huge, 2), EINVAL);
	ck_assert_int_eq(nw_writev(1, NULL, 0), 0);
}
END_TEST

static Suite *iov_suite(void)
{
	Suite *s = suite_create("iov");
	TCase *tc = tcase_create("iov");

	tcase_set_timeout(tc, 120);
	/* 0: blocking socket pairs, 1: non-blocking ones, 2: pipes. */
	tcase_add_loop_test(tc, random_layouts_are_byte_exact, 0, 3);
	tcase_add_test(tc, epipe_without_sigpipe);
	tcase_add_test(tc, readv_stops_at_end_of_file);
	tcase_add_test(tc, long_runs_of_empty_entries);
	tcase_add_test(tc, readv_times_out);
	tcase_add_test(tc, bad_arrays_are_einval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(iov_suite());
}
