#!/bin/sh
# demos.sh - the example programs keep their promises (run by make check).
set -eu
examples=${EXAMPLES_DIR:-examples}
. "${srcdir:-.}/tests/demo-lib.sh"
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
server_pid=

fail() { echo "FAIL: $*" >&2; exit 1; }

seq 100000 >"$work/input"

# TCP: 100000 lines come back exactly; then SIGTERM stops the server (exit 0).
start_server tcp "$examples/tcp-echo-server" 0 127.0.0.1
"$examples/tcp-echo-client" 127.0.0.1 "$server_port" <"$work/input" >"$work/tcp.echo" ||
	fail "tcp-echo-client failed"
cmp "$work/input" "$work/tcp.echo" || fail "tcp echo differs from input"
grep -q '^client 127\.0\.0\.1:[0-9]* connected$' "$work/tcp.out" || fail "tcp server did not log the client"
# Binary data with long "lines" survives too.
head -c 300000 /dev/urandom >"$work/binary"
"$examples/tcp-echo-client" 127.0.0.1 "$server_port" <"$work/binary" >"$work/binary.echo" ||
	fail "tcp-echo-client failed on binary input"
cmp "$work/binary" "$work/binary.echo" || fail "binary echo differs"
stop_server TERM || fail "tcp-echo-server did not stop cleanly on SIGTERM"
grep -q '^stopped$' "$work/tcp.out" || fail "tcp server did not say it stopped"

# SIGINT stops it even with a client connected and idle; the client's next
# line then fails with a message, exit 1.
mkfifo "$work/lines"
start_server tcp2 "$examples/tcp-echo-server" 0
"$examples/tcp-echo-client" localhost "$server_port" <"$work/lines" >"$work/client2.out" 2>"$work/client2.err" &
client=$!
exec 3>"$work/lines"
echo one >&3
wait_for "$work/client2.out" '^one$' || fail "no echo of the first line"
stop_server INT || fail "tcp-echo-server did not stop on SIGINT with a client connected"
echo two >&3
exec 3>&-
status=0
wait "$client" || status=$?
[ "$status" -eq 1 ] || fail "client exit status $status after its server went away (want 1)"
grep -q 'tcp-echo-client: server went away' "$work/client2.err" || fail "client gave no clear message"

# A client whose server is gone says so.
if "$examples/tcp-echo-client" 127.0.0.1 "$server_port" </dev/null 2>"$work/refused.err"; then
	fail "client succeeded without a server"
fi
grep -q 'Connection refused' "$work/refused.err" || fail "no clear message: $(cat "$work/refused.err")"

# UDP: the same contract over datagrams.
start_server udp "$examples/udp-echo-server" 0 127.0.0.1
"$examples/udp-echo-client" 127.0.0.1 "$server_port" <"$work/input" >"$work/udp.echo" ||
	fail "udp-echo-client failed"
cmp "$work/input" "$work/udp.echo" || fail "udp echo differs from input"
grep -q '^client 127\.0\.0\.1:' "$work/udp.out" || fail "udp server did not log the client"
stop_server TERM || fail "udp-echo-server did not stop cleanly"
# No server: three tries a second apart (a refusal does not cut the wait
# short), then a failure that names the cause.
start=$(date +%s%N)
if echo hello | "$examples/udp-echo-client" 127.0.0.1 "$server_port" 2>"$work/udp.err"; then
	fail "udp client succeeded without a server"
fi
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q 'no echo from 127.0.0.1 port .*: Connection refused$' "$work/udp.err" ||
	fail "no clear message: $(cat "$work/udp.err")"
[ "$elapsed_ms" -ge 2500 ] || fail "udp client gave up after $elapsed_ms ms (want 3 tries a second apart)"
echo "demos: all promises kept"
