/*
 * check_inject.c - out of descriptors, memory and threads, injected by
 * tests/faultinject.c: every call fails cleanly (-1 or NULL, the errno,
 * a message naming the call), leaks nothing, and works again afterwards.
 *
 * Out of threads too (pthread_create failing with EAGAIN): the thread
 * model, the pool, the event model and bounded lookups; and a bounded
 * lookup whose wait wakes early for nothing, again and again.
 *
 * Also a server stop that races an accept: the injector holds a thread
 * just before accept4, where a busy machine may deschedule it.
 *
 * Needs the injector preloaded (`make check-faults` does it); run alone
 * it exits 77, which check-faults counts as a failure.
 */
#include "config.h"

#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long (*arm)(const char *what, long count);
static int (*hold_accept)(int on);
static int (*held_accepts)(void);
static int (*hold_lookup)(int on);

/* Every descriptor-making call, against a live listener on port. */
static void assert_all_fail(int err, const char *port, const char *unix_path)
{
	char missing[128];

	snprintf(missing, sizeof missing, "%s.absent", unix_path);
	tu_assert_fails(nw_tcp_listen("127.0.0.1", "0", 1), err);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_listen"));
	tu_assert_fails(nw_tcp_listen(NULL, "0", 1), err);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, -1), err);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_connect"));
	tu_assert_fails(nw_tcp_connect("127.0.0.1", port, 2000), err);
	tu_assert_fails(nw_udp_bind("127.0.0.1", "0"), err);
	tu_assert_fails(nw_udp_connect("127.0.0.1", port), err);
	tu_assert_fails(nw_unix_listen(missing, 1), err);
	tu_assert_fails(nw_unix_connect(unix_path), err);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_unix_connect"));
}

START_TEST(socket_emfile_fails_every_call_cleanly)
{
	char port[8], path[108];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	int ufd, fds, fd;

	tu_temp_path(path, sizeof path, "s");
	ufd = tu_assert_ok(nw_unix_listen(path, 8));
	tu_port_str(lfd, port);
	fds = tu_count_fds();
	arm("emfile-socket", -1);
	assert_all_fail(EMFILE, port, path);
	arm("emfile-socket", 0);
	ck_assert_int_eq(tu_count_fds(), fds);
	/* Nothing broke for good: the same calls work again. */
	fd = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	close(fd);
	fd = tu_assert_ok(nw_unix_connect(path));
	close(fd);
	close(ufd);
	close(lfd);
	unlink(path);
}
END_TEST

