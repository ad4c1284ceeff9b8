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

# Timeouts bound each wait once (issue 12): writes to a peer that never
# reads, reads from one that stops sending, blocking and non-blocking.
CHECK_SUITES += tests/check_timeout
tests_check_timeout_CFLAGS = $(TEST_CFLAGS)
tests_check_timeout_LDADD = $(TEST_LIBS)

# No public call leaves the caller's signal mask changed (issue 12).  Adding
# a public function means one line in PUBLIC_CALLS of tests/check_sigmask.c.
CHECK_SUITES += tests/check_sigmask
tests_check_sigmask_CFLAGS = $(TEST_CFLAGS)
tests_check_sigmask_LDADD = $(TEST_LIBS)
# The failure message with the XSI strerror_r (musl's kind): lib/error.c
# compiled into the suite itself, so it needs no library.
CHECK_SUITES += tests/check_strerror
tests_check_strerror_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/lib
tests_check_strerror_LDADD = $(CHECK_LIBS)
# ABI guard: abidiff of the built library against 0.1.0's (abi/).
TESTS += tests/abi-check.sh
EXTRA_DIST += tests/abi-check.sh abi/libnetwrap-0.1.0.abi

# Installing (issue 16).  After a real install as root the dynamic linker's
# cache must know the new library, or programs fail to start; DESTDIR
# installs (packages, make distcheck) leave it to the package manager.
install-exec-hook: nw-ldconfig
uninstall-hook: nw-ldconfig
nw-ldconfig:
	@if test -z "$(DESTDIR)" && test "`id -u`" = 0 && test -x /sbin/ldconfig; then \
		echo "/sbin/ldconfig  (refreshing the dynamic linker's cache)"; \
		/sbin/ldconfig || echo "warning: ldconfig failed; run it before using $(libdir)" >&2; \
	fi
# make installcheck: the installed copy builds, runs and has its manual.
installcheck-local:
	srcdir='$(srcdir)' CC='$(CC)' libdir='$(libdir)' includedir='$(includedir)' \
	mandir='$(mandir)' DESTDIR='$(DESTDIR)' $(SHELL) $(srcdir)/tests/installcheck.sh
EXTRA_DIST += tests/installcheck.sh tests/man-extract.awk
.PHONY: nw-ldconfig

# Debian packaging (issue 15): the symbols file matches the library.
TESTS += tests/deb-symbols.sh
EXTRA_DIST += tests/deb-symbols.sh scripts/update-symbols.sh scripts/deb.sh scripts/deb-check.sh \
	debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/libnetwrap0.install debian/libnetwrap0.symbols debian/libnetwrap-dev.install \
	debian/libnetwrap-dev.docs debian/libnetwrap-examples.examples

# The README's CMake and Meson recipes, against a DESTDIR install.
TESTS += tests/consumers.sh
EXTRA_DIST += tests/consumers.sh tests/readme-block.awk
clean-local: clean-consumers
clean-consumers:
	-rm -rf tests/consumers.tmp
.PHONY: clean-consumers
# Dial and listen options (issue 13): on loopback here (with the robustness
# layers, through CHECK_SUITES); what needs interfaces of its own runs in
# the namespaces tests/sockopts-netns.sh makes; socket activation with a
# launcher of our own (check_activate) and with systemd-socket-activate.
CHECK_SUITES += tests/check_sockopts
tests_check_sockopts_CFLAGS = $(TEST_CFLAGS)
tests_check_sockopts_LDADD = $(TEST_LIBS)
# Not in CHECK_SUITES: it runs only inside the namespaces its script makes.
check_PROGRAMS += tests/check_sockopts_netns
TESTS += tests/sockopts-netns.sh
EXTRA_DIST += tests/sockopts-netns.sh
tests_check_sockopts_netns_CFLAGS = $(TEST_CFLAGS)
tests_check_sockopts_netns_LDADD = $(TEST_LIBS)
CHECK_SUITES += tests/check_activate
tests_check_activate_CFLAGS = $(TEST_CFLAGS)
tests_check_activate_LDADD = $(TEST_LIBS)
# A real program, not a libtool wrapper script: the launcher's descriptors
# and LISTEN_PID must reach it unchanged.
check_PROGRAMS += tests/activate-probe
tests_activate_probe_LDADD = lib/libnetwrap.la
tests_activate_probe_LDFLAGS = -no-install
TESTS += tests/activate.sh
EXTRA_DIST += tests/activate.sh
# Datagrams and vectored I/O (issue 14): local addresses, batches, writev,
# Unix-domain message sockets.  In CHECK_SUITES, so check-faults and
# check-valgrind run them too; pktinfo-netns.sh runs the echo example in a
# namespace with two addresses of each family.
CHECK_SUITES += tests/check_iov tests/check_batch tests/check_pktinfo tests/check_seqpacket
tests_check_iov_CFLAGS = $(TEST_CFLAGS)
tests_check_iov_LDADD = $(TEST_LIBS)
tests_check_batch_CFLAGS = $(TEST_CFLAGS)
tests_check_batch_LDADD = $(TEST_LIBS)
tests_check_pktinfo_CFLAGS = $(TEST_CFLAGS)
tests_check_pktinfo_LDADD = $(TEST_LIBS)
tests_check_seqpacket_CFLAGS = $(TEST_CFLAGS)
tests_check_seqpacket_LDADD = $(TEST_LIBS)
TESTS += tests/pktinfo-netns.sh
EXTRA_DIST += tests/pktinfo-netns.sh
TESTS += tests/batch-demo.sh
EXTRA_DIST += tests/batch-demo.sh
check_PROGRAMS += tests/burst-client
tests_burst_client_LDADD = lib/libnetwrap.la
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
