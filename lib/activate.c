/*
 * activate.c - nw_listen_fds: listeners inherited from systemd or another
 * supervisor (the LISTEN_FDS protocol of sd_listen_fds(3), without
 * libsystemd).
 *
 * The supervisor opens the sockets, puts them at descriptors 3, 4, ...,
 * and sets LISTEN_PID (the process they are for: environment variables are
 * inherited by children, descriptors may be too), LISTEN_FDS (how many)
 * and optionally LISTEN_FDNAMES (colon-separated names).  The variables are
 * removed whatever happens, so that our own children do not take the
 * descriptors for theirs.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_FD 3

/* A non-negative decimal number up to max, or -1. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return v;
}

static void unset_all(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/*
 * The names as one allocation: n + 1 pointers (the last NULL), then the
 * strings, so that one free() releases it.  LISTEN_FDNAMES absent: every
 * name is "unknown", as systemd says.
 */
static char **make_names(const char *list, long n)
{
	size_t text = list ? strlen(list) + 1 : (size_t)n * sizeof "unknown";
	char **names = malloc((size_t)(n + 1) * sizeof *names + text);
	char *p;

	if (names == NULL)
		return NULL;
	p = (char *)(names + n + 1);
	for (long i = 0; i < n; i++) {
		if (list == NULL) {
			names[i] = memcpy(p, "unknown", sizeof "unknown");
			p += sizeof "unknown";
			continue;
		}
		size_t len = strcspn(list, ":");

		names[i] = memcpy(p, list, len);
		p[len] = '\0';
		p += len + 1;
		list += len + (list[len] == ':');
	}
	names[n] = NULL;
	return names;
}

static long count_names(const char *list)
{
	long n = 1;

	for (const char *p = list; *p; p++)
		n += *p == ':';
	return n;
}

int nw_listen_fds(int **fds, char ***names)
{
	const char *pid_env = getenv("LISTEN_PID");
	const char *fds_env = getenv("LISTEN_FDS");
	const char *names_env = getenv("LISTEN_FDNAMES");
	char *names_copy = NULL;
	long pid, n;
	int *out = NULL;
	char **out_names = NULL;
	int err;

	if (fds == NULL)
		return nwi_fail(EINVAL, "nw_listen_fds(NULL)");
	*fds = NULL;
	if (names)
		*names = NULL;
	if (pid_env == NULL || fds_env == NULL) {
		unset_all();
		return 0;
	}
	pid = parse_count(pid_env, INT_MAX);
	if (pid <= 0) {
		err = nwi_fail_text(EINVAL, "not a process id", "nw_listen_fds: LISTEN_PID=%s", pid_env);
		goto out;
	}
	/* Meant for another process (our parent, say): not ours to take. */
	if (pid != (long)getpid()) {
		unset_all();
		return 0;
	}
	n = parse_count(fds_env, INT_MAX - FIRST_FD);
	if (n < 0) {
		err = nwi_fail_text(EINVAL, "not a count", "nw_listen_fds: LISTEN_FDS=%s", fds_env);
		goto out;
	}
	if (names_env && n > 0 && count_names(names_env) != n) {
		err = nwi_fail_text(EINVAL, "not one name per descriptor",
				    "nw_listen_fds: LISTEN_FDNAMES=%s, LISTEN_FDS=%ld",
				    names_env, n);
		goto out;
	}
	for (long i = 0; i < n; i++) {
		int fd = (int)(FIRST_FD + i);
		struct stat st;

		/* Close-on-exec first: an error below must not leak it into our children. */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			err = nwi_fail(errno, "nw_listen_fds: descriptor %d of LISTEN_FDS=%ld",
				       fd, n);
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			err = nwi_fail(errno, "nw_listen_fds: descriptor %d", fd);
			goto out;
		}
		if (!S_ISSOCK(st.st_mode)) {
			err = nwi_fail(ENOTSOCK, "nw_listen_fds: descriptor %d", fd);
			goto out;
		}
	}
	if (n > 0) {
		if (names_env && (names_copy = strdup(names_env)) == NULL) {
			err = nwi_fail(ENOMEM, "nw_listen_fds");
			goto out;
		}
		out = malloc((size_t)n * sizeof *out);
		if (out == NULL || (names && (out_names = make_names(names_copy, n)) == NULL)) {
			free(out);
			err = nwi_fail(ENOMEM, "nw_listen_fds");
			goto out;
		}
		for (long i = 0; i < n; i++)
			out[i] = (int)(FIRST_FD + i);
		*fds = out;
		if (names)
			*names = out_names;
	}
	err = (int)n;
out:
	free(names_copy);
	int saved = errno;

	unset_all();
	errno = saved;
	return err;
}
