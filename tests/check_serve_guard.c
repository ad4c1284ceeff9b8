/*
 * check_serve_guard.c - nw_server in front of strangers: no reply lost to a
 * reset (lingering close, on loopback and across a rate-limited veth pair
 * in namespaces of our own), idle timeouts, the cap per client address,
 * and the defects review found (signal masks, the shared listener's flags,
 * a connection waiting for its thread at a stop, recycled pids).
 *
 * Servers run in a thread of the test process unless a test needs a
 * process of its own (a uid, a pid namespace, two servers on one
 * listener).  The namespaces are made once by main() and removed by it
 * after the run, whatever the tests did; without root they are skipped.
 */
#include "testutil.h"
#include "serveutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * valgrind runs every process some 30 times slower: time bounds stretch by
 * this much there (the counts shrink too, see the idle test); a sanitizer
 * build forks slowly (its shadow memory), which the process model feels.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
#define SLACK (RUNNING_ON_VALGRIND ? 5 : SANITIZED ? 3 : 1)

static const enum nw_server_model models[] = {
	NW_SERVER_PROCESS, NW_SERVER_THREAD, NW_SERVER_POOL,
};

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	memset(p, 0, size);
	return p;
}

/*
 * ---- a server in a thread of this process ----
 *
 * Except for the process model: its children would inherit this process's
 * client sockets, and a client's close would then not reach the server.
 * That model runs in a process of its own, made before any client.
 */

struct srv {
	nw_server *s;
	int lfd;
	char port[8];
	pthread_t tid;
	pid_t pid;		/* the server process (process model), or 0 */
	int rc;
	char msg[256];
};

struct srv_opts {
	enum nw_server_model model;
	int workers, max_conns, idle_ms, max_per_peer;
	nw_handler handler;
	void *arg;
	const char *host;	/* 127.0.0.1 if NULL */
};

static nw_server *proc_server;

static void proc_stop(int sig)
{
	(void)sig;
	nw_server_stop(proc_server);
}

static void catch_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void *srv_main(void *arg)
{
	struct srv *v = arg;

	v->rc = nw_server_run(v->s);
	snprintf(v->msg, sizeof v->msg, "%s", nw_errmsg());
	return NULL;
}

static void srv_start(struct srv *v, const struct srv_opts *o)
{
	int ready[2];
	char c;

	v->lfd = tu_assert_ok(nw_tcp_listen(o->host ? o->host : "127.0.0.1", "0", 0));
	tu_port_str(v->lfd, v->port);
	v->s = nw_server_new(v->lfd, o->handler, o->arg);
	ck_assert_msg(v->s != NULL, "%s", nw_errmsg());
	tu_assert_ok(nw_server_set_model(v->s, o->model, o->workers ? o->workers : 4));
	tu_assert_ok(nw_server_set_max_conns(v->s, o->max_conns ? o->max_conns : 1024));
	tu_assert_ok(nw_server_set_grace(v->s, 2000));
	tu_assert_ok(nw_server_set_idle_timeout(v->s, o->idle_ms));
	tu_assert_ok(nw_server_set_max_per_peer(v->s, o->max_per_peer));
	v->pid = 0;
	if (o->model != NW_SERVER_PROCESS) {
		ck_assert_int_eq(pthread_create(&v->tid, NULL, srv_main, v), 0);
		return;
	}
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	v->pid = fork();
	ck_assert_int_ge(v->pid, 0);
	if (v->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		proc_server = v->s;
		catch_signal(SIGTERM, proc_stop);
		if (write(ready[1], "r", 1) != 1)
			_exit(10);
		if (nw_server_run(v->s) < 0) {
			fprintf(stderr, "server: %s\n", nw_errmsg());
			_exit(11);
		}
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static void srv_stop(struct srv *v)
{
	if (v->pid > 0) {
		int status;

		ck_assert_int_eq(kill(v->pid, SIGTERM), 0);
		status = su_wait_exit(v->pid, 10000);
		if (status == -1)
			su_kill(v->pid);
		ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "server process: status %#x", status);
	} else {
		ck_assert_int_eq(nw_server_stop(v->s), 0);
		ck_assert_int_eq(pthread_join(v->tid, NULL), 0);
		ck_assert_msg(v->rc == 0, "nw_server_run: %s", v->msg);
	}
	nw_server_free(v->s);
	close(v->lfd);
}

/* A TCP connection from source address src (port 0) to dst:port. */
static int connect_from(const char *src, const char *dst, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(inet_pton(AF_INET, src, &a.sin_addr), 1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s: %s", src,
		      strerror(errno));
	ck_assert_int_eq(inet_pton(AF_INET, dst, &a.sin_addr), 1);
	a.sin_port = htons((uint16_t)atoi(port));
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect %s: %s", dst,
		      strerror(errno));
	return fd;
}

