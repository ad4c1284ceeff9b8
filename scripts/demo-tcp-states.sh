#!/bin/sh
# The TCP state diagram, live: one loopback connection from SYN_SENT to
# TIME_WAIT (examples/tcp-states).  scripts/demo.sh runs it after building.
# It also draws the walk on RFC 9293's state diagram: demo-out/tcp-states.dot,
# rendered to .svg and .png when Graphviz's dot is installed.
set -eu
cd "$(dirname "$0")/.."
out=demo-out
mkdir -p "$out"
echo "== TCP states: one connection's life on loopback =="
# As root, in a network namespace of its own: Linux keeps TIME_WAIT only
# while the namespace holds fewer than net.ipv4.tcp_max_tw_buckets of them.
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null && command -v ip >/dev/null; then
	unshare -n sh -c 'ip link set lo up && exec ./examples/tcp-states --dot "$1" 127.0.0.1' \
		sh "$out/tcp-states.dot"
else
	./examples/tcp-states --dot "$out/tcp-states.dot" 127.0.0.1
fi
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$out/tcp-states.dot" -o "$out/tcp-states.svg"
	dot -Tpng -Gdpi=80 "$out/tcp-states.dot" -o "$out/tcp-states.png"
	echo "The picture: $(pwd)/$out/tcp-states.svg (and .png)"
else
	echo "(Graphviz's dot is not installed: no picture; scripts/deps.sh installs graphviz)"
fi
