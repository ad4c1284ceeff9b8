/*
 * check_unix.c - nw_unix_listen and nw_unix_connect.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void assert_talks(int lfd, const char *path)
{
	char buf[8];
	struct sockaddr_storage peer;
	socklen_t plen;
	int c = nw_unix_connect(path);
	int s;

	ck_assert_msg(c >= 0, "%s", nw_errmsg());
	s = nw_accept(lfd, &peer, &plen);
	ck_assert_msg(s >= 0, "%s", nw_errmsg());
	ck_assert_int_eq(peer.ss_family, AF_UNIX);
	ck_assert(tu_cloexec(c));
	ck_assert(tu_cloexec(s));
	ck_assert_int_eq(nw_writen(c, "hi", 2), 2);
	ck_assert_int_eq(nw_readn(s, buf, 2), 2);
	ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
	close(c);
	close(s);
}

START_TEST(path_socket_round_trip)
{
	char path[128], buf[NW_ADDRSTRLEN], want[140];
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int lfd;

	tu_temp_path(path, sizeof path, "sock");
	lfd = tu_assert_ok(nw_unix_listen(path, 0));
	ck_assert(tu_cloexec(lfd));
	assert_talks(lfd, path);
	getsockname(lfd, (struct sockaddr *)&ss, &len);
	snprintf(want, sizeof want, "unix:%s", path);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&ss, len, buf, sizeof buf), want);
	close(lfd);
	unlink(path);
}
END_TEST

START_TEST(abstract_names_leave_no_file)
{
	char name[64], buf[NW_ADDRSTRLEN], want[80];
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int lfd;

	snprintf(name, sizeof name, "@nwtest-%d", (int)getpid());
	lfd = tu_assert_ok(nw_unix_listen(name, 0));
	assert_talks(lfd, name);
	ck_assert_int_eq(access(name, F_OK), -1);
	getsockname(lfd, (struct sockaddr *)&ss, &len);
	snprintf(want, sizeof want, "unix:%s", name);
	ck_assert_str_eq(nw_addr_str((struct sockaddr *)&ss, len, buf, sizeof buf), want);
	/* A live abstract name is taken. */
	tu_assert_fails(nw_unix_listen(name, 0), EADDRINUSE);
	close(lfd);
}
END_TEST

START_TEST(stale_socket_file_is_replaced)
{
	char path[128];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int dead = socket(AF_UNIX, SOCK_STREAM, 0);
	int lfd;

	tu_temp_path(path, sizeof path, "stale");
	strcpy(sun.sun_path, path);
	ck_assert_int_eq(bind(dead, (struct sockaddr *)&sun, sizeof sun), 0);
	close(dead);	/* a server died, its socket file stays */
	lfd = tu_assert_ok(nw_unix_listen(path, 0));
	assert_talks(lfd, path);
	close(lfd);
	unlink(path);
}
END_TEST

/* Nothing is queued on lfd: a non-blocking accept finds no one. */
static void assert_nobody_queued(int lfd)
{
	int fd;

	ck_assert_int_eq(nw_set_nonblock(lfd, 1), 0);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_msg(fd < 0 && errno == EAGAIN,
		      "the listener got a connection (fd %d): the probe connected to it", fd);
	ck_assert_int_eq(nw_set_nonblock(lfd, 0), 0);
}

START_TEST(live_socket_is_left_alone)
{
	char path[128];
	int lfd, again;

	tu_temp_path(path, sizeof path, "live");
	lfd = tu_assert_ok(nw_unix_listen(path, 0));
	again = nw_unix_listen(path, 0);
	ck_assert_int_eq(again, -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "Address already in use"));
	/* Liveness was decided without a connection the server could accept. */
	assert_nobody_queued(lfd);
	assert_talks(lfd, path);	/* the first server still works */
	close(lfd);
	unlink(path);
}
END_TEST

/*
 * With hundreds of listeners the kernel's list comes in several parts (of
 * about a hundred sockets each here): a live server is found in whichever
 * part it is, still without a connection.
 */
START_TEST(live_socket_among_many_listeners)
{
	enum { LIVE = 400 };
	char dir[128], path[160];
	int *live = malloc(LIVE * sizeof *live);

	ck_assert_ptr_nonnull(live);
	tu_temp_path(dir, sizeof dir, "");
	for (int i = 0; i < LIVE; i++) {
		snprintf(path, sizeof path, "%s%d", dir, i);
		live[i] = tu_assert_ok(nw_unix_listen(path, 0));
	}
	for (int i = 0; i < LIVE; i++) {
		snprintf(path, sizeof path, "%s%d", dir, i);
		tu_assert_fails(nw_unix_listen(path, 0), EADDRINUSE);
		assert_nobody_queued(live[i]);
	}
	for (int i = 0; i < LIVE; i++) {
		snprintf(path, sizeof path, "%s%d", dir, i);
		close(live[i]);
		unlink(path);
	}
	free(live);
}
END_TEST

/*
 * Fill lfd's queue with non-blocking connects until the kernel says EAGAIN;
 * the connected clients go to fds (at most max), their count is returned.
 */
static int saturate(const char *path, int *fds, int max)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = 0;

	strcpy(sun.sun_path, path);
	for (;;) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		ck_assert_int_ge(c, 0);
		if (connect(c, (struct sockaddr *)&sun, sizeof sun) < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			close(c);
			return n;
		}
		ck_assert_int_lt(n, max);
		fds[n++] = c;
	}
}

