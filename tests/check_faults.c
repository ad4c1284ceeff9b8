/*
 * check_faults.c - peers and descriptors that misbehave: a reset in the
 * middle of a transfer, a half-closed peer, a client that gives up before
 * it is accepted, descriptor exhaustion, and the I/O calls on descriptors
 * that are not sockets (pipes, regular files).
 */
#include "config.h"

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* close() that sends a reset instead of a FIN. */
static void close_with_reset(int fd)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin), 0);
	ck_assert_int_eq(close(fd), 0);
}

struct reset_peer {
	int fd;
	size_t read_first;	/* bytes to take before the reset */
};

static void *read_then_reset(void *arg)
{
	struct reset_peer *p = arg;
	char buf[4096];
	size_t got = 0;

	while (got < p->read_first) {
		ssize_t k = read(p->fd, buf, sizeof buf);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close_with_reset(p->fd);
	return NULL;
}

START_TEST(reset_during_writen_is_an_error_not_a_signal)
{
	size_t n = 32u << 20;	/* far more than both socket buffers hold */
	char *big = calloc(1, n);
	struct reset_peer peer = { .read_first = 256 * 1024 };
	pthread_t t;
	int fd;

	ck_assert_ptr_nonnull(big);
	signal(SIGPIPE, SIG_DFL);	/* a SIGPIPE would kill this test */
	tu_tcp_pair(&fd, &peer.fd);
	ck_assert_int_eq(pthread_create(&t, NULL, read_then_reset, &peer), 0);
	errno = 0;
	ck_assert_int_eq(nw_writen(fd, big, n), -1);
	ck_assert_msg(errno == ECONNRESET || errno == EPIPE, "errno %s", strerror(errno));
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_writen"));
	pthread_join(t, NULL);
	close(fd);
	free(big);
}
END_TEST

START_TEST(reset_during_readn_is_econnreset_not_eof)
{
	char buf[2000];
	int fd, peer;

	tu_tcp_pair(&peer, &fd);
	memset(buf, 'a', sizeof buf);
	ck_assert_int_eq(nw_writen(peer, buf, 1000), 1000);
	close_with_reset(peer);
	/* 1000 of the 2000 bytes came: a reset is not the end of the stream. */
	tu_assert_fails(nw_readn(fd, buf, sizeof buf), ECONNRESET);
	close(fd);
}
END_TEST

/*
 * Bytes that arrived before a reset are delivered (unless the kernel
 * dropped them with the connection), the reset is reported once, not
 * taken for the end of the stream, and nothing is made up.
 */
START_TEST(reset_after_partial_line_loses_nothing_delivered)
{
	char line[64], ack, seen[64] = "";
	int fd, peer, resets = 0;
	nw_reader *r;

	tu_tcp_pair(&peer, &fd);
	r = nw_reader_new(fd, 16);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(nw_writen(peer, "whole\n", 6), 6);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 6);
	ck_assert_str_eq(line, "whole\n");
	ck_assert_int_eq(nw_writen(fd, "k", 1), 1);
	ck_assert_int_eq(nw_readn(peer, &ack, 1), 1);
	ck_assert_int_eq(nw_writen(peer, "partial line", 12), 12);
	tu_sleep_ms(50);
	close_with_reset(peer);
	for (int i = 0; i < 4; i++) {
		ssize_t n;

		errno = 0;
		n = nw_readline(r, line, sizeof line);
		if (n == 0)
			break;
		if (n < 0) {
			ck_assert_msg(errno == ECONNRESET, "%s", nw_errmsg());
			resets++;
			continue;
		}
		ck_assert_uint_lt(strlen(seen) + (size_t)n, sizeof seen);
		strcat(seen, line);
	}
	ck_assert_int_eq(resets, 1);
	ck_assert_msg(strcmp(seen, "partial line") == 0 || seen[0] == '\0',
		      "delivered \"%s\"", seen);
	nw_reader_free(r);
	close(fd);
}
END_TEST