static void echo_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[4096];
	ssize_t n;

	(void)peer;
	(void)peerlen;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || nw_writen(fd, buf, (size_t)n) < 0)
			break;
	}
}

/* Echo msg within timeout_ms; false if the connection failed or timed out. */
static bool echoes(int fd, const char *msg, int timeout_ms)
{
	size_t len = strlen(msg);
	char buf[64];

	nw_set_timeout(fd, timeout_ms);
	return nw_writen(fd, msg, len) == (ssize_t)len && nw_readn(fd, buf, len) == (ssize_t)len &&
	       memcmp(buf, msg, len) == 0;
}

/* 1: closed by the peer (end of file or reset); 0: open, nothing to read. */
static int closed_now(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
		return 1;
	ck_assert_msg(n < 0 && errno == EAGAIN, "unexpected data or error: %zd %s", n,
		      strerror(errno));
	return 0;
}

/* ---- lingering close ---- */

#define REPLY_BYTES (1024 * 1024)

static unsigned char reply_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Reads one line, answers 1 MiB, returns: the server closes with unread input pending. */
static void reply_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	static const size_t chunk = 65536;
	unsigned char *buf = malloc(chunk);
	char c;

	(void)peer;
	(void)peerlen;
	(void)arg;
	if (buf == NULL)
		return;
	while (read(fd, &c, 1) == 1 && c != '\n')
		;
	for (size_t off = 0; off < REPLY_BYTES; off += chunk) {
		for (size_t i = 0; i < chunk; i++)
			buf[i] = reply_byte(off + i);
		if (nw_writen(fd, buf, chunk) < 0)
			break;
	}
	free(buf);
}

struct replier {
	const char *src, *dst, *port;
	int netns;		/* < 0: this namespace */
	pthread_t tid;
	size_t got;		/* bytes of the reply that arrived intact */
	int err;		/* how the reply ended: 0 end of file, else errno */
};

/* The client of the issue: a line, a second line 30 ms later, then the whole reply. */
static void *replier_main(void *arg)
{
	struct replier *r = arg;
	unsigned char buf[16384];
	int fd;

	if (r->netns >= 0 && setns(r->netns, CLONE_NEWNET) < 0) {
		r->err = errno;
		return NULL;
	}
	fd = connect_from(r->src, r->dst, r->port);
	nw_set_timeout(fd, 20000);
	r->err = -1;
	if (nw_writen(fd, "first\n", 6) != 6)
		goto out;
	tu_sleep_ms(30);
	if (nw_writen(fd, "second\n", 7) != 7)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n <= 0) {
			r->err = n == 0 ? 0 : errno;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != reply_byte(r->got + (size_t)i))
				goto out;
		r->got += (size_t)n;
	}
out:
	close(fd);
	return NULL;
}

/* clients concurrent repliers; every byte of every reply must arrive. */
static void run_repliers(int clients, const char *src, const char *dst, const char *port,
			 int netns)
{
	struct replier r[8];

	ck_assert_int_le(clients, 8);
	for (int i = 0; i < clients; i++) {
		r[i] = (struct replier){ .src = src, .dst = dst, .port = port, .netns = netns };
		ck_assert_int_eq(pthread_create(&r[i].tid, NULL, replier_main, &r[i]), 0);
	}
	for (int i = 0; i < clients; i++)
		pthread_join(r[i].tid, NULL);
	for (int i = 0; i < clients; i++)
		ck_assert_msg(r[i].got == REPLY_BYTES && r[i].err == 0,
			      "client %d: %zu of %d bytes, then %s", i, r[i].got, REPLY_BYTES,
			      r[i].err == 0 ? "end of file" :
			      r[i].err < 0 ? "bad data" : strerror(r[i].err));
}

START_TEST(linger_keeps_replies_on_loopback)
{
	struct srv v;
	struct srv_opts o = { .model = models[_i], .handler = reply_handler };

	srv_start(&v, &o);
	run_repliers(RUNNING_ON_VALGRIND ? 2 : 4, "127.0.0.1", "127.0.0.1", v.port, -1);
	srv_stop(&v);
}
END_TEST

