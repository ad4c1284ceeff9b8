/*
 * check_seqpacket.c - nw_unix_listen_type and nw_unix_connect_type:
 * SOCK_SEQPACKET keeps message boundaries and reports truncation, carries
 * descriptors; SOCK_DGRAM clients can be answered; the stale-file and
 * abstract-name rules of nw_unix_listen hold for every type.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int socket_type(int fd)
{
	int type = -1;
	socklen_t len = sizeof type;

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	return type;
}

/* A connected seqpacket pair through a listener at name. */
static void seq_pair(const char *name, int *client, int *server)
{
	int lfd = tu_assert_ok(nw_unix_listen_type(name, SOCK_SEQPACKET, 0));

	ck_assert_int_eq(socket_type(lfd), SOCK_SEQPACKET);
	ck_assert(tu_cloexec(lfd));
	*client = tu_assert_ok(nw_unix_connect_type(name, SOCK_SEQPACKET));
	*server = tu_assert_ok(nw_accept(lfd, NULL, NULL));
	ck_assert_int_eq(socket_type(*client), SOCK_SEQPACKET);
	ck_assert(tu_cloexec(*client));
	close(lfd);
}

START_TEST(boundaries_are_kept)
{
	char path[128], buf[4096], msg[3000];
	int c, s;

	tu_temp_path(path, sizeof path, "seq");
	seq_pair(path, &c, &s);
	/* Sizes that a stream would merge into one read: each comes back alone. */
	for (size_t len = 1; len <= sizeof msg; len = len * 3 + 1) {
		tu_fill_random(msg, len, (unsigned)len);
		ck_assert_int_eq(nw_writen(c, msg, len), (ssize_t)len);
	}
	for (size_t len = 1; len <= sizeof msg; len = len * 3 + 1) {
		ssize_t n = nw_recvfrom(s, buf, sizeof buf, NULL, NULL);

		tu_fill_random(msg, len, (unsigned)len);
		ck_assert_int_eq(n, (ssize_t)len);
		ck_assert_int_eq(memcmp(buf, msg, len), 0);
	}
	close(c);
	close(s);
	unlink(path);
}
END_TEST

START_TEST(truncation_is_reported)
{
	char name[64], small[4];
	struct nw_dgram d = { .buf = small, .size = sizeof small };
	int c, s;

	snprintf(name, sizeof name, "@nwtest-seq-%d", (int)getpid());
	seq_pair(name, &c, &s);
	ck_assert_int_eq(nw_writen(c, "0123456789", 10), 10);
	ck_assert_int_eq(nw_writen(c, "abcdefgh", 8), 8);
	ck_assert_int_eq(nw_writen(c, "xyz", 3), 3);
	/* nw_recvfrom refuses a cut message; the rest of it is gone, the next one whole. */
	tu_assert_fails(nw_recvfrom(s, small, sizeof small, NULL, NULL), EMSGSIZE);
	ck_assert_int_eq(nw_recv_batch(s, &d, 1, sizeof d), 1);
	ck_assert_int_eq(d.len, 4);
	ck_assert_int_eq(d.flags, NW_DGRAM_TRUNC);
	ck_assert_int_eq(memcmp(small, "abcd", 4), 0);
	ck_assert_int_eq(nw_recvfrom(s, small, sizeof small, NULL, NULL), 3);
	ck_assert_int_eq(memcmp(small, "xyz", 3), 0);
	close(c);
	close(s);
}
END_TEST

START_TEST(descriptors_pass_on_seqpacket)
{
	char path[128], buf[8];
	int c, s, p[2], got;

	tu_temp_path(path, sizeof path, "seqfd");
	seq_pair(path, &c, &s);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(nw_send_fd(c, p[1]), 0);
	ck_assert_int_eq(nw_writen(c, "after", 5), 5);
	got = tu_assert_ok(nw_recv_fd(s));
	ck_assert(tu_cloexec(got));
	/* The message after the descriptor's is still its own. */
	ck_assert_int_eq(nw_recvfrom(s, buf, sizeof buf, NULL, NULL), 5);
	ck_assert_int_eq(nw_writen(got, "via", 3), 3);
	ck_assert_int_eq(nw_readn(p[0], buf, 3), 3);
	ck_assert_int_eq(memcmp(buf, "via", 3), 0);
	close(got);
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
	unlink(path);
}
END_TEST

