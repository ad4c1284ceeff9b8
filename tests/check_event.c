/*
 * check_event.c - the event model (NW_SERVER_EVENT): its API, callbacks
 * (framing by consumed bytes, closing from callbacks, posts from other
 * threads to live and closed connections), lingering close, stop with
 * connections open, and the loads it exists for: 10,000 connections at
 * once, idle connections that cost little and starve no one, clients that
 * never read, running out of descriptors.
 *
 * Callback tests run the server in a thread of the test process; the load
 * tests run it in a child process, as a real server runs, so the test can
 * read its memory from /proc and give each side its own descriptor limit.
 */
#include "testutil.h"
#include "serveutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the callbacks saw, in memory shared with a server child process. */
struct shared {
	atomic_int opened, closed;
	atomic_int close_err[8];	/* by kind: see err_kind */
	atomic_int posts_ok, posts_stale;
	atomic_uint_least64_t last_id;
	nw_server *server;
};

enum { K_CLEAN, K_CANCELED, K_TIMEDOUT, K_RESET, K_OTHER };

static int err_kind(int err)
{
	return err == 0 ? K_CLEAN : err == ECANCELED ? K_CANCELED : err == ETIMEDOUT ? K_TIMEDOUT :
	       err == ECONNRESET || err == EPIPE ? K_RESET : K_OTHER;
}

static struct shared *shared_new(void)
{
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(sh, 0, sizeof *sh);
	return sh;
}

static void count_open(nw_conn *c)
{
	struct shared *sh = nw_conn_arg(c);

	atomic_store(&sh->last_id, nw_conn_id(c));
	atomic_fetch_add(&sh->opened, 1);
}

static void count_close(nw_conn *c, int err)
{
	struct shared *sh = nw_conn_arg(c);

	atomic_fetch_add(&sh->close_err[err_kind(err)], 1);
	atomic_fetch_add(&sh->closed, 1);
}

static size_t echo_data(nw_conn *c, const char *data, size_t len)
{
	if (nw_conn_send(c, data, len) < 0)
		nw_conn_close(c);
	return len;
}

static const struct nw_conn_ops echo_ops = {
	.on_open = count_open, .on_data = echo_data, .on_close = count_close,
};

static bool wait_for(atomic_int *v, int want, int timeout_ms)
{
	int64_t end = tu_now_ms() + timeout_ms;

	while (atomic_load(v) < want && tu_now_ms() < end)
		tu_sleep_ms(2);
	return atomic_load(v) >= want;
}

/* Wait until *v is at least 1 and has not changed for 300 ms (or timeout_ms); its value. */
static int wait_settled(atomic_int *v, int timeout_ms)
{
	int64_t end = tu_now_ms() + timeout_ms, since = tu_now_ms();
	int last = atomic_load(v);

	while (tu_now_ms() < end && (last < 1 || tu_now_ms() - since < 300)) {
		int cur;

		tu_sleep_ms(10);
		cur = atomic_load(v);
		if (cur != last) {
			last = cur;
			since = tu_now_ms();
		}
	}
	return last;
}

/* ---- a server in a thread of the test process ---- */

struct tserver {
	nw_server *s;
	int lfd;
	char port[8];
	pthread_t thread;
	int rc;
	struct shared *sh;
};

static void *run_thread(void *arg)
{
	struct tserver *t = arg;

	t->rc = nw_server_run(t->s);
	return NULL;
}

static void tserver_start(struct tserver *t, const struct nw_conn_ops *ops, int workers)
{
	t->sh = shared_new();
	t->lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	tu_port_str(t->lfd, t->port);
	t->s = nw_server_new_events(t->lfd, ops, sizeof *ops, t->sh);
	ck_assert_msg(t->s != NULL, "nw_server_new_events: %s", nw_errmsg());
	t->sh->server = t->s;
	tu_assert_ok(nw_server_set_model(t->s, NW_SERVER_EVENT, workers));
	tu_assert_ok(nw_server_set_grace(t->s, 2000));
}

static void tserver_go(struct tserver *t)
{
	ck_assert_int_eq(pthread_create(&t->thread, NULL, run_thread, t), 0);
}

static void tserver_stop(struct tserver *t)
{
	nw_server_stop(t->s);
	pthread_join(t->thread, NULL);
	ck_assert_msg(t->rc == 0, "nw_server_run: %s", nw_errmsg());
	nw_server_free(t->s);
	close(t->lfd);
}

static int client(const char *port)
{
	int fd = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 5000));

	tu_assert_ok(nw_set_timeout(fd, 10000));
	tu_assert_ok(nw_set_nodelay(fd, 1));
	return (int)fd;
}

