#!/bin/sh
# Run tests/check_mcast inside a network namespace made for it (see
# netns-veth.sh), so that joining groups and sending multicast or broadcast
# never touches this host's interfaces.  Exit 77 (automake's SKIP) when a
# namespace cannot be made (not root, no ip).
set -u

prog=${CHECK_MCAST:-./tests/check_mcast}
if [ ! -x "$prog" ]; then
	echo "mcast-netns.sh: $prog not built" >&2
	exit 99
fi
. "$(dirname "$0")/netns-veth.sh"

ns=nwmcast-$$
trap 'netns_veth_remove "$ns"' EXIT
trap 'exit 1' INT TERM HUP
if ! netns_veth_make "$ns"; then
	echo "SKIP: cannot create a network namespace (needs root and ip(8))"
	exit 77
fi
ip netns exec "$ns" env NW_MCAST_NETNS="$ns" "$prog"
