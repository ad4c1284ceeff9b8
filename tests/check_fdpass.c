/*
 * check_fdpass.c - nw_send_fd, nw_recv_fd and nw_peer_cred over real
 * Unix-domain sockets.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void unix_pair(int type, int fds[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0);
}

static void make_pipe(int fds[2])
{
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Most tests pass a pipe's write end over a stream socket pair: sv[0]
 * sends, sv[1] receives, and what is written to p[1] comes out of p[0].
 * A test that closes one of them sets it to -1.
 */
static int sv[2] = { -1, -1 }, p[2] = { -1, -1 };

static void pair_and_pipe(void)
{
	unix_pair(SOCK_STREAM, sv);
	make_pipe(p);
}

static void close_pair_and_pipe(void)
{
	close_all(sv, 2);
	close_all(p, 2);
}

/* Every copy of the pipe's write end is gone: reading gives end of file. */
static void assert_no_writer_left(int rd)
{
	char c;

	ck_assert_int_eq(read(rd, &c, 1), 0);
}

/* The received descriptor is the pipe's write end: data written to it comes out of rd. */
static void assert_writes_into(int fd, int rd, const char *text)
{
	char buf[64];
	size_t n = strlen(text);

	ck_assert_int_eq(nw_writen(fd, text, n), (ssize_t)n);
	ck_assert_int_eq(nw_readn(rd, buf, n), (ssize_t)n);
	ck_assert_int_eq(memcmp(buf, text, n), 0);
}

/*
 * Send n descriptors in one SCM_RIGHTS message riding on data[0..len), as a
 * peer not using the library might.
 */
static void send_raw(int sock, const int *fds, int n, const char *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	char control[CMSG_SPACE(sizeof(int) * 32)];
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n),
	};
	struct cmsghdr *c;

	ck_assert_int_le(n, 32);
	memset(control, 0, sizeof control);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_raw_fds(int sock, const int *fds, int n)
{
	send_raw(sock, fds, n, "x", 1);
}

START_TEST(passes_a_working_descriptor)
{
	int got;

	tu_assert_ok(nw_send_fd(sv[0], p[1]));
	close_all(&p[1], 1);	/* the copy in flight keeps the write end alive */
	got = tu_assert_ok(nw_recv_fd(sv[1]));
	assert_writes_into(got, p[0], "through the passed descriptor");
	close(got);
	assert_no_writer_left(p[0]);	/* got was the last writer */
}
END_TEST

START_TEST(received_descriptor_is_close_on_exec)
{
	int got;

	/* The sender's copy is not close-on-exec: the flag comes from the receiver. */
	ck_assert_int_eq(fcntl(p[1], F_SETFD, 0), 0);
	tu_assert_ok(nw_send_fd(sv[0], p[1]));
	got = tu_assert_ok(nw_recv_fd(sv[1]));
	ck_assert(tu_cloexec(got));
	close(got);
}
END_TEST

START_TEST(over_a_named_socket_in_order)
{
	char path[108];
	int lfd, client, server, pipes[3][2];

	tu_temp_path(path, sizeof path, "fd.sock");
	lfd = tu_assert_ok(nw_unix_listen(path, 1));
	client = tu_assert_ok(nw_unix_connect(path));
	server = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	for (int i = 0; i < 3; i++) {
		make_pipe(pipes[i]);
		tu_assert_ok(nw_send_fd(client, pipes[i][1]));
	}
	for (int i = 0; i < 3; i++) {
		char text[] = "pipe 0";
		int got = tu_assert_ok(nw_recv_fd(server));

		text[5] = (char)('0' + i);
		assert_writes_into(got, pipes[i][0], text);
		close(got);
		close_all(pipes[i], 2);
	}
	close(client);
	close(server);
	close(lfd);
	unlink(path);
}
END_TEST