START_TEST(accept_emfile_leaves_connection_queued)
{
	char port[8], byte = 0;
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	int cfd = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 2000));
	int fds = tu_count_fds(), sfd;

	arm("emfile-accept", 1);
	tu_assert_fails(nw_accept(lfd, NULL, NULL), EMFILE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_accept"));
	ck_assert_int_eq(tu_count_fds(), fds);
	/* The connection waited in the queue: the next accept gets it. */
	sfd = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	ck_assert_int_eq(nw_writen(cfd, "x", 1), 1);
	ck_assert_int_eq(nw_readn(sfd, &byte, 1), 1);
	ck_assert_int_eq(byte, 'x');
	close(sfd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(reader_new_enomem_is_clean)
{
	nw_reader *r;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	arm("enomem", 1);
	errno = 0;
	ck_assert_ptr_null(nw_reader_new(sv[0], 0));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_new"));
	r = nw_reader_new(sv[0], 0);
	ck_assert_ptr_nonnull(r);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * nw_reader_line without memory: a line that fits the reader's buffer needs
 * none; one that must grow it fails with ENOMEM and loses nothing.
 */
START_TEST(reader_line_enomem_keeps_the_line)
{
	const char text[] = "0123456789abcde\na line longer than sixteen bytes\n";
	const char *line;
	nw_reader *r;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nw_writen(sv[1], text, sizeof text - 1), (ssize_t)sizeof text - 1);
	shutdown(sv[1], SHUT_WR);
	r = nw_reader_new(sv[0], 16);
	ck_assert_ptr_nonnull(r);
	arm("enomem", -1);
	ck_assert_int_eq(nw_reader_line(r, &line), 16);
	ck_assert(memcmp(line, text, 16) == 0);
	tu_assert_fails(nw_reader_line(r, &line), ENOMEM);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_reader_line"));
	tu_assert_fails(nw_reader_line(r, &line), ENOMEM);
	arm("enomem", 0);
	ck_assert_int_eq(nw_reader_line(r, &line), (ssize_t)sizeof text - 17);
	ck_assert(memcmp(line, text + 16, sizeof text - 17) == 0);
	ck_assert_int_eq(nw_reader_line(r, &line), 0);
	nw_reader_free(r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * With every library allocation failing, a whole session either works
 * (the call needs no memory) or fails with ENOMEM; no descriptor leaks.
 */
START_TEST(session_without_memory_fails_cleanly)
{
	char port[8], line[32];
	int lfd, cfd = -1, sfd = -1, fds = tu_count_fds();
	nw_reader *r;

	arm("enomem", -1);
	lfd = nw_tcp_listen("127.0.0.1", "0", 8);
	if (lfd < 0) {
		ck_assert_int_eq(errno, ENOMEM);
		goto done;
	}
	cfd = nw_tcp_connect("localhost", tu_port_str(lfd, port), 2000);
	if (cfd < 0) {
		ck_assert_int_eq(errno, ENOMEM);
		goto done;
	}
	sfd = nw_accept(lfd, NULL, NULL);
	if (sfd < 0) {
		ck_assert_int_eq(errno, ENOMEM);
		goto done;
	}
	ck_assert_int_eq(nw_writen(cfd, "hello\n", 6), 6);
	r = nw_reader_new(sfd, 0);
	if (r == NULL) {
		ck_assert_int_eq(errno, ENOMEM);
		goto done;
	}
	ck_assert_int_eq(nw_readline(r, line, sizeof line), 6);
	nw_reader_free(r);
done:
	arm("enomem", 0);
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	ck_assert_int_eq(tu_count_fds(), fds);
}
END_TEST

/* ---- a stop racing an accept ---- */

struct race {
	nw_server *server;
	int *handlers;		/* shared: handlers run in children in the process model */
	int rc;
};

/* Echoes bytes; 'S' stops the server first and is answered with 'k'. */
static void race_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	struct race *r = arg;
	char c;

	(void)peer;
	(void)peerlen;
	__atomic_fetch_add(r->handlers, 1, __ATOMIC_SEQ_CST);
	while (read(fd, &c, 1) == 1) {
		if (c == 'S') {
			nw_server_stop(r->server);
			c = 'k';
		}
		if (write(fd, &c, 1) != 1)
			break;
	}
}

static void *race_run(void *arg)
{
	struct race *r = arg;

	r->rc = nw_server_run(r->server);
	return NULL;
}

static const enum nw_server_model race_models[] = {
	NW_SERVER_PROCESS, NW_SERVER_THREAD, NW_SERVER_POOL
};

/*
 * The acceptor is woken by client c and held just before accept4; then a
 * handler stops the server and client b connects.  Released, the acceptor
 * finds c and b queued: the stop came first, so neither may be served.
 */
START_TEST(accept_racing_a_stop_serves_no_one_new)
{
	struct race r = { .rc = -2 };
	char port[8], c;
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8));
	int a, b, late;
	pthread_t run;

	r.handlers = mmap(NULL, sizeof *r.handlers, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(r.handlers, MAP_FAILED);
	*r.handlers = 0;
	r.server = nw_server_new(lfd, race_handler, &r);
	ck_assert_ptr_nonnull(r.server);
	ck_assert_int_eq(nw_server_set_model(r.server, race_models[_i], 4), 0);
	ck_assert_int_eq(pthread_create(&run, NULL, race_run, &r), 0);

	a = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 2000));
	ck_assert_int_eq(write(a, "p", 1), 1);
	ck_assert_int_eq(read(a, &c, 1), 1);
	ck_assert_int_eq(c, 'p');

	hold_accept(1);
	late = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	for (int i = 0; i < 5000 && held_accepts() == 0; i++)
		nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
	ck_assert_msg(held_accepts() > 0, "no accept reached the hold");
	ck_assert_int_eq(write(a, "S", 1), 1);
	ck_assert_int_eq(read(a, &c, 1), 1);
	ck_assert_int_eq(c, 'k');
	b = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	ck_assert_int_eq(write(b, "x", 1), 1);
	ck_assert_int_eq(write(late, "y", 1), 1);
	hold_accept(0);

	close(a);
	ck_assert_int_eq(pthread_join(run, NULL), 0);
	ck_assert_int_eq(r.rc, 0);
	nw_server_free(r.server);
	close(lfd);
	/* With the listener closed, neither can be waiting: each was closed unserved. */
	tu_assert_closed(late);
	tu_assert_closed(b);
	ck_assert_int_eq(*r.handlers, 1);
	close(late);
	close(b);
	munmap(r.handlers, sizeof *r.handlers);
}
END_TEST


