#!/bin/sh
# Run tests/check_sockopts_netns in network namespaces made for it: the
# options that need interfaces and routes of their own (source addresses,
# SO_BINDTODEVICE, TCP_USER_TIMEOUT against a black hole, bindv6only=1,
# ephemeral ports, MPTCP's fallback).  Exit 77 (SKIP) without root.
#
#   client namespace nwoc$$                 server namespace nwos$$
#   c0 10.13.1.1, .11  fd00:13:1::1, ::11 -- s0 10.13.1.2  fd00:13:1::2
#   c1 10.13.2.1                          -- s1 10.13.2.2
#   10.13.9.0/24 via c0 (metric 10)          lo 10.13.9.1
#            and via c1 (metric 20)
#   ip_local_port_range 40000-40199; "dual" in the client's hosts file is
#   fd00:13:1::2 and 10.13.1.2.
#
# Nothing leaves the namespaces: neither has a route anywhere else.
set -u

prog=${CHECK_SOCKOPTS_NETNS:-./tests/check_sockopts_netns}
if [ ! -x "$prog" ]; then
	echo "sockopts-netns.sh: $prog not built" >&2
	exit 99
fi
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: needs root and ip(8) to make network namespaces"
	exit 77
fi
c=nwoc$$
s=nwos$$
cleanup() {
	ip netns del "$c" 2>/dev/null
	ip netns del "$s" 2>/dev/null
	rm -rf "/etc/netns/$c"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
if ! ip netns add "$c" 2>/dev/null || ! ip netns add "$s" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace here"
	exit 77
fi

run() { "$@" || { echo "sockopts-netns.sh: failed: $*" >&2; exit 99; }; }
sysctl_in() { run ip netns exec "$1" sh -c "echo '$3' > /proc/sys/net/$2"; }

for ns in "$c" "$s"; do
	sysctl_in "$ns" ipv6/conf/default/accept_dad 0
	sysctl_in "$ns" ipv4/conf/all/rp_filter 0
	sysctl_in "$ns" ipv4/conf/default/rp_filter 0
	run ip -n "$ns" link set lo up
done
run ip -n "$c" link add c0 type veth peer name s0 netns "$s"
run ip -n "$c" link add c1 type veth peer name s1 netns "$s"
run ip -n "$c" addr add 10.13.1.1/24 dev c0
run ip -n "$c" addr add 10.13.1.11/24 dev c0
run ip -n "$c" addr add fd00:13:1::1/64 dev c0 nodad
run ip -n "$c" addr add fd00:13:1::11/64 dev c0 nodad
run ip -n "$c" addr add 10.13.2.1/24 dev c1
run ip -n "$s" addr add 10.13.1.2/24 dev s0
run ip -n "$s" addr add fd00:13:1::2/64 dev s0 nodad
run ip -n "$s" addr add 10.13.2.2/24 dev s1
run ip -n "$s" addr add 10.13.9.1/32 dev lo
for l in c0 c1; do run ip -n "$c" link set "$l" up; done
for l in s0 s1; do run ip -n "$s" link set "$l" up; done
run ip -n "$c" route add 10.13.9.0/24 via 10.13.1.2 dev c0 metric 10
run ip -n "$c" route add 10.13.9.0/24 via 10.13.2.2 dev c1 metric 20
# 200 ports: a bind() per connection runs out after 200 open connections.
sysctl_in "$c" ipv4/ip_local_port_range "40000 40199"

mkdir -p "/etc/netns/$c"
printf 'fd00:13:1::2 dual\n10.13.1.2 dual\n' > "/etc/netns/$c/hosts"
# Any other name would be asked of the server namespace, which has no server.
printf 'nameserver 10.13.1.2\noptions timeout:1 attempts:1\n' > "/etc/netns/$c/resolv.conf"

ip netns exec "$c" env NW_SERVER_NETNS="$s" "$prog"
