/*
 * check_resolve.c - what reaches the resolver and the kernel.
 *
 * This program defines socket() and getaddrinfo() itself: the library's
 * calls bind to these (symbol interposition), which count them and pass
 * them on to the C library's, or fail socket() for one family to play a
 * kernel without IPv6.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int resolver_calls;	/* bounded lookups call from their own thread */
static int missing_family;	/* socket() of this family fails ... */
static int missing_errno;	/* ... with this errno */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
		(int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))
		dlsym(RTLD_NEXT, "getaddrinfo");

	resolver_calls++;
	return real(node, service, hints, res);
}

int socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");

	if (missing_family && domain == missing_family) {
		errno = missing_errno;
		return -1;
	}
	return real(domain, type, protocol);
}

START_TEST(numeric_hosts_never_reach_the_resolver)
{
	char port[8];
	int lfd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	int fds[6];

	tu_port_str(lfd, port);
	resolver_calls = 0;
	fds[0] = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, -1));
	fds[1] = tu_assert_ok(nw_tcp_connect("127.0.0.1", port, 1000));
	fds[2] = tu_assert_ok(nw_udp_connect("127.0.0.1", port));
	fds[3] = tu_assert_ok(nw_udp_bind("127.0.0.1", "0"));
	fds[4] = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
	fds[5] = tu_assert_ok(nw_udp_bind("*", "0"));
	ck_assert_int_eq(resolver_calls, 0);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	if (tu_have_ipv6()) {
		int c = tu_assert_ok(nw_udp_connect("::1", port));
		int d = tu_assert_ok(nw_udp_connect("[::1]", port));

		ck_assert_int_eq(resolver_calls, 0);
		close(c);
		close(d);
	}
	/* A name in brackets is not an address, and is not looked up either. */
	tu_assert_fails(nw_tcp_connect("[localhost]", port, 1000), EADDRNOTAVAIL);
	ck_assert_int_eq(resolver_calls, 0);

	/* A name, and a service name, do go to the resolver. */
	int c = tu_assert_ok(nw_tcp_connect("localhost", port, 1000));

	ck_assert_int_ge(resolver_calls, 1);
	close(c);
	resolver_calls = 0;
	c = tu_assert_ok(nw_tcp_connect("localhost", port, -1));
	ck_assert_int_ge(resolver_calls, 1);
	resolver_calls = 0;
	int u = tu_assert_ok(nw_udp_connect("127.0.0.1", "domain"));

	ck_assert_int_ge(resolver_calls, 1);
	close(u);
	close(c);
	close(lfd);
}
END_TEST

static void assert_family(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, family);
}

START_TEST(wildcard_without_ipv6_falls_back_to_ipv4)
{
	const int errs[] = { EAFNOSUPPORT, EPROTONOSUPPORT };

	for (int i = 0; i < 2; i++) {
		char port[8];
		int lfd, ufd, c;

		missing_family = AF_INET6;
		missing_errno = errs[i];
		lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
		ufd = tu_assert_ok(nw_udp_bind("*", "0"));
		missing_family = 0;
		assert_family(lfd, AF_INET);
		assert_family(ufd, AF_INET);
		c = tu_assert_ok(nw_tcp_connect("127.0.0.1", tu_port_str(lfd, port), 1000));
		close(c);
		close(lfd);
		close(ufd);
	}
	/* With IPv6 present, the wildcard is one IPv6 socket. */
	if (tu_have_ipv6()) {
		int lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));

		assert_family(lfd, AF_INET6);
		close(lfd);
	}
}
END_TEST

START_TEST(other_socket_failures_are_reported)
{
	missing_family = AF_INET6;
	missing_errno = EMFILE;
	tu_assert_fails(nw_tcp_listen(NULL, "0", 0), EMFILE);
	tu_assert_fails(nw_udp_bind(NULL, "0"), EMFILE);
	missing_family = AF_INET;
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "9", 1000), EMFILE);
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "9", -1), EMFILE);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "nw_tcp_connect(127.0.0.1, 9): Too many open files"));
	missing_family = 0;
}
END_TEST

/*
 * The signalfd/sigwait design: SIGUSR1 blocked in every thread of the
 * program, sent to the process again and again while bounded connects
 * look up "localhost" (from /etc/hosts: no query leaves the machine).  A
 * thread of the library's that left SIGUSR1 unblocked would take one and
 * the default action would end the process ("User defined signal 1").
 */
static atomic_bool storm_stop;

static void *storm(void *arg)
{
	(void)arg;
	while (!atomic_load(&storm_stop)) {
		kill(getpid(), SIGUSR1);
		usleep(50);
	}
	return NULL;
}

/*
 * With SIGUSR1 blocked in this thread, start the storm (the sender
 * inherits the mask), unblock it here if asked, and make bounded connects
 * to "localhost" for up to 3 s.  Returns how many were made.
 */
