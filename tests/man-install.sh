#!/bin/sh
# After `make install DESTDIR=<tmp>`, man(1) finds a page for every exported
# nw_ function and for netwrap(7) in <tmp><mandir>, each one rendering the
# page that documents the function, with the package version substituted.
# Each alias is installed as a symbolic link to its family's page in the
# same directory (Debian policy 12.1), the installed tree is clean under
# mandoc -Tlint -Wwarning, and `make uninstall` takes every page away again.
. "${srcdir:-.}/tests/man-lib.sh"

if ! command -v man >/dev/null 2>&1; then
	echo "FAIL: man not found (scripts/deps.sh installs man-db)"
	exit 1
fi

tmp=$(pwd)/tests/man-install.tmp
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! $NW_MAKE install DESTDIR="$tmp" > tests/man-install.make.log 2>&1; then
	cat tests/man-install.make.log
	echo "FAIL: make install DESTDIR=$tmp"
	exit 1
fi
rm -f tests/man-install.make.log
manpath=$tmp$NW_MANDIR
# man-db drops root privileges to the "man" user; let it read the pages.
chmod -R a+rX "$tmp"

show() {
	MANPAGER=cat MANWIDTH=80 LC_ALL=C man -M "$manpath" "$@" 2>&1
}

count=0
for sym in $(nw_exported); do
	count=$((count + 1))
	if [ ! -f "$manpath/man3/$sym.3" ]; then
		nw_fail "$manpath/man3/$sym.3: not installed"
		continue
	fi
	# For an alias, man -w names the page its .so leads to.
	where=$(LC_ALL=C man -M "$manpath" -w "$sym" 2>&1) || true
	case $where in
	"$manpath"/man3/nw_*.3) ;;
	*) nw_fail "man -M $manpath -w $sym: '$where'"; continue ;;
	esac
	text=$(show 3 "$sym") || { nw_fail "man $sym: $text"; continue; }
	echo "$text" | sed -n '/^NAME/,/^SYNOPSIS/p' | grep -q "$sym" ||
		nw_fail "man $sym: NAME of the page shown does not list $sym"
	echo "$text" | grep -q "libnetwrap $NW_PACKAGE_VERSION" ||
		nw_fail "man $sym: footer lacks libnetwrap $NW_PACKAGE_VERSION"
done
show 7 netwrap | grep -q '^NAME' || nw_fail "man 7 netwrap: no page"

for alias in $NW_MAN3_ALIASES; do
	installed=$manpath/man3/${alias##*/}
	if [ ! -L "$installed" ]; then
		nw_fail "$installed: an alias is installed as a symbolic link, not a file"
		continue
	fi
	case $(readlink "$installed") in
	*/*) nw_fail "$installed: links to '$(readlink "$installed")', not a page beside it" ;;
	nw_*.3) [ -f "$installed" ] || nw_fail "$installed: dangling link" ;;
	*) nw_fail "$installed: links to '$(readlink "$installed")'" ;;
	esac
done
if [ -n "${MANDOC:-}" ] && command -v "$MANDOC" >/dev/null 2>&1; then
	lint=$("$MANDOC" -Tlint -Wwarning "$manpath"/man3/*.3 "$manpath"/man7/*.7 2>&1) ||
		nw_fail "mandoc -Tlint -Wwarning on the installed pages:
$lint"
else
	nw_fail "mandoc not found (scripts/deps.sh installs it; then rerun configure)"
fi

if ! $NW_MAKE uninstall DESTDIR="$tmp" > tests/man-install.make.log 2>&1; then
	cat tests/man-install.make.log
	nw_fail "make uninstall DESTDIR=$tmp"
fi
rm -f tests/man-install.make.log
left=$(find "$manpath" \( -type f -o -type l \) -print 2>/dev/null)
[ -z "$left" ] || nw_fail "make uninstall left pages behind: $left"

[ "$nw_status" -eq 0 ] &&
	echo "man-install: man -M finds all $count functions and netwrap(7); aliases are links; lint clean"
exit "$nw_status"