/* A datagram client is autobound, so the server can answer it. */
START_TEST(datagram_clients_are_answered)
{
	char path[128], buf[16];
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int server, client;

	tu_temp_path(path, sizeof path, "dgram");
	server = tu_assert_ok(nw_unix_listen_type(path, SOCK_DGRAM, 0));
	ck_assert_int_eq(socket_type(server), SOCK_DGRAM);
	client = tu_assert_ok(nw_unix_connect_type(path, SOCK_DGRAM));
	ck_assert(tu_cloexec(client));
	ck_assert_int_eq(nw_sendto(client, "question", 8, NULL, 0), 8);
	ck_assert_int_eq(nw_recvfrom(server, buf, sizeof buf, &peer, &peerlen), 8);
	ck_assert_int_gt(peerlen, (socklen_t)sizeof(sa_family_t));
	ck_assert_int_eq(nw_sendto(server, "answer", 6, (struct sockaddr *)&peer, peerlen), 6);
	ck_assert_int_eq(nw_recvfrom(client, buf, sizeof buf, NULL, NULL), 6);
	ck_assert_int_eq(memcmp(buf, "answer", 6), 0);
	close(client);
	close(server);
	unlink(path);
}
END_TEST

/* A dead server's file is replaced; a live one, of any type, is not. */
START_TEST(stale_files_and_live_servers)
{
	static const int types[] = { SOCK_SEQPACKET, SOCK_DGRAM };
	char path[128];

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		int dead, live, again;

		tu_temp_path(path, sizeof path, "stale");
		dead = tu_assert_ok(nw_unix_listen_type(path, types[i], 0));
		close(dead);	/* the file stays: a crashed server's leftover */
		ck_assert_int_eq(access(path, F_OK), 0);
		live = tu_assert_ok(nw_unix_listen_type(path, types[i], 0));
		tu_assert_fails(nw_unix_listen_type(path, types[i], 0), EADDRINUSE);
		/* A live server of another type is no leftover either. */
		tu_assert_fails(nw_unix_listen_type(path, SOCK_STREAM, 0), EADDRINUSE);
		tu_assert_fails(nw_unix_listen(path, 0), EADDRINUSE);
		close(live);
		again = tu_assert_ok(nw_unix_listen(path, 0));
		close(again);
		unlink(path);
	}
}
END_TEST

START_TEST(abstract_names_leave_no_file)
{
	char name[64];
	int lfd, c;

	snprintf(name, sizeof name, "@nwtest-abs-%d", (int)getpid());
	lfd = tu_assert_ok(nw_unix_listen_type(name, SOCK_DGRAM, 0));
	ck_assert_int_eq(access(name, F_OK), -1);
	tu_assert_fails(nw_unix_listen_type(name, SOCK_DGRAM, 0), EADDRINUSE);
	c = tu_assert_ok(nw_unix_connect_type(name, SOCK_DGRAM));
	close(c);
	close(lfd);
	tu_assert_fails(nw_unix_connect_type(name, SOCK_SEQPACKET), ECONNREFUSED);
}
END_TEST

START_TEST(bad_types_are_einval)
{
	int n = tu_count_fds();

	tu_assert_fails(nw_unix_listen_type("@nwtest-bad", SOCK_RAW, 0), EINVAL);
	tu_assert_fails(nw_unix_connect_type("@nwtest-bad", 0), EINVAL);
	tu_assert_fails(nw_unix_listen_type(NULL, SOCK_SEQPACKET, 0), EINVAL);
	ck_assert_int_eq(tu_count_fds(), n);
}
END_TEST

static Suite *seqpacket_suite(void)
{
	Suite *s = suite_create("seqpacket");
	TCase *tc = tcase_create("seqpacket");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, boundaries_are_kept);
	tcase_add_test(tc, truncation_is_reported);
	tcase_add_test(tc, descriptors_pass_on_seqpacket);
	tcase_add_test(tc, datagram_clients_are_answered);
	tcase_add_test(tc, stale_files_and_live_servers);
	tcase_add_test(tc, abstract_names_leave_no_file);
	tcase_add_test(tc, bad_types_are_einval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(seqpacket_suite());
}