static int connect_during_storm(bool unblock_here)
{
	char port[8];
	pthread_t sender;
	sigset_t usr1;
	int lfd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
	int64_t end = tu_now_ms() + 3000;
	int n = 0;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &usr1, NULL), 0);
	atomic_store(&storm_stop, false);
	ck_assert_int_eq(pthread_create(&sender, NULL, storm, NULL), 0);
	if (unblock_here)
		ck_assert_int_eq(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL), 0);
	tu_port_str(lfd, port);
	while (n < 2000 && tu_now_ms() < end) {
		int c = tu_assert_ok(nw_tcp_connect("localhost", port, 5000));
		int s = tu_assert_ok(nw_accept(lfd, NULL, NULL));

		close(c);
		close(s);
		n++;
	}
	atomic_store(&storm_stop, true);
	pthread_join(sender, NULL);
	close(lfd);
	return n;
}

START_TEST(blocked_signals_stay_blocked_during_bounded_lookups)
{
	sigset_t pending;

	ck_assert_int_ge(connect_during_storm(false), 20);
	/* The signals were sent, and wait for the program to take them. */
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(sigismember(&pending, SIGUSR1));
}
END_TEST

/*
 * The other half of the promise: where the caller's own thread takes the
 * signal, its handler runs there, never in a thread of the library's (the
 * lookup thread blocks everything, whatever its creator's mask).
 */
static pid_t caller_tid;
static atomic_int caller_took, foreign_took;

static void count_taker(int sig)
{
	(void)sig;
	if ((pid_t)syscall(SYS_gettid) == caller_tid)
		atomic_fetch_add(&caller_took, 1);
	else
		atomic_fetch_add(&foreign_took, 1);
}

START_TEST(signals_reach_only_the_callers_threads)
{
	struct sigaction sa = { .sa_handler = count_taker, .sa_flags = SA_RESTART };

	caller_tid = (pid_t)syscall(SYS_gettid);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_ge(connect_during_storm(true), 20);
	int caller = atomic_load(&caller_took), foreign = atomic_load(&foreign_took);

	ck_assert_int_gt(caller, 0);
	ck_assert_msg(foreign == 0, "%d signals taken by other threads", foreign);
}
END_TEST

/*
 * A lookup that never ends, without a packet: in a mount namespace of this
 * test's own, a FIFO is mounted over a file the resolver reads, so its
 * open() waits for a writer, and nsswitch.conf says "files" alone, so a
 * name the files lack is never asked of DNS.  The lookup thread is then
 * let go (a writer opens and closes: the file reads as empty) and must
 * free its answer itself: the caller is gone.  valgrind (make
 * check-valgrind) holds that to zero leaks.
 */
static char scratch[256];

static bool private_mounts(void)
{
	char conf[300];
	FILE *f;

	if (unshare(CLONE_NEWNS) < 0) {
		printf("skipped: a mount namespace needs root (%s)\n", strerror(errno));
		return false;
	}
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	tu_temp_path(scratch, sizeof scratch, "");
	snprintf(conf, sizeof conf, "%snsswitch.conf", scratch);
	f = fopen(conf, "we");
	ck_assert_ptr_nonnull(f);
	fputs("hosts: files\nservices: files\n", f);
	fclose(f);
	ck_assert_int_eq(mount(conf, "/etc/nsswitch.conf", "none", MS_BIND, NULL), 0);
	return true;
}

/* Mount a FIFO over file; its path goes to fifo. */
static void hang_file(const char *file, char *fifo, size_t size)
{
	snprintf(fifo, size, "%s%s", scratch, strrchr(file, '/') + 1);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_msg(mount(fifo, file, "none", MS_BIND, NULL) == 0, "mount %s: %s",
		      file, strerror(errno));
}

static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	int n = -1;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Wait until only this thread is left, letting every reader of fifo go. */
static void release_lookups(const char *fifo)
{
	int64_t end = tu_now_ms() + 10000;

	while (thread_count() != 1 && tu_now_ms() < end) {
		int fd = fifo ? open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;

		if (fd >= 0)
			close(fd);	/* the reader sees an empty file */
		usleep(10000);
	}
	ck_assert_int_eq(thread_count(), 1);
}

static void remove_mounts(const char *file, const char *fifo)
{
	char conf[300];

	snprintf(conf, sizeof conf, "%snsswitch.conf", scratch);
	ck_assert_int_eq(umount(file), 0);
	ck_assert_int_eq(umount("/etc/nsswitch.conf"), 0);
	unlink(fifo);
	unlink(conf);
	rmdir(scratch);
}

/* The call fails with ETIMEDOUT and text after about timeout_ms. */
#define assert_times_out(expr, timeout_ms, text) do { \
	int64_t t0_ = tu_now_ms(); \
	tu_assert_fails(expr, ETIMEDOUT); \
	int64_t took_ = tu_now_ms() - t0_; \
	ck_assert_msg(took_ >= (timeout_ms) - 50 && took_ < (timeout_ms) + 1500, \
		      "%s took %lld ms", #expr, (long long)took_); \
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), text)); \
} while (0)

