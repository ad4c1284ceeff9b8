#!/bin/sh
# The EXAMPLES programs of the pages are real programs: each is extracted,
# compiled with -Wall -Wextra -Werror against the built library, and the
# ones marked to run alone are run (loopback only) and must exit 0.
#
# Marker convention: in the EXAMPLES section, every .EX/.EE block follows a
# roff comment line (invisible to readers) that says what the block is:
#   .\" example: run [ARG...]   a complete program that runs on its own on
#                               loopback (it forks its own peer if it needs
#                               one), with these arguments, and exits 0
#                               within 30 seconds
#   .\" example: compile        a complete program that needs a peer or
#                               arguments a test cannot give it: compiled only
#   .\" example: text           not a program (a shell session, output): skipped
# A block without a marker fails the test, as does a page (every section 3
# page, and netwrap.7) without at least one run or compile block.
# Inside a program block use only these escapes: \e (backslash), \- (minus),
# \(aq (apostrophe), \(dq (double quote), \& (before a leading . or ').
. "${srcdir:-.}/tests/man-lib.sh"

tmp=tests/man-examples.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

# Split a page's EXAMPLES blocks into $tmp/NAME-N.c (or .txt) plus a
# $tmp/NAME-N.how file holding the marker; errors go to standard output.
extract() {
	awk -v out="$tmp/$2" -v page="$1" -f "$srcdir/tests/man-extract.awk" "$1"
}

compiled=0
ran=0
for page in $NW_MAN3 $NW_MAN7; do
	src=$srcdir/$page
	[ -f "$src" ] || { nw_fail "$page: missing"; continue; }
	base=${page##*/}
	stem=$(echo "$base" | tr '.' '_')
	if ! extract "$src" "$stem"; then
		nw_fail "$page: malformed EXAMPLES section (see above)"
		continue
	fi
	programs=0
	for how_file in "$tmp/$stem"-*.how; do
		[ -f "$how_file" ] || continue
		how=$(cat "$how_file")
		prog=${how_file%.how}
		[ "$how" = text ] && continue
		programs=$((programs + 1))
		label="$page example ${prog##*-}"
		# libtool links against the uninstalled library and wraps the program
		# so that it finds lib/.libs at run time.
		if ! $NW_LIBTOOL --silent --mode=link --tag=CC $NW_CC $NW_CPPFLAGS $NW_CFLAGS \
			-pthread -Wall -Wextra -Werror $NW_LDFLAGS -o "$prog" "$prog.c" lib/libnetwrap.la \
			> "$prog.cc.log" 2>&1 || [ -s "$prog.cc.log" ]; then
			cat "$prog.cc.log"
			echo "---- $label, as extracted:"
			cat -n "$prog.c"
			nw_fail "$label: does not compile cleanly"
			continue
		fi
		compiled=$((compiled + 1))
		case $how in
		run*)
			args=${how#run}
			echo "== $label: running${args:+ with$args}"
			rc=0
			# shellcheck disable=SC2086 # the marker's words are the arguments
			timeout 30 "$prog" $args < /dev/null || rc=$?
			if [ "$rc" -ne 0 ]; then
				nw_fail "$label: exited $rc"
			else
				ran=$((ran + 1))
			fi
			;;
		esac
	done
	[ "$programs" -gt 0 ] ||
		nw_fail "$page: EXAMPLES has no program (.\\\" example: run or compile)"
done

[ "$nw_status" -eq 0 ] && echo "man-examples: $compiled programs compiled, $ran ran"
exit "$nw_status"
