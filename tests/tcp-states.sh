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

# --dot: RFC 9293's diagram with this walk bold and numbered, in order.
dot_file=$(mktemp)
trap 'rm -f "$out" "$dot_file"' EXIT
in_netns "$examples/tcp-states" --dot "$dot_file" 127.0.0.1 >"$out" || fail "tcp-states --dot exited $?"
walk_of() { # the bold edges of one end, in their numbered order
	sed -n "s/^.*\"\([A-Za-z_0-9]*\)\" -> \"\([A-Za-z_0-9]*\)\".*penwidth=3.5.*label=\"$1 \([0-9]*\) .*/\3 \1>\2/p" "$dot_file" |
		sort -n | cut -d' ' -f2 | tr '\n' ' '
}
client_walk=$(walk_of client)
server_walk=$(walk_of server)
case $client_walk in
*"ESTABLISHED>FIN_WAIT_"*"FIN_WAIT_2>TIME_WAIT ") ;;
*) fail "--dot: client's bold edges: '$client_walk'" ;;
esac
[ "$server_walk" = "LISTEN>ESTABLISHED ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED_end " ] ||
	fail "--dot: server's bold edges: '$server_walk'"
[ "$(grep -c -- ' -> ' "$dot_file")" -ge 20 ] || fail "--dot: not the whole RFC diagram"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$dot_file" -o /dev/null || fail "--dot: Graphviz rejects the file"
fi
echo "tcp-states --dot: client $client_walk; server $server_walk"

walk 127.0.0.1
if in_netns sh -c 'ip -6 addr show dev lo' 2>/dev/null | grep -q '::1'; then
	walk ::1
else
	echo "tcp-states ::1: skipped, loopback has no IPv6"
fi
