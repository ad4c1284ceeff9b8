#!/bin/sh
# activate.sh - socket activation end to end: systemd-socket-activate (the
# systemd package) opens a Unix listener, and on the first connection runs
# examples/echo-server --inherit, which must find the listener through
# nw_listen_fds and echo; for each server model.  SKIP (77) where
# systemd-socket-activate is missing (scripts/deps.sh installs it).
set -u

if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "SKIP: systemd-socket-activate not installed"
	exit 77
fi
server=./examples/echo-server
probe=./tests/activate-probe
dir=$(mktemp -d /tmp/nwactivate.XXXXXX) || exit 99
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
status=0

for model in thread process pool; do
	sock=$dir/echo-$model.sock
	systemd-socket-activate -l "$sock" --fdname=echo \
		"$server" --inherit --model "$model" > "$dir/out" 2> "$dir/err" &
	pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# The first connection starts the server, which takes it from the queue.
	got=$("$probe" echo "$sock")
	got2=$("$probe" echo "$sock")
	if [ "$got" = ping ] && [ "$got2" = ping ] && grep -q "^listening on unix:$sock" "$dir/out"; then
		echo "PASS: $model: echoes on the inherited listener"
	else
		echo "FAIL: $model: got '$got' '$got2'"; cat "$dir/out" "$dir/err"
		status=1
	fi
	kill -TERM "$pid"
	# The server's grace period is 2 s: give it 10.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if wait "$pid"; then
		echo "PASS: $model: stops cleanly on SIGTERM"
	else
		echo "FAIL: $model: exit status $?"; cat "$dir/err"
		status=1
	fi
	pid=
done

# Without a listener passed, --inherit says so and fails.
if "$server" --inherit > /dev/null 2> "$dir/err"; then
	echo "FAIL: --inherit without a listener succeeded"
	status=1
elif grep -q "no listener was passed" "$dir/err"; then
	echo "PASS: --inherit without a listener fails and says so"
else
	echo "FAIL: --inherit without a listener: $(cat "$dir/err")"
	status=1
fi
exit $status