/* ---- the event model (check_event has the rest of its tests) ---- */

static size_t inject_echo(nw_conn *c, const char *data, size_t len)
{
	if (nw_conn_send(c, data, len) < 0)
		nw_conn_close(c);
	return len;
}

static void *inject_run(void *s)
{
	return (void *)(intptr_t)nw_server_run(s);
}

/* Stop the run in thread tid: it returns 0; freed, fds are open again (-1: not counted). */
static void stop_run_and_free(nw_server *s, pthread_t tid, int fds)
{
	void *rc;

	nw_server_stop(s);
	pthread_join(tid, &rc);
	ck_assert_int_eq((int)(intptr_t)rc, 0);
	nw_server_free(s);
	if (fds >= 0)
		ck_assert_int_eq(tu_count_fds(), fds);
}

/*
 * Out of descriptors, then out of memory for the next few allocations
 * (each count reaches a different one: the connection, its slot, ...):
 * the loop backs off and the client is served all the same.
 */
START_TEST(event_server_rides_out_emfile_and_enomem)
{
	static const struct nw_conn_ops ops = { .on_data = inject_echo };
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8)), fds = tu_count_fds(), cfd;
	nw_server *s = nw_server_new_events(lfd, &ops, sizeof ops, NULL);
	char port[8], buf[5];
	pthread_t tid;

	ck_assert_ptr_nonnull(s);
	tu_assert_ok(nw_server_set_model(s, NW_SERVER_EVENT, 1));
	ck_assert_int_eq(pthread_create(&tid, NULL, inject_run, s), 0);
	tu_port_str(lfd, port);
	for (int round = 0; round < 6; round++) {
		if (round == 0)
			arm("emfile-accept", 3);
		else
			arm("enomem", round);
		cfd = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
		tu_assert_ok(nw_set_timeout(cfd, 5000));
		ck_assert_int_eq(nw_writen(cfd, "hello", 5), 5);
		ck_assert_msg(nw_readn(cfd, buf, 5) == 5, "round %d: no echo: %s", round,
			      nw_errmsg());
		ck_assert(memcmp(buf, "hello", 5) == 0);
		close(cfd);
		arm("enomem", 0);
	}
	stop_run_and_free(s, tid, fds);
	close(lfd);
}
END_TEST

/* ---- out of threads ---- */

static void echo_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[256];
	ssize_t n;

	(void)peer;
	(void)peerlen;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (nw_writen(fd, buf, (size_t)n) != n)
			break;
}