/* The namespaces main() made: the server's and the client's, joined by a 20 Mbit veth. */
static char ns_server[64], ns_client[64];
#define NS_SERVER_ADDR "10.77.0.1"
#define NS_CLIENT_ADDR "10.77.0.2"

static int open_ns(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	return fd;
}

START_TEST(linger_keeps_replies_across_slow_link)
{
	int sns = open_ns(ns_server), cns = open_ns(ns_client);
	struct srv v;
	struct srv_opts o = { .model = models[_i], .handler = reply_handler,
			      .host = NS_SERVER_ADDR };

	/* This thread, the server's threads and children live in the server's namespace. */
	ck_assert_int_eq(setns(sns, CLONE_NEWNET), 0);
	srv_start(&v, &o);
	run_repliers(RUNNING_ON_VALGRIND ? 2 : 4, NS_CLIENT_ADDR, NS_SERVER_ADDR, v.port, cns);
	srv_stop(&v);
	close(sns);
	close(cns);
}
END_TEST

/* Answers one line with "ok\n" and returns. */
static void ok_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char c;

	(void)peer;
	(void)peerlen;
	(void)arg;
	while (read(fd, &c, 1) == 1 && c != '\n')
		;
	nw_writen(fd, "ok\n", 3);
}

START_TEST(linger_is_bounded_and_holds_no_worker)
{
	/* One pool worker: a linger that held it would keep b waiting for 2 s. */
	struct srv_opts o = { .model = models[_i], .workers = 1, .handler = ok_handler };
	struct srv v;
	char buf[8];
	int a, b;
	int64_t start;

	srv_start(&v, &o);
	a = connect_from("127.0.0.1", "127.0.0.1", v.port);
	start = tu_now_ms();
	ck_assert_int_eq(nw_writen(a, "hi\n", 3), 3);
	ck_assert_int_eq(nw_readn(a, buf, 3), 3);
	/* a never sends its end of file: the server's half-close arrives, then nothing. */
	nw_set_timeout(a, 5000 * SLACK);
	ck_assert_int_eq(nw_readn(a, buf, 1), 0);
	b = connect_from("127.0.0.1", "127.0.0.1", v.port);
	nw_set_timeout(b, 1000 * SLACK);
	ck_assert_int_eq(nw_writen(b, "hi\n", 3), 3);
	ck_assert_msg(nw_readn(b, buf, 3) == 3, "b not served while a lingers: %s", nw_errmsg());
	ck_assert_msg(tu_now_ms() - start < 1500 * SLACK, "b waited %lld ms", (long long)(tu_now_ms() - start));
	close(b);
	/* a keeps sending; the server reads and discards until its bound, then closes. */
	for (;;) {
		if (send(a, "more", 4, MSG_NOSIGNAL) < 0)
			break;
		if (tu_now_ms() - start > 6000 * SLACK)
			break;
		tu_sleep_ms(50);
	}
	ck_assert_msg(tu_now_ms() - start >= 1500 && tu_now_ms() - start < 5000 * SLACK,
		      "lingered %lld ms, bound 2000", (long long)(tu_now_ms() - start));
	close(a);
	srv_stop(&v);
}
END_TEST

