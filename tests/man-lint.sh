#!/bin/sh
# Manual page lint: the page conventions; mandoc -Tlint -Wwarning clean (and
# groff -ww, as man(1) formats the pages, where groff is installed).
#
# Conventions every page follows (others' pages too):
#  - A page is man/NAME.3 (or man/NAME.7) in man(7) macros, listed in
#    man/local.mk: NW_MAN3 (pages), NW_MAN3_ALIASES (aliases), NW_MAN7.
#  - Its .TH line is exactly
#      .TH NAME-IN-CAPITALS 3 YYYY-MM-DD "libnetwrap @PACKAGE_VERSION@" "libnetwrap Manual"
#    (the build replaces the token with the version from configure.ac).
#  - A page with a table (.TS, the ATTRIBUTES section) starts with the line
#    '\" t so that man(1) runs tbl.
#  - Sections in man-pages(7) order; a section 3 page has at least NAME,
#    LIBRARY, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS, ATTRIBUTES,
#    EXAMPLES and SEE ALSO.
#  - An alias is a symbolic link man/NAME.3 -> PAGE.3 (in a tarball whose
#    tar followed links, a copy of PAGE.3); its built copy is the single
#    line `.so man3/PAGE.3`, and it is installed as a link to PAGE.3.
. "${srcdir:-.}/tests/man-lib.sh"

if [ -z "${MANDOC:-}" ] || ! command -v "$MANDOC" >/dev/null 2>&1; then
	echo "FAIL: mandoc not found (scripts/deps.sh installs it; then rerun configure)"
	exit 1
fi

order="NAME LIBRARY SYNOPSIS CONFIGURATION DESCRIPTION OPTIONS EXIT_STATUS RETURN_VALUE
ERRORS ENVIRONMENT FILES ATTRIBUTES VERSIONS STANDARDS HISTORY NOTES CAVEATS BUGS EXAMPLES
AUTHORS REPORTING_BUGS COPYRIGHT SEE_ALSO"
required3="NAME LIBRARY SYNOPSIS DESCRIPTION RETURN_VALUE ERRORS ATTRIBUTES EXAMPLES SEE_ALSO"
required7="NAME DESCRIPTION EXAMPLES SEE_ALSO"

count=0
for page in $(nw_pages); do
	src=$srcdir/$page
	base=${page##*/}
	name=${base%.*}
	sect=${base##*.}
	count=$((count + 1))
	if [ ! -f "$src" ]; then
		nw_fail "$page: listed in man/local.mk but missing"
		continue
	fi
	if nw_is_alias "$page"; then
		built=$(nw_built "$page")
		target=$(nw_alias_target "$page")
		if [ ! -f "$built" ] || [ "$(wc -l < "$built")" -ne 1 ] ||
		   ! grep -Eq '^\.so man3/nw_[a-z0-9_]+\.3$' "$built"; then
			nw_fail "$built: an alias is built as the one line '.so man3/PAGE.3'"
		elif [ -L "$src" ]; then
			[ "$(readlink "$src")" = "${target##*/}" ] ||
				nw_fail "$page: links to '$(readlink "$src")', built as .so ${target#man/}"
		elif ! cmp -s "$src" "$srcdir/$target"; then
			nw_fail "$page: an alias is a symbolic link to its page (${target##*/})"
		fi
		continue
	fi

	upper=$(echo "$name" | tr 'a-z' 'A-Z')
	th=$(grep -m1 '^\.TH ' "$src" || true)
	want="^\\.TH $upper $sect [0-9]{4}-[0-9]{2}-[0-9]{2} \"libnetwrap @PACKAGE_VERSION@\" \"libnetwrap Manual\"\$"
	echo "$th" | grep -Eq "$want" ||
		nw_fail "$page: .TH must read: .TH $upper $sect YYYY-MM-DD \"libnetwrap @PACKAGE_VERSION@\" \"libnetwrap Manual\""
	if grep -q '^\.TS' "$src" && [ "$(head -n 1 "$src")" != "'\\\" t" ]; then
		nw_fail "$page: has a table, so its first line must be: '\\\" t"
	fi

	sections=$(sed -n 's/^\.SH  *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$src" | tr ' ' '_')
	last=0
	for s in $sections; do
		pos=$(echo $order | tr ' ' '\n' | grep -nx "$s" | cut -d: -f1)
		if [ -z "$pos" ]; then
			nw_fail "$page: section '$s' is not a man-pages(7) section"
		elif [ "$pos" -le "$last" ]; then
			nw_fail "$page: section '$s' out of man-pages(7) order"
		else
			last=$pos
		fi
	done
	[ "$sect" = 3 ] && required=$required3 || required=$required7
	for s in $required; do
		echo "$sections" | grep -qx "$s" || nw_fail "$page: no $s section"
	done

	built=$(nw_built "$page")
	if [ ! -f "$built" ]; then
		nw_fail "$built: not built"
	elif grep -q '@PACKAGE_VERSION@' "$built" ||
	     ! grep -q "\"libnetwrap $NW_PACKAGE_VERSION\"" "$built"; then
		nw_fail "$built: version $NW_PACKAGE_VERSION not substituted"
	fi
done

# Lint the built copies from the root of the built hierarchy, where each
# alias's .so finds its page.  mandoc warns about every .so (".so is
# fragile, better use ln(1)"); the alias convention is fixed, so that one
# message, on an alias page, is the only one accepted.
pages=""
aliases=""
for page in $(nw_pages); do
	b=$(nw_built "$page" | sed 's|^man/||')
	if nw_is_alias "$page"; then aliases="$aliases $b"; else pages="$pages $b"; fi
done
rc=0
out=$(cd man && "$MANDOC" -Tlint -Wwarning $pages 2>&1) || rc=$?
if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
	echo "$out"
	nw_fail "mandoc -Tlint -Wwarning exited $rc on the pages, with the messages above"
fi
# man(1) formats with groff, which sees a few things mandoc does not.
if command -v groff >/dev/null 2>&1; then
	for b in $pages; do
		out=$(cd man && groff -t -man -ww -z -Tutf8 "$b" 2>&1) || true
		[ -z "$out" ] || { echo "$out"; nw_fail "man/$b: groff warnings above"; }
	done
else
	echo "note: groff not found, pages checked with mandoc only"
fi
if [ -n "$aliases" ]; then
	out=$(cd man && "$MANDOC" -Tlint -Wwarning $aliases 2>&1 |
	      grep -v '^mandoc: man3/[a-z0-9_]*\.3:1:2: WARNING: \.so is fragile, better use ln(1): so man3/[a-z0-9_]*\.3$' || true)
	if [ -n "$out" ]; then
		echo "$out"
		nw_fail "mandoc -Tlint -Wwarning on the alias pages reported the messages above"
	fi
fi

[ "$nw_status" -eq 0 ] && echo "man-lint: $count pages, mandoc lint clean"
exit "$nw_status"