static void send_str(int fd, const char *s)
{
	ck_assert_int_eq(nw_writen(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void expect_str(int fd, const char *s)
{
	size_t len = strlen(s);
	char buf[256];

	ck_assert_uint_lt(len, sizeof buf);
	ck_assert_msg(nw_readn(fd, buf, len) == (ssize_t)len, "short reply: %s", nw_errmsg());
	buf[len] = '\0';
	ck_assert_str_eq(buf, s);
}

/* ---- the API ---- */

static void no_handler(int fd, const struct sockaddr *p, socklen_t l, void *a)
{
	(void)fd, (void)p, (void)l, (void)a;
}

START_TEST(api_rejects_what_cannot_work)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	struct nw_conn_ops none = { 0 };
	nw_server *s, *plain;

	ck_assert_ptr_null(nw_server_new_events(lfd, NULL, 0, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(nw_server_new_events(lfd, &none, sizeof none, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(nw_server_new_events(-1, &echo_ops, sizeof echo_ops, NULL));
	/* A table of an older, shorter layout still works: on_open and on_data only. */
	s = nw_server_new_events(lfd, &echo_ops, offsetof(struct nw_conn_ops, on_drain), NULL);
	ck_assert_ptr_nonnull(s);
	tu_assert_fails(nw_server_set_model(s, NW_SERVER_THREAD, 0), EINVAL);
	tu_assert_fails(nw_server_set_model(s, NW_SERVER_EVENT, -1), EINVAL);
	tu_assert_ok(nw_server_set_model(s, NW_SERVER_EVENT, 3));
	tu_assert_fails(nw_server_set_watermarks(s, 10, 10), EINVAL);
	tu_assert_fails(nw_server_set_watermarks(s, 0, 0), EINVAL);
	tu_assert_ok(nw_server_set_watermarks(s, 0, 4096));
	/* Not running: every id is stale. */
	tu_assert_fails(nw_server_post(s, 1, "x", 1, 0), ENOTCONN);
	tu_assert_fails(nw_server_post(s, 1, "x", 1, 0x100), EINVAL);
	tu_assert_fails(nw_server_post(NULL, 1, "x", 1, 0), EINVAL);
	plain = nw_server_new(lfd, no_handler, NULL);
	ck_assert_ptr_nonnull(plain);
	tu_assert_fails(nw_server_set_model(plain, NW_SERVER_EVENT, 1), EINVAL);
	tu_assert_fails(nw_server_set_watermarks(plain, 0, 4096), EINVAL);
	tu_assert_fails(nw_server_post(plain, 1, "x", 1, 0), EINVAL);
	nw_server_free(plain);
	nw_server_free(s);
	close(lfd);
}
END_TEST

static atomic_int fd_flags_ok;

static void check_fd_open(nw_conn *c)
{
	int fd = nw_conn_fd(c);
	char addr[NW_ADDRSTRLEN];
	socklen_t len = 0;
	const struct sockaddr *peer = nw_conn_peer(c, &len);

	nw_addr_str(peer, len, addr, sizeof addr);
	atomic_store(&fd_flags_ok, tu_cloexec(fd) && (fcntl(fd, F_GETFL) & O_NONBLOCK) &&
		     strncmp(addr, "127.0.0.1:", 10) == 0 && nw_conn_data(c) == NULL &&
		     nw_conn_server(c) == ((struct shared *)nw_conn_arg(c))->server ? 1 : 2);
	nw_conn_set_data(c, c);
	count_open(c);
}

static size_t check_data(nw_conn *c, const char *data, size_t len)
{
	if (nw_conn_data(c) != c)
		atomic_store(&fd_flags_ok, 3);
	return echo_data(c, data, len);
}

START_TEST(connections_are_cloexec_nonblocking_and_know_their_peer)
{
	static const struct nw_conn_ops ops = { .on_open = check_fd_open, .on_data = check_data,
						.on_close = count_close };
	struct tserver t;
	int before = tu_count_fds(), fd;
	bool was_open[256];

	for (int i = 0; i < 256; i++)
		was_open[i] = fcntl(i, F_GETFD) >= 0;
	tserver_start(&t, &ops, _i + 1);
	tserver_go(&t);
	fd = client(t.port);
	send_str(fd, "ping");
	expect_str(fd, "ping");
	ck_assert_int_eq(atomic_load(&fd_flags_ok), 1);
	/* Every descriptor the server made (loops, eventfds, connections) is close-on-exec. */
	for (int i = 0; i < 256; i++)
		if (!was_open[i] && fcntl(i, F_GETFD) >= 0)
			ck_assert_msg(tu_cloexec(i), "descriptor %d is not close-on-exec", i);
	close(fd);
	ck_assert(wait_for(&t.sh->closed, 1, 5000));
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_CLEAN]), 1);
	tserver_stop(&t);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

/* ---- framing: on_data returns what it used ---- */

/* One line per call: "abc\n" is answered "3:abc\n"; the rest waits for the next call. */
static size_t line_data(nw_conn *c, const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	char reply[300];
	int n;

	if (nl == NULL)
		return 0;
	n = snprintf(reply, sizeof reply, "%d:%.*s\n", (int)(nl - data), (int)(nl - data), data);
	nw_conn_send(c, reply, (size_t)n);
	return (size_t)(nl - data) + 1;
}

START_TEST(framing_holds_at_every_byte_boundary)
{
	static const struct nw_conn_ops ops = { .on_data = line_data };
	static const char msg[] = "alpha\nbe\n\nthe last line\n";
	static const char want[] = "5:alpha\n2:be\n0:\n13:the last line\n";
	size_t len = strlen(msg);
	struct tserver t;
	int fd;

	tserver_start(&t, &ops, 1);
	tserver_go(&t);
	fd = client(t.port);
	for (size_t cut = 0; cut <= len; cut++) {
		char got[sizeof want];

		if (cut > 0)
			ck_assert_int_eq(nw_writen(fd, msg, cut), (ssize_t)cut);
		/* Let the first piece arrive on its own before the second. */
		tu_sleep_ms(RUNNING_ON_VALGRIND ? 20 : 3);
		if (cut < len)
			ck_assert_int_eq(nw_writen(fd, msg + cut, len - cut), (ssize_t)(len - cut));
		ck_assert_int_eq(nw_readn(fd, got, strlen(want)), (ssize_t)strlen(want));
		ck_assert_msg(memcmp(got, want, strlen(want)) == 0, "cut at %zu: wrong replies", cut);
	}
	close(fd);
	tserver_stop(&t);
}
END_TEST

/* ---- closing from callbacks, lingering ---- */

#define BIG_REPLY (2 * 1024 * 1024)

static void bye_open(nw_conn *c)
{
	nw_conn_send(c, "bye\n", 4);
	nw_conn_close(c);
}

/* "quit" gets a 2 MiB reply and a close; anything else an echo. */
static size_t quit_data(nw_conn *c, const char *data, size_t len)
{
	/* Short reads (the fault injector's) may bring "quit\n" in pieces. */
	if (len < 5 && memcmp(data, "quit\n", len) == 0)
		return 0;
	if (len >= 5 && memcmp(data, "quit\n", 5) == 0) {
		char *big = malloc(BIG_REPLY);

		ck_assert_ptr_nonnull(big);
		tu_fill_random(big, BIG_REPLY, 7);
		nw_conn_send(c, big, BIG_REPLY);
		free(big);
		nw_conn_close(c);
		/* After a close, further sends fail and nothing more is delivered. */
		if (nw_conn_send(c, "x", 1) != -1 || errno != EPIPE)
			abort();
		return 5;
	}
	return echo_data(c, data, len);
}

START_TEST(close_from_on_open_sends_queued_reply)
{
	static const struct nw_conn_ops ops = { .on_open = bye_open, .on_data = echo_data,
						.on_close = count_close };
	struct tserver t;
	char buf[8];
	int fd;

	tserver_start(&t, &ops, 1);
	tserver_go(&t);
	fd = client(t.port);
	expect_str(fd, "bye\n");
	ck_assert_int_eq(read(fd, buf, sizeof buf), 0);
	close(fd);
	ck_assert(wait_for(&t.sh->closed, 1, 5000));
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_CLEAN]), 1);
	tserver_stop(&t);
}
END_TEST

START_TEST(close_from_on_data_lingers_so_no_reply_is_lost)
{
	static const struct nw_conn_ops ops = { .on_data = quit_data, .on_close = count_close };
	struct tserver t;
	char *want = malloc(BIG_REPLY), *got = malloc(BIG_REPLY);
	char extra[64 * 1024];
	int fd;

	ck_assert(want && got);
	tu_fill_random(want, BIG_REPLY, 7);
	memset(extra, 'x', sizeof extra);
	tserver_start(&t, &ops, 1);
	tserver_go(&t);
	fd = client(t.port);
	/* A small receive buffer keeps most of the reply queued in the server. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 64 * 1024 }, sizeof(int));
	send_str(fd, "quit\n");
	tu_sleep_ms(100);
	/* Input the server never reads: a plain close() would answer it with a reset. */
	ck_assert_int_eq(nw_writen(fd, extra, sizeof extra), (ssize_t)sizeof extra);
	tu_sleep_ms(100);
	ck_assert_msg(nw_readn(fd, got, BIG_REPLY) == BIG_REPLY, "reply cut short: %s",
		      nw_errmsg());
	ck_assert(memcmp(got, want, BIG_REPLY) == 0);
	ck_assert_int_eq(read(fd, extra, 1), 0);
	close(fd);
	ck_assert(wait_for(&t.sh->closed, 1, 5000));
	tserver_stop(&t);
	free(want);
	free(got);
}
END_TEST


/* ---- on_drain: a producer paced by the queue ---- */

#define CHUNK (512 * 1024)
#define CHUNKS 8

static atomic_int drains;

/* Chunk i is filled with byte 'a' + i. */
static void send_chunk(nw_conn *c)
{
	static char buf[CHUNK];
	uintptr_t next = (uintptr_t)nw_conn_data(c);

	if (next >= CHUNKS)
		return;
	memset(buf, 'a' + (int)next, sizeof buf);
	nw_conn_set_data(c, (void *)(next + 1));
	nw_conn_send(c, buf, sizeof buf);
}

static size_t stream_data(nw_conn *c, const char *data, size_t len)
{
	(void)data;
	send_chunk(c);
	return len;
}

static void stream_drain(nw_conn *c)
{
	atomic_fetch_add(&drains, 1);
	send_chunk(c);
}

START_TEST(on_drain_paces_a_producer)
{
	static const struct nw_conn_ops ops = { .on_data = stream_data,
						.on_drain = stream_drain };
	struct tserver t;
	char *got = malloc(CHUNK);
	int fd;

	ck_assert_ptr_nonnull(got);
	atomic_store(&drains, 0);
	tserver_start(&t, &ops, 1);
	tserver_go(&t);
	fd = client(t.port);
	send_str(fd, "go");
	for (int i = 0; i < CHUNKS; i++) {
		ck_assert_int_eq(nw_readn(fd, got, CHUNK), CHUNK);
		for (int k = 0; k < CHUNK; k++)
			if (got[k] != 'a' + i)
				ck_abort_msg("chunk %d: wrong byte at %d", i, k);
		/* A slow reader: the queue stays above the low-water mark a while. */
		tu_sleep_ms(10);
	}
	/* Each chunk after the first was sent by on_drain. */
	ck_assert_int_ge(atomic_load(&drains), CHUNKS - 1);
	close(fd);
	tserver_stop(&t);
	free(got);
}
END_TEST

/* ---- other threads ---- */

/* Requests go to a worker thread, which answers through nw_server_post. */
struct job {
	uint64_t id;
	char line[32];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job jobs[256];
	int head, tail;
	bool done;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, .head = 0 };

static size_t defer_data(nw_conn *c, const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	size_t n;

	if (nl == NULL)
		return 0;
	n = (size_t)(nl - data);
	pthread_mutex_lock(&q.lock);
	if (q.tail - q.head < 256) {
		struct job *j = &q.jobs[q.tail++ % 256];

		j->id = nw_conn_id(c);
		snprintf(j->line, sizeof j->line, "%.*s", (int)(n < 30 ? n : 30), data);
		pthread_cond_signal(&q.cond);
	}
	pthread_mutex_unlock(&q.lock);
	return n + 1;
}

static void *worker(void *arg)
{
	struct tserver *t = arg;

	pthread_mutex_lock(&q.lock);
	for (;;) {
		while (q.head == q.tail && !q.done)
			pthread_cond_wait(&q.cond, &q.lock);
		if (q.head == q.tail)
			break;
		struct job j = q.jobs[q.head++ % 256];
		char reply[64];
		int n = snprintf(reply, sizeof reply, "re:%s\n", j.line);

		pthread_mutex_unlock(&q.lock);
		/* "close": answer and close in one post. */
		if (nw_server_post(t->s, j.id, reply, (size_t)n,
				   strcmp(j.line, "close") == 0 ? NW_POST_CLOSE : 0) == 0)
			atomic_fetch_add(&t->sh->posts_ok, 1);
		else if (errno == ENOTCONN)
			atomic_fetch_add(&t->sh->posts_stale, 1);
		pthread_mutex_lock(&q.lock);
	}
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

START_TEST(posts_from_another_thread_reach_live_connections_only)
{
	static const struct nw_conn_ops ops = { .on_open = count_open, .on_data = defer_data,
						.on_close = count_close };
	struct tserver t;
	pthread_t w;
	uint64_t old_id;
	char buf[8];
	int fd, fd2;

	q.head = q.tail = 0;
	q.done = false;
	tserver_start(&t, &ops, 2);
	tserver_go(&t);
	ck_assert_int_eq(pthread_create(&w, NULL, worker, &t), 0);
	fd = client(t.port);
	send_str(fd, "one\ntwo\n");
	expect_str(fd, "re:one\nre:two\n");
	ck_assert(wait_for(&t.sh->opened, 1, 5000));
	old_id = atomic_load(&t.sh->last_id);
	ck_assert(old_id != 0);
	close(fd);
	ck_assert(wait_for(&t.sh->closed, 1, 5000));
	/* The handle went stale: the post is refused, nothing is touched. */
	tu_assert_fails(nw_server_post(t.s, old_id, "late", 4, 0), ENOTCONN);
	/* A new connection in the same slot does not answer to the old id. */
	fd2 = client(t.port);
	send_str(fd2, "three\n");
	expect_str(fd2, "re:three\n");
	ck_assert(atomic_load(&t.sh->last_id) != old_id);
	tu_assert_fails(nw_server_post(t.s, old_id, "late", 4, 0), ENOTCONN);
	send_str(fd2, "close\n");
	expect_str(fd2, "re:close\n");
	ck_assert_int_eq(read(fd2, buf, sizeof buf), 0);
	close(fd2);
	/* Many connections closing while their answers are posted: no crash, no leak. */
	for (int i = 0; i < (RUNNING_ON_VALGRIND ? 20 : 200); i++) {
		int c = client(t.port);

		send_str(c, "racing\n");
		close(c);
	}
	pthread_mutex_lock(&q.lock);
	q.done = true;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
	pthread_join(w, NULL);
	tserver_stop(&t);
	ck_assert_int_ge(atomic_load(&t.sh->posts_ok), 4);
}
END_TEST

/* ---- stop ---- */

START_TEST(stop_with_connections_open)
{
	struct tserver t;
	int fds[50], before = tu_count_fds();
	int64_t t0;
	char buf[8];

	tserver_start(&t, &(struct nw_conn_ops){ .on_open = count_open, .on_data = line_data,
						  .on_close = count_close }, 2);
	tu_assert_ok(nw_server_set_grace(t.s, 3000));
	tserver_go(&t);
	for (int i = 0; i < 50; i++)
		fds[i] = client(t.port);
	/* One connection has half a line kept by the server: it gets the grace period. */
	send_str(fds[0], "half a li");
	ck_assert(wait_for(&t.sh->opened, 50, 5000));
	tu_sleep_ms(50);
	t0 = tu_now_ms();
	nw_server_stop(t.s);
	/* The quiet ones are closed at once, not at the end of the grace period... */
	ck_assert_int_eq(read(fds[1], buf, sizeof buf), 0);
	ck_assert_int_lt(tu_now_ms() - t0, 1500);
	/* ...and the busy one may still finish its line. */
	send_str(fds[0], "ne\n");
	expect_str(fds[0], "11:half a line\n");
	ck_assert_int_eq(read(fds[0], buf, sizeof buf), 0);
	pthread_join(t.thread, NULL);
	ck_assert_int_lt(tu_now_ms() - t0, 3000 + 1500);
	ck_assert_int_eq(t.rc, 0);
	ck_assert_int_eq(atomic_load(&t.sh->closed), 50);
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_CANCELED]), 50);
	for (int i = 0; i < 50; i++)
		close(fds[i]);
	nw_server_free(t.s);
	close(t.lfd);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