START_TEST(half_closed_peer_sends_eof_and_still_receives)
{
	char line[64], buf[16];
	int fd, peer;
	nw_reader *r;

	tu_tcp_pair(&peer, &fd);
	ck_assert_int_eq(nw_writen(peer, "one\nlast, no newline", 20), 20);
	ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
	r = nw_reader_new(fd, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 4);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 16);
	ck_assert_str_eq(line, "last, no newline");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	ck_assert_int_eq(nw_reader_read(r, buf, sizeof buf), 0);
	ck_assert_int_eq(nw_readn(fd, buf, sizeof buf), 0);
	/* Our direction is still open: the peer gets the reply. */
	ck_assert_int_eq(nw_writen(fd, "reply\n", 6), 6);
	ck_assert_int_eq(nw_readn(peer, buf, 6), 6);
	ck_assert_int_eq(memcmp(buf, "reply\n", 6), 0);
	nw_reader_free(r);
	close(fd);
	close(peer);
}
END_TEST

/*
 * A client that connects and vanishes while queued must not make
 * nw_accept fail: it returns that connection (which then reads EOF or a
 * reset) or skips it; either way the next client gets through.
 */
static void accept_survives_vanished_client(bool reset)
{
	char port[8], buf[2];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	int gone = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 2000));
	int live, fd, tries;

	if (reset)
		close_with_reset(gone);
	else
		close(gone);
	tu_sleep_ms(50);
	live = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	ck_assert_int_eq(nw_writen(live, "ok", 2), 2);
	for (tries = 0; tries < 2; tries++) {
		ssize_t n;

		fd = nw_accept(lfd, NULL, NULL);
		ck_assert_msg(fd >= 0, "nw_accept: %s", nw_errmsg());
		n = nw_readn(fd, buf, 2);
		close(fd);
		if (n == 2) {
			ck_assert_int_eq(memcmp(buf, "ok", 2), 0);
			break;
		}
		ck_assert_msg(n == 0 || (n == -1 && errno == ECONNRESET),
			      "vanished client read %zd / %s", n, strerror(errno));
	}
	ck_assert_int_lt(tries, 2);
	close(live);
	close(lfd);
}

START_TEST(client_reset_before_accept)
{
	accept_survives_vanished_client(true);
}
END_TEST

START_TEST(client_closed_before_accept)
{
	accept_survives_vanished_client(false);
}
END_TEST

/* The lowest descriptor number now free. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

/*
 * Fill every free number below the highest open descriptor, so that a
 * limit just above it leaves no room and every open descriptor below it
 * (valgrind treats descriptors at or above the limit as invalid).
 * Returns how many it opened, their numbers in fill[].
 */
static int fill_fd_holes(int top, int *fill, int max)
{
	int n = 0, fd;

	while (n < max && (fd = lowest_free_fd()) < top)
		fill[n++] = fcntl(0, F_DUPFD_CLOEXEC, fd);
	ck_assert_int_lt(n, max);
	return n;
}

START_TEST(descriptor_limit_is_emfile_and_keeps_the_client_queued)
{
	char port[8], byte = 0;
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	int cfd = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 2000));
	int fill[64], nfill = fill_fd_holes(lfd > cfd ? lfd : cfd, fill, 64);
	struct rlimit old, low;
	int sfd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd();
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	tu_assert_fails(nw_accept(lfd, NULL, NULL), EMFILE);
	tu_assert_fails(nw_tcp_listen("127.0.0.1", "0", 1), EMFILE);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, 2000), EMFILE);
	tu_assert_fails(nw_udp_connect("127.0.0.1", port), EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	while (nfill > 0)
		close(fill[--nfill]);
	if (RUNNING_ON_VALGRIND) {
		/*
		 * valgrind only emulates the lower limit: the kernel accepted the
		 * connection and valgrind closed it.  Show the listener still works.
		 */
		close(cfd);
		cfd = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	}
	sfd = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	ck_assert_int_eq(nw_writen(cfd, "y", 1), 1);
	ck_assert_int_eq(nw_readn(sfd, &byte, 1), 1);
	ck_assert_int_eq(byte, 'y');
	close(sfd);
	close(cfd);
	close(lfd);
}
END_TEST

struct pipe_writer {
	int fd;
	const char *data;
	size_t n;
	long delay_ms;
	ssize_t result;
};

static void *write_to_pipe(void *arg)
{
	struct pipe_writer *w = arg;

	if (w->delay_ms)
		tu_sleep_ms(w->delay_ms);
	w->result = nw_writen(w->fd, w->data, w->n);
	close(w->fd);
	return NULL;
}

