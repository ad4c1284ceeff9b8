#!/bin/sh
# deb-check.sh - the Debian packages work for a user (issue 15): build them
# (scripts/deb.sh: dpkg-buildpackage, lintian), install them with dpkg -i,
# build and run the README's program and nw_addr_str(3)'s example against
# the installed copy through pkg-config alone (tests/installcheck.sh, with
# no LD_LIBRARY_PATH), run an installed example program, then dpkg --purge
# and check that nothing of libnetwrap is left.  scripts/test.sh runs it.
# Needs root (skipped without) and no libnetwrap package installed already
# (skipped: a user's own packages are never touched).
# (A debootstrap chroot would isolate the install better, but building one
# takes minutes and a mirror; dpkg -i and --purge on this machine do.)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
	echo "deb-check: SKIP (needs root for dpkg -i)"
	exit 0
fi
if dpkg-query -W -f '${Package} ${Status}\n' 'libnetwrap*' 2>/dev/null | grep -q ' installed$'; then
	echo "deb-check: SKIP (libnetwrap packages are installed already; not touching them)"
	exit 0
fi
./scripts/deb.sh

pkgs="libnetwrap0 libnetwrap-dev libnetwrap-examples"
status=0
cleanup() { dpkg --purge $pkgs >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== dpkg -i $pkgs"
dpkg -i deb/libnetwrap0_*.deb deb/libnetwrap-dev_*.deb deb/libnetwrap-examples_*.deb >/dev/null

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
echo "== installcheck against the packages"
log=$(mktemp)
NW_INSTALLCHECK_SYSTEM=1 srcdir=. libdir=/usr/lib/$multiarch includedir=/usr/include \
	mandir=/usr/share/man sh tests/installcheck.sh >"$log" 2>&1 || status=1
sed 's/^/   /' "$log"
rm -f "$log"

echo "== an installed example: /usr/libexec/libnetwrap/tcp-echo-server and -client"
port_file=$(mktemp)
/usr/libexec/libnetwrap/tcp-echo-server 0 127.0.0.1 >"$port_file" 2>&1 &
server=$!
i=0
while [ ! -s "$port_file" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(grep -o '[0-9][0-9]*$' "$port_file" | head -n 1 || true)
got=$(printf 'from the package\n' | timeout 10 /usr/libexec/libnetwrap/tcp-echo-client 127.0.0.1 "${port:-0}" 2>&1) || true
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
rm -f "$port_file"
if [ "$got" = "from the package" ]; then
	echo "   echoed: $got"
else
	echo "FAIL: the packaged echo pair: '$got' (server said: port ${port:-none})"
	status=1
fi

echo "== dpkg --purge $pkgs"
dpkg --purge $pkgs >/dev/null
trap - EXIT
left=$(dpkg-query -W -f '${Package} ${Status}\n' 'libnetwrap*' 2>/dev/null | grep -v 'not-installed' || true)
files=$(find /usr/lib/"$multiarch" /usr/include /usr/libexec /usr/share/man /usr/share/doc \
	\( -name '*netwrap*' -o -name 'nw_*.3*' \) 2>/dev/null || true)
if [ -n "$left$files" ]; then
	echo "FAIL: left after dpkg --purge: $left $files"
	status=1
fi
[ $status -eq 0 ] && echo "deb-check: built, lintian-clean, installed, used, purged"
exit $status
