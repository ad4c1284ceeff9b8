#!/bin/sh
# happy-eyeballs.sh - nw_tcp_connect races IPv6 and IPv4 (RFC 8305).
#
# A network namespace of our own, with a veth pair whose far end answers
# nothing at 2001:db8::2 (neighbour discovery never completes, so a SYN
# there vanishes), and a hosts file that lists that address before
# 127.0.0.1.  Nothing leaves the namespace.  Skipped (77) without root.
set -eu

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: needs root and ip(8) to make a network namespace"
	exit 77
fi
ns="nwhe$$"
if ! ip netns add "$ns" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace here"
	exit 77
fi
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT INT TERM

mkdir -p "/etc/netns/$ns"
cat >"/etc/netns/$ns/hosts" <<HOSTS
2001:db8::2 he-test
127.0.0.1 he-test
::1 he-refused
127.0.0.1 he-refused
2001:db8::2 he-slow
127.0.0.1 he-slow
HOSTS
# Lookups of other names go to a name server that never answers (it would
# take the resolver 2 x 5 s to give up).
cat >"/etc/netns/$ns/resolv.conf" <<RESOLV
nameserver 2001:db8::53
options timeout:5 attempts:2
RESOLV
ip -n "$ns" link set lo up
ip -n "$ns" link add nwhe0 type veth peer name nwhe1
ip -n "$ns" link set nwhe0 up
ip -n "$ns" link set nwhe1 up
ip -n "$ns" -6 addr add 2001:db8::1/64 dev nwhe0 nodad

ip netns exec "$ns" "${PROBE:-tests/he-probe}"

# A name server that refuses at once: a temporary failure, EAGAIN.
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
ip netns exec "$ns" "${PROBE:-tests/he-probe}" --dns-refused