START_TEST(stop_ends_a_connection_that_never_goes_quiet_after_grace)
{
	struct tserver t;
	int fd;
	int64_t t0;

	tserver_start(&t, &(struct nw_conn_ops){ .on_data = line_data,
						  .on_close = count_close }, 1);
	tu_assert_ok(nw_server_set_grace(t.s, 300));
	tserver_go(&t);
	fd = client(t.port);
	send_str(fd, "never ends");
	tu_sleep_ms(50);
	t0 = tu_now_ms();
	nw_server_stop(t.s);
	pthread_join(t.thread, NULL);
	ck_assert_int_ge(tu_now_ms() - t0, 250);
	ck_assert_int_lt(tu_now_ms() - t0, 300 + 1500);
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_CANCELED]), 1);
	tu_assert_closed(fd);
	close(fd);
	nw_server_free(t.s);
	close(t.lfd);
}
END_TEST



/* Answers every byte with 1 MiB: a peer that resets meets a send in progress. */
static size_t flood_data(nw_conn *c, const char *data, size_t len)
{
	static char big[1 << 20];

	(void)data;
	/* A careless handler: it does not stop at the first failed send. */
	for (size_t i = 0; i < len; i++)
		nw_conn_send(c, big, sizeof big);
	return len;
}

START_TEST(a_peer_that_resets_raises_no_sigpipe)
{
	static const struct nw_conn_ops ops = { .on_data = flood_data, .on_close = count_close };
	struct tserver t;

	/* The default disposition: a SIGPIPE would end this test process. */
	signal(SIGPIPE, SIG_DFL);
	tserver_start(&t, &ops, 1);
	tserver_go(&t);
	for (int i = 0; i < 5; i++) {
		int fd = client(t.port);
		char buf[4096];

		send_str(fd, "g");
		ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
		send_str(fd, "go");
		/* Close with unread data and SO_LINGER 0: a reset. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 }, sizeof(struct linger));
		close(fd);
	}
	ck_assert(wait_for(&t.sh->closed, 5, 5000));
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_RESET]), 5);
	tserver_stop(&t);
}
END_TEST

/* ---- in front of strangers: idle timeout, per-peer cap ---- */

START_TEST(idle_timeout_cuts_the_silent_not_the_trickling)
{
	struct tserver t;
	int silent, trickle;
	int64_t t0;
	char buf[8];

	tserver_start(&t, &echo_ops, 1);
	tu_assert_ok(nw_server_set_idle_timeout(t.s, 300));
	tserver_go(&t);
	t0 = tu_now_ms();
	silent = client(t.port);
	trickle = client(t.port);
	/* A byte every 100 ms for 1.2 s: never idle for 300 ms. */
	for (int i = 0; i < 12; i++) {
		send_str(trickle, "t");
		expect_str(trickle, "t");
		tu_sleep_ms(100);
	}
	/* The silent one was closed after 300 ms (plus a margin), with a FIN. */
	ck_assert_int_eq(read(silent, buf, sizeof buf), 0);
	ck_assert_int_eq(atomic_load(&t.sh->close_err[K_TIMEDOUT]), 1);
	send_str(trickle, "still here");
	expect_str(trickle, "still here");
	ck_assert_int_lt(tu_now_ms() - t0, 1200 + 300 + 1000);
	close(silent);
	close(trickle);
	tserver_stop(&t);
}
END_TEST

static int client_from(const char *ip, const char *port)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, ip, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)atoi(port));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
	tu_assert_ok(nw_set_timeout(fd, 5000));
	return fd;
}