START_TEST(close_graceful_keeps_reply_and_rejects_bad_input)
{
	int c, s, p[2];
	int64_t start;
	char buf[8];

	tu_tcp_pair(&c, &s);
	ck_assert_int_eq(nw_writen(c, "unread", 6), 6);
	ck_assert_int_eq(nw_writen(s, "reply", 5), 5);
	shutdown(c, SHUT_WR);
	ck_assert_int_eq(nw_close_graceful(s, 1000), 0);
	ck_assert_int_eq(nw_readn(c, buf, 5), 5);
	ck_assert_int_eq(nw_readn(c, buf, 1), 0);	/* a FIN, not a reset */
	close(c);

	tu_tcp_pair(&c, &s);
	tu_assert_fails(nw_close_graceful(s, -1), EINVAL);
	ck_assert_int_ge(fcntl(s, F_GETFD), 0);		/* left open */
	tu_assert_fails(nw_close_graceful(s, 100), ETIMEDOUT);	/* c never ends its side */
	ck_assert_int_eq(fcntl(s, F_GETFD), -1);	/* closed anyway */
	close(c);
	tu_assert_fails(nw_close_graceful(s, 100), EBADF);
	s = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	start = tu_now_ms();
	ck_assert_int_eq(nw_close_graceful(s, 3000), 0);	/* nothing to drain */
	ck_assert_int_lt(tu_now_ms() - start, 1000);
	ck_assert_int_eq(fcntl(s, F_GETFD), -1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	tu_assert_fails(nw_close_graceful(p[0], 100), ENOTSOCK);
	close(p[1]);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_close_graceful"));
}
END_TEST

/* ---- idle timeouts ---- */

enum { IDLE_MS = 1000 };

START_TEST(idle_connections_do_not_starve_a_client)
{
	bool pool = models[_i] == NW_SERVER_POOL;
	int idle = pool ? (RUNNING_ON_VALGRIND ? 16 : 64) : (RUNNING_ON_VALGRIND ? 110 : 1100);
	struct srv_opts o = { .model = models[_i], .workers = pool ? idle : 4,
			      .max_conns = RUNNING_ON_VALGRIND ? 100 : 1024,
			      .idle_ms = IDLE_MS, .handler = echo_handler };
	int *fds = calloc((size_t)idle, sizeof *fds);
	struct srv v;
	int64_t start, took;
	int c;

	ck_assert_ptr_nonnull(fds);
	su_raise_nofile(8192);
	srv_start(&v, &o);
	for (int i = 0; i < idle; i++)
		fds[i] = connect_from("127.0.0.1", "127.0.0.1", v.port);
	start = tu_now_ms();
	c = connect_from("127.0.0.1", "127.0.0.1", v.port);
	ck_assert_msg(echoes(c, "served", (IDLE_MS + 5000) * SLACK), "not served: %s", nw_errmsg());
	took = tu_now_ms() - start;
	ck_assert_msg(took <= (IDLE_MS + 1000) * SLACK, "served after %lld ms", (long long)took);
	close(c);
	for (int i = 0; i < idle; i++)
		close(fds[i]);
	free(fds);
	srv_stop(&v);
}
END_TEST

/* Comes to its input only after twice the idle limit (a slow start, a busy worker). */
static void late_echo_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	tu_sleep_ms(2 * IDLE_MS + 500);
	echo_handler(fd, peer, peerlen, arg);
}

/*
 * Idle is the client's silence: a client whose request waits unread while
 * the server is slow to come to it is not cut off.
 */
START_TEST(unread_input_is_not_idle)
{
	struct srv_opts o = { .model = models[_i], .workers = 2, .max_conns = 16,
			      .idle_ms = IDLE_MS, .handler = late_echo_handler };
	struct srv v;
	int c;

	srv_start(&v, &o);
	c = connect_from("127.0.0.1", "127.0.0.1", v.port);
	ck_assert_msg(echoes(c, "waiting", (3 * IDLE_MS + 5000) * SLACK),
		      "a client whose input waited unread was cut off: %s", nw_errmsg());
	close(c);
	srv_stop(&v);
}
END_TEST

START_TEST(trickler_is_not_cut_silent_one_is)
{
	enum { SHORT_IDLE_MS = 600 };
	struct srv_opts o = { .model = models[_i], .workers = 4, .idle_ms = SHORT_IDLE_MS,
			      .handler = echo_handler };
	struct srv v;
	int trickler, silent;
	int64_t start;
	char c;

	srv_start(&v, &o);
	trickler = connect_from("127.0.0.1", "127.0.0.1", v.port);
	silent = connect_from("127.0.0.1", "127.0.0.1", v.port);
	start = tu_now_ms();
	/* A byte every idle_ms / 2, for four times the limit. */
	for (int i = 0; i < 8; i++) {
		tu_sleep_ms(SHORT_IDLE_MS / 2);
		ck_assert_msg(echoes(trickler, "t", 2000 * SLACK), "trickler cut after %lld ms",
			      (long long)(tu_now_ms() - start));
		if (tu_now_ms() - start < SHORT_IDLE_MS - 100)
			ck_assert_int_eq(closed_now(silent), 0);
	}
	nw_set_timeout(silent, 100);
	ck_assert_msg(closed_now(silent) == 1 || (recv(silent, &c, 1, 0) <= 0 && errno != EAGAIN),
		      "silent client still open after %lld ms", (long long)(tu_now_ms() - start));
	close(silent);
	close(trickler);
	srv_stop(&v);
}
END_TEST

/* A handler that ignores its timeouts: the server must cut it off itself. */
static void stubborn_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[256];
	ssize_t n;

	(void)peer;
	(void)peerlen;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) != 0)
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
}