/* One echo round trip on a new connection to port, within 5 s. */
static void assert_echo(const char *port, const char *what)
{
	int cfd = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 2000));
	char buf[5];

	tu_assert_ok(nw_set_timeout(cfd, 5000));
	ck_assert_int_eq(nw_writen(cfd, "hello", 5), 5);
	ck_assert_msg(nw_readn(cfd, buf, 5) == 5, "%s: no echo: %s", what, nw_errmsg());
	ck_assert(memcmp(buf, "hello", 5) == 0);
	close(cfd);
}

/*
 * The thread model out of threads: the accepted connection waits for its
 * thread (it is never dropped) and is served once pthread_create works.
 */
START_TEST(thread_model_waits_out_eagain_from_pthread_create)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8)), fds = tu_count_fds();
	nw_server *s = nw_server_new(lfd, echo_handler, NULL);
	char port[8];
	pthread_t tid;

	ck_assert_ptr_nonnull(s);
	tu_assert_ok(nw_server_set_model(s, NW_SERVER_THREAD, 0));
	ck_assert_int_eq(pthread_create(&tid, NULL, inject_run, s), 0);
	arm("eagain-thread", 3);
	assert_echo(tu_port_str(lfd, port), "three failed pthread_create");
	ck_assert_msg(arm("eagain-thread", 0) == 0, "the server did not start a thread");
	assert_echo(port, "after them");
	stop_run_and_free(s, tid, fds);
	close(lfd);
}
END_TEST

/*
 * The pool and the event model start their threads before they serve:
 * without a thread, nw_server_run fails with EAGAIN and says so, stops
 * the threads already started, leaves nothing open, and runs again.
 */
START_TEST(runs_that_cannot_start_their_threads_fail_cleanly)
{
	static const struct nw_conn_ops ops = { .on_data = inject_echo };
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8)), fds;
	nw_server *s = _i == 0 ? nw_server_new(lfd, echo_handler, NULL) :
				 nw_server_new_events(lfd, &ops, sizeof ops, NULL);
	char port[8];
	pthread_t tid;

	ck_assert_ptr_nonnull(s);
	/* Four: the pool's second worker, the event model's third loop, fail. */
	tu_assert_ok(nw_server_set_model(s, _i == 0 ? NW_SERVER_POOL : NW_SERVER_EVENT, 4));
	fds = tu_count_fds();
	arm("eagain-thread", 1);
	tu_assert_fails(nw_server_run(s), EAGAIN);
	ck_assert_msg(strstr(nw_errmsg(), "pthread_create") != NULL, "message: %s", nw_errmsg());
	ck_assert_msg(arm("eagain-thread", 0) == 0, "no pthread_create was refused");
	ck_assert_int_eq(tu_count_fds(), fds);
	ck_assert_int_eq(pthread_create(&tid, NULL, inject_run, s), 0);
	assert_echo(tu_port_str(lfd, port), "the run after");
	stop_run_and_free(s, tid, -1);
	close(lfd);
}
END_TEST

/*
 * A lookup with a deadline runs in a thread of the library's own: without
 * one, the connect fails at once with EAGAIN (a later call may succeed),
 * leaves nothing open, and works again.
 */
START_TEST(bounded_lookup_without_a_thread_fails_cleanly)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8)), fds = tu_count_fds();
	char port[8];
	int cfd;

	tu_port_str(lfd, port);
	arm("eagain-thread", 1);
	tu_assert_fails(nw_tcp_connect("localhost", port, 2000), EAGAIN);
	ck_assert_msg(strstr(nw_errmsg(), "nw_tcp_connect(localhost") != NULL, "message: %s",
		      nw_errmsg());
	ck_assert_msg(arm("eagain-thread", 0) == 0, "no lookup thread was refused");
	ck_assert_int_eq(tu_count_fds(), fds);
	cfd = tu_assert_ok(nw_tcp_connect("localhost", port, 2000));
	close(cfd);
	close(lfd);
}
END_TEST