START_TEST(per_peer_cap_closes_the_extra_ones_at_once)
{
	enum { CAP = 5, EXTRA = 50 };
	struct tserver t;
	int fds[CAP + EXTRA], other, closed = 0;
	char buf[8];

	tserver_start(&t, &echo_ops, 2);
	tu_assert_ok(nw_server_set_max_per_peer(t.s, CAP));
	tserver_go(&t);
	for (int i = 0; i < CAP + EXTRA; i++)
		fds[i] = client_from("127.0.0.2", t.port);
	/* Another address is served at once. */
	other = client(t.port);
	send_str(other, "other");
	expect_str(other, "other");
	for (int i = 0; i < CAP + EXTRA; i++) {
		/* Over the cap: closed (end of file), never queued. */
		if (send(fds[i], "x", 1, MSG_NOSIGNAL) != 1 || read(fds[i], buf, 1) != 1)
			closed++;
	}
	ck_assert_int_eq(closed, EXTRA);
	ck_assert_int_eq(atomic_load(&t.sh->opened), CAP + 1);
	for (int i = 0; i < CAP + EXTRA; i++)
		close(fds[i]);
	close(other);
	tserver_stop(&t);
}
END_TEST

/* ---- sharing the listener between loops ---- */

/* 'w' is answered with the serving loop's thread id and '\n'; the rest is echoed. */
static size_t who_data(nw_conn *c, const char *data, size_t len)
{
	if (len == 1 && data[0] == 'w') {
		char id[32];
		int n = snprintf(id, sizeof id, "%ld\n", (long)gettid());

		nw_conn_send(c, id, (size_t)n);
		return 1;
	}
	return echo_data(c, data, len);
}