/* A live server whose queue is full: EADDRINUSE at once, not a hang. */
START_TEST(saturated_live_server_is_eaddrinuse_at_once)
{
	char path[128];
	int lfd, clients[64], n;
	int64_t start, elapsed;

	tu_temp_path(path, sizeof path, "full");
	lfd = tu_assert_ok(nw_unix_listen(path, 1));
	n = saturate(path, clients, 64);
	ck_assert_int_gt(n, 0);
	start = tu_now_ms();
	tu_assert_fails(nw_unix_listen(path, 0), EADDRINUSE);
	elapsed = tu_now_ms() - start;
	ck_assert_msg(elapsed < 1000, "nw_unix_listen took %lld ms", (long long)elapsed);
	ck_assert_int_eq(access(path, F_OK), 0);
	for (int i = 0; i < n; i++)
		close(clients[i]);
	close(lfd);
	unlink(path);
}
END_TEST

/*
 * A server in another network namespace, sharing the file system, is
 * invisible to sock_diag here: the non-blocking connect must still find it
 * live, idle (a connection) or saturated (EAGAIN).  Needs CLONE_NEWNET.
 */
START_TEST(live_server_in_another_namespace_is_left_alone)
{
	char path[128], c;
	int ready[2], done[2], status;
	pid_t pid;

	tu_temp_path(path, sizeof path, "netns");
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int clients[64], lfd;

		close(ready[0]);
		close(done[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		lfd = nw_unix_listen(path, 1);
		if (lfd < 0)
			_exit(1);
		if (_i == 1)
			saturate(path, clients, 64);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1) {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
			return;	/* no network namespaces here: nothing to check */
		ck_abort_msg("the other namespace's server did not start");
	}
	tu_assert_fails(nw_unix_listen(path, 0), EADDRINUSE);
	ck_assert_int_eq(access(path, F_OK), 0);
	close(done[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	unlink(path);
}
END_TEST

START_TEST(other_files_are_left_alone)
{
	char path[128], buf[16] = { 0 };
	int fd;

	tu_temp_path(path, sizeof path, "file");
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	tu_assert_fails(nw_unix_listen(path, 0), EADDRINUSE);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
	ck_assert_str_eq(buf, "precious");
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(long_paths_are_enametoolong)
{
	char path[200];
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);

	memset(path, 'p', sizeof path);
	path[0] = '/';
	path[max] = '\0';	/* no room left for the NUL */
	tu_assert_fails(nw_unix_listen(path, 0), ENAMETOOLONG);
	tu_assert_fails(nw_unix_connect(path), ENAMETOOLONG);
	/* An abstract name needs no NUL: '@' plus max - 1 bytes fits, one more does not. */
	path[0] = '@';
	snprintf(path + 1, 12, "%011d", (int)getpid());
	path[12] = 'p';
	path[max] = '\0';
	int lfd = tu_assert_ok(nw_unix_listen(path, 0));

	close(lfd);
	path[max] = 'p';
	path[max + 1] = '\0';
	tu_assert_fails(nw_unix_listen(path, 0), ENAMETOOLONG);
}
END_TEST

START_TEST(errors)
{
	char path[128];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int dead = socket(AF_UNIX, SOCK_STREAM, 0);

	tu_assert_fails(nw_unix_listen(NULL, 0), EINVAL);
	tu_assert_fails(nw_unix_listen("", 0), EINVAL);
	tu_assert_fails(nw_unix_connect(NULL), EINVAL);
	tu_assert_fails(nw_unix_connect(""), EINVAL);
	tu_assert_fails(nw_unix_connect("/nonexistent/nwtest.sock"), ENOENT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_unix_connect(/nonexistent/nwtest.sock): "));
	tu_assert_fails(nw_unix_listen("/nonexistent/nwtest.sock", 0), ENOENT);
	tu_temp_path(path, sizeof path, "refusing");
	strcpy(sun.sun_path, path);
	ck_assert_int_eq(bind(dead, (struct sockaddr *)&sun, sizeof sun), 0);
	tu_assert_fails(nw_unix_connect(path), ECONNREFUSED);
	close(dead);
	unlink(path);
}
END_TEST

static Suite *unix_suite(void)
{
	Suite *s = suite_create("unix");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, path_socket_round_trip);
	tcase_add_test(tc, abstract_names_leave_no_file);
	tcase_add_test(tc, stale_socket_file_is_replaced);
	tcase_add_test(tc, live_socket_is_left_alone);
	tcase_add_test(tc, other_files_are_left_alone);
	tcase_add_test(tc, long_paths_are_enametoolong);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);

	/* Today's probe hangs on a full queue: a short timeout makes that a failure. */
	TCase *probe = tcase_create("stale-file probe");

	tcase_set_timeout(probe, 10);
	tcase_add_test(probe, saturated_live_server_is_eaddrinuse_at_once);
	tcase_add_test(probe, live_socket_among_many_listeners);
	tcase_add_loop_test(probe, live_server_in_another_namespace_is_left_alone, 0, 2);
	suite_add_tcase(s, probe);
	return s;
}

int main(void)
{
	return tu_run(unix_suite());
}
