/*
 * check_strerror.c - the failure message with the XSI strerror_r.
 *
 * musl has only the XSI strerror_r (an int and the text in the buffer);
 * glibc gives the library the GNU one (the text returned).  This suite
 * compiles lib/error.c itself with the XSI kind selected, calling glibc's
 * XSI implementation, so that both ways of reading strerror_r run here;
 * the other suites check messages through the GNU kind, and scripts/musl.sh
 * through musl's own.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* glibc's XSI strerror_r, which <string.h> hides under _GNU_SOURCE. */
int __xpg_strerror_r(int err, char *buf, size_t size);

static int xsi_calls;

static int xsi_strerror_r(int err, char *buf, size_t size)
{
	xsi_calls++;
	return __xpg_strerror_r(err, buf, size);
}

#define NWI_STRERROR_R_XSI 1
#define strerror_r xsi_strerror_r
#include "../lib/error.c"
#undef strerror_r

START_TEST(xsi_text_is_read_from_the_buffer)
{
	xsi_calls = 0;
	ck_assert_int_eq(nwi_fail(EPIPE, "nw_writen(%d)", 4), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_str_eq(nw_errmsg(), "nw_writen(4): Broken pipe");
	ck_assert_int_eq(xsi_calls, 1);
	nwi_fail(ECONNREFUSED, "nw_tcp_connect(%s, %s)", "127.0.0.1", "9");
	ck_assert_str_eq(nw_errmsg(), "nw_tcp_connect(127.0.0.1, 9): Connection refused");
}
END_TEST

START_TEST(xsi_failure_still_gives_a_text)
{
	/* An unknown number: XSI's strerror_r fails with EINVAL. */
	nwi_fail(4000, "f()");
	ck_assert_str_eq(nw_errmsg(), "f(): Unknown error 4000");
	ck_assert_int_eq(errno, 4000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strerror");
	TCase *tc = tcase_create("xsi");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, xsi_text_is_read_from_the_buffer);
	tcase_add_test(tc, xsi_failure_still_gives_a_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
