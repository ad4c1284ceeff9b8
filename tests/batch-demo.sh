#!/bin/sh
# batch-demo.sh - examples/udp-echo-batch echoes every line of four clients
# at once, exactly, echoes whole bursts (tests/burst-client), and stops
# cleanly (run by make check).
set -eu
examples=${EXAMPLES_DIR:-examples}
. "${srcdir:-.}/tests/demo-lib.sh"
work=$(mktemp -d)
server_pid=
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

seq 20000 >"$work/input"
start_server batch "$examples/udp-echo-batch" 0 127.0.0.1
pids=
for c in 1 2 3 4; do
	"$examples/udp-echo-client" 127.0.0.1 "$server_port" <"$work/input" >"$work/echo.$c" \
		2>"$work/client.$c.err" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "a client failed: $(cat "$work"/client.*.err)"
done
for c in 1 2 3 4; do
	cmp "$work/input" "$work/echo.$c" || fail "client $c: echo differs from input"
done
# Bursts of 32: every echo of a burst must come back before the next.
tests/burst-client 127.0.0.1 "$server_port" 500 32 || fail "burst-client failed"
stop_server TERM || fail "udp-echo-batch did not stop cleanly"
grep -q '^stopped: [0-9]* datagrams echoed in [0-9]* batches$' "$work/batch.out" ||
	fail "no closing count: $(cat "$work/batch.out")"
echo "PASS: $(tail -n 1 "$work/batch.out")"
