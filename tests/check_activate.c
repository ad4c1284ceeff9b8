/*
 * check_activate.c - nw_listen_fds, started the way systemd starts a
 * service: a launcher of our own puts descriptors at 3, 4, ... and sets
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, then runs tests/activate-probe,
 * which reports what the library made of them.  Every layout a supervisor
 * (or a mistake) can produce: right, meant for another process, garbage,
 * a descriptor that is not a socket, one that is not open.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE "./tests/activate-probe"

enum kind { TCP, UNIX, PIPE };

struct launch {
	const char *pid;	/* LISTEN_PID: "self", a literal, or NULL (unset) */
	const char *fds;	/* LISTEN_FDS, or NULL */
	const char *names;	/* LISTEN_FDNAMES, or NULL */
	int count;
	enum kind kinds[3];
};

/* Start the probe as a supervisor would; its whole output. */
static char *launch(const struct launch *l)
{
	int out[2], src[3];
	char path[108];
	static char buf[4096];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int status;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	for (int i = 0; i < l->count; i++) {
		int p[2];

		switch (l->kinds[i]) {
		case TCP:
			src[i] = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
			break;
		case UNIX:
			tu_temp_path(path, sizeof path, "activate.sock");
			src[i] = tu_assert_ok(nw_unix_listen(path, 0));
			unlink(path);
			break;
		case PIPE:
			ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
			close(p[1]);
			src[i] = p[0];
			break;
		}
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char self[16];
		int moved[3];

		/* Out of the way of 3, 4, 5 first, then into place (dup2 clears close-on-exec). */
		for (int i = 0; i < l->count; i++)
			if ((moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100)) < 0)
				_exit(120);
		if (dup2(out[1], 1) < 0)
			_exit(121);
		for (int i = 0; i < l->count; i++)
			if (dup2(moved[i], 3 + i) < 0)
				_exit(122);
		/* Like a supervisor, pass nothing else (Check and make leave some open). */
		for (int fd = 3 + l->count; fd < 1024; fd++)
			close(fd);
		snprintf(self, sizeof self, "%d", (int)getpid());
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		if (l->pid)
			setenv("LISTEN_PID", strcmp(l->pid, "self") == 0 ? self : l->pid, 1);
		if (l->fds)
			setenv("LISTEN_FDS", l->fds, 1);
		if (l->names)
			setenv("LISTEN_FDNAMES", l->names, 1);
		execl(PROBE, PROBE, (char *)NULL);
		_exit(123);
	}
	close(out[1]);
	for (int i = 0; i < l->count; i++)
		close(src[i]);
	while ((n = read(out[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(out[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "probe: status %d", status);
	return buf;
}

#define assert_has(out, text) \
	ck_assert_msg(strstr((out), (text)) != NULL, "no \"%s\" in:\n%s", (text), (out))

START_TEST(listeners_are_found_named_and_made_close_on_exec)
{
	const struct launch l = { "self", "2", "web:ctl", 2, { TCP, UNIX } };
	char *out = launch(&l);

	assert_has(out, "n=2\n");
	assert_has(out, "fd=3 sock=1 listening=1 cloexec=1 name=web\n");
	assert_has(out, "fd=4 sock=1 listening=1 cloexec=1 name=ctl\n");
	assert_has(out, "env=-\n");
	/* Standard streams and the two listeners: nothing more was opened. */
	assert_has(out, "open=5\n");
}
END_TEST

START_TEST(names_default_to_unknown)
{
	const struct launch l = { "self", "1", NULL, 1, { TCP } };
	char *out = launch(&l);

	assert_has(out, "n=1\nfd=3 sock=1 listening=1 cloexec=1 name=unknown\n");
	assert_has(out, "env=-\n");
}
END_TEST

START_TEST(another_process_descriptors_are_left_alone)
{
	/* LISTEN_PID names someone else (our parent, say): not ours. */
	const struct launch l = { "1", "1", NULL, 1, { TCP } };
	char *out = launch(&l);

	assert_has(out, "n=0\n");
	assert_has(out, "env=-\n");
	assert_has(out, "cloexec3=0\n");
}
END_TEST

START_TEST(no_activation_is_zero)
{
	const struct launch l = { NULL, NULL, NULL, 0, { TCP } };

	assert_has(launch(&l), "n=0\nenv=-\n");
}
END_TEST

START_TEST(garbage_counts_are_einval)
{
	static const char *const garbage[] = { "2x", "", "-1", "99999999999999999999", " 1" };

	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		const struct launch l = { "self", garbage[i], NULL, 1, { TCP } };
		char *out = launch(&l);
		char want[128];

		snprintf(want, sizeof want, "error=%d msg=nw_listen_fds: LISTEN_FDS=%s: not a count",
			 EINVAL, garbage[i]);
		assert_has(out, want);
		assert_has(out, "env=-\n");
	}
	const struct launch badpid = { "12ab", "1", NULL, 1, { TCP } };

	assert_has(launch(&badpid), "msg=nw_listen_fds: LISTEN_PID=12ab: not a process id");
	const struct launch badnames = { "self", "2", "a:b:c", 2, { TCP, TCP } };

	assert_has(launch(&badnames), "msg=nw_listen_fds: LISTEN_FDNAMES=a:b:c, LISTEN_FDS=2: ");
}
END_TEST

START_TEST(non_sockets_are_enotsock)
{
	const struct launch l = { "self", "2", NULL, 2, { TCP, PIPE } };
	char *out = launch(&l);
	char want[64];

	snprintf(want, sizeof want, "error=%d msg=nw_listen_fds: descriptor 4: ", ENOTSOCK);
	assert_has(out, want);
	assert_has(out, "env=-\n");
	/* Even so, nothing leaks into our children. */
	assert_has(out, "cloexec3=1\n");
}
END_TEST

START_TEST(missing_descriptors_are_ebadf)
{
	const struct launch l = { "self", "3", NULL, 2, { TCP, UNIX } };
	char *out = launch(&l);
	char want[64];

	snprintf(want, sizeof want, "error=%d msg=nw_listen_fds: descriptor 5 ", EBADF);
	assert_has(out, want);
}
END_TEST

START_TEST(null_is_einval)
{
	tu_assert_fails(nw_listen_fds(NULL, NULL), EINVAL);
}
END_TEST

static Suite *activate_suite(void)
{
	Suite *s = suite_create("activate");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, listeners_are_found_named_and_made_close_on_exec);
	tcase_add_test(tc, names_default_to_unknown);
	tcase_add_test(tc, another_process_descriptors_are_left_alone);
	tcase_add_test(tc, no_activation_is_zero);
	tcase_add_test(tc, garbage_counts_are_einval);
	tcase_add_test(tc, non_sockets_are_enotsock);
	tcase_add_test(tc, missing_descriptors_are_ebadf);
	tcase_add_test(tc, null_is_einval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(activate_suite());
}
