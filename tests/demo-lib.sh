# demo-lib.sh - start and stop the example servers (sourced by scripts).
#
# start_server NAME PROGRAM ARGS...: runs PROGRAM in the background with its
# output in $work/NAME.out, waits for its "listening on ADDR" line and sets
# server_pid and server_port.

start_server() {
	name=$1
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	server_pid=$!
	tries=0
	until grep -q '^listening on ' "$work/$name.out" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
			echo "$name did not start:" >&2
			cat "$work/$name.err" >&2
			return 1
		fi
		sleep 0.1
	done
	server_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$name.out" | head -n 1)
}

# stop_server SIGNAL: signal the server, wait, fail unless it exited 0.
stop_server() {
	kill -"$1" "$server_pid"
	status=0
	wait "$server_pid" || status=$?
	if [ "$status" -ne 0 ]; then
		echo "server exited $status after SIG$1" >&2
		return 1
	fi
}

# wait_for FILE PATTERN: wait up to 10 s for a line matching PATTERN in FILE.
wait_for() {
	tries=0
	until grep -q "$2" "$1" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 100 ]; then
			echo "timed out waiting for '$2' in $1" >&2
			return 1
		fi
		sleep 0.1
	done
}