/* The thread id of the loop serving fd: its answer to 'w', up to '\n'. */
static long loop_of(int fd)
{
	char buf[32];
	size_t n = 0;

	send_str(fd, "w");
	do
		ck_assert_msg(n < sizeof buf - 1 && nw_readn(fd, buf + n, 1) == 1,
			      "no thread id: %s", nw_errmsg());
	while (buf[n++] != '\n');
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * Clients of one loop leave, so the other holds more than its share when
 * the next client comes: whichever loop the kernel wakes for it, it is
 * served at once, never left in the listener's queue.
 */
START_TEST(a_loop_over_its_share_strands_no_client)
{
	static const struct nw_conn_ops ops = { .on_open = count_open, .on_data = who_data,
						 .on_close = count_close };
	enum { N = 40 };
	struct tserver t;
	int fds[N], late;
	long ids[N], gone = 0;

	tserver_start(&t, &ops, 2);
	tserver_go(&t);
	for (int i = 0; i < N; i++) {
		fds[i] = client(t.port);
		ids[i] = loop_of(fds[i]);
	}
	/* Every client of the loop that served the first (_i 0) or of the other (_i 1). */
	for (int i = 0; i < N; i++)
		if ((ids[i] == ids[0]) == (_i == 0)) {
			close(fds[i]);
			fds[i] = -1;
			gone++;
		}
	ck_assert_msg(gone > 0 && gone < N, "one loop served all %d clients", N);
	ck_assert(wait_for(&t.sh->closed, (int)gone, 5000));
	for (int round = 0; round < 5; round++) {
		late = client(t.port);
		tu_assert_ok(nw_set_timeout(late, 3000));
		send_str(late, "hello");
		expect_str(late, "hello");
		close(late);
	}
	for (int i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	tserver_stop(&t);
}
END_TEST

/* ---- the server in a child process, for the loads ---- */

struct copts {
	int workers;
	int max_conns;
	size_t high_water;	/* 0: the default */
	int spare_fds;		/* > 0: RLIMIT_NOFILE leaves only this many descriptors free */
	bool small_buffers;	/* small fixed kernel buffers: what is queued shows in RSS */
};

struct child {
	pid_t pid;
	char port[8];
	struct shared *sh;
};

static nw_server *child_srv;

static void child_stop(int sig)
{
	(void)sig;
	nw_server_stop(child_srv);
}

/* Exit 0: the run returned 0 and every descriptor it opened is closed. */
static _Noreturn void child_main(int lfd, int ready, const struct copts *o, struct shared *sh)
{
	struct sigaction sa;
	int before;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	su_raise_nofile(20000);
	before = su_count_fds(getpid()) - 1;
	if (o->spare_fds > 0)
		su_limit_free_fds(o->spare_fds);
	child_srv = nw_server_new_events(lfd, &echo_ops, sizeof echo_ops, sh);
	if (child_srv == NULL || nw_server_set_model(child_srv, NW_SERVER_EVENT, o->workers) < 0 ||
	    nw_server_set_max_conns(child_srv, o->max_conns) < 0 ||
	    (o->high_water && nw_server_set_watermarks(child_srv, 0, o->high_water) < 0))
		_exit(10);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = child_stop;
	sigaction(SIGTERM, &sa, NULL);
	if (write(ready, "r", 1) != 1)
		_exit(10);
	if (nw_server_run(child_srv) < 0) {
		fprintf(stderr, "run: %s\n", nw_errmsg());
		_exit(11);
	}
	close(ready);
	nw_server_free(child_srv);
	_exit(su_count_fds(getpid()) == before ? 0 : 12);
}

static void child_start(struct child *ch, const struct copts *o)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 4096)), p[2];
	char c;

	ch->sh = shared_new();
	tu_port_str(lfd, ch->port);
	/* Accepted sockets inherit the listener's buffer sizes (and lose autotuning). */
	if (o->small_buffers) {
		setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &(int){ 32 * 1024 }, sizeof(int));
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &(int){ 32 * 1024 }, sizeof(int));
	}
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ch->pid = fork();
	ck_assert_int_ge(ch->pid, 0);
	if (ch->pid == 0) {
		close(p[0]);
		child_main(lfd, p[1], o, ch->sh);
	}
	close(p[1]);
	close(lfd);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
}