static void *release_lookups_after_300_ms(void *arg)
{
	(void)arg;
	nanosleep(&(struct timespec){ 0, 300 * 1000000L }, NULL);
	hold_lookup(0);
	return NULL;
}

/*
 * Every timed wait of the library wakes early for nothing (rate 1), and
 * the lookup takes 300 ms: the caller waits for the answer, not for the
 * first wake-up.  Held past its 500 ms deadline, the connect still ends
 * then with ETIMEDOUT, though no wait ever times out by itself.
 */
START_TEST(spurious_wake_ups_end_a_bounded_lookup_neither_early_nor_late)
{
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 8)), cfd;
	double (*rate)(double) = (double (*)(double))dlsym(RTLD_DEFAULT, "faultinject_rate");
	char port[8];
	pthread_t tid;
	int64_t t0, ms;
	double old;
	int err;

	ck_assert_ptr_nonnull(rate);
	tu_port_str(lfd, port);
	old = rate(1.0);
	hold_lookup(1);
	ck_assert_int_eq(pthread_create(&tid, NULL, release_lookups_after_300_ms, NULL), 0);
	t0 = tu_now_ms();
	cfd = nw_tcp_connect("localhost", port, 5000);
	ms = tu_now_ms() - t0;
	pthread_join(tid, NULL);
	ck_assert_msg(cfd >= 0, "a spurious wake-up ended the lookup after %lld ms: %s",
		      (long long)ms, nw_errmsg());
	ck_assert_msg(ms >= 250, "connected after %lld ms, before the lookup ended",
		      (long long)ms);
	close(cfd);

	hold_lookup(1);
	t0 = tu_now_ms();
	cfd = nw_tcp_connect("localhost", port, 500);
	err = errno;
	ms = tu_now_ms() - t0;
	hold_lookup(0);		/* the abandoned lookup ends and frees itself */
	rate(old);
	ck_assert_msg(cfd == -1 && err == ETIMEDOUT, "held past the deadline: %d, %s", cfd,
		      cfd < 0 ? nw_errmsg() : "connected");
	ck_assert_msg(ms >= 450 && ms <= 3000, "ETIMEDOUT after %lld ms (deadline 500 ms)",
		      (long long)ms);
	close(lfd);
}
END_TEST

static Suite *inject_suite(void)
{
	Suite *s = suite_create("inject");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, socket_emfile_fails_every_call_cleanly);
	tcase_add_test(tc, accept_emfile_leaves_connection_queued);
	tcase_add_test(tc, reader_new_enomem_is_clean);
	tcase_add_test(tc, reader_line_enomem_keeps_the_line);
	tcase_add_test(tc, session_without_memory_fails_cleanly);
	tcase_add_loop_test(tc, accept_racing_a_stop_serves_no_one_new, 0, 3);
	tcase_add_test(tc, event_server_rides_out_emfile_and_enomem);
	tcase_add_test(tc, thread_model_waits_out_eagain_from_pthread_create);
	tcase_add_loop_test(tc, runs_that_cannot_start_their_threads_fail_cleanly, 0, 2);
	tcase_add_test(tc, bounded_lookup_without_a_thread_fails_cleanly);
	tcase_add_test(tc, spurious_wake_ups_end_a_bounded_lookup_neither_early_nor_late);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	arm = (long (*)(const char *, long))dlsym(RTLD_DEFAULT, "faultinject_arm");
	hold_accept = (int (*)(int))dlsym(RTLD_DEFAULT, "faultinject_hold_accept");
	held_accepts = (int (*)(void))dlsym(RTLD_DEFAULT, "faultinject_held_accepts");
	hold_lookup = (int (*)(int))dlsym(RTLD_DEFAULT, "faultinject_hold_lookup");
	if (arm == NULL || hold_accept == NULL || held_accepts == NULL || hold_lookup == NULL) {
		fprintf(stderr, "check_inject: needs LD_PRELOAD=faultinject.so (make check-faults)\n");
		return 77;
	}
	return tu_run(inject_suite());
}
