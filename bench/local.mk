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