static void child_stop_and_check(struct child *ch)
{
	int status;

	kill(ch->pid, SIGTERM);
	status = su_wait_exit(ch->pid, 30000);
	if (status == -1)
		su_kill(ch->pid);
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "server child: status %d", status);
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- many clients, one epoll loop in the test ---- */

struct cl {
	int fd;
	unsigned total, sent, got;
	unsigned seed;
};

/* Byte k of connection i's stream: distinct for every connection. */
static unsigned char stream_byte(unsigned seed, unsigned k)
{
	uint64_t z = ((uint64_t)seed << 32 | k) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ULL;
	return (unsigned char)(z >> 40);
}

/* Connect n clients (all of them open at once when this returns). */
static struct cl *connect_many(const char *port, int n)
{
	struct cl *cls = calloc((size_t)n, sizeof *cls);

	ck_assert_ptr_nonnull(cls);
	for (int i = 0; i < n; i++) {
		cls[i].fd = (int)tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 10000));
		tu_assert_ok(nw_set_nonblock(cls[i].fd, 1));
		cls[i].seed = (unsigned)i * 2654435761u + 12345;
	}
	return cls;
}

static void close_many(struct cl *cls, int n)
{
	for (int i = 0; i < n; i++)
		close(cls[i].fd);
	free(cls);
}

/*
 * Each client sends total bytes of its own stream in random pieces and
 * checks every byte that comes back; all at once, until all are done.
 */