START_TEST(stubborn_handler_is_cut_off)
{
	struct srv_opts o = { .model = models[_i], .workers = 1, .idle_ms = 500,
			      .handler = stubborn_handler };
	struct srv v;
	int64_t start;
	char buf[8];
	int a;

	srv_start(&v, &o);
	start = tu_now_ms();
	a = connect_from("127.0.0.1", "127.0.0.1", v.port);
	nw_set_timeout(a, 5000 * SLACK);
	ck_assert_int_le(nw_readn(a, buf, 1), 0);
	ck_assert_msg(tu_now_ms() - start < (500 + 1000) * SLACK, "cut after %lld ms",
		      (long long)(tu_now_ms() - start));
	close(a);
	srv_stop(&v);
}
END_TEST

/* ---- the cap per client address ---- */

START_TEST(peer_cap_closes_the_extra_and_serves_others)
{
	enum { CAP = 5, EXTRA = 50 };
	bool mapped = _i >= 3;
	struct srv_opts o = { .model = models[_i % 3], .workers = 20, .max_conns = 20,
			      .max_per_peer = CAP, .handler = echo_handler,
			      .host = mapped ? "::ffff:127.0.0.1" : "127.0.0.1" };
	int fds[CAP + EXTRA], open_count = 0, c;
	struct srv v;
	int64_t start;

	if (mapped && !tu_have_ipv6())
		return;
	srv_start(&v, &o);
	for (int i = 0; i < CAP + EXTRA; i++)
		fds[i] = connect_from("127.0.0.2", "127.0.0.1", v.port);
	/* CAP of them are served (which ones depends on who accepts first); the rest closed at once. */
	start = tu_now_ms();
	while (tu_now_ms() - start < 3000 * SLACK) {
		open_count = 0;
		for (int i = 0; i < CAP + EXTRA; i++)
			open_count += !closed_now(fds[i]);
		if (open_count == CAP)
			break;
		tu_sleep_ms(50);
	}
	ck_assert_msg(open_count == CAP, "%d of %d connections from one address open, cap %d",
		      open_count, CAP + EXTRA, CAP);
	for (int i = 0; i < CAP + EXTRA; i++) {
		if (closed_now(fds[i])) {
			close(fds[i]);
			fds[i] = -1;
		} else {
			ck_assert_msg(echoes(fds[i], "capped", 3000 * SLACK), "connection %d not served", i);
		}
	}
	/* Another address is served at once. */
	start = tu_now_ms();
	c = connect_from("127.0.0.1", "127.0.0.1", v.port);
	ck_assert(echoes(c, "other", 1000 * SLACK));
	ck_assert_int_lt(tu_now_ms() - start, 1000 * SLACK);
	close(c);
	/* The count falls as connections end. */
	for (int i = 0; i < CAP + EXTRA; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
			break;
		}
	}
	start = tu_now_ms();
	for (bool served = false; !served; close(c)) {
		ck_assert_msg(tu_now_ms() - start < 3000 * SLACK, "a slot freed by a close is not reused");
		tu_sleep_ms(100);
		c = connect_from("127.0.0.2", "127.0.0.1", v.port);
		served = echoes(c, "again", 1000 * SLACK);
	}
	for (int i = 0; i < CAP + EXTRA; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	srv_stop(&v);
}
END_TEST

START_TEST(settings_reject_bad_values)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	nw_server *s = nw_server_new(lfd, echo_handler, NULL);

	ck_assert_ptr_nonnull(s);
	tu_assert_fails(nw_server_set_idle_timeout(s, -1), EINVAL);
	tu_assert_fails(nw_server_set_max_per_peer(s, -1), EINVAL);
	tu_assert_fails(nw_server_set_idle_timeout(NULL, 10), EINVAL);
	tu_assert_fails(nw_server_set_max_per_peer(NULL, 10), EINVAL);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_server_set_max_per_peer"));
	tu_assert_ok(nw_server_set_idle_timeout(s, 0));
	tu_assert_ok(nw_server_set_max_per_peer(s, 0));
	nw_server_free(s);
	close(lfd);
}
END_TEST

/* ---- defects found by review ---- */

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };

struct mask_seen {
	atomic_int done;
	atomic_int fault_blocked;	/* a fault signal was blocked in the handler */
	atomic_int term_blocked;	/* SIGTERM was (proof it is a library thread) */
};

