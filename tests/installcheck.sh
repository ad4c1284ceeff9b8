#!/bin/sh
# installcheck.sh - `make installcheck`: the installed copy works for a user.
#  - the README's program (the block after "<!-- file: app.c -->")
#    and nw_addr_str(3)'s EXAMPLES program, taken from the installed page,
#    build with `pkg-config --cflags --libs libnetwrap` alone: no -I, -L or
#    rpath of ours;
#  - both run, with no LD_LIBRARY_PATH when the install went where the
#    dynamic linker looks (a real install under /usr/local or /usr), which
#    is what install-exec-hook's ldconfig is for;
#  - `man nw_tcp_connect` finds the installed page.
# For a private prefix (make distcheck's) or DESTDIR the script says so and
# uses LD_LIBRARY_PATH and man -M; a libdir in ld.so.conf's list, or
# NW_INSTALLCHECK_SYSTEM=1 (scripts/install-check.sh), forbids that.
# Environment, from the installcheck-local rule: srcdir, CC, libdir,
# includedir, mandir, DESTDIR.
set -u
srcdir=${srcdir:-.}
: "${libdir:?}" "${mandir:?}"
root=${DESTDIR:-}
system=${NW_INSTALLCHECK_SYSTEM:-0}
status=0
fail() { echo "FAIL: $*"; status=1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nw-installcheck.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

# pkg-config finds the installed .pc and nothing else of ours.
PKG_CONFIG_PATH=$root$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
[ -n "$root" ] && export PKG_CONFIG_SYSROOT_DIR="$root"
flags=$(pkg-config --cflags --libs libnetwrap) || { echo "FAIL: pkg-config does not find libnetwrap"; exit 1; }
echo "pkg-config --cflags --libs libnetwrap: $flags"

# How programs find the library: the linker cache, or (private prefix) not.
# A libdir the loader searches (ld.so.conf) counts as a system install too.
if [ -z "$root" ]; then
	real_libdir=$(readlink -f "$libdir")
	for dir in $(/sbin/ldconfig -v -N -X 2>/dev/null | sed -n 's|^\(/[^:]*\):.*|\1|p'); do
		[ "$(readlink -f "$dir")" = "$real_libdir" ] && system=1
	done
fi
# (Real paths: with merged /usr the cache says /lib for /usr/lib.)
cached=no
for path in $(LC_ALL=C /sbin/ldconfig -p 2>/dev/null | sed -n 's/^[[:space:]]*libnetwrap\.so\.0 .*=> //p'); do
	[ "$(readlink -f "$path")" = "$(readlink -f "$libdir/libnetwrap.so.0")" ] && cached=yes
done
loader_env=
if [ -n "$root" ] || [ $cached = no ]; then
	[ "$system" = 1 ] && fail "$libdir/libnetwrap.so.0 is not in the dynamic linker's cache (ldconfig -p): was ldconfig run after make install?"
	loader_env="LD_LIBRARY_PATH=$root$libdir"
	echo "(private prefix: $root$libdir is not in the linker cache; running with $loader_env)"
fi

run() { # NAME [ARGS]: build $work/NAME.c through pkg-config only, run it
	name=$1
	shift
	# shellcheck disable=SC2086 # pkg-config's words are the flags
	if ! ${CC:-cc} -Wall -Wextra -Werror -o "$work/$name" "$work/$name.c" $flags >"$work/$name.log" 2>&1; then
		cat "$work/$name.log"
		fail "$name: does not build with: cc $name.c $flags"
		return
	fi
	if LC_ALL=C readelf -d "$work/$name" | grep -qE 'RPATH|RUNPATH'; then
		fail "$name: carries an rpath"
	fi
	# The loader must pick the installed copy, not a build tree's.
	got=$(env $loader_env ldd "$work/$name" | awk '$1 == "libnetwrap.so.0" { print $3 }')
	[ -n "$got" ] && [ "$(readlink -f "$got")" = "$(readlink -f "$root$libdir/libnetwrap.so.0")" ] ||
		fail "$name: loads libnetwrap.so.0 from '$got', not $root$libdir"
	if out=$(env $loader_env timeout 30 "$work/$name" "$@" 2>&1); then
		echo "$name: ran: $(echo "$out" | head -n 1)"
	else
		echo "$out"
		fail "$name: exited with an error"
	fi
}

# The README's program.
awk -v name=app.c -f "$srcdir/tests/readme-block.awk" "$srcdir/README.md" >"$work/app.c"
if [ -s "$work/app.c" ]; then
	run app
else
	fail "README.md: no program after <!-- file: app.c -->"
fi

# A man page's example, from the installed page.
page=$root$mandir/man3/nw_addr_str.3
[ -f "$page" ] || { [ -f "$page.gz" ] && page=$page.gz; }	# as Debian installs it
if [ -f "$page" ] && gzip -cdf "$page" >"$work/page.3" &&
	awk -v out="$work/page" -v page="$page" -f "$srcdir/tests/man-extract.awk" "$work/page.3" &&
	[ "$(cat "$work/page-1.how" 2>/dev/null)" = run ]; then
	mv "$work/page-1.c" "$work/addr_str.c"
	run addr_str
else
	fail "$page: not installed, or its first example is not a program to run"
fi

# man finds the page by the call's name.
# (Debian's /usr/local/man is a link to share/man: compare real paths.)
where=$(man -w nw_tcp_connect 2>/dev/null)
where=$(readlink -f "${where:-/nonexistent}" 2>/dev/null || true)
case $where in
"$(readlink -f "$root$mandir")"/*) ;;
*)
	[ "$system" = 1 ] && fail "man -w nw_tcp_connect: '$where', not under $mandir"
	where=$(man -M "$root$mandir" -w nw_tcp_connect 2>&1)
	echo "(private prefix: man -M $root$mandir nw_tcp_connect)"
	;;
esac
case $where in
"$(readlink -f "$root$mandir")/man3/nw_tcp_connect.3"*) echo "man nw_tcp_connect: $where" ;;
*) fail "man -w nw_tcp_connect: '$where', not under $root$mandir" ;;
esac

[ $status -eq 0 ] && echo "installcheck: the installed libnetwrap builds, runs and has its manual"
exit $status
