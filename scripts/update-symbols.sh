#!/bin/sh
# update-symbols.sh [LIBRARY] - write debian/libnetwrap0.symbols from the
# built library (default lib/.libs/libnetwrap.so): every exported symbol
# with the first upstream version that had it, read from its symbol
# version (NETWRAP_0.1 -> 0.1.0, NETWRAP_0.2 -> 0.2.0, ...).
# Run it after adding calls (tests/deb-symbols.sh fails until you do), and
# commit the result.  With --check, print the difference and exit 1 instead
# of writing.
set -eu
cd "$(dirname "$0")/.."
check=no
if [ "${1:-}" = --check ]; then check=yes; shift; fi
lib=${1:-lib/.libs/libnetwrap.so}
out=debian/libnetwrap0.symbols

generate() {
	echo "libnetwrap.so.0 libnetwrap0 #MINVER#"
	echo "* Build-Depends-Package: libnetwrap-dev"
	# nm -D: "ADDR T nw_accept@@NETWRAP_0.1", "0 A NETWRAP_0.1".
	${NM:-nm} -D --defined-only "$lib" | awk '
		$2 == "A" { print $3 "@" $3; next }
		{ sub(/@@/, "@", $3); print $3 }' |
	LC_ALL=C sort -t@ -k2,2V -k1,1 | while IFS=@ read -r name version; do
		echo " $name@$version ${version#NETWRAP_}.0"
	done
}

[ -f "$lib" ] || { echo "update-symbols.sh: $lib not built" >&2; exit 2; }
if [ $check = yes ]; then
	if ! generate | diff -u "$out" -; then
		echo "$out is not what $lib exports (above: - the file, + the library)."
		echo "Run ./scripts/update-symbols.sh and commit the file, or restore the lost symbols."
		exit 1
	fi
	exit 0
fi
generate >"$out"
echo "update-symbols.sh: wrote $out ($(grep -c '^ ' "$out") symbols)"