static void mask_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	struct mask_seen *m = arg;
	sigset_t set;

	(void)fd;
	(void)peer;
	(void)peerlen;
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	for (size_t i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++)
		if (sigismember(&set, fault_signals[i]))
			atomic_store(&m->fault_blocked, fault_signals[i]);
	atomic_store(&m->term_blocked, sigismember(&set, SIGTERM));
	atomic_store(&m->done, 1);
}

START_TEST(server_threads_leave_fault_signals_unblocked)
{
	struct mask_seen *m = shared_alloc(sizeof *m);
	struct srv_opts o = { .model = _i ? NW_SERVER_POOL : NW_SERVER_THREAD,
			      .handler = mask_handler, .arg = m };
	struct srv v;
	int c;

	srv_start(&v, &o);
	c = connect_from("127.0.0.1", "127.0.0.1", v.port);
	tu_assert_closed(c);
	close(c);
	srv_stop(&v);
	ck_assert_int_eq(atomic_load(&m->done), 1);
	ck_assert_int_eq(atomic_load(&m->term_blocked), 1);
	ck_assert_msg(atomic_load(&m->fault_blocked) == 0, "signal %d blocked in a handler thread",
		      atomic_load(&m->fault_blocked));
	munmap(m, sizeof *m);
}
END_TEST

/* A server process on lfd: SIGTERM stops it, its exit status says whether the run worked. */
static pid_t fork_server(int lfd, enum nw_server_model model, int grace_ms)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		proc_server = nw_server_new(lfd, echo_handler, NULL);
		if (proc_server == NULL || nw_server_set_model(proc_server, model, 4) < 0 ||
		    nw_server_set_grace(proc_server, grace_ms) < 0)
			_exit(10);
		catch_signal(SIGTERM, proc_stop);
		if (write(ready[1], "r", 1) != 1)
			_exit(10);
		_exit(nw_server_run(proc_server) == 0 ? 0 : 11);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void assert_exits_ok(pid_t pid, int timeout_ms, const char *who)
{
	int status = su_wait_exit(pid, timeout_ms);

	if (status == -1)
		su_kill(pid);
	ck_assert_msg(status != -1, "%s did not stop within %d ms", who, timeout_ms);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x", who,
		      status);
}

START_TEST(sibling_stop_leaves_shared_listener_usable)
{
	enum nw_server_model model = _i ? NW_SERVER_PROCESS : NW_SERVER_THREAD;
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	char port[8];
	pid_t first, second;
	int c;

	tu_port_str(lfd, port);
	first = fork_server(lfd, model, 1000);
	/* The first is running (its listener flags set) before the second starts. */
	c = connect_from("127.0.0.1", "127.0.0.1", port);
	ck_assert(echoes(c, "first", 3000 * SLACK));
	close(c);
	second = fork_server(lfd, model, 1000);
	tu_sleep_ms(200);
	ck_assert_int_eq(kill(first, SIGTERM), 0);
	assert_exits_ok(first, 5000 * SLACK, "the first server");
	/* The second serves, goes back to accepting, and still stops within its grace. */
	c = connect_from("127.0.0.1", "127.0.0.1", port);
	ck_assert(echoes(c, "second", 3000 * SLACK));
	close(c);
	tu_sleep_ms(200);
	ck_assert_int_eq(kill(second, SIGTERM), 0);
	assert_exits_ok(second, 3000 * SLACK, "the second server");
	close(lfd);
}
END_TEST

static void allow_tasks(int sig)
{
	struct rlimit rl;

	(void)sig;
	getrlimit(RLIMIT_NPROC, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NPROC, &rl);
}