START_TEST(readn_writen_through_a_pipe)
{
	size_t n = 3u << 20;
	char *in = malloc(n), *out = malloc(n + 1);
	struct pipe_writer w = { .n = n };
	int p[2];
	pthread_t t;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	tu_fill_random(in, n, 7);
	w.data = in;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	w.fd = p[1];
	ck_assert_int_eq(pthread_create(&t, NULL, write_to_pipe, &w), 0);
	ck_assert_int_eq(nw_readn(p[0], out, n + 1), (ssize_t)n);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.result, (ssize_t)n);
	ck_assert_int_eq(memcmp(in, out, n), 0);
	close(p[0]);
	free(in);
	free(out);
}
END_TEST

START_TEST(readn_waits_on_a_nonblocking_pipe)
{
	struct pipe_writer w = { .data = "late data", .n = 9, .delay_ms = 100 };
	char buf[16];
	int p[2];
	pthread_t t;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(nw_set_nonblock(p[0], 1), 0);
	w.fd = p[1];
	ck_assert_int_eq(pthread_create(&t, NULL, write_to_pipe, &w), 0);
	ck_assert_int_eq(nw_readn(p[0], buf, sizeof buf), 9);
	ck_assert_int_eq(memcmp(buf, "late data", 9), 0);
	pthread_join(t, NULL);
	close(p[0]);
}
END_TEST

START_TEST(writen_to_a_pipe_without_reader_is_epipe_without_signal)
{
	sigset_t pending;
	int p[2];

	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	tu_assert_fails(nw_writen(p[1], "x", 1), EPIPE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_writen"));
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(!sigismember(&pending, SIGPIPE));
	close(p[1]);
}
END_TEST

/* The caller's own pending SIGPIPE is theirs: the library must not eat it. */
START_TEST(writen_to_a_pipe_keeps_a_sigpipe_already_pending)
{
	sigset_t pipe_set, pending;
	int p[2];

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &pipe_set, NULL), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	/* Blocked and not pending: the library's own SIGPIPE is taken back. */
	tu_assert_fails(nw_writen(p[1], "x", 1), EPIPE);
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(!sigismember(&pending, SIGPIPE));
	/* Already pending: it stays pending. */
	ck_assert_int_eq(raise(SIGPIPE), 0);
	tu_assert_fails(nw_writen(p[1], "x", 1), EPIPE);
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(sigismember(&pending, SIGPIPE));
	close(p[1]);
}
END_TEST

static int temp_file(void)
{
	char path[] = "/tmp/nwfaults.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
}

START_TEST(readn_writen_on_a_regular_file)
{
	size_t n = 100000;
	char *in = malloc(n), *out = malloc(2 * n);
	int fd = temp_file();

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	tu_fill_random(in, n, 3);
	ck_assert_int_eq(nw_writen(fd, in, n), (ssize_t)n);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	/* A file ends: fewer bytes than asked, then 0. */
	ck_assert_int_eq(nw_readn(fd, out, 2 * n), (ssize_t)n);
	ck_assert_int_eq(memcmp(in, out, n), 0);
	ck_assert_int_eq(nw_readn(fd, out, 1), 0);
	close(fd);
	free(in);
	free(out);
}
END_TEST

START_TEST(reader_on_a_regular_file)
{
	const char text[] = "first\r\nsecond line is long\nno newline";
	char line[8], rest[64];
	int fd = temp_file();
	nw_reader *r;

	ck_assert_int_eq(nw_writen(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	r = nw_reader_new(fd, 4);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 7);
	ck_assert_str_eq(line, "first\r\n");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 7);
	ck_assert_str_eq(line, "second ");
	ck_assert_int_eq(nw_reader_read(r, rest, 13), 13);
	ck_assert_int_eq(memcmp(rest, "line is long\n", 13), 0);
	ck_assert_int_eq(nw_reader_read(r, rest, sizeof rest), 10);
	ck_assert_int_eq(memcmp(rest, "no newline", 10), 0);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	nw_reader_free(r);
	close(fd);
}
END_TEST

/* Regression: a last line without '\n' that was already buffered was lost at EOF. */
START_TEST(unterminated_last_line_survives_eof_on_a_pipe)
{
	char line[32];
	int p[2];
	nw_reader *r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(nw_writen(p[1], "one\ntwo", 7), 7);
	close(p[1]);
	r = nw_reader_new(p[0], 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 4);
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 3);
	ck_assert_str_eq(line, "two");
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 0);
	nw_reader_free(r);
	close(p[0]);
}
END_TEST

