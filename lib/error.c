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

/*
 * strerror_r comes in two kinds, and configure says which the C library
 * has (AC_FUNC_STRERROR_R): GNU's (glibc with _GNU_SOURCE) returns the
 * text, which may be a static string rather than buf; XSI's (musl) returns
 * 0 or an error number and leaves the text in buf.  Taking one for the
 * other turns an int into a pointer.  tests/check_strerror.c compiles this
 * file with the XSI kind on glibc (NWI_STRERROR_R_XSI), so both are tested.
 */
#ifndef NWI_STRERROR_R_XSI
#ifdef STRERROR_R_CHAR_P
#define NWI_STRERROR_R_XSI 0
#else
#define NWI_STRERROR_R_XSI 1
#endif
#endif

const char *nwi_strerror(int err, char *buf, size_t size)
{
#if NWI_STRERROR_R_XSI
	if (strerror_r(err, buf, size) != 0 || buf[0] == '\0')
		snprintf(buf, size, "Unknown error %d", err);
	return buf;
#else
	return strerror_r(err, buf, size);
#endif
}

int nwi_fail(int err, const char *fmt, ...)
{
	char buf[128];
	const char *reason = nwi_strerror(err, buf, sizeof buf);
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
