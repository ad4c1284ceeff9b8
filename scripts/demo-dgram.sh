#!/bin/sh
# The datagram demos: the UDP time server and client on loopback (IPv4,
# then IPv6 where ::1 exists), then a multicast sender and receiver in a
# private network namespace (a veth pair, link-local groups, TTL 1) when
# one can be made (root).  Nothing leaves this machine.
# EXAMPLES=DIR runs the programs built in DIR (make check does, from the
# build tree); without it the source tree is built if needed and used.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${EXAMPLES:-}" ]; then
	cd "$top"
	[ -x examples/udp-time-server ] && [ -x examples/mcast-recv ] || ./scripts/build.sh
	EXAMPLES=examples
fi
. "$top/tests/netns-veth.sh"

tmp=$(mktemp -d)
server=""
ns=""
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	[ -z "$ns" ] || netns_veth_remove "$ns"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The first line a background program wrote to $1 (waits up to 5 s).
first_line() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	head -n 1 "$1"
}

time_demo() {
	host=$1
	# The previous server's output must not pass for this one's first line.
	rm -f "$tmp/server.out"
	"$EXAMPLES/udp-time-server" 0 "$host" >"$tmp/server.out" &
	server=$!
	line=$(first_line "$tmp/server.out")
	port=${line##*:}
	echo "\$ udp-time-server 0 $host &        # $line"
	echo "\$ udp-time-client $host $port 3"
	"$EXAMPLES/udp-time-client" "$host" "$port" 3
	kill -TERM "$server"
	wait "$server"
	server=""
	echo "server log:"
	sed 's/^/    /' "$tmp/server.out"
	echo
}

echo "== UDP time service: one unconnected socket, many clients (nw_sendto, nw_recvfrom)"
time_demo 127.0.0.1
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
	time_demo ::1
fi

echo "== multicast across a veth link nwa -> nwb in network namespace (nw_mcast_*)"
ns=nwdemo-$$
if [ "$(id -u)" -ne 0 ] || ! netns_veth_make "$ns"; then
	ns=""
	echo "(skipped: making a network namespace needs root and ip(8))"
	exit 0
fi
for group in 239.255.77.1 ff02::4e57; do
	ip netns exec "$ns" "$EXAMPLES/mcast-recv" "$group" 4567 nwb 3 >"$tmp/recv.out" &
	receiver=$!
	echo "\$ mcast-recv $group 4567 nwb 3 &   # $(first_line "$tmp/recv.out")"
	echo "\$ mcast-send $group 4567 nwa 3"
	ip netns exec "$ns" "$EXAMPLES/mcast-send" "$group" 4567 nwa 3
	wait "$receiver"
	echo "receiver:"
	sed 's/^/    /' "$tmp/recv.out"
	echo
done
