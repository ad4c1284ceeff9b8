# Benchmarks: built by `make`, run by `make bench`; `make check` runs
# each case once on tiny sizes (bench/quick.sh) so the program cannot rot.
noinst_PROGRAMS += bench/netbench
bench_netbench_SOURCES = bench/netbench.c
bench_netbench_LDADD = lib/libnetwrap.la -lpthread

TESTS += bench/quick.sh
EXTRA_DIST += bench/quick.sh bench/callgrind.sh

.PHONY: bench
bench: bench/netbench$(EXEEXT)
	bench/netbench $(BENCH_FLAGS)

# Concurrent servers (issue 4): nw_server's three models against a libevent
# echo server, 64-byte round trips.  Run with `make bench-serve`
# (SERVE_BENCH_FLAGS passes options, e.g. SERVE_BENCH_FLAGS="-r 5 -s 2");
# `make check` runs it once, briefly (bench/serve-quick.sh), so it cannot rot.
EXTRA_DIST += bench/serve-bench.c bench/serve-quick.sh
EXTRA_DIST += bench/plot-serve.sh bench/plot-quick.sh
if HAVE_LIBEVENT
noinst_PROGRAMS += bench/serve-bench
TESTS += bench/serve-quick.sh
bench_serve_bench_SOURCES = bench/serve-bench.c
bench_serve_bench_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_serve_bench_LDADD = lib/libnetwrap.la $(LIBEVENT_LIBS)

# It also plots the table: bench/serve-bench.svg (bench/plot-serve.sh).
TESTS += bench/plot-quick.sh
bench-serve: bench/serve-bench$(EXEEXT)
	@rm -f bench/serve-bench.ok
	(bench/serve-bench $(SERVE_BENCH_FLAGS) && touch bench/serve-bench.ok) | tee bench/serve-bench.txt
	@test -f bench/serve-bench.ok && rm -f bench/serve-bench.ok
	$(SHELL) $(srcdir)/bench/plot-serve.sh bench/serve-bench.txt bench/serve-bench.svg
else
bench-serve:
	@echo "bench-serve: needs libevent (bench/bench-deps.sh installs it; then run configure again)" >&2
	@exit 1
endif
.PHONY: bench-serve

# HTTP (issue 11): wrk against examples/http-hello in each model, nginx, and
# bench/http-floor (a bare epoll responder, the floor).  `make bench-http`;
# bench/http-bench.sh installs wrk and nginx with apt-get when missing.
noinst_PROGRAMS += bench/http-floor
bench_http_floor_SOURCES = bench/http-floor.c
bench_http_floor_LDADD = lib/libnetwrap.la -lpthread
EXTRA_DIST += bench/http-bench.sh bench/bench-deps.sh

# It plots the table too: bench/http-bench.svg (bench/plot-serve.sh).
bench-http: examples/http-hello$(EXEEXT) bench/http-floor$(EXEEXT)
	@rm -f bench/http-bench.ok
	($(SHELL) $(srcdir)/bench/http-bench.sh $(HTTP_BENCH_CONNS) && touch bench/http-bench.ok) | \
		tee bench/http-bench.txt
	@test -f bench/http-bench.ok && rm -f bench/http-bench.ok
	$(SHELL) $(srcdir)/bench/plot-serve.sh bench/http-bench.txt bench/http-bench.svg
.PHONY: bench-http
