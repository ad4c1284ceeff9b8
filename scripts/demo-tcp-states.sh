#!/bin/sh
# The TCP state diagram, live: one loopback connection from SYN_SENT to
# TIME_WAIT (examples/tcp-states).  scripts/demo.sh runs it after building.
set -eu
cd "$(dirname "$0")/.."
echo "== TCP states: one connection's life on loopback =="
# As root, in a network namespace of its own: Linux keeps TIME_WAIT only
# while the namespace holds fewer than net.ipv4.tcp_max_tw_buckets of them.
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null && command -v ip >/dev/null; then
	exec unshare -n sh -c 'ip link set lo up && exec ./examples/tcp-states 127.0.0.1'
fi
exec ./examples/tcp-states 127.0.0.1