/* The data byte that carries a descriptor never shows up in the byte stream. */
START_TEST(data_byte_does_not_leak_into_the_stream)
{
	char buf[8];
	int got;

	tu_assert_ok(nw_writen(sv[0], "ab", 2));
	ck_assert_int_eq(nw_readn(sv[1], buf, 2), 2);
	tu_assert_ok(nw_send_fd(sv[0], p[1]));
	tu_assert_ok(nw_writen(sv[0], "cd", 2));
	got = tu_assert_ok(nw_recv_fd(sv[1]));
	ck_assert_int_eq(nw_readn(sv[1], buf, 2), 2);
	ck_assert_int_eq(memcmp(buf, "cd", 2), 0);
	close(got);
}
END_TEST

START_TEST(datagram_and_seqpacket_sockets)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };

	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		int dv[2], got;

		unix_pair(types[t], dv);
		tu_assert_ok(nw_send_fd(dv[0], p[1]));
		got = tu_assert_ok(nw_recv_fd(dv[1]));
		assert_writes_into(got, p[0], "datagram");
		close(got);
		close_all(dv, 2);
	}
}
END_TEST

/* SO_PASSCRED adds a credentials message next to the descriptor: both must fit. */
START_TEST(receiver_with_passcred)
{
	int got, on = 1;

	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
	tu_assert_ok(nw_send_fd(sv[0], p[1]));
	got = tu_assert_ok(nw_recv_fd(sv[1]));
	assert_writes_into(got, p[0], "with credentials");
	close(got);
}
END_TEST

/* More descriptors than the control buffer holds: MSG_CTRUNC, nothing kept. */
START_TEST(truncated_control_data_closes_everything)
{
	int fds[32], before;

	for (int i = 0; i < 32; i++)
		fds[i] = p[1];
	before = tu_count_fds();
	send_raw_fds(sv[0], fds, 32);
	tu_assert_fails(nw_recv_fd(sv[1]), EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "truncated"));
	ck_assert_int_eq(tu_count_fds(), before);
	close_all(&p[1], 1);
	assert_no_writer_left(p[0]);
}
END_TEST

/*
 * A datagram or seqpacket message with more than the one data byte loses its
 * tail in nw_recv_fd's buffer: EMSGSIZE, as nw_recvfrom says, and no
 * descriptor kept.  The next message is whole again.
 */
START_TEST(truncated_message_is_emsgsize)
{
	static const int types[] = { SOCK_SEQPACKET, SOCK_DGRAM };

	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		int dv[2], before, got;

		unix_pair(types[t], dv);
		send_raw(dv[0], &p[1], 1, "0123456789", 10);
		before = tu_count_fds();
		tu_assert_fails(nw_recv_fd(dv[1]), EMSGSIZE);
		ck_assert_ptr_nonnull(strstr(nw_errmsg(), "truncated"));
		ck_assert_int_eq(tu_count_fds(), before);
		tu_assert_ok(nw_send_fd(dv[0], p[1]));
		got = tu_assert_ok(nw_recv_fd(dv[1]));
		assert_writes_into(got, p[0], "whole again");
		close(got);
		close_all(dv, 2);
	}
	/* The truncated message's copy was closed: ours was the last writer. */
	close_all(&p[1], 1);
	assert_no_writer_left(p[0]);
}
END_TEST

START_TEST(two_descriptors_in_one_message_are_refused)
{
	int before = tu_count_fds();

	send_raw_fds(sv[0], p, 2);
	tu_assert_fails(nw_recv_fd(sv[1]), EPROTO);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

/* At the descriptor limit the kernel truncates too; that is EMFILE, not a protocol error. */
START_TEST(descriptor_limit_is_emfile)
{
	int lowest, before;
	struct rlimit old, lim;

	tu_assert_ok(nw_send_fd(sv[0], p[1]));
	before = tu_count_fds();
	lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);	/* the next descriptor number */
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)lowest;	/* no free descriptor left */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	if (RUNNING_ON_VALGRIND) {
		/* valgrind only emulates the limit: the kernel installs the descriptor. */
		int fd = nw_recv_fd(sv[1]);

		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
		if (fd >= 0)
			close(fd);
		return;
	}
	tu_assert_fails(nw_recv_fd(sv[1]), EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

START_TEST(message_without_descriptor_is_enomsg)
{
	tu_assert_ok(nw_writen(sv[0], "x", 1));
	tu_assert_fails(nw_recv_fd(sv[1]), ENOMSG);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "no descriptor"));
}
END_TEST