START_TEST(io_on_the_wrong_kind_of_descriptor_fails_cleanly)
{
	char buf[8];
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(dir, 0);
	ck_assert_int_ge(ro, 0);
	tu_assert_fails(nw_readn(dir, buf, sizeof buf), EISDIR);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_readn"));
	tu_assert_fails(nw_writen(ro, "x", 1), EBADF);
	tu_assert_fails(nw_readn(-1, buf, 1), EBADF);
	tu_assert_fails(nw_writen(-1, "x", 1), EBADF);
	close(dir);
	close(ro);
}
END_TEST

START_TEST(socket_calls_on_a_pipe_are_enotsock)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	tu_assert_fails(nw_accept(p[0], NULL, NULL), ENOTSOCK);
	tu_assert_fails(nw_local_port(p[0]), ENOTSOCK);
	tu_assert_fails(nw_set_nodelay(p[0], 1), ENOTSOCK);
	tu_assert_fails(nw_set_timeout(p[0], 100), ENOTSOCK);
	tu_assert_fails(nw_set_keepalive(p[0], 10, 5, 3), ENOTSOCK);
	/* Non-blocking mode is for any descriptor. */
	ck_assert_int_eq(nw_set_nonblock(p[0], 1), 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

struct stream_writer {
	int fd;
	const char *data;
	size_t n;
	ssize_t result;
};

/* nw_writen in pieces of 1 to 8192 bytes, then the end of the stream. */
static void *write_in_pieces(void *arg)
{
	struct stream_writer *w = arg;
	unsigned long long x = w->n;
	size_t off = 0;

	w->result = 0;
	while (off < w->n) {
		size_t k;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		k = 1 + (size_t)(x >> 33) % 8192;
		if (k > w->n - off)
			k = w->n - off;
		if (nw_writen(w->fd, w->data + off, k) != (ssize_t)k) {
			w->result = -1;
			break;
		}
		off += k;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/*
 * Random bytes (lines of every length, embedded NULs) through nw_writen
 * and back through nw_readline and nw_reader_read, mixed: every byte
 * arrives, in order, and each line piece ends where fgets would end it.
 * Under `make check-faults` every call here is interrupted and cut short.
 */
static void stream_arrives_in_order(int wfd, int rfd, size_t bufsize)
{
	size_t n = 2u << 20, got = 0;
	char *in = malloc(n), *out = malloc(n + 1), line[700];
	struct stream_writer w = { .fd = wfd, .n = n };
	unsigned long long x = 12345;
	nw_reader *r = nw_reader_new(rfd, bufsize);
	pthread_t t;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(r);
	tu_fill_random(in, n, 11);
	w.data = in;
	ck_assert_int_eq(pthread_create(&t, NULL, write_in_pieces, &w), 0);
	for (;;) {
		ssize_t k;
		size_t size;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		size = 2 + (size_t)(x >> 33) % (sizeof line - 2);
		if (x & 1) {
			k = nw_readline(r, line, size);
			ck_assert_msg(k >= 0, "nw_readline: %s", nw_errmsg());
			ck_assert_uint_le(got + (size_t)k, n);
			memcpy(out + got, line, (size_t)k);
			ck_assert_msg(k == 0 || line[k - 1] == '\n' || (size_t)k == size - 1 ||
				      got + (size_t)k == n, "line piece of %zd bytes", k);
		} else {
			size = size * 7 > n - got ? n - got + 1 : size * 7;
			k = nw_reader_read(r, out + got, size);
			ck_assert_msg(k >= 0, "nw_reader_read: %s", nw_errmsg());
			ck_assert_msg((size_t)k == size || got + (size_t)k == n,
				      "nw_reader_read gave %zd of %zu before the end", k, size);
		}
		got += (size_t)k;
		if (k == 0)
			break;
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(w.result, 0);
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(memcmp(in, out, n), 0);
	nw_reader_free(r);
	free(in);
	free(out);
}

START_TEST(stream_arrives_in_order_over_tcp)
{
	int a, b;

	tu_tcp_pair(&a, &b);
	stream_arrives_in_order(a, b, 0);
	close(a);
	close(b);
}
END_TEST

START_TEST(stream_arrives_in_order_over_nonblocking_socketpair)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_set_nonblock(sv[0], 1), 0);
	ck_assert_int_eq(nw_set_nonblock(sv[1], 1), 0);
	stream_arrives_in_order(sv[0], sv[1], 100);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct acceptor {
	int lfd;
	int count;
	int served;	/* connections whose byte arrived intact */
};

/* Accept count connections; each sends its own number as one byte. */
static void *accept_and_check(void *arg)
{
	struct acceptor *a = arg;

	for (int i = 0; i < a->count; i++) {
		unsigned char byte;
		int fd = nw_accept(a->lfd, NULL, NULL);

		if (fd < 0)
			break;
		if (nw_readn(fd, &byte, 1) == 1 && byte == (unsigned char)i)
			a->served++;
		close(fd);
	}
	return NULL;
}

/*
 * Connects of every kind, while the acceptor sleeps in accept: under
 * `make check-faults` the waits are interrupted and the blocking TCP
 * connect returns EINTR with its handshake still in flight.
 */
static void connect_many(int lfd, int count, const char *port, const char *path)
{
	struct acceptor a = { .lfd = lfd, .count = count };
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, accept_and_check, &a), 0);
	for (int i = 0; i < count; i++) {
		unsigned char byte = (unsigned char)i;
		int fd;

		tu_sleep_ms(2);	/* let the acceptor block */
		if (path)
			fd = nw_unix_connect(path);
		else
			fd = nw_tcp_connect("127.0.0.1", port, i % 2 ? -1 : 5000);
		ck_assert_msg(fd >= 0, "connect %d: %s", i, nw_errmsg());
		ck_assert_int_eq(nw_writen(fd, &byte, 1), 1);
		close(fd);
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(a.served, count);
}

START_TEST(tcp_connects_and_accepts_survive_interruptions)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 64));

	connect_many(lfd, 40, tu_port_str(lfd, port), NULL);
	close(lfd);
}
END_TEST

