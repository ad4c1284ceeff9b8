/*
 * testutil.h - helpers shared by the Check suites.
 */
#ifndef NW_TESTUTIL_H
#define NW_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netwrap.h"

/* Under valgrind some limits are only emulated and signals are slow. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Run one suite with CK_ENV verbosity; the process exit status. */
int tu_run(Suite *s);
/* Open descriptors of this process (from /proc/self/fd). */
int tu_count_fds(void);
/* True if fd has FD_CLOEXEC set. */
bool tu_cloexec(int fd);
/* True if this machine can bind ::1. */
bool tu_have_ipv6(void);
/* The port fd is bound to, as a string in buf (at least 8 bytes). */
const char *tu_port_str(int fd, char *buf);
/* A connected TCP pair over loopback: *client and *server. */
void tu_tcp_pair(int *client, int *server);
/* Fill buf with reproducible pseudo-random bytes from seed. */
void tu_fill_random(void *buf, size_t n, unsigned seed);
/* Install a no-op handler for sig without SA_RESTART, so calls see EINTR. */
void tu_interrupting_handler(int sig);
/* Unique path for a Unix-domain socket in a private temporary directory. */
void tu_temp_path(char *buf, size_t size, const char *name);
/* Assert that the peer closed fd (EOF or reset within 3 s), sending nothing. */
void tu_assert_closed(int fd);
/* Monotonic milliseconds, for measuring how long a call took. */
int64_t tu_now_ms(void);
/* Sleep ms milliseconds, resuming after a signal. */
void tu_sleep_ms(long ms);

/* Assert a -1 return with the given errno, showing nw_errmsg on failure. */
#define tu_assert_fails(expr, err) do { \
	errno = 0; \
	long tu_rc_ = (long)(expr); \
	int tu_errno_ = errno; \
	ck_assert_msg(tu_rc_ == -1 && tu_errno_ == (err), \
		"%s: expected -1 / %s, got %ld / %s (%s)", #expr, strerror(err), \
		tu_rc_, strerror(tu_errno_), nw_errmsg()); \
} while (0)

/* Assert success (>= 0), showing nw_errmsg on failure. */
#define tu_assert_ok(expr) ({ \
	long tu_rc_ = (long)(expr); \
	ck_assert_msg(tu_rc_ >= 0, "%s failed: %s", #expr, nw_errmsg()); \
	tu_rc_; \
})

#endif
