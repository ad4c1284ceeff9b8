#!/bin/sh
# The whole test suite: build, make check, make distcheck.
# This is the README's test command, and CI (.ci/run) runs exactly this.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh

status=0
make -j"$(nproc)" check || status=$?
echo "== test results (make check) =="
for log in tests/*.log; do
	[ -f "$log" ] || continue
	case "$log" in tests/test-suite.log) continue ;; esac
	# Check's own summary line, or automake's result for script tests.
	summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1 || true)
	[ -n "$summary" ] || summary=$(sed -n 's/^:test-result: //p' "${log%.log}.trs" 2>/dev/null | head -n 1 || true)
	printf '%-32s %s\n' "${log#tests/}" "$summary"
done
if [ "$status" -ne 0 ]; then
	cat tests/test-suite.log 2>/dev/null || true
	exit "$status"
fi

make -j"$(nproc)" distcheck
