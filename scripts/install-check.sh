#!/bin/sh
# install-check.sh - a real install, as a new user does it (issue 16):
# `make install` into /usr/local, `make installcheck` (which must work with
# no LD_LIBRARY_PATH and plain `man`), `make uninstall`, and then nothing of
# libnetwrap may be left under /usr/local, nor in the linker cache.
# scripts/test.sh runs it after make check.  Needs root (skipped without),
# a tree configured with the default prefix, and no libnetwrap already in
# /usr/local (a user's own install is never touched: skipped).
set -eu
cd "$(dirname "$0")/.."
prefix=/usr/local

if [ "$(id -u)" -ne 0 ]; then
	echo "install-check: SKIP (needs root to install into $prefix)"
	exit 0
fi
configured=$(sed -n 's/^prefix = //p' Makefile)
if [ "$configured" != "$prefix" ]; then
	echo "install-check: SKIP (configured with --prefix=$configured, not $prefix)"
	exit 0
fi
ours() { find "$prefix" \( -name '*netwrap*' -o -name 'nw_*.3*' \) -print 2>/dev/null | sort; }
if [ -n "$(ours)" ]; then
	echo "install-check: SKIP (libnetwrap is already installed in $prefix; not touching it):"
	ours | sed 's/^/    /'
	exit 0
fi

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
find "$prefix" | sort >"$before"

status=0
echo "== make install (prefix $prefix)"
make -s install >/dev/null || status=1
echo "== make installcheck (no LD_LIBRARY_PATH, plain man)"
NW_INSTALLCHECK_SYSTEM=1 make -s installcheck || status=1
echo "== make uninstall"
make -s uninstall >/dev/null || status=1

find "$prefix" | sort >"$after"
# Directories the install made and left empty: remove them, deepest first.
comm -13 "$before" "$after" | sort -r | while read -r p; do
	[ -d "$p" ] && rmdir "$p" 2>/dev/null && echo "(removed the empty directory $p)"
done
find "$prefix" | sort >"$after"
left=$(comm -13 "$before" "$after")
if [ -n "$left" ]; then
	echo "FAIL: left under $prefix after make uninstall:"
	echo "$left" | sed 's/^/    /'
	status=1
fi
if /sbin/ldconfig -p | grep -q "libnetwrap.*=> $prefix/"; then
	echo "FAIL: the linker cache still lists libnetwrap in $prefix"
	status=1
fi
[ $status -eq 0 ] && echo "install-check: install, installcheck and uninstall in $prefix: nothing left"
exit $status
