#!/bin/sh
# The library and its Check suites built for i386 (gcc -m32), where long,
# pointers and, without configure's AC_SYS_LARGEFILE, off_t are 32 bits
# (issue 12): nw_sendfile past 2 GiB, sizes and timeouts in 32-bit
# arithmetic.  scripts/robust.sh runs it as a layer; alone:
#   scripts/i386.sh
# It installs what it needs with scripts/deps.sh (gcc-multilib, and
# Debian's i386 check and subunit, for which deps.sh adds the i386
# architecture to dpkg), then builds from `make distdir` in build-i386/
# (the tree itself is configured in place) and runs every suite in
# CHECK_SUITES and the example servers' suite there.
#
# Left out: tests/check_serve, whose load test runs 1000 handler threads at
# once, 8 MiB of stack each by default: more than a 32-bit address space
# holds, so the gate it waits for never fills.  The script tests (man
# pages, demos, header) do not depend on the word size.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc)

./scripts/deps.sh gcc-multilib check:i386 libsubunit-dev:i386 || exit 1
[ -f Makefile ] || ./scripts/build.sh || exit 1

rm -rf build-i386
make -s distdir distdir=build-i386 >/dev/null || exit 1
(
	cd build-i386 &&
	PKG_CONFIG_LIBDIR=/usr/lib/i386-linux-gnu/pkgconfig:/usr/share/pkgconfig \
		./configure -q CC="gcc -m32" CXX="g++ -m32" &&
	grep -q '^#define _FILE_OFFSET_BITS 64' config.h &&
	make -s -j"$jobs" >/dev/null &&
	readelf -h lib/.libs/libnetwrap.so.0 | grep -q 'Class: *ELF32' &&
	make -s -j"$jobs" check TESTS='$(CHECK_SUITES) tests/check_serve_examples' >/dev/null
)
rc=$?
for log in build-i386/tests/check_*.log; do
	[ -f "$log" ] || continue
	printf '%-32s %s\n' "i386 ${log#build-i386/tests/}" \
		"$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)"
done
for trs in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' build-i386/tests/*.trs 2>/dev/null); do
	echo "FAIL: ${trs%.trs}"
	tail -n 25 "${trs%.trs}.log"
done
[ "$rc" -eq 0 ] || echo "i386.sh: failed (configure, a 32-bit build with a 64-bit off_t, or a suite)" >&2
exit $rc
