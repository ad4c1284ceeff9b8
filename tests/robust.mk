# Robustness (issue 5): the peer-fault suite, the fault injector, and the
# targets that run every suite in CHECK_SUITES again under a harness:
#   make check-faults    under tests/faultinject.so (EINTR, short transfers,
#                        spurious wake-ups), with the server suites (their
#                        example programs too), plus tests/check_inject
#                        (EMFILE, ENOMEM, EAGAIN from pthread_create)
#   make check-valgrind  under valgrind memcheck, zero errors, zero leaks,
#                        with the server suite (its load scaled down)
# A sanitizer build (--enable-sanitizers) runs plain `make check` with the
# options below, so the first report fails the test it happens in.

CHECK_SUITES += tests/check_faults
tests_check_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_faults_LDADD = $(TEST_LIBS)

# Preloaded into plain processes, so never built with the sanitizers.
# -rpath makes libtool build a real shared object from a check library.
check_LTLIBRARIES += tests/faultinject.la
tests_faultinject_la_SOURCES = tests/faultinject.c
tests_faultinject_la_CFLAGS = -std=gnu11 $(WARN_CFLAGS)
tests_faultinject_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_faultinject_la_LIBADD = -ldl

# Only meaningful with the injector preloaded: run by check-faults alone.
check_PROGRAMS += tests/check_inject
tests_check_inject_CFLAGS = $(TEST_CFLAGS)
tests_check_inject_LDADD = $(TEST_LIBS)

EXTRA_DIST += tests/run-suites.sh tests/robust.mk
# The i386 layer of scripts/robust.sh (issue 12).
EXTRA_DIST += scripts/i386.sh
CLEANFILES += tests/faults/*.log tests/faults/counts tests/valgrind/*.log

if SANITIZERS
# Check runs each test in a child process: a report there must end that
# child abnormally so that Check fails the test.  Leaks count as reports.
# Script tests that build a program against the library (tests/api.sh) must
# link the sanitizer runtime too, so their CC and CXX carry the flags.
AM_TESTS_ENVIRONMENT += \
	ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1; \
	UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1; \
	CC='$(CC) $(SAN_CFLAGS)' CXX='$(CXX) $(SAN_CFLAGS)'; \
	export ASAN_OPTIONS UBSAN_OPTIONS CC CXX;
endif

# Seed and rate of the injected faults; override on the command line.
FAULT_SEED = 1
FAULT_RATE = 0.3

check-faults: all $(check_PROGRAMS) $(check_LTLIBRARIES)
if SANITIZERS
	@echo "check-faults: not in a sanitizer build (the sanitizers own malloc)" >&2; exit 1
else
	@NW_FAULT_SEED=$(FAULT_SEED) NW_FAULT_RATE=$(FAULT_RATE) \
	  $(SHELL) $(srcdir)/tests/run-suites.sh faults $(CHECK_SUITES) \
	  tests/check_serve tests/check_serve_examples tests/check_serve_guard tests/check_inject \
	  tests/check_event
endif

check-valgrind: all $(check_PROGRAMS) $(check_LTLIBRARIES)
if SANITIZERS
	@echo "check-valgrind: not in a sanitizer build" >&2; exit 1
else
	@test -n "$(VALGRIND)" || { echo "check-valgrind: valgrind not found" >&2; exit 1; }
	@LIBTOOL="$(LIBTOOL)" VALGRIND="$(VALGRIND)" \
	  $(SHELL) $(srcdir)/tests/run-suites.sh valgrind $(CHECK_SUITES) tests/check_serve tests/check_serve_guard \
	  tests/check_event
endif

.PHONY: check-faults check-valgrind
