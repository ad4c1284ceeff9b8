#!/bin/sh
# tcp-states.sh - the state-walk demo runs and shows each state it promises
# (run by make check, so the demo cannot rot).
set -eu
examples=${EXAMPLES_DIR:-examples}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

fail() { echo "FAIL: $*" >&2; cat "$out" >&2; exit 1; }

# In a network namespace of our own where one can be made (root): Linux
# keeps TIME_WAIT only while the namespace holds fewer than
# net.ipv4.tcp_max_tw_buckets of them, and a load test sharing the host's
# namespace can fill it.
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null && command -v ip >/dev/null; then
	in_netns() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }
	where="a private network namespace"
else
	in_netns() { "$@"; }
	where="the host's network namespace"
fi

walk() {
	in_netns "$examples/tcp-states" "$1" >"$out" || fail "tcp-states $1 exited $?"
	# The last lines list each end's states in the order they were seen.
	grep -Eq '^client: .*ESTABLISHED.* FIN_WAIT_2 TIME_WAIT$' "$out" ||
		fail "$1: client did not go ESTABLISHED .. FIN_WAIT_2 TIME_WAIT"
	grep -Eq '^server: ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED$' "$out" ||
		fail "$1: server did not go ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED"
	grep -q '^\[ *[0-9.]* ms\] server  LISTEN on ' "$out" || fail "$1: no LISTEN line"
	echo "tcp-states $1 in $where: $(grep '^client: ' "$out"); $(grep '^server: ' "$out")"
}

walk 127.0.0.1
if in_netns sh -c 'ip -6 addr show dev lo' 2>/dev/null | grep -q '::1'; then
	walk ::1
else
	echo "tcp-states ::1: skipped, loopback has no IPv6"
fi