START_TEST(unix_connects_and_accepts_survive_interruptions)
{
	char path[108];
	int lfd;

	tu_temp_path(path, sizeof path, "s");
	lfd = tu_assert_ok(nw_unix_listen(path, 64));
	connect_many(lfd, 40, NULL, path);
	close(lfd);
	unlink(path);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *peer = tcase_create("peer");
	TCase *fd = tcase_create("descriptor");
	TCase *stream = tcase_create("stream");

	tcase_set_timeout(peer, 15);
	tcase_add_test(peer, reset_during_writen_is_an_error_not_a_signal);
	tcase_add_test(peer, reset_during_readn_is_econnreset_not_eof);
	tcase_add_test(peer, reset_after_partial_line_loses_nothing_delivered);
	tcase_add_test(peer, half_closed_peer_sends_eof_and_still_receives);
	tcase_add_test(peer, client_reset_before_accept);
	tcase_add_test(peer, client_closed_before_accept);
	tcase_add_test(peer, descriptor_limit_is_emfile_and_keeps_the_client_queued);
	suite_add_tcase(s, peer);

	tcase_set_timeout(fd, 15);
	tcase_add_test(fd, readn_writen_through_a_pipe);
	tcase_add_test(fd, readn_waits_on_a_nonblocking_pipe);
	tcase_add_test(fd, writen_to_a_pipe_without_reader_is_epipe_without_signal);
	tcase_add_test(fd, writen_to_a_pipe_keeps_a_sigpipe_already_pending);
	tcase_add_test(fd, readn_writen_on_a_regular_file);
	tcase_add_test(fd, reader_on_a_regular_file);
	tcase_add_test(fd, unterminated_last_line_survives_eof_on_a_pipe);
	tcase_add_test(fd, io_on_the_wrong_kind_of_descriptor_fails_cleanly);
	tcase_add_test(fd, socket_calls_on_a_pipe_are_enotsock);
	suite_add_tcase(s, fd);

	tcase_set_timeout(stream, 30);
	tcase_add_test(stream, stream_arrives_in_order_over_tcp);
	tcase_add_test(stream, stream_arrives_in_order_over_nonblocking_socketpair);
	tcase_add_test(stream, tcp_connects_and_accepts_survive_interruptions);
	tcase_add_test(stream, unix_connects_and_accepts_survive_interruptions);
	suite_add_tcase(s, stream);
	return s;
}

int main(void)
{
	return tu_run(faults_suite());
}
