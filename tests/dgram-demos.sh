#!/bin/sh
# The datagram demos cannot rot: run scripts/demo-dgram.sh on the examples
# just built and check the exchange it shows.  The multicast half needs a
# network namespace (root); without one only the UDP time half is checked.
set -u
out=$(EXAMPLES=./examples "$(dirname "$0")/../scripts/demo-dgram.sh" 2>&1)
status=$?
printf '%s\n' "$out"
fail() { echo "FAIL: $*"; exit 1; }

[ "$status" -eq 0 ] || fail "demo-dgram.sh exited $status"
[ "$(printf '%s\n' "$out" | grep -c '^127\.0\.0\.1:[0-9]* says 20..-..-..T')" -eq 3 ] ||
	fail "expected three answers from the IPv4 time server"
[ "$(printf '%s\n' "$out" | grep -c 'request from 127\.0\.0\.1:')" -eq 3 ] ||
	fail "expected the server to log three requests"
if printf '%s\n' "$out" | grep -q '^(skipped'; then
	exit 0
fi
[ "$(printf '%s\n' "$out" | grep -c 'from 169\.254\.77\.1:[0-9]*: hello [123]$')" -eq 3 ] ||
	fail "expected three IPv4 multicast datagrams"
[ "$(printf '%s\n' "$out" | grep -c 'from \[fe80::[0-9a-f:]*%nwb\]:[0-9]*: hello [123]$')" -eq 3 ] ||
	fail "expected three IPv6 multicast datagrams"
exit 0
