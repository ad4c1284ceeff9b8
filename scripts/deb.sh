#!/bin/sh
# deb.sh - build the Debian packages (libnetwrap0, libnetwrap-dev,
# libnetwrap-examples) with `dpkg-buildpackage -us -uc -b` from a clean copy
# of this tree (the files git tracks, plus new ones it does not ignore), so
# the developer's own build is untouched; then run lintian on them.
# The packages land in deb/.  Fails on any lintian error or warning.
# Environment: DEB_BUILD_OPTIONS (e.g. nocheck; parallel=N is added).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/deb
work=$(mktemp -d "${TMPDIR:-/tmp}/nw-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

./scripts/deps.sh	# debhelper, dh-autoreconf, lintian and the build dependencies
for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "deb.sh: $tool missing (scripts/deps.sh installs debhelper, dh-autoreconf, lintian)" >&2
		exit 1
	}
done

src=$work/libnetwrap
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	# A release tarball: it is clean already.
	tar --exclude=./deb -cf - . | tar -xf - -C "$src"
fi

echo "== dpkg-buildpackage -us -uc -b (in $src)"
start=$(date +%s)
(
	cd "$src"
	# A symbols file that differs from the library in any way fails the build.
	DPKG_GENSYMBOLS_CHECK_LEVEL=4 \
	DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1
) || { tail -n 60 "$work/build.log"; echo "deb.sh: dpkg-buildpackage failed" >&2; exit 1; }
echo "   built in $(($(date +%s) - start)) s"

rm -rf "$out"
mkdir -p "$out"
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -l "$out"/*.deb | awk '{ print "   " $5 "\t" $NF }'

echo "== lintian"
# --fail-on error,warning: info and pedantic tags are shown, not fatal.
if lintian --fail-on error,warning --info --display-info "$out"/*.changes >"$work/lintian.log" 2>&1; then
	sed 's/^/   /' "$work/lintian.log"
	echo "deb.sh: lintian: no errors, no warnings ($(grep -c '^I:' "$work/lintian.log" || true) informational tags above); packages in $out"
else
	cat "$work/lintian.log"
	echo "deb.sh: lintian reports errors or warnings" >&2
	exit 1
fi
