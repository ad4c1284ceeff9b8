/*
 * check_error.c - nw_errmsg: per-thread, never NULL, names the call.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *fresh_thread_message(void *arg)
{
	(void)arg;
	return (void *)nw_errmsg();
}

START_TEST(new_thread_has_empty_message)
{
	pthread_t t;
	void *msg;

	/* A lookup thread of the library's, under valgrind too: room to finish. */
	tu_assert_fails(nw_tcp_connect("no such host", "1", 5000), EADDRNOTAVAIL);
	pthread_create(&t, NULL, fresh_thread_message, NULL);
	pthread_join(t, &msg);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq((const char *)msg, "");
}
END_TEST

START_TEST(message_names_call_and_arguments)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));

	tu_port_str(lfd, port);
	tu_assert_fails(nw_tcp_listen("127.0.0.1", port, 0), EADDRINUSE);
	char want[64];

	snprintf(want, sizeof want, "nw_tcp_listen(127.0.0.1, %s): Address already in use", port);
	ck_assert_str_eq(nw_errmsg(), want);
	close(lfd);
}
END_TEST

START_TEST(success_keeps_the_last_failure)
{
	tu_assert_fails(nw_unix_connect(""), EINVAL);
	int fd = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));

	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_unix_connect"));
	close(fd);
}
END_TEST

START_TEST(long_arguments_are_cut_not_overflowed)
{
	char host[4000];

	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	ck_assert_int_eq(nw_tcp_connect(host, "80", 100), -1);
	ck_assert_uint_gt(strlen(nw_errmsg()), 20);
	ck_assert_uint_lt(strlen(nw_errmsg()), 1024);
	ck_assert(strncmp(nw_errmsg(), "nw_tcp_connect(hhh", 18) == 0);
}
END_TEST

#define THREADS 8
static pthread_barrier_t barrier;

static void *fail_differently(void *arg)
{
	long id = (long)arg;
	char path[32], want[96];
	bool ok = true;

	snprintf(path, sizeof path, "/nonexistent/%ld", id);
	snprintf(want, sizeof want, "nw_unix_connect(%s): No such file or directory", path);
	for (int i = 0; i < 200 && ok; i++) {
		ok = nw_unix_connect(path) == -1 && errno == ENOENT;
		/* Everyone has failed before anyone checks. */
		pthread_barrier_wait(&barrier);
		ok = ok && strcmp(nw_errmsg(), want) == 0;
		pthread_barrier_wait(&barrier);
	}
	return (void *)ok;
}

START_TEST(each_thread_has_its_own_message)
{
	pthread_t t[THREADS];

	pthread_barrier_init(&barrier, NULL, THREADS);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, fail_differently, (void *)i);
	for (int i = 0; i < THREADS; i++) {
		void *ok;

		pthread_join(t[i], &ok);
		ck_assert_msg(ok, "thread %d saw another thread's message", i);
	}
	pthread_barrier_destroy(&barrier);
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, new_thread_has_empty_message);
	tcase_add_test(tc, message_names_call_and_arguments);
	tcase_add_test(tc, success_keeps_the_last_failure);
	tcase_add_test(tc, long_arguments_are_cut_not_overflowed);
	tcase_add_test(tc, each_thread_has_its_own_message);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(error_suite());
}
