#!/bin/sh
# api.sh - what a user of the installed library sees:
#  - <netwrap.h> compiles cleanly as C99 (-pedantic) and as C++;
#  - the shared library exports only nw_ names under the soname
#    libnetwrap.so.0: 0.1.0's calls (the explicit list in lib/libnetwrap.map)
#    versioned NETWRAP_0.1, every other one NETWRAP_0.2, and the map's
#    wildcard node behaves so on a probe library too;
#  - after `make install DESTDIR=...`, a program built with the flags from
#    `pkg-config --cflags --libs libnetwrap` links and runs.
set -eu
srcdir=${srcdir:-.}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
work=$(pwd)/tests/api.tmp
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

cat >"$work/use.c" <<'C'
#include <netwrap.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	char buf[NW_ADDRSTRLEN];
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_INET;
	if (nw_addr_str((struct sockaddr *)&ss, sizeof ss, buf, sizeof buf) == NULL)
		return 1;
	if (nw_tcp_connect("no such host", "80", 100) != -1)
		return 1;
	printf("%s | %s\n", buf, nw_errmsg());
	return 0;
}
C

# The header, alone, in strict modes.
${CC:-cc} -std=c99 -Wall -Wextra -pedantic -Werror -I"$srcdir/include" -c "$work/use.c" -o "$work/c99.o" ||
	fail "netwrap.h does not compile as -std=c99 -pedantic"
${CC:-cc} -std=c11 -Wall -Wextra -pedantic -Werror -I"$srcdir/include" -c "$work/use.c" -o "$work/c11.o" ||
	fail "netwrap.h does not compile as -std=c11 -pedantic"
${CXX:-c++} -x c++ -Wall -Wextra -pedantic -Werror -I"$srcdir/include" -c "$work/use.c" -o "$work/cxx.o" ||
	fail "netwrap.h does not compile as C++"

# Exports: nw_ names only; 0.1.0's in NETWRAP_0.1, the rest in NETWRAP_0.2.
map=$srcdir/lib/libnetwrap.map
v01=$(sed -n '/^NETWRAP_0\.1 {/,/^}/p' "$map" | sed -n 's/^[[:space:]]*\(nw_[a-z0-9_]*\);$/\1/p' | sort)
[ "$(echo "$v01" | wc -l)" -ge 40 ] || fail "NETWRAP_0.1 in $map lists only: $v01"
versioned() { # the versions the node list would give each exported name
	while read -r name; do
		if echo "$v01" | grep -qx "$name"; then echo "$name@@NETWRAP_0.1"
		else echo "$name@@NETWRAP_0.2"; fi
	done
}
lib=lib/.libs/libnetwrap.so
if [ -f "$lib" ]; then
	${NM:-nm} -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort >"$work/exports"
	bad=$(grep -v '^nw_[a-z0-9_]*@@NETWRAP_0\.[12]$' "$work/exports" || true)
	[ -z "$bad" ] || fail "exported besides versioned nw_ symbols: $bad"
	sed 's/@.*//' "$work/exports" | versioned | sort >"$work/expected"
	diff -u "$work/expected" "$work/exports" || fail "exports in the wrong version node (above: - wanted, + got)"
	missing=$(for s in $v01; do grep -q "^$s@@NETWRAP_0\.1$" "$work/exports" || echo "$s"; done)
	[ -z "$missing" ] || fail "0.1.0 calls no longer exported: $missing"
	n=$(${NM:-nm} -D --defined-only "$lib" | grep -c ' T nw_' || true)
	[ "$n" -ge 20 ] || fail "only $n nw_ functions exported"
	soname=$(LC_ALL=C ${OBJDUMP:-objdump} -p "$lib" | awk '$1 == "SONAME" { print $2 }')
	[ "$soname" = libnetwrap.so.0 ] || fail "soname is '$soname', not libnetwrap.so.0"
else
	echo "(shared library not built: export checks skipped)"
fi

# The map itself, on a probe library: an exact name in NETWRAP_0.1 beats the
# wildcard of NETWRAP_0.2, a new nw_ name lands in 0.2, anything else is local.
cat >"$work/probe.c" <<'C'
int nw_accept(void);
int nw_zz_probe_new_call(void);
int probe_helper(void);
int nw_accept(void) { return 1; }
int nw_zz_probe_new_call(void) { return 2; }
int probe_helper(void) { return 3; }
C
if ${CC:-cc} -shared -fPIC -o "$work/probe.so" "$work/probe.c" -Wl,--version-script="$map" -Wl,-soname,probe.so; then
	${NM:-nm} -D --defined-only "$work/probe.so" | awk '$2 == "T" { print $3 }' | sort >"$work/probe.syms"
	printf '%s\n' nw_accept@@NETWRAP_0.1 nw_zz_probe_new_call@@NETWRAP_0.2 >"$work/probe.want"
	diff -u "$work/probe.want" "$work/probe.syms" || fail "lib/libnetwrap.map puts the probe's symbols in the wrong nodes"
else
	fail "a probe library does not link with $map"
fi

# Install, then build a user's program the way the README says.
if ${MAKE:-make} install DESTDIR="$work/root" >"$work/install.log" 2>&1; then
	pc=$(find "$work/root" -name libnetwrap.pc | head -n 1)
	[ -n "$pc" ] || fail "libnetwrap.pc not installed"
	hdr=$(find "$work/root" -name netwrap.h | head -n 1)
	[ -n "$hdr" ] || fail "netwrap.h not installed"
	export PKG_CONFIG_PATH="${pc%/*}" PKG_CONFIG_SYSROOT_DIR="$work/root"
	flags=$(pkg-config --cflags --libs libnetwrap) || fail "pkg-config does not know libnetwrap"
	[ "$(pkg-config --modversion libnetwrap)" = "${PACKAGE_VERSION:-0.1.0}" ] || fail "pkg-config version"
	# shellcheck disable=SC2086
	if ${CC:-cc} -Wall -Wextra -Werror -o "$work/use" "$work/use.c" $flags; then
		libdir=$(pkg-config --libs-only-L libnetwrap | sed 's/^ *-L//; s/ *$//')
		out=$(LD_LIBRARY_PATH="$libdir" "$work/use") || fail "the installed library does not run"
		case $out in
		"0.0.0.0:0 | nw_tcp_connect(no such host, 80): "*) ;;
		*) fail "unexpected output: $out" ;;
		esac
		LD_LIBRARY_PATH="$libdir" ldd "$work/use" | grep -q "libnetwrap.so.0 => $work/root" ||
			fail "the program did not load the installed libnetwrap.so.0"
	else
		fail "a program does not build with: $flags"
	fi
else
	cat "$work/install.log"
	fail "make install DESTDIR failed"
fi

[ "$failures" -eq 0 ] && echo "api: header, exports, soname and pkg-config all good"
exit "$failures"
