#!/bin/sh
# The TCP state diagram, live: one loopback connection from SYN_SENT to
# TIME_WAIT (examples/tcp-states).  scripts/demo.sh runs it after building.
set -eu
cd "$(dirname "$0")/.."
echo "== TCP states: one connection's life on loopback =="
./examples/tcp-states 127.0.0.1