START_TEST(closed_peer_is_econnreset)
{
	close_all(&sv[0], 1);
	tu_assert_fails(nw_recv_fd(sv[1]), ECONNRESET);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "closed by peer"));
}
END_TEST

START_TEST(send_to_closed_peer_is_epipe_without_sigpipe)
{
	close_all(&sv[1], 1);
	/* SIGPIPE keeps its default action: the test dies if it is raised. */
	tu_assert_fails(nw_send_fd(sv[0], p[1]), EPIPE);
}
END_TEST

struct delayed_send {
	int sock, fd, delay_ms;
};

static void *send_later(void *arg)
{
	const struct delayed_send *d = arg;
	struct timespec ts = { d->delay_ms / 1000, (long)(d->delay_ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	if (nw_send_fd(d->sock, d->fd) < 0)
		abort();
	return NULL;
}

START_TEST(non_blocking_receiver_waits)
{
	struct delayed_send d = { sv[0], p[1], 100 };
	pthread_t t;
	int got;

	tu_assert_ok(nw_set_nonblock(sv[1], 1));
	ck_assert_int_eq(pthread_create(&t, NULL, send_later, &d), 0);
	got = tu_assert_ok(nw_recv_fd(sv[1]));
	pthread_join(t, NULL);
	assert_writes_into(got, p[0], "waited");
	close(got);
}
END_TEST

START_TEST(interrupted_receive_is_retried)
{
	struct delayed_send d = { sv[0], p[1], 200 };
	struct itimerval it = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } };
	pthread_t t;
	int got;

	tu_interrupting_handler(SIGALRM);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, send_later, &d), 0);
	got = nw_recv_fd(sv[1]);
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_join(t, NULL);
	ck_assert_msg(got >= 0, "nw_recv_fd: %s", nw_errmsg());
	close(got);
}
END_TEST

START_TEST(receive_timeout)
{
	tu_assert_ok(nw_set_timeout(sv[1], 100));
	tu_assert_fails(nw_recv_fd(sv[1]), ETIMEDOUT);
	tu_assert_ok(nw_set_nonblock(sv[1], 1));	/* the same bound, waited in poll */
	tu_assert_fails(nw_recv_fd(sv[1]), ETIMEDOUT);
}
END_TEST