START_TEST(connection_waiting_for_thread_at_stop_is_served)
{
	enum nw_server_model model = _i ? NW_SERVER_PROCESS : NW_SERVER_THREAD;
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int ready[2], c;
	char port[8], buf[8];
	pid_t pid;

	tu_port_str(lfd, port);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A uid of its own with room for no other task: no thread, no fork. */
		uid_t uid = 40000 + (uid_t)getpid() % 20000;
		struct rlimit rl;

		getrlimit(RLIMIT_NPROC, &rl);
		rl.rlim_cur = 1;
		if (setrlimit(RLIMIT_NPROC, &rl) < 0 || setgroups(0, NULL) < 0 ||
		    setgid(uid) < 0 || setuid(uid) < 0)
			_exit(10);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		catch_signal(SIGUSR2, allow_tasks);
		proc_server = nw_server_new(lfd, echo_handler, NULL);
		if (proc_server == NULL || nw_server_set_model(proc_server, model, 4) < 0 ||
		    nw_server_set_grace(proc_server, 5000) < 0)
			_exit(10);
		catch_signal(SIGTERM, proc_stop);
		if (write(ready[1], "r", 1) != 1)
			_exit(10);
		_exit(nw_server_run(proc_server) == 0 ? 0 : 11);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], buf, 1), 1);
	close(ready[0]);
	c = connect_from("127.0.0.1", "127.0.0.1", port);
	ck_assert_int_eq(nw_writen(c, "ping", 4), 4);
	tu_sleep_ms(300 * SLACK);	/* accepted; its thread or process cannot start */
	ck_assert_int_eq(closed_now(c), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	tu_sleep_ms(200);
	ck_assert_int_eq(kill(pid, SIGUSR2), 0);	/* now it can */
	nw_set_timeout(c, 4000 * SLACK);
	ck_assert_msg(nw_readn(c, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0,
		      "accepted before the stop, not served: %s", nw_errmsg());
	close(c);
	assert_exits_ok(pid, 5000 * SLACK, "the server");
	close(lfd);
}
END_TEST

/* What the pid-reuse test's processes tell each other. */
struct reuse {
	atomic_int child_pid;	/* the server's child, as its namespace numbers it */
	atomic_int victim_done;	/* the program's own child lived to its end */
	atomic_int setup;	/* 0 ok; else the step that failed */
};

/* The handler's process vanishes without a word, like a crash: only a sweep finds it. */
static void vanishing_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	struct reuse *r = arg;

	(void)fd;
	(void)peer;
	(void)peerlen;
	atomic_store(&r->child_pid, getpid());
	_exit(0);
}

/*
 * In the server process, pid 1 of a pid namespace of its own: once the
 * server's child is gone (reaped by the kernel: SIGCHLD is SIG_IGN), give
 * its pid to a child of the program's, which must then live to its end.
 */
static void *reuse_pid(void *arg)
{
	struct reuse *r = arg;
	char num[16];
	pid_t old, victim;
	int fd, len;

	while ((old = atomic_load(&r->child_pid)) == 0 || kill(old, 0) == 0)
		tu_sleep_ms(1);
	len = snprintf(num, sizeof num, "%d", (int)old - 1);
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, num, (size_t)len) != len) {
		atomic_store(&r->setup, 1);
		return NULL;
	}
	close(fd);
	victim = fork();
	if (victim == 0) {
		tu_sleep_ms(1500);
		atomic_store(&r->victim_done, 1);
		_exit(0);
	}
	if (victim != old)
		atomic_store(&r->setup, 2);
	/* Let a sweep of the server's children pass, then stop it: grace 0 kills the rest. */
	tu_sleep_ms(800);
	nw_server_stop(proc_server);
	return NULL;
}

/* The server process of the pid-reuse test: pid 1 of its namespace. */
static _Noreturn void reuse_server(int lfd, struct reuse *r)
{
	pthread_t tid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_IGN);
	proc_server = nw_server_new(lfd, vanishing_handler, r);
	if (proc_server == NULL || nw_server_set_model(proc_server, NW_SERVER_PROCESS, 0) < 0 ||
	    nw_server_set_grace(proc_server, 0) < 0 ||
	    pthread_create(&tid, NULL, reuse_pid, r) != 0)
		_exit(10);
	if (nw_server_run(proc_server) < 0)
		_exit(11);
	pthread_join(tid, NULL);
	tu_sleep_ms(1500);		/* the victim's time */
	_exit(0);
}

START_TEST(process_model_never_touches_a_reused_pid)
{
	struct reuse *r = shared_alloc(sizeof *r);
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	char port[8];
	pid_t pid;
	int c, status;

	tu_port_str(lfd, port);
	/*
	 * A helper makes the pid namespace and forks the server into it, so
	 * this process never shares it (a sanitizer's exit-time thread could
	 * not be made in a namespace whose init is gone).
	 */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t server;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		server = fork();
		if (server == 0)
			reuse_server(lfd, r);
		if (server < 0 || waitpid(server, &status, 0) != server)
			_exit(12);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 13);
	}
	c = connect_from("127.0.0.1", "127.0.0.1", port);
	status = su_wait_exit(pid, 10000 * SLACK);
	if (status == -1)
		su_kill(pid);
	close(c);
	close(lfd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "process_model_never_touches_a_reused_pid: skipped: "
			"no pid namespace\n");
		munmap(r, sizeof *r);
		return;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server: status %#x",
		      status);
	ck_assert_msg(atomic_load(&r->setup) == 0, "could not reuse the pid (step %d)",
		      atomic_load(&r->setup));
	ck_assert_msg(atomic_load(&r->victim_done) == 1,
		      "the server killed a process that reused its child's pid");
	munmap(r, sizeof *r);
}
END_TEST