static void echo_many(struct cl *cls, int n, unsigned min_total, unsigned max_total)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), done = 0;
	struct epoll_event evs[512];
	unsigned char buf[4096];
	int64_t end = tu_now_ms() + 120000;
	unsigned rnd = 1;

	ck_assert_int_ge(ep, 0);
	for (int i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i };

		cls[i].total = min_total + cls[i].seed % (max_total - min_total + 1);
		cls[i].sent = cls[i].got = 0;
		ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, cls[i].fd, &e), 0);
	}
	while (done < n) {
		int k = epoll_wait(ep, evs, 512, 1000);

		if (tu_now_ms() > end)
			ck_abort_msg("%d of %d clients done after 120 s", done, n);
		for (int e = 0; e < k; e++) {
			struct cl *c = &cls[evs[e].data.u32];

			if ((evs[e].events & EPOLLOUT) && c->sent < c->total) {
				rnd = rnd * 1103515245 + 12345;
				unsigned piece = 1 + (rnd >> 8) % 1500, i;

				if (piece > c->total - c->sent)
					piece = c->total - c->sent;
				for (i = 0; i < piece; i++)
					buf[i] = stream_byte(c->seed, c->sent + i);
				ssize_t w = send(c->fd, buf, piece, MSG_NOSIGNAL);

				if (w < 0 && errno != EAGAIN)
					ck_abort_msg("send: %s", strerror(errno));
				if (w > 0)
					c->sent += (unsigned)w;
				if (c->sent == c->total) {
					struct epoll_event in = { .events = EPOLLIN,
								  .data.u32 = evs[e].data.u32 };

					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &in);
				}
			}
			if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = read(c->fd, buf, sizeof buf);

				if (r < 0 && errno == EAGAIN)
					continue;
				if (r <= 0)
					ck_abort_msg("client %u: connection ended after %u of %u bytes",
						     evs[e].data.u32, c->got, c->total);
				/* No ck_assert per byte: each one is a message to Check's parent. */
				for (ssize_t i = 0; i < r; i++)
					if (buf[i] != stream_byte(c->seed, c->got + (unsigned)i))
						ck_abort_msg("client %u: wrong byte at %u",
							     evs[e].data.u32, c->got + (unsigned)i);
				c->got += (unsigned)r;
				if (c->got > c->total)
					ck_abort_msg("client %u: more bytes than sent", evs[e].data.u32);
				if (c->got == c->total) {
					done++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				}
			}
		}
	}
	close(ep);
}

static void stage(const char *what)
{
	if (getenv("NW_TEST_STAGES"))
		fprintf(stderr, "%lld %s\n", (long long)tu_now_ms(), what);
}

static int many(void)
{
	return RUNNING_ON_VALGRIND ? 300 : 10000;
}

START_TEST(ten_thousand_connections_echo_every_byte)
{
	struct copts o = { .workers = 2, .max_conns = 20000 };
	struct child ch;
	struct cl *cls;

	su_raise_nofile(20000);
	child_start(&ch, &o);
	stage("start");
	cls = connect_many(ch.port, many());
	stage("connected");
	ck_assert(wait_for(&ch.sh->opened, many(), 30000));
	stage("opened");
	echo_many(cls, many(), 500, 6000);
	stage("echoed");
	close_many(cls, many());
	ck_assert(wait_for(&ch.sh->closed, many(), 30000));
	stage("closed");
	child_stop_and_check(&ch);
	stage("stopped");
}
END_TEST

/* Time for one new client's round trip, in ms. */
static int64_t new_client_ms(const char *port)
{
	int64_t t0 = tu_now_ms();
	int fd = client(port);

	send_str(fd, "hello");
	expect_str(fd, "hello");
	close(fd);
	return tu_now_ms() - t0;
}

START_TEST(idle_connections_cost_little_and_starve_no_one)
{
	struct copts o = { .workers = 2, .max_conns = 20000 };
	struct child ch;
	struct cl *cls;
	long base, loaded;
	int64_t best = INT64_MAX;

	su_raise_nofile(20000);
	child_start(&ch, &o);
	/* Warm up: the loop threads, their read buffers, the allocator's arenas. */
	cls = connect_many(ch.port, 100);
	echo_many(cls, 100, 100, 3000);
	close_many(cls, 100);
	ck_assert(wait_for(&ch.sh->closed, 100, 10000));
	base = rss_kib(ch.pid);
	/* Every connection has used its buffers once, then goes idle. */
	cls = connect_many(ch.port, many());
	echo_many(cls, many(), 16, 64);
	ck_assert(wait_for(&ch.sh->opened, 100 + many(), 30000));
	loaded = rss_kib(ch.pid);
	fprintf(stderr, "idle: %d connections, server RSS %ld -> %ld KiB, %ld bytes each\n",
		many(), base, loaded, (loaded - base) * 1024 / many());
	ck_assert_msg((loaded - base) * 1024 <= 1024L * many(),
		      "%d idle connections cost %ld KiB (%ld bytes each)", many(),
		      loaded - base, (loaded - base) * 1024 / many());
	/* Best of three: one scheduling hiccup on a loaded machine is not starvation. */
	for (int i = 0; i < 3; i++) {
		int64_t ms = new_client_ms(ch.port);

		best = ms < best ? ms : best;
	}
	fprintf(stderr, "idle: a new client served in %lld ms\n", (long long)best);
	ck_assert_msg(best <= 100, "a new client waited %lld ms", (long long)best);
	close_many(cls, many());
	child_stop_and_check(&ch);
}
END_TEST