START_TEST(send_and_receive_errors)
{
	int client, server;

	tu_assert_fails(nw_send_fd(sv[0], -1), EBADF);
	tu_assert_fails(nw_send_fd(sv[0], 999999), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_send_fd("));
	tu_assert_fails(nw_send_fd(-1, p[1]), EBADF);
	tu_assert_fails(nw_recv_fd(-1), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_recv_fd(-1)"));
	tu_assert_fails(nw_send_fd(p[1], p[0]), ENOTSOCK);
	tu_assert_fails(nw_recv_fd(p[0]), ENOTSOCK);
	tu_tcp_pair(&client, &server);
	tu_assert_fails(nw_send_fd(client, p[1]), EAFNOSUPPORT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "not a Unix-domain socket"));
	tu_assert_fails(nw_recv_fd(server), EAFNOSUPPORT);
	close(client);
	close(server);
}
END_TEST

START_TEST(failing_receives_leak_nothing)
{
	int before = tu_count_fds();

	for (int i = 0; i < 200; i++) {
		send_raw_fds(sv[0], p, 2);
		tu_assert_fails(nw_recv_fd(sv[1]), EPROTO);
		tu_assert_ok(nw_writen(sv[0], "x", 1));
		tu_assert_fails(nw_recv_fd(sv[1]), ENOMSG);
	}
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

START_TEST(peer_cred_of_socketpair_is_us)
{
	pid_t pid;
	uid_t uid;
	gid_t gid;

	tu_assert_ok(nw_peer_cred(sv[0], &pid, &uid, &gid));
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(uid, getuid());
	ck_assert_int_eq(gid, getgid());
	tu_assert_ok(nw_peer_cred(sv[1], NULL, NULL, NULL));
	tu_assert_ok(nw_peer_cred(sv[1], NULL, &uid, NULL));
	ck_assert_int_eq(uid, getuid());
}
END_TEST

/* A server sees the client process that connected, not itself. */
START_TEST(peer_cred_names_the_connecting_process)
{
	char path[108];
	int lfd, server, status;
	pid_t child, pid;
	uid_t uid;

	tu_temp_path(path, sizeof path, "cred.sock");
	lfd = tu_assert_ok(nw_unix_listen(path, 1));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int fd = nw_unix_connect(path);
		char c;

		/* Stay connected until the server has looked. */
		_exit(fd >= 0 && read(fd, &c, 1) == 0 ? 0 : 1);
	}
	server = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	tu_assert_ok(nw_peer_cred(server, &pid, &uid, NULL));
	ck_assert_int_eq(pid, child);
	ck_assert_int_ne(pid, getpid());
	ck_assert_int_eq(uid, getuid());
	close(server);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
	unlink(path);
}
END_TEST

START_TEST(peer_cred_errors)
{
	int fd, client, server;
	pid_t pid;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	tu_assert_fails(nw_peer_cred(fd, &pid, NULL, NULL), ENOTCONN);
	close(fd);
	tu_assert_fails(nw_peer_cred(-1, &pid, NULL, NULL), EBADF);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_peer_cred(-1)"));
	tu_assert_fails(nw_peer_cred(p[0], &pid, NULL, NULL), ENOTSOCK);
	/* TCP has no credentials: refuse rather than report nobody. */
	tu_tcp_pair(&client, &server);
	tu_assert_fails(nw_peer_cred(server, &pid, NULL, NULL), EAFNOSUPPORT);
	close(client);
	close(server);
}
END_TEST

static Suite *fdpass_suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *pass = tcase_create("pass");
	TCase *bad = tcase_create("bad peers");
	TCase *wait = tcase_create("waiting");
	TCase *cred = tcase_create("credentials");

	tcase_set_timeout(pass, 10);
	tcase_add_checked_fixture(pass, pair_and_pipe, close_pair_and_pipe);
	tcase_add_test(pass, passes_a_working_descriptor);
	tcase_add_test(pass, received_descriptor_is_close_on_exec);
	tcase_add_test(pass, over_a_named_socket_in_order);
	tcase_add_test(pass, data_byte_does_not_leak_into_the_stream);
	tcase_add_test(pass, datagram_and_seqpacket_sockets);
	tcase_add_test(pass, receiver_with_passcred);
	suite_add_tcase(s, pass);

	tcase_set_timeout(bad, 10);
	tcase_add_checked_fixture(bad, pair_and_pipe, close_pair_and_pipe);
	tcase_add_test(bad, truncated_control_data_closes_everything);
	tcase_add_test(bad, truncated_message_is_emsgsize);
	tcase_add_test(bad, two_descriptors_in_one_message_are_refused);
	tcase_add_test(bad, descriptor_limit_is_emfile);
	tcase_add_test(bad, message_without_descriptor_is_enomsg);
	tcase_add_test(bad, closed_peer_is_econnreset);
	tcase_add_test(bad, send_to_closed_peer_is_epipe_without_sigpipe);
	tcase_add_test(bad, send_and_receive_errors);
	tcase_add_test(bad, failing_receives_leak_nothing);
	suite_add_tcase(s, bad);

	tcase_set_timeout(wait, 10);
	tcase_add_checked_fixture(wait, pair_and_pipe, close_pair_and_pipe);
	tcase_add_test(wait, non_blocking_receiver_waits);
	tcase_add_test(wait, interrupted_receive_is_retried);
	tcase_add_test(wait, receive_timeout);
	suite_add_tcase(s, wait);

	tcase_set_timeout(cred, 10);
	tcase_add_checked_fixture(cred, pair_and_pipe, close_pair_and_pipe);
	tcase_add_test(cred, peer_cred_of_socketpair_is_us);
	tcase_add_test(cred, peer_cred_names_the_connecting_process);
	tcase_add_test(cred, peer_cred_errors);
	suite_add_tcase(s, cred);
	return s;
}

int main(void)
{
	return tu_run(fdpass_suite());
}