/* ---- the namespaces ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void remove_namespaces(void)
{
	sh("ip netns del %s 2>/dev/null", ns_server);
	sh("ip netns del %s 2>/dev/null", ns_client);
}

/*
 * Two namespaces joined by a veth pair whose server end sends through a
 * 20 Mbit tbf qdisc; nothing in them reaches any other interface.
 */
static bool make_namespaces(void)
{
	snprintf(ns_server, sizeof ns_server, "nwguard-s%d", (int)getpid());
	snprintf(ns_client, sizeof ns_client, "nwguard-c%d", (int)getpid());
	if (geteuid() != 0 || sh("ip netns add %s 2>/dev/null", ns_server) != 0)
		return false;
	if (sh("ip netns add %s", ns_client) == 0 &&
	    sh("ip -n %s link add nwgs type veth peer name nwgc netns %s", ns_server,
	       ns_client) == 0 &&
	    sh("ip -n %s addr add %s/24 dev nwgs && ip -n %s link set nwgs up && "
	       "ip -n %s link set lo up", ns_server, NS_SERVER_ADDR, ns_server, ns_server) == 0 &&
	    sh("ip -n %s addr add %s/24 dev nwgc && ip -n %s link set nwgc up && "
	       "ip -n %s link set lo up", ns_client, NS_CLIENT_ADDR, ns_client, ns_client) == 0 &&
	    sh("tc -n %s qdisc add dev nwgs root tbf rate 20mbit burst 32kbit latency 400ms",
	       ns_server) == 0)
		return true;
	fprintf(stderr, "check_serve_guard: could not set up the namespaces\n");
	remove_namespaces();
	return false;
}


static Suite *guard_suite(bool netns)
{
	Suite *s = suite_create("serve_guard");
	TCase *linger = tcase_create("linger");
	TCase *slow = tcase_create("slow_link");
	TCase *idle = tcase_create("idle");
	TCase *peers = tcase_create("peers");
	TCase *defects = tcase_create("defects");

	tcase_set_timeout(linger, 60);
	tcase_add_loop_test(linger, linger_keeps_replies_on_loopback, 0, 3);
	tcase_add_loop_test(linger, linger_is_bounded_and_holds_no_worker, 0, 3);
	tcase_add_test(linger, close_graceful_keeps_reply_and_rejects_bad_input);
	suite_add_tcase(s, linger);

	if (netns) {
		tcase_set_timeout(slow, 60);
		tcase_add_loop_test(slow, linger_keeps_replies_across_slow_link, 0, 3);
		suite_add_tcase(s, slow);
	}

	tcase_set_timeout(idle, 120);
	tcase_add_loop_test(idle, idle_connections_do_not_starve_a_client, 0, 3);
	tcase_add_loop_test(idle, trickler_is_not_cut_silent_one_is, 0, 3);
	tcase_add_loop_test(idle, unread_input_is_not_idle, 0, 3);
	tcase_add_loop_test(idle, stubborn_handler_is_cut_off, 0, 3);
	suite_add_tcase(s, idle);

	tcase_set_timeout(peers, 60);
	tcase_add_test(peers, settings_reject_bad_values);
	tcase_add_loop_test(peers, peer_cap_closes_the_extra_and_serves_others, 0, 6);
	suite_add_tcase(s, peers);

	tcase_set_timeout(defects, 60);
	tcase_add_loop_test(defects, server_threads_leave_fault_signals_unblocked, 0, 2);
	tcase_add_loop_test(defects, sibling_stop_leaves_shared_listener_usable, 0, 2);
	tcase_add_loop_test(defects, connection_waiting_for_thread_at_stop_is_served, 0, 2);
	/* valgrind 3.19 knows no pidfd_open: the server falls back to pids there. */
	if (!RUNNING_ON_VALGRIND)
		tcase_add_test(defects, process_model_never_touches_a_reused_pid);
	suite_add_tcase(s, defects);
	return s;
}

int main(void)
{
	bool netns = make_namespaces();
	int rc;

	if (!netns)
		fprintf(stderr, "check_serve_guard: slow-link tests skipped (no root or no ip(8))\n");
	rc = tu_run(guard_suite(netns));
	if (netns)
		remove_namespaces();
	return rc;
}
