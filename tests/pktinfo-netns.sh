#!/bin/sh
# pktinfo-netns.sh - examples/udp-echo-server, bound to every address of a
# host with two addresses of each family on one interface, answers each
# client from the address the client asked (issue 14).  The client
# (examples/udp-echo-client) has a connected UDP socket: a reply from the
# other address never reaches it, and it fails after its three tries.
#
# Two namespaces made here (names with this script's PID), joined by a veth
# pair: the server's has nwsrv with 10.N.0.1, 10.N.0.2, fd00:N::1,
# fd00:N::2; the client's has nwcli with 10.N.0.3 and fd00:N::3.  Nothing
# else is reachable from them.  Exit 77 (SKIP) without root or ip(8).
set -u
examples=${EXAMPLES_DIR:-examples}
. "${srcdir:-.}/tests/demo-lib.sh"

n=$(($$ % 200 + 20))
srv=nwpkt-srv-$$
cli=nwpkt-cli-$$
work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	ip netns del "$cli" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v ip >/dev/null 2>&1 || ! ip netns add "$srv" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace (needs root and ip(8))"
	exit 77
fi
ip netns add "$cli" || fail "ip netns add $cli"
in_srv() { ip netns exec "$srv" "$@"; }
in_cli() { ip netns exec "$cli" "$@"; }
in_srv ip link add nwsrv type veth peer name nwcli netns "$cli" || fail "veth pair"
for ns in "$srv" "$cli"; do
	ip netns exec "$ns" ip link set lo up || fail "lo up in $ns"
done
in_srv ip addr add "10.$n.0.1/24" dev nwsrv || fail "address"
in_srv ip addr add "10.$n.0.2/24" dev nwsrv || fail "address"
in_srv ip -6 addr add "fd00:$n::1/64" dev nwsrv nodad || fail "address"
in_srv ip -6 addr add "fd00:$n::2/64" dev nwsrv nodad || fail "address"
in_cli ip addr add "10.$n.0.3/24" dev nwcli || fail "address"
in_cli ip -6 addr add "fd00:$n::3/64" dev nwcli nodad || fail "address"
in_srv ip link set nwsrv up || fail "link up"
in_cli ip link set nwcli up || fail "link up"

# ask ADDRESS: one line through a connected client; its echo must come back.
ask() {
	echo "to $1" | in_cli "$examples/udp-echo-client" "$1" "$server_port" \
		>"$work/echo" 2>"$work/client.err" ||
		fail "no echo from $1 (server bound to ${bound:-every address}): $(cat "$work/client.err")"
	[ "$(cat "$work/echo")" = "to $1" ] || fail "echo from $1 differs"
}

# The dual-stack wildcard (IPv4 arrives v4-mapped), then the IPv4 wildcard.
bound=
start_server dual ip netns exec "$srv" "$examples/udp-echo-server" 0 || fail "server did not start"
for a in "10.$n.0.1" "10.$n.0.2" "fd00:$n::1" "fd00:$n::2"; do
	ask "$a"
done
stop_server TERM || fail "server did not stop"
bound=0.0.0.0
start_server v4 ip netns exec "$srv" "$examples/udp-echo-server" 0 0.0.0.0 || fail "server did not start"
for a in "10.$n.0.1" "10.$n.0.2"; do
	ask "$a"
done
stop_server TERM || fail "server did not stop"
server_pid=
echo "PASS: replies came from the address asked, IPv4 and IPv6, dual-stack and IPv4 sockets"
