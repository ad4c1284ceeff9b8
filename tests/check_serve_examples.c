/*
 * check_serve_examples.c - the concurrent example servers: they serve many
 * clients at once, every byte checked, and SIGINT or SIGTERM stops them
 * cleanly (exit status 0).
 */
#include "testutil.h"
#include "serveutil.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int stop_signals[] = { SIGINT, SIGTERM };

struct example {
	pid_t pid;
	int out_fd;		/* its standard output, past the "listening on" line */
	char port[8];
};

static struct example start_example(char *const argv[])
{
	struct example ex;

	ex.pid = su_spawn(argv, &ex.out_fd);
	su_read_port(ex.out_fd, ex.port);
	return ex;
}

/* Send sig; the example must exit 0 within 5 s. */
static void stop_example(struct example *ex, int sig)
{
	int status;

	ck_assert_int_eq(kill(ex->pid, sig), 0);
	status = su_wait_exit(ex->pid, 5000);
	if (status == -1) {
		su_kill(ex->pid);
		ck_abort_msg("the example did not stop within 5 s of signal %d", sig);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the example ended with status 0x%x after signal %d", status, sig);
	close(ex->out_fd);
}

START_TEST(echo_server_serves_and_stops_on_signal)
{
	static const char *const model_names[] = { "process", "thread", "pool", "event" };
	const char *model = model_names[_i / 2];
	int sig = stop_signals[_i % 2];
	char path[PATH_MAX], buf[5];
	char *argv[] = { (char *)su_example(path, "echo-server"), "--model", (char *)model,
			 "--grace", "300", "0", "127.0.0.1", NULL };
	struct example ex = start_example(argv);
	int c;

	ck_assert_int_eq(su_run_load(ex.port, 100, 16384), 0);
	/* A client still connected when the signal comes is cut off after the grace period. */
	c = nw_tcp_connect("127.0.0.1", ex.port, 5000);
	ck_assert_msg(c >= 0, "%s", nw_errmsg());
	ck_assert_int_eq(nw_writen(c, "hello", 5), 5);
	ck_assert_int_eq(nw_readn(c, buf, 5), 5);
	stop_example(&ex, sig);
	nw_set_timeout(c, 3000);
	ck_assert_int_le(read(c, buf, 1), 0);
	close(c);
}
END_TEST

START_TEST(fork_echo_server_reaps_children_and_stops_on_signal)
{
	char path[PATH_MAX];
	char *argv[] = { (char *)su_example(path, "fork-echo-server"), "0", "127.0.0.1", NULL };
	struct example ex = start_example(argv);

	ck_assert_int_eq(su_run_load(ex.port, 100, 16384), 0);
	ck_assert_msg(su_wait_childless(ex.pid, 3000), "fork-echo-server left zombies");
	stop_example(&ex, stop_signals[_i]);
}
END_TEST

/* 1: the peer closed fd within timeout_ms (end of file or reset); 0: it did not. */
static int closed_within(int fd, int timeout_ms)
{
	char c;
	ssize_t n;

	nw_set_timeout(fd, timeout_ms);
	n = read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static int connect_to(const char *port)
{
	int fd = nw_tcp_connect("127.0.0.1", port, 5000);

	ck_assert_msg(fd >= 0, "%s", nw_errmsg());
	return fd;
}

/*
 * --idle-timeout 500 --max-per-peer 2: a third connection is closed at
 * once while two are served; a silent one is closed after the timeout.
 */
static void check_guard_options(char *const argv[])
{
	struct example ex = start_example(argv);
	int a = connect_to(ex.port), b = connect_to(ex.port), extra, silent;
	char buf[2];

	ck_assert_int_eq(nw_writen(a, "a", 1), 1);
	ck_assert_int_eq(nw_readn(a, buf, 1), 1);
	ck_assert_int_eq(nw_writen(b, "b", 1), 1);
	ck_assert_int_eq(nw_readn(b, buf, 1), 1);
	extra = connect_to(ex.port);
	ck_assert_msg(closed_within(extra, 1000), "a third connection from one address served");
	close(extra);
	close(a);
	close(b);
	/* The slots come back as the children or threads end. */
	for (int i = 0; i < 50; i++) {
		silent = connect_to(ex.port);
		if (nw_writen(silent, "s", 1) == 1 && nw_set_timeout(silent, 200) == 0 &&
		    nw_readn(silent, buf, 1) == 1)
			break;
		close(silent);
		silent = -1;
	}
	ck_assert_msg(silent >= 0, "the per-peer count never fell");
	ck_assert_msg(closed_within(silent, 500 + 1500), "an idle client was not closed");
	close(silent);
	stop_example(&ex, SIGTERM);
}

START_TEST(echo_server_idle_timeout_and_peer_cap)
{
	static const char *const model_names[] = { "process", "thread", "pool", "event" };
	char path[PATH_MAX];
	char *argv[] = { (char *)su_example(path, "echo-server"), "--model",
			 (char *)model_names[_i], "--idle-timeout", "500", "--max-per-peer", "2",
			 "0", "127.0.0.1", NULL };

	check_guard_options(argv);
}
END_TEST

START_TEST(fork_echo_server_idle_timeout_and_peer_cap)
{
	char path[PATH_MAX];
	char *argv[] = { (char *)su_example(path, "fork-echo-server"), "--idle-timeout", "500",
			 "--max-per-peer", "2", "0", "127.0.0.1", NULL };

	check_guard_options(argv);
}
END_TEST

enum { UDP_CLIENTS = 50, UDP_ROUNDS = 20 };

static int udp_message(char *buf, size_t size, int client, int round)
{
	return snprintf(buf, size, "client %d round %d", client, round);
}

/* Wait for the echo of msg; stale echoes of earlier resends are skipped. */
static bool udp_echo_arrives(int sock, const char *msg, size_t len)
{
	char got[64];

	for (;;) {
		ssize_t n = recv(sock, got, sizeof got, 0);

		if (n < 0)
			return false;	/* timed out: lost on the way, or on the way back */
		if ((size_t)n == len && memcmp(got, msg, len) == 0)
			return true;
	}
}

/* Every client sends at once, then every echo must come back intact. */
static void udp_round(const int *socks, int round)
{
	bool echoed[UDP_CLIENTS] = { false };
	char msg[64];
	int len;

	/* Datagrams may be lost, even on loopback under load: resend a few times. */
	for (int attempt = 0; attempt < 3; attempt++) {
		for (int i = 0; i < UDP_CLIENTS; i++) {
			len = udp_message(msg, sizeof msg, i, round);
			if (!echoed[i])
				ck_assert_int_eq(send(socks[i], msg, (size_t)len, 0), len);
		}
		for (int i = 0; i < UDP_CLIENTS; i++) {
			len = udp_message(msg, sizeof msg, i, round);
			if (!echoed[i])
				echoed[i] = udp_echo_arrives(socks[i], msg, (size_t)len);
		}
	}
	for (int i = 0; i < UDP_CLIENTS; i++)
		ck_assert_msg(echoed[i], "client %d round %d: no intact echo", i, round);
}

START_TEST(udp_echo_concurrent_serves_many_clients_and_stops_on_signal)
{
	char path[PATH_MAX];
	char *argv[] = { (char *)su_example(path, "udp-echo-concurrent"), "-t", "4", "0",
			 "127.0.0.1", NULL };
	struct example ex = start_example(argv);
	int socks[UDP_CLIENTS];

	for (int i = 0; i < UDP_CLIENTS; i++) {
		socks[i] = nw_udp_connect("127.0.0.1", ex.port);
		ck_assert_msg(socks[i] >= 0, "%s", nw_errmsg());
		nw_set_timeout(socks[i], 1000);
	}
	for (int round = 0; round < UDP_ROUNDS; round++)
		udp_round(socks, round);
	stop_example(&ex, stop_signals[_i]);
	for (int i = 0; i < UDP_CLIENTS; i++)
		close(socks[i]);
}
END_TEST

static Suite *serve_examples_suite(void)
{
	Suite *s = suite_create("serve_examples");
	TCase *tc = tcase_create("examples");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, echo_server_serves_and_stops_on_signal, 0, 8);
	tcase_add_loop_test(tc, fork_echo_server_reaps_children_and_stops_on_signal, 0, 2);
	tcase_add_loop_test(tc, echo_server_idle_timeout_and_peer_cap, 0, 4);
	tcase_add_test(tc, fork_echo_server_idle_timeout_and_peer_cap);
	tcase_add_loop_test(tc, udp_echo_concurrent_serves_many_clients_and_stops_on_signal, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(serve_examples_suite());
}
