/*
 * serveutil.h - helpers for the concurrent-server suites: child processes,
 * the example programs, and what /proc says about a server.
 */
#ifndef NW_SERVEUTIL_H
#define NW_SERVEUTIL_H

#include <stdbool.h>
#include <sys/types.h>

/* Path of an example program in the build tree, in buf (PATH_MAX bytes). */
const char *su_example(char *buf, const char *name);
/* Run echo-load against 127.0.0.1:port; its exit status (0: every byte verified). */
int su_run_load(const char *port, int conns, int bytes);
/* Start an example; *out_fd reads its standard output. Returns its pid. */
pid_t su_spawn(char *const argv[], int *out_fd);
/* Read the example's "listening on ADDR" line and put ADDR's port in port (8 bytes). */
void su_read_port(int out_fd, char *port);
/* Wait up to timeout_ms for pid to end; its wait status, or -1 if it did not. */
int su_wait_exit(pid_t pid, int timeout_ms);
/* Kill pid with SIGKILL and reap it (cleanup after a failed check). */
void su_kill(pid_t pid);
/* Children of pid: the count, and how many of them are zombies. */
int su_children(pid_t pid, int *zombies);
/* Wait up to timeout_ms until pid has no children at all; true if so. */
bool su_wait_childless(pid_t pid, int timeout_ms);
/* CPU time pid has used (every thread), in clock ticks. */
long su_cpu_ticks(pid_t pid);
/* Open descriptors of pid. */
int su_count_fds(pid_t pid);
/* Raise this process's soft RLIMIT_NOFILE to at least want (if the hard limit allows). */
void su_raise_nofile(long want);
/*
 * Lower the soft RLIMIT_NOFILE so that exactly spare descriptor numbers are
 * free below it.  Counting what is open is not enough: descriptors inherited
 * at high numbers (a CI runner's, a shell's 255) would leave more or fewer.
 */
void su_limit_free_fds(int spare);

#endif
