# Check suites: one per subsystem, each a program run by `make check`.
AM_TESTS_ENVIRONMENT = CK_VERBOSITY=normal; export CK_VERBOSITY;

check_LTLIBRARIES = tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil.h
tests_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = tests/libtestutil.la lib/libnetwrap.la $(CHECK_LIBS) -lpthread

CHECK_SUITES = \
	tests/check_addr \
	tests/check_tcpinfo \
	tests/check_fdpass \
	tests/check_sendfile

check_PROGRAMS += $(CHECK_SUITES)
TESTS += $(CHECK_SUITES)

tests_check_addr_CFLAGS = $(TEST_CFLAGS)
tests_check_addr_LDADD = $(TEST_LIBS)
tests_check_tcpinfo_CFLAGS = $(TEST_CFLAGS)
tests_check_tcpinfo_LDADD = $(TEST_LIBS)
tests_check_fdpass_CFLAGS = $(TEST_CFLAGS)
tests_check_fdpass_LDADD = $(TEST_LIBS)
tests_check_sendfile_CFLAGS = $(TEST_CFLAGS)
tests_check_sendfile_LDADD = $(TEST_LIBS)

# The TCP state-walk demo (examples/tcp-states) keeps its promises.
TESTS += tests/tcp-states.sh
EXTRA_DIST += tests/tcp-states.sh
