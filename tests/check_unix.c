/*
 * check_unix.c - nw_unix_listen and nw_unix_connect.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
	/* The liveness probe was one connection, closed without data. */
	char buf[4];
	int probe = tu_assert_ok(nw_accept(lfd, NULL, NULL));

	ck_assert_int_eq(nw_readn(probe, buf, sizeof buf), 0);
	close(probe);
	assert_talks(lfd, path);	/* the first server still works */
	close(lfd);
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
	return s;
}

int main(void)
{
	return tu_run(unix_suite());
}
