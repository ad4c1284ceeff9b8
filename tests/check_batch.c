/*
 * check_batch.c - nw_recv_batch and nw_send_batch: 100,000 datagrams of
 * random sizes each checked (truncated ones flagged), partial batches,
 * peers over UDP, timeouts, EINTR, a failing datagram in mid-batch.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DATAGRAMS 100000
#define MAX_SIZE 1500		/* datagram sizes: 0 to MAX_SIZE */
#define ROOM 1024		/* receive buffers: larger ones are truncated */
#define MAX_BATCH 200

/* Size and bytes of datagram i: a pure function of i. */
static size_t size_of(uint32_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	return (size_t)(x % (MAX_SIZE + 1));
}

static void fill_of(uint32_t i, unsigned char *buf, size_t n)
{
	tu_fill_random(buf, n, i);
	if (n >= sizeof i)
		memcpy(buf, &i, sizeof i);	/* a stamp: a swapped datagram shows at once */
}

struct sender_job {
	int fd;
	uint32_t count;
	ssize_t status;
	char msg[256];
};

static void *send_all(void *arg)
{
	struct sender_job *job = arg;
	struct nw_dgram *d = calloc(MAX_BATCH, sizeof *d);
	unsigned char *bufs = malloc((size_t)MAX_BATCH * MAX_SIZE);
	uint64_t s = 12345;
	uint32_t next = 0;

	job->status = 0;
	while (d && bufs && next < job->count) {
		size_t n = 1 + (size_t)((s = s * 6364136223846793005ULL + 1) >> 33) % MAX_BATCH;

		if (n > job->count - next)
			n = job->count - next;
		for (size_t k = 0; k < n; k++) {
			d[k].buf = bufs + k * MAX_SIZE;
			d[k].len = size_of(next + (uint32_t)k);
			d[k].peerlen = 0;
			fill_of(next + (uint32_t)k, d[k].buf, d[k].len);
		}
		if (nw_send_batch(job->fd, d, n, sizeof *d) != (ssize_t)n) {
			job->status = -1;
			snprintf(job->msg, sizeof job->msg, "%s", nw_errmsg());
			break;
		}
		for (size_t k = 0; k < n; k++)
			if (!(d[k].flags & NW_DGRAM_SENT)) {
				job->status = -1;
				snprintf(job->msg, sizeof job->msg, "datagram %zu not marked sent", k);
			}
		next += (uint32_t)n;
	}
	free(d);
	free(bufs);
	return NULL;
}

/* Sender in a thread, receiver here, over a lossless Unix datagram pair. */
START_TEST(hundred_thousand_datagrams_each_checked)
{
	struct nw_dgram *d = calloc(MAX_BATCH, sizeof *d);
	unsigned char *bufs = malloc((size_t)MAX_BATCH * ROOM);
	unsigned char *want = malloc(MAX_SIZE);
	struct sender_job job = { 0 };
	uint32_t count = RUNNING_ON_VALGRIND ? DATAGRAMS / 20 : DATAGRAMS, next = 0;
	unsigned truncated = 0, calls = 0;
	uint64_t s = 777;
	pthread_t t;
	int sv[2];

	ck_assert(d && bufs && want);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	/* _i 1: non-blocking ends, where a full buffer makes sendmmsg stop short. */
	if (_i == 1) {
		ck_assert_int_eq(nw_set_nonblock(sv[0], 1), 0);
		ck_assert_int_eq(nw_set_nonblock(sv[1], 1), 0);
	}
	job.fd = sv[0];
	job.count = count;
	ck_assert_int_eq(pthread_create(&t, NULL, send_all, &job), 0);
	while (next < count) {
		size_t n = 1 + (size_t)((s = s * 6364136223846793005ULL + 1) >> 33) % MAX_BATCH;
		ssize_t got;

		for (size_t k = 0; k < n; k++) {
			d[k].buf = bufs + k * ROOM;
			d[k].size = ROOM;
			d[k].flags = -1;
		}
		got = nw_recv_batch(sv[1], d, n, sizeof *d);
		ck_assert_msg(got >= 1 && (size_t)got <= n, "nw_recv_batch: %zd (%s)", got,
			      nw_errmsg());
		calls++;
		for (ssize_t k = 0; k < got; k++, next++) {
			size_t size = size_of(next), stored = size < ROOM ? size : ROOM;

			ck_assert_msg(next < count, "more datagrams than were sent");
			fill_of(next, want, size);
			ck_assert_msg(d[k].len == stored, "datagram %u: %zu bytes, want %zu", next,
				      d[k].len, stored);
			ck_assert_msg(d[k].flags == (size > ROOM ? NW_DGRAM_TRUNC : 0),
				      "datagram %u (%zu bytes into %d): flags %d", next, size, ROOM,
				      d[k].flags);
			ck_assert_msg(memcmp(d[k].buf, want, stored) == 0, "datagram %u differs", next);
			truncated += size > ROOM;
		}
	}
	pthread_join(t, NULL);
	ck_assert_msg(job.status == 0, "sender: %s", job.msg);
	ck_assert_uint_gt(truncated, count / 10);
	ck_assert_uint_lt(calls, count);	/* batches did move several at once */
	close(sv[0]);
	close(sv[1]);
	free(d);
	free(bufs);
	free(want);
}
END_TEST

