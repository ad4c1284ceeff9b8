#!/bin/sh
# abi-check.sh - the built libnetwrap.so keeps 0.1.0's ABI.
# abidiff compares it with abi/libnetwrap-0.1.0.abi (abidw of the library
# built from 0.1.0, commit 037a50c, types limited to include/netwrap.h):
#  - a removed or changed function, or a changed public type (a field's type,
#    a struct's layout), fails;
#  - added functions pass and are listed;
#  - fields appended to struct nw_tcp_info pass: the header promises that
#    growth (callers pass sizeof their struct).  libabigail's suppression
#    files cannot say "appended and nothing else changed" (libabigail 2.2's
#    has_data_member_inserted_at = end also hid a changed field type), so
#    appended_only below reads abidiff's report instead.
# abidiff marks only removals as "incompatible" in its exit status; a changed
# type is a plain "change", so the script runs it twice: without the added
# symbols (any change left is a break), then with them to report additions.
# Regenerate the baseline only for a new soname (see lib/local.mk):
#   abidw --headers-dir include --drop-private-types --no-corpus-path \
#         --short-locs lib/.libs/libnetwrap.so > abi/libnetwrap-N.abi
srcdir=${srcdir:-.}
lib=${NW_ABI_LIB:-lib/.libs/libnetwrap.so}
baseline=$srcdir/abi/libnetwrap-0.1.0.abi

if ! command -v abidiff >/dev/null 2>&1; then
	echo "SKIP: abidiff not found (scripts/deps.sh installs abigail-tools)"
	exit 77
fi
if [ ! -f "$lib" ]; then
	echo "SKIP: $lib not built (--disable-shared?)"
	exit 77
fi
# Without DWARF abidiff sees only symbol names, and would pass a type change.
if ! LC_ALL=C ${OBJDUMP:-objdump} -h "$lib" | grep -q '\.debug_info'; then
	echo "SKIP: $lib has no debug information (build with -g)"
	exit 77
fi

run_abidiff() {
	abidiff --headers-dir2 "$srcdir/include" "$@" "$baseline" "$lib"
}

# Succeeds when every change in abidiff's report is a field appended to
# struct nw_tcp_info past its 0.1.0 end; prints any other line.
appended_only() {
	echo "$1" | awk '
	/^$/ || /changes summary:/ || /with some indirect sub-type change/ { next }
	/^ *\[C\] .function .*nw_tcp_info/ { next }
	/^ *parameter [0-9]+ of type .nw_tcp_info\*. has sub-type changes:$/ { next }
	/^ *in pointed to type .struct nw_tcp_info. / { next }
	/^ *pointed to type .struct nw_tcp_info. changed.*as reported earlier$/ { next }
	/^ *type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ { old = $5; next }
	/^ *[0-9]+ data member insertions?:$/ { next }
	/^ *.[^,]*., at offset [0-9]+ \(in bits\)/ && old != "" {
		match($0, /at offset [0-9]+/)
		if (substr($0, RSTART + 10, RLENGTH - 10) + 0 >= old + 0) next
	}
	{ print; bad = 1 }
	END { exit bad }'
}

out=$(run_abidiff --no-added-syms 2>&1)
rc=$?
# Exit status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if [ $rc -eq 4 ] && appended_only "$out" >/dev/null; then
	echo "$out"
	echo "(fields appended to struct nw_tcp_info: compatible, as the header promises)"
	rc=0
fi
if [ $rc -ne 0 ]; then
	echo "$out"
	if [ $((rc & 3)) -ne 0 ]; then
		echo "FAIL: abidiff could not compare (status $rc)"
	else
		echo "FAIL: $lib breaks the ABI of libnetwrap 0.1.0 (abidiff status $rc): see above"
	fi
	exit 1
fi

# No break: report what was added since 0.1.0.
added=$(run_abidiff --added-fns --added-vars 2>&1)
echo "$added" | sed -n '/Added function/,$p'
n=$(echo "$added" | sed -n 's/.* \([0-9][0-9]*\) Added function.*/\1/p')
echo "abi-check: 0.1.0's ABI intact; ${n:-0} function(s) added since 0.1.0"
exit 0
