#!/bin/sh
# The robustness layers of the test suite (issue 5); scripts/test.sh runs
# this after `make check`.  The first two run every suite in CHECK_SUITES
# and the server suite again (tests/robust.mk has the lists):
#   1. fault injection: under tests/faultinject.so (EINTR and short
#      transfers at random), the server examples' suite too, plus the
#      EMFILE/ENOMEM and accept-hold tests;
#   2. valgrind memcheck: zero errors, zero leaks;
#   3. a sanitizer build in build-asan/ (ASan + UBSan, from `make distdir`
#      because the tree itself is configured in place): make check there;
#      built with clang, so it is also CI's clang build: a compiler warning
#      fails it (the tree itself is built with gcc);
#   4. each libFuzzer target for FUZZ_SECONDS (default 30);
#   5. an i386 build (gcc -m32) in build-i386/ and its Check suites
#      (scripts/i386.sh, which installs Debian's i386 check);
#   6. the musl build (scripts/musl.sh: demos and manual examples).
# Every layer runs; any failure makes the script fail at the end.
# Environment: FUZZ_SECONDS, FAULT_SEED (default 1), SAN_CC (compiler for
# the sanitizer build, default clang).
set -u
cd "$(dirname "$0")/.."
./scripts/build.sh || exit 1

jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-30}
failed=""

layer() {
	name=$1
	shift
	echo "== $name =="
	start=$(date +%s)
	if "$@"; then
		echo "== $name: passed in $(($(date +%s) - start)) s =="
	else
		echo "== $name: FAILED =="
		failed="$failed
  $name"
	fi
}

sanitizer_build() {
	rm -rf build-asan
	make -s distdir distdir=build-asan >/dev/null || return 1
	(
		cd build-asan &&
		./configure -q --enable-sanitizers CC="${SAN_CC:-clang}" &&
		make -s -j"$jobs" >/dev/null 2>make-warnings.log &&
		make -s -j"$jobs" check >/dev/null 2>>make-warnings.log
	)
	rc=$?
	if grep -q 'warning:' build-asan/make-warnings.log 2>/dev/null; then
		grep -A3 'warning:' build-asan/make-warnings.log
		rc=1
	fi
	for log in build-asan/tests/check_*.log; do
		[ -f "$log" ] || continue
		printf '%-32s %s\n' "${log#build-asan/tests/}" \
			"$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)"
	done
	# Any failed test, Check suite or script, with the end of its log.
	for trs in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' build-asan/*/*.trs 2>/dev/null); do
		echo "FAIL: ${trs%.trs}"
		tail -n 25 "${trs%.trs}.log"
	done
	return $rc
}

layer "fault injection (make check-faults)" \
	make -s -j"$jobs" check-faults FAULT_SEED="${FAULT_SEED:-1}"
layer "valgrind memcheck (make check-valgrind)" make -s -j"$jobs" check-valgrind
layer "ASan + UBSan build (build-asan/, make check)" sanitizer_build
layer "fuzzing (make fuzz, $fuzz_seconds s per target)" \
	make -s fuzz FUZZ_SECONDS="$fuzz_seconds"
layer "i386 build (build-i386/, scripts/i386.sh)" ./scripts/i386.sh
layer "musl build (build-musl/, scripts/musl.sh)" ./scripts/musl.sh

if [ -n "$failed" ]; then
	echo "robust.sh: failed:$failed" >&2
	exit 1
fi
echo "robust.sh: every layer passed"
