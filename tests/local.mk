# Check suites: one per subsystem, each a program run by `make check`.
AM_TESTS_ENVIRONMENT = CK_VERBOSITY=normal; export CK_VERBOSITY; \
	CC='$(CC)' CXX='$(CXX)' NM='$(NM)' OBJDUMP='$(OBJDUMP)' MAKE='$(MAKE)' \
	PACKAGE_VERSION='$(PACKAGE_VERSION)'; export CC CXX NM OBJDUMP MAKE PACKAGE_VERSION;

check_LTLIBRARIES = tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil.h
tests_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -D_GNU_SOURCE
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -D_GNU_SOURCE
TEST_LIBS = tests/libtestutil.la lib/libnetwrap.la $(CHECK_LIBS) -lpthread

CHECK_SUITES = \
	tests/check_addr \
	tests/check_tcp \
	tests/check_io \
	tests/check_reader \
	tests/check_udp \
	tests/check_unix \
	tests/check_opt \
	tests/check_error \
	tests/check_dgram \
	tests/check_tcpinfo \
	tests/check_fdpass \
	tests/check_sendfile \
	tests/check_resolve

check_PROGRAMS += $(CHECK_SUITES)
TESTS += $(CHECK_SUITES)

tests_check_addr_CFLAGS = $(TEST_CFLAGS)
tests_check_addr_LDADD = $(TEST_LIBS)
tests_check_tcp_CFLAGS = $(TEST_CFLAGS)
tests_check_tcp_LDADD = $(TEST_LIBS)
tests_check_io_CFLAGS = $(TEST_CFLAGS)
tests_check_io_LDADD = $(TEST_LIBS)
tests_check_reader_CFLAGS = $(TEST_CFLAGS)
tests_check_reader_LDADD = $(TEST_LIBS)
tests_check_udp_CFLAGS = $(TEST_CFLAGS)
tests_check_udp_LDADD = $(TEST_LIBS)
tests_check_unix_CFLAGS = $(TEST_CFLAGS)
tests_check_unix_LDADD = $(TEST_LIBS)
tests_check_opt_CFLAGS = $(TEST_CFLAGS)
tests_check_opt_LDADD = $(TEST_LIBS)
tests_check_error_CFLAGS = $(TEST_CFLAGS)
tests_check_error_LDADD = $(TEST_LIBS)

# Script tests: the examples, the Happy Eyeballs race in a namespace, the header.
TESTS += tests/demos.sh tests/happy-eyeballs.sh tests/api.sh
EXTRA_DIST += tests/demos.sh tests/demo-lib.sh tests/happy-eyeballs.sh tests/api.sh
check_PROGRAMS += tests/he-probe
tests_he_probe_LDADD = lib/libnetwrap.la
tests_check_dgram_CFLAGS = $(TEST_CFLAGS)
tests_check_dgram_LDADD = $(TEST_LIBS)

# Multicast and broadcast: the suite runs only inside the network namespace
# its wrapper makes (SKIP where namespaces cannot be made).
check_PROGRAMS += tests/check_mcast
TESTS += tests/mcast-netns.sh
EXTRA_DIST += tests/mcast-netns.sh tests/netns-veth.sh
tests_check_mcast_CFLAGS = $(TEST_CFLAGS)
tests_check_mcast_LDADD = $(TEST_LIBS)
# The datagram demos, run from the build tree by their demo script.
TESTS += tests/dgram-demos.sh
EXTRA_DIST += tests/dgram-demos.sh
tests_check_tcpinfo_CFLAGS = $(TEST_CFLAGS)
tests_check_tcpinfo_LDADD = $(TEST_LIBS)
tests_check_fdpass_CFLAGS = $(TEST_CFLAGS)
tests_check_fdpass_LDADD = $(TEST_LIBS)
tests_check_sendfile_CFLAGS = $(TEST_CFLAGS)
tests_check_sendfile_LDADD = $(TEST_LIBS)

# The TCP state-walk demo (examples/tcp-states) keeps its promises.
TESTS += tests/tcp-states.sh
EXTRA_DIST += tests/tcp-states.sh
tests_check_resolve_CFLAGS = $(TEST_CFLAGS)
tests_check_resolve_LDADD = $(TEST_LIBS) -ldl

# Concurrent servers: nw_server under load, and the example servers.
# The suites run the example programs from the build tree.
check_LTLIBRARIES += tests/libserveutil.la
tests_libserveutil_la_SOURCES = tests/serveutil.c tests/serveutil.h
tests_libserveutil_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DNW_EXAMPLES_DIR='"$(abs_top_builddir)/examples"'
tests_libserveutil_la_CFLAGS = $(TEST_CFLAGS)
SERVE_TEST_LIBS = tests/libserveutil.la $(TEST_LIBS)

check_PROGRAMS += tests/check_serve
TESTS += tests/check_serve
tests_check_serve_CFLAGS = $(TEST_CFLAGS)
tests_check_serve_LDADD = $(SERVE_TEST_LIBS)

check_PROGRAMS += tests/check_serve_examples
TESTS += tests/check_serve_examples
tests_check_serve_examples_CFLAGS = $(TEST_CFLAGS)
tests_check_serve_examples_LDADD = $(SERVE_TEST_LIBS)

# nw_server in front of strangers: lingering close (also across a slow veth
# link in namespaces the suite makes, with root), idle timeouts, per-peer caps.
check_PROGRAMS += tests/check_serve_guard
TESTS += tests/check_serve_guard
tests_check_serve_guard_CFLAGS = $(TEST_CFLAGS)
tests_check_serve_guard_LDADD = $(SERVE_TEST_LIBS)

# The event model (NW_SERVER_EVENT): callbacks, lingering, 10,000 connections.
check_PROGRAMS += tests/check_event
TESTS += tests/check_event
tests_check_event_CFLAGS = $(TEST_CFLAGS)
tests_check_event_LDADD = $(SERVE_TEST_LIBS)
# examples/http-hello in every model against curl, python's http.client and raw sockets.
TESTS += tests/http-hello.sh
EXTRA_DIST += tests/http-hello.sh tests/http-hello-client.py