START_TEST(clients_that_never_read_are_bounded_by_the_high_water_mark)
{
	const size_t high = 64 * 1024, per_client = 2 * 1024 * 1024;
	struct copts o = { .workers = 2, .max_conns = 1000, .high_water = high,
			   .small_buffers = true };
	int n = RUNNING_ON_VALGRIND ? 10 : 100;
	char *junk = malloc(256 * 1024);
	struct child ch;
	struct cl *cls;
	long base, loaded;

	ck_assert_ptr_nonnull(junk);
	memset(junk, 'j', 256 * 1024);
	child_start(&ch, &o);
	ck_assert(new_client_ms(ch.port) >= 0);
	base = rss_kib(ch.pid);
	cls = connect_many(ch.port, n);
	for (int i = 0; i < n; i++) {
		setsockopt(cls[i].fd, SOL_SOCKET, SO_SNDBUF, &(int){ 16 * 1024 }, sizeof(int));
		setsockopt(cls[i].fd, SOL_SOCKET, SO_RCVBUF, &(int){ 16 * 1024 }, sizeof(int));
	}
	/* Each sends until the kernel takes no more (or 2 MiB), and never reads. */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < n; i++) {
			while (cls[i].sent < per_client) {
				ssize_t w = send(cls[i].fd, junk, 256 * 1024, MSG_NOSIGNAL);

				if (w <= 0)
					break;
				cls[i].sent += (unsigned)w;
			}
		}
		tu_sleep_ms(20);
	}
	loaded = rss_kib(ch.pid);
	fprintf(stderr, "slow readers: %d clients, server RSS %ld -> %ld KiB\n", n, base, loaded);
	/* Per client: queued output up to the mark plus one read, both sides. */
	ck_assert_msg(loaded - base <= (long)(n * (2 * high + 64 * 1024) / 1024) + 16 * 1024,
		      "%d clients that never read grew the server by %ld KiB", n, loaded - base);
	ck_assert_int_le(new_client_ms(ch.port), 1000);
	close_many(cls, n);
	free(junk);
	child_stop_and_check(&ch);
}
END_TEST

START_TEST(out_of_descriptors_serves_everyone_in_turn)
{
	struct copts o = { .workers = 2, .max_conns = 1000, .spare_fds = 20 };
	struct child ch;

	child_start(&ch, &o);
	/* 100 clients at once, 20 descriptors: the rest wait in the queue, none is lost. */
	ck_assert_int_eq(su_run_load(ch.port, 100, 20000), 0);
	child_stop_and_check(&ch);
}
END_TEST

START_TEST(out_of_descriptors_backs_off_without_spinning)
{
	struct copts o = { .workers = 1, .max_conns = 1000, .spare_fds = 10 };
	struct child ch;
	int fds[12], served;
	long ticks;

	child_start(&ch, &o);
	for (int i = 0; i < 12; i++)
		fds[i] = client(ch.port);
	/*
	 * The server's own descriptors (epoll sets, wake-ups, its spare) take
	 * some of the ten, how many is its business: the clients get the rest,
	 * and the others wait in the queue.
	 */
	served = wait_settled(&ch.sh->opened, 5000);
	fprintf(stderr, "out of descriptors: %d of 12 clients served with 10 free\n", served);
	ck_assert_msg(served >= 1 && served < 12, "%d of 12 clients served with 10 descriptors",
		      served);
	ticks = su_cpu_ticks(ch.pid);
	tu_sleep_ms(1000);
	ticks = su_cpu_ticks(ch.pid) - ticks;
	fprintf(stderr, "out of descriptors: %ld ticks in 1 s\n", ticks);
	ck_assert_msg(ticks <= 25, "the server used %ld ticks in 1 s out of descriptors", ticks);
	/* Each closes in turn, and the next one in the queue gets served. */
	for (int i = 0; i < 12; i++) {
		send_str(fds[i], "turn");
		expect_str(fds[i], "turn");
		close(fds[i]);
	}
	child_stop_and_check(&ch);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event");
	TCase *api = tcase_create("api");
	TCase *cb = tcase_create("callbacks");
	TCase *load = tcase_create("load");

	tcase_set_timeout(api, 30);
	tcase_add_test(api, api_rejects_what_cannot_work);
	tcase_add_loop_test(api, connections_are_cloexec_nonblocking_and_know_their_peer, 0, 2);
	suite_add_tcase(s, api);

	tcase_set_timeout(cb, 60);
	tcase_add_test(cb, framing_holds_at_every_byte_boundary);
	tcase_add_test(cb, close_from_on_open_sends_queued_reply);
	tcase_add_test(cb, close_from_on_data_lingers_so_no_reply_is_lost);
	tcase_add_test(cb, on_drain_paces_a_producer);
	tcase_add_test(cb, posts_from_another_thread_reach_live_connections_only);
	tcase_add_test(cb, stop_with_connections_open);
	tcase_add_test(cb, stop_ends_a_connection_that_never_goes_quiet_after_grace);
	tcase_add_test(cb, a_peer_that_resets_raises_no_sigpipe);
	tcase_add_test(cb, idle_timeout_cuts_the_silent_not_the_trickling);
	tcase_add_test(cb, per_peer_cap_closes_the_extra_ones_at_once);
	tcase_add_loop_test(cb, a_loop_over_its_share_strands_no_client, 0, 2);
	suite_add_tcase(s, cb);

	tcase_set_timeout(load, 240);
	tcase_add_test(load, ten_thousand_connections_echo_every_byte);
	tcase_add_test(load, idle_connections_cost_little_and_starve_no_one);
	tcase_add_test(load, clients_that_never_read_are_bounded_by_the_high_water_mark);
	/* valgrind keeps descriptors of its own and only emulates RLIMIT_NOFILE. */
	if (!RUNNING_ON_VALGRIND) {
		tcase_add_test(load, out_of_descriptors_serves_everyone_in_turn);
		tcase_add_test(load, out_of_descriptors_backs_off_without_spinning);
	}
	suite_add_tcase(s, load);
	return tu_run(s);
}