/* With file hung, a 1000 ms connect to host and service ends on time. */
static void hung_lookup_times_out(const char *file, const char *host,
				  const char *service, const char *text)
{
	char fifo[300];

	if (!private_mounts())
		return;
	hang_file(file, fifo, sizeof fifo);
	assert_times_out(nw_tcp_connect(host, service, 1000), 1000, text);
	ck_assert_int_eq(thread_count(), 2);	/* the lookup, still waiting */
	release_lookups(fifo);
	remove_mounts(file, fifo);
}

START_TEST(service_lookups_end_at_the_deadline)
{
	hung_lookup_times_out("/etc/services", "127.0.0.1", "http",
			      "nw_tcp_connect(127.0.0.1, http): service lookup timed out");
}
END_TEST

START_TEST(host_lookups_end_at_the_deadline)
{
	hung_lookup_times_out("/etc/hosts", "localhost", "9",
			      "nw_tcp_connect(localhost, 9): name lookup timed out");
}
END_TEST

/* A deadline already passed fails at once, before any lookup starts. */
START_TEST(passed_deadlines_fail_before_the_lookup)
{
	resolver_calls = 0;
	tu_assert_fails(nw_tcp_connect("127.0.0.1", "http", 0), ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "service lookup timed out"));
	tu_assert_fails(nw_tcp_connect("localhost", "9", 0), ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(nw_errmsg(), "name lookup timed out"));
	ck_assert_int_eq(resolver_calls, 0);
	ck_assert_int_eq(thread_count(), 1);
}
END_TEST

/*
 * Callers that give up while their lookups are still running, many at
 * once: each lookup's thread frees its own answer (valgrind counts).
 */
START_TEST(abandoned_lookups_free_themselves)
{
	int gave_up = 0;

	for (int i = 0; i < 200; i++) {
		int fd = nw_tcp_connect("localhost", "9", i % 3);

		if (fd >= 0)
			close(fd);
		else if (errno == ETIMEDOUT && strstr(nw_errmsg(), "lookup timed out"))
			gave_up++;
	}
	release_lookups(NULL);
	printf("abandoned_lookups_free_themselves: %d of 200 gave up\n", gave_up);
}
END_TEST

/* For a listener, TCP_INFO reports the accept queue's limit in tcpi_sacked. */
static unsigned backlog_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_sacked;
}

START_TEST(backlog_zero_or_less_is_the_systems_limit)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	unsigned somaxconn = 0;
	int fd;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%u", &somaxconn), 1);
	fclose(f);
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 0));
	ck_assert_uint_eq(backlog_of(fd), somaxconn);
	close(fd);
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", -3));
	ck_assert_uint_eq(backlog_of(fd), somaxconn);
	close(fd);
	fd = tu_assert_ok(nw_tcp_listen("127.0.0.1", "0", 7));
	ck_assert_uint_eq(backlog_of(fd), 7);
	close(fd);
}
END_TEST

/*
 * Where the system allows more than the C library's SOMAXCONN (4096 in
 * glibc, 128 in musl), backlog 0 still gets the system's limit.  The
 * limit is per network namespace: this test raises it in one of its own.
 */
START_TEST(backlog_zero_is_not_capped_by_somaxconn)
{
	FILE *f;
	int fd;

	if (unshare(CLONE_NEWNET) < 0) {
		printf("skipped: a network namespace needs root (%s)\n", strerror(errno));
		return;
	}
	f = fopen("/proc/sys/net/core/somaxconn", "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\n", SOMAXCONN + 1000);
	ck_assert_int_eq(fclose(f), 0);
	fd = tu_assert_ok(nw_tcp_listen(NULL, "0", 0));
	ck_assert_uint_eq(backlog_of(fd), SOMAXCONN + 1000);
	close(fd);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, numeric_hosts_never_reach_the_resolver);
	tcase_add_test(tc, wildcard_without_ipv6_falls_back_to_ipv4);
	tcase_add_test(tc, other_socket_failures_are_reported);
	tcase_add_test(tc, backlog_zero_or_less_is_the_systems_limit);
	tcase_add_test(tc, backlog_zero_is_not_capped_by_somaxconn);
	tcase_add_test(tc, blocked_signals_stay_blocked_during_bounded_lookups);
	tcase_add_test(tc, signals_reach_only_the_callers_threads);
	tcase_add_test(tc, service_lookups_end_at_the_deadline);
	tcase_add_test(tc, host_lookups_end_at_the_deadline);
	tcase_add_test(tc, passed_deadlines_fail_before_the_lookup);
	tcase_add_test(tc, abandoned_lookups_free_themselves);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(resolve_suite());
}