/* Datagrams from two clients come back to each, through one UDP socket. */
START_TEST(udp_peers_are_answered)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int client[2];
	struct sockaddr_storage to;
	socklen_t tolen;
	struct nw_dgram d[8];
	char bufs[8][64], port[8], reply[64];
	size_t got = 0;

	tu_port_str(server, port);
	ck_assert_int_eq(nw_resolve("127.0.0.1", port, SOCK_DGRAM, &to, &tolen), 0);
	for (int c = 0; c < 2; c++) {
		client[c] = tu_assert_ok(nw_udp_connect("127.0.0.1", port));
		ck_assert_int_eq(nw_set_timeout(client[c], 5000), 0);
		for (int k = 0; k < 4; k++) {
			char msg[16];
			int len = snprintf(msg, sizeof msg, "c%d-%d", c, k);

			ck_assert_int_eq(send(client[c], msg, (size_t)len, 0), len);
		}
	}
	ck_assert_int_eq(nw_set_timeout(server, 5000), 0);
	memset(d, 0, sizeof d);
	while (got < 8) {
		for (size_t k = got; k < 8; k++) {
			d[k].buf = bufs[k];
			d[k].size = sizeof bufs[k];
		}
		got += (size_t)tu_assert_ok(nw_recv_batch(server, d + got, 8 - got, sizeof d[0]));
	}
	/* The echo: each datagram goes back to the peer it came from. */
	ck_assert_int_eq(nw_send_batch(server, d, 8, sizeof d[0]), 8);
	for (int c = 0; c < 2; c++)
		for (int k = 0; k < 4; k++) {
			char want[16];
			int len = snprintf(want, sizeof want, "c%d-%d", c, k);
			ssize_t n = recv(client[c], reply, sizeof reply, 0);

			ck_assert_int_eq(n, len);
			ck_assert_int_eq(memcmp(reply, want, (size_t)len), 0);
		}
	close(client[0]);
	close(client[1]);
	close(server);
}
END_TEST

/*
 * Runs to one peer go out under UDP GSO: each must still arrive as its own
 * datagram, with its own length (runs of equal lengths, a shorter last one,
 * empty datagrams, lengths that break runs).  _i 1: checksums off on the
 * sender (SO_NO_CHECK), where the kernel refuses GSO with EINVAL and the
 * batch goes datagram by datagram instead.
 */
START_TEST(runs_to_one_peer_stay_separate_datagrams)
{
	static const size_t pattern[] = { 300, 300, 300, 120, 300, 0, 0, 77, 77, 77, 77, 500 };
	enum { N = 96 };
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int fd = tu_assert_ok(nw_udp_socket(AF_INET));
	static unsigned char out[N][512];
	unsigned char in[600];
	struct nw_dgram d[N];
	char port[8];
	int on = 1;

	tu_port_str(server, port);
	ck_assert_int_eq(nw_set_timeout(server, 5000), 0);
	if (_i == 1)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &on, sizeof on), 0);
	memset(d, 0, sizeof d);
	for (int k = 0; k < N; k++) {
		/* The first 64 are one run of 200: the longest run a message may carry. */
		size_t len = k < 64 ? 200 : pattern[k % (sizeof pattern / sizeof pattern[0])];

		ck_assert_int_eq(nw_resolve("127.0.0.1", port, SOCK_DGRAM, &d[k].peer,
					    &d[k].peerlen), 0);
		tu_fill_random(out[k], len, (unsigned)k + 1);
		d[k].buf = out[k];
		d[k].len = len;
	}
	ck_assert_int_eq(nw_send_batch(fd, d, N, sizeof d[0]), N);
	for (int k = 0; k < N; k++) {
		ssize_t n = recv(server, in, sizeof in, 0);

		ck_assert_int_eq(d[k].flags, NW_DGRAM_SENT);
		ck_assert_msg(n == (ssize_t)d[k].len, "datagram %d: %zd bytes, sent %zu", k, n,
			      d[k].len);
		ck_assert_msg(memcmp(in, out[k], d[k].len) == 0, "datagram %d differs", k);
	}
	close(fd);
	close(server);
}
END_TEST

