# Sourced by tests/mcast-netns.sh and scripts/demo-dgram.sh: make a network
# namespace holding lo and a veth pair nwa (169.254.77.1) <-> nwb
# (169.254.77.2), both ends inside it.  Nothing in it can reach the host's
# interfaces: it has no other interface and no route out.
#
# netns_veth_make NAME: 0 when made; 1 when no namespace can be made here
# (not root, no ip(8)); any later failure exits the calling script.
# netns_veth_remove NAME: delete it (and with it the veth pair).

netns_veth_make() {
	command -v ip >/dev/null 2>&1 || return 1
	ip netns add "$1" 2>/dev/null || return 1
	# Writes go to the namespace's own /proc/sys/net.
	_nv_sysctl() { ip netns exec "$1" sh -c "echo $3 > /proc/sys/net/$2" || exit 1; }
	_nv() { ip netns exec "$@" || exit 1; }
	# Addresses usable at once: no duplicate address detection on a private link.
	_nv_sysctl "$1" ipv6/conf/default/accept_dad 0
	_nv "$1" ip link set lo up
	_nv "$1" ip link add nwa type veth peer name nwb
	# nwa and nwb share one namespace, so each sees the other's packets
	# arrive from one of its own addresses: let them through.
	_nv_sysctl "$1" ipv4/conf/all/accept_local 1
	_nv_sysctl "$1" ipv4/conf/all/rp_filter 0
	_nv_sysctl "$1" ipv4/conf/nwa/rp_filter 0
	_nv_sysctl "$1" ipv4/conf/nwb/rp_filter 0
	_nv "$1" ip addr add 169.254.77.1/24 brd + dev nwa
	_nv "$1" ip addr add 169.254.77.2/24 brd + dev nwb
	_nv "$1" ip link set nwa up
	_nv "$1" ip link set nwb up
	return 0
}

netns_veth_remove() {
	ip netns del "$1" 2>/dev/null || true
}
