/*
 * error.c - the per-thread failure message behind nw_errmsg().
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Room for a call, its arguments (host names are at most 253 bytes) and a reason. */
#define NWI_ERRMSG_SIZE 512

static _Thread_local char errmsg[NWI_ERRMSG_SIZE];

const char *nw_errmsg(void)
{
	return errmsg;
}

__attribute__((format(printf, 2, 0)))
static void record(const char *reason, const char *fmt, va_list ap)
{
	int n = vsnprintf(errmsg, sizeof errmsg, fmt, ap);

	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof errmsg)
		snprintf(errmsg + n, sizeof errmsg - (size_t)n, ": %s", reason);
}

int nwi_fail(int err, const char *fmt, ...)
{
	char buf[128];
	/* GNU strerror_r: thread-safe, may return a static string instead of buf. */
	const char *reason = strerror_r(err, buf, sizeof buf);
	va_list ap;

	va_start(ap, fmt);
	record(reason, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

int nwi_fail_text(int err, const char *text, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(text, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

void nwi_close_keep_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}