START_TEST(timeouts_are_honoured)
{
	int fd = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	char buf[8];
	struct nw_dgram d = { .buf = buf, .size = sizeof buf };
	struct timespec a, b;

	ck_assert_int_eq(nw_set_timeout(fd, 300), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	tu_assert_fails(nw_recv_batch(fd, &d, 1, sizeof d), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_ge((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 250);
	ck_assert_int_eq(nw_set_nonblock(fd, 1), 0);
	tu_assert_fails(nw_recv_batch(fd, &d, 1, sizeof d), ETIMEDOUT);
	close(fd);
}
END_TEST

/* A peer that never reads: sending waits as long as the socket's timeout, then ETIMEDOUT. */
START_TEST(send_timeouts_are_honoured)
{
	char buf[512] = { 0 };
	struct nw_dgram d[16];
	ssize_t r;
	int sv[2], rounds = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_set_timeout(sv[0], 300), 0);
	if (_i == 1)
		ck_assert_int_eq(nw_set_nonblock(sv[0], 1), 0);
	memset(d, 0, sizeof d);
	for (int k = 0; k < 16; k++) {
		d[k].buf = buf;
		d[k].len = sizeof buf;
	}
	do
		r = nw_send_batch(sv[0], d, 16, sizeof d[0]);
	while (r == 16 && ++rounds < 100000);
	ck_assert_msg(r == -1 && errno == ETIMEDOUT, "after %d batches: %zd (%s)", rounds, r,
		      nw_errmsg());
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct late_job {
	int fd;
	unsigned delay_ms;
};

static void *send_late(void *arg)
{
	struct late_job *job = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	usleep(job->delay_ms * 1000);
	if (send(job->fd, "late", 4, 0) != 4)
		return (void *)1;
	return NULL;
}

/* Signals while nw_recv_batch waits: it goes on waiting and gets the datagram. */
START_TEST(eintr_is_retried)
{
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct late_job job;
	char buf[8];
	struct nw_dgram d = { .buf = buf, .size = sizeof buf };
	pthread_t t;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	job.fd = sv[0];
	job.delay_ms = 300;
	tu_interrupting_handler(SIGALRM);
	ck_assert_int_eq(pthread_create(&t, NULL, send_late, &job), 0);
	setitimer(ITIMER_REAL, &every, NULL);
	ck_assert_int_eq(nw_recv_batch(sv[1], &d, 1, sizeof d), 1);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(t, NULL);
	ck_assert_int_eq(d.len, 4);
	ck_assert_int_eq(memcmp(buf, "late", 4), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A datagram that cannot be sent ends the batch; those before it are marked. */
START_TEST(failing_datagram_is_reported)
{
	int server = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	int fd = tu_assert_ok(nw_udp_socket(AF_INET));
	static char big[70000];
	struct nw_dgram d[4];
	char port[8];

	tu_port_str(server, port);
	memset(d, 0, sizeof d);
	for (int k = 0; k < 4; k++) {
		ck_assert_int_eq(nw_resolve("127.0.0.1", port, SOCK_DGRAM, &d[k].peer, &d[k].peerlen),
				 0);
		d[k].buf = big;
		d[k].len = k == 2 ? sizeof big : 10;
	}
	tu_assert_fails(nw_send_batch(fd, d, 4, sizeof d[0]), EMSGSIZE);
	ck_assert_int_eq(d[0].flags, NW_DGRAM_SENT);
	ck_assert_int_eq(d[1].flags, NW_DGRAM_SENT);
	ck_assert_int_eq(d[2].flags, 0);
	ck_assert_int_eq(d[3].flags, 0);
	close(fd);
	close(server);
}
END_TEST

START_TEST(bad_arrays_are_einval)
{
	struct nw_dgram d = { 0 };

	tu_assert_fails(nw_recv_batch(0, &d, 1, sizeof d - 1), EINVAL);
	tu_assert_fails(nw_send_batch(1, NULL, 1, sizeof d), EINVAL);
	d.size = 10;
	tu_assert_fails(nw_recv_batch(0, &d, 1, sizeof d), EINVAL);
	ck_assert_int_eq(nw_send_batch(1, NULL, 0, sizeof d), 0);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");

	tcase_set_timeout(tc, 120);
	/* 0: blocking ends, 1: non-blocking ends (partial sendmmsg). */
	tcase_add_loop_test(tc, hundred_thousand_datagrams_each_checked, 0, 2);
	tcase_add_test(tc, udp_peers_are_answered);
	tcase_add_loop_test(tc, runs_to_one_peer_stay_separate_datagrams, 0, 2);
	tcase_add_test(tc, timeouts_are_honoured);
	tcase_add_loop_test(tc, send_timeouts_are_honoured, 0, 2);
	tcase_add_test(tc, eintr_is_retried);
	tcase_add_test(tc, failing_datagram_is_reported);
	tcase_add_test(tc, bad_arrays_are_einval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(batch_suite());
}
