#!/bin/sh
# The whole test suite: build, make check, a real install
# (scripts/install-check.sh), the robustness layers (scripts/robust.sh),
# make distcheck.
# This is the README's test command, and CI (.ci/run) runs exactly this.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh

status=0
make -j"$(nproc)" check || status=$?
echo "== test results (make check) =="
for log in tests/*.log bench/*.log; do
	[ -f "$log" ] || continue
	# Check's own summary line, or automake's result for script tests.
	summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1 || true)
	[ -n "$summary" ] || summary=$(sed -n 's/^:test-result: //p' "${log%.log}.trs" 2>/dev/null | head -n 1 || true)
	printf '%-32s %s\n' "$log" "$summary"
done
count() { sed -n "s/^# $1: *//p" test-suite.log 2>/dev/null || echo 0; }
passed=$(count PASS)
failed=$(($(count FAIL) + $(count ERROR) + $(count XPASS)))
skipped=$(count SKIP)
if [ "$status" -ne 0 ]; then
	cat test-suite.log 2>/dev/null || true
	echo "check: $passed passed, $failed failed, $skipped skipped"
	exit "$status"
fi

# A real install into /usr/local (root only): installcheck, uninstall.
./scripts/install-check.sh
# The Debian packages: built, lintian-clean, installed, used, purged.
./scripts/deb-check.sh

# Fault injection, valgrind, the ASan/UBSan build and the fuzzers.
./scripts/robust.sh
make -j"$(nproc)" distcheck
echo "check: $passed passed, $failed failed, $skipped skipped"
