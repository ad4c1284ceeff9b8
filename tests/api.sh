#!/bin/sh
# api.sh - what a user of the installed library sees:
#  - <netwrap.h> compiles cleanly as C99 (-pedantic) and as C++;
#  - the shared library exports only nw_ names, versioned NETWRAP_0.1,
#    under the soname libnetwrap.so.0;
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

# Exports: nw_ names only, each in the NETWRAP_0.1 version node.
lib=lib/.libs/libnetwrap.so
if [ -f "$lib" ]; then
	bad=$(${NM:-nm} -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | grep -v '^nw_[a-z0-9_]*@@NETWRAP_0\.1$' || true)
	[ -z "$bad" ] || fail "exported besides versioned nw_ symbols: $bad"
	n=$(${NM:-nm} -D --defined-only "$lib" | grep -c ' T nw_' || true)
	[ "$n" -ge 20 ] || fail "only $n nw_ functions exported"
	soname=$(LC_ALL=C ${OBJDUMP:-objdump} -p "$lib" | awk '$1 == "SONAME" { print $2 }')
	[ "$soname" = libnetwrap.so.0 ] || fail "soname is '$soname', not libnetwrap.so.0"
else
	echo "(shared library not built: export checks skipped)"
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
