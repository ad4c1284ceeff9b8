#!/bin/sh
# Run tests/check_mcast inside a network namespace made for it, so that
# joining groups and sending multicast or broadcast never touches this
# host's interfaces.  Inside: lo and a veth pair nwa <-> nwb,
# both ends in the namespace, with link-local addresses 169.254.77.1 and .2.
# Nothing can leave: the namespace has no other interface and no route out.
# Exit 77 (automake's SKIP) when a namespace cannot be made (not root, no ip).
set -u

prog=${CHECK_MCAST:-./tests/check_mcast}
if [ ! -x "$prog" ]; then
	echo "mcast-netns.sh: $prog not built" >&2
	exit 99
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: no ip(8) (iproute2) to make a network namespace"
	exit 77
fi
ns=nwmcast-$$
if ! ip netns add "$ns" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace (needs root)"
	exit 77
fi
trap 'ip netns del "$ns" 2>/dev/null' EXIT
trap 'exit 1' INT TERM HUP

in_ns() { ip netns exec "$ns" "$@"; }
# Writes go to the namespace's own /proc/sys/net (ip netns exec sees it there).
ns_sysctl() { in_ns sh -c "echo $2 > /proc/sys/net/$1"; }

set -e
# Addresses usable at once (no duplicate address detection on a private link).
ns_sysctl ipv6/conf/default/accept_dad 0
in_ns ip link set lo up
in_ns ip link add nwa type veth peer name nwb
# nwa and nwb share one namespace, so each sees the other's packets arrive
# from one of its own addresses: let them through.
ns_sysctl ipv4/conf/all/accept_local 1
ns_sysctl ipv4/conf/all/rp_filter 0
ns_sysctl ipv4/conf/nwb/rp_filter 0
ns_sysctl ipv4/conf/nwa/rp_filter 0
in_ns ip addr add 169.254.77.1/24 brd + dev nwa
in_ns ip addr add 169.254.77.2/24 brd + dev nwb
in_ns ip link set nwa up
in_ns ip link set nwb up
set +e

in_ns env NW_MCAST_NETNS="$ns" "$prog"
