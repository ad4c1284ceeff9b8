#!/bin/sh
# Symbols against pages: every nw_ function the built library exports has a
# page (its own, or an alias page that leads to a page naming it), and every
# function a page names exists.  In detail:
#  - man/*.3 and man/*.7 in the source tree are exactly the pages man/local.mk
#    lists (an unlisted page would be neither installed nor shipped);
#  - for each exported nw_X: man/nw_X.3 is listed; it, or the page its
#    built .so leads to, lists nw_X in NAME; netwrap.7 mentions nw_X (3);
#  - each name in a section 3 NAME is an exported function that the page's
#    SYNOPSIS declares, and a page lists its own name first;
#  - an alias leads to a real page (not to another alias);
#  - every "nw_X(3)" reference in any page names a listed page.
. "${srcdir:-.}/tests/man-lib.sh"

pages=$(nw_pages)
exported=$(nw_exported)
if [ -z "$exported" ]; then
	echo "FAIL: no nw_ symbols found in lib/.libs/libnetwrap.so"
	exit 1
fi

listed() {
	echo "$pages" | grep -qx "$1"
}
is_exported() {
	echo "$exported" | grep -qx "$1"
}

for f in "$srcdir"/man/*.3 "$srcdir"/man/*.7; do
	[ -f "$f" ] || continue
	listed "man/${f##*/}" || nw_fail "man/${f##*/}: not listed in man/local.mk"
done

# The page that documents name (following an alias), or nothing.
target_of() {
	page=man/$1.3
	listed "$page" && [ -f "$srcdir/$page" ] || return 0
	if nw_is_alias "$page"; then
		nw_alias_target "$page"
	else
		echo "$page"
	fi
}

for page in $NW_MAN3_ALIASES; do
	[ -f "$srcdir/$page" ] || continue
	t=$(nw_alias_target "$page")
	if [ -z "$t" ] || ! listed "$t" || nw_is_alias "$t"; then
		nw_fail "$page: .so must lead to a page listed in NW_MAN3, not '$t'"
	fi
done

for sym in $exported; do
	t=$(target_of "$sym")
	if [ -z "$t" ]; then
		nw_fail "$sym: exported, but no page man/$sym.3 (a page, or an alias .so man3/FAMILY.3)"
		continue
	fi
	[ -f "$srcdir/$t" ] && nw_names "$srcdir/$t" | grep -qx "$sym" ||
		nw_fail "$sym: man/$sym.3 leads to $t, whose NAME does not list $sym"
	grep -Eq "(^|[^a-z0-9_])$sym( |\\\\f[BRIP])?\\(3\\)" "$srcdir/man/netwrap.7" ||
		nw_fail "$sym: netwrap.7 does not list it as $sym (3)"
done

for page in $NW_MAN3; do
	src=$srcdir/$page
	[ -f "$src" ] || { nw_fail "$page: listed but missing"; continue; }
	base=${page##*/}
	names=$(nw_names "$src")
	[ "$(echo "$names" | head -n 1)" = "${base%.3}" ] ||
		nw_fail "$page: its NAME section must list ${base%.3} first"
	synopsis=$(nw_section "$src" SYNOPSIS)
	for n in $names; do
		is_exported "$n" ||
			nw_fail "$page: NAME lists $n, which the library does not export"
		echo "$synopsis" | grep -q "$n(" ||
			nw_fail "$page: NAME lists $n, which its SYNOPSIS does not declare"
	done
done

for page in $pages; do
	src=$srcdir/$page
	[ -f "$src" ] || continue
	for ref in $(grep -oE "nw_[a-z0-9_]+( |\\\\f[BRIP])?\\(3\\)" "$src" |
		     sed 's/[ (\\].*//' | sort -u); do
		listed "man/$ref.3" || nw_fail "$page: refers to $ref(3), which has no page"
	done
done

n=$(echo "$exported" | wc -l)
[ "$nw_status" -eq 0 ] && echo "man-symbols: $n exported functions, each with its page"
exit "$nw_status"
