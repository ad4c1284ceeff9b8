#!/bin/sh
# Instructions per call of the library's hot paths, counted by callgrind:
# noise-free, so a change in lib/ can be judged on a shared, noisy machine.
# Usage, from the build directory after make: bench/callgrind.sh [OUTDIR]
# Each count is inclusive (the call and everything it calls in user space);
# the kernel's side of a system call is not in it: strace -c counts those.
set -eu
out=${1:-callgrind-out}
mkdir -p "$out"

profile() {	# CASE VARIANT FUNCTION [LABEL]
	label=${4:-$3}
	log="$out/$label.log"
	./libtool --mode=execute valgrind --tool=callgrind --toggle-collect="$3" \
		--callgrind-out-file="$out/$label.cg" \
		bench/netbench --quick --only "$1" --variant "$2" >/dev/null 2>"$log"
	ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$log")
	# Calls: the callers' counts in the block of the function's own entry.
	calls=$(callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$out/$label.cg" 2>/dev/null |
		awk -v fn="$3" '
			/^$/ { block = 0; pending = 0; next }
			/  < / { n = $0; sub(/.*\(/, "", n); sub(/x\).*/, "", n); gsub(/,/, "", n)
				 pending += n; next }
			/  \* / { if ($0 ~ ("lib/[a-z]+\\.c:" fn "( |$)")) total += pending; pending = 0 }
			END { print total + 0 }')
	awk -v fn="$label" -v ir="$ir" -v calls="$calls" 'BEGIN {
		printf "%-22s %8d calls %12d Ir %10.1f Ir/call\n", fn, calls, ir,
			calls ? ir / calls : 0 }'
}

profile lines nw_readline nw_readline
profile lines nw_reader_line nw_reader_line
profile reader nw_reader_read nw_reader_read
profile bulk nw_writen nw_writen
profile bulk nw_writen nw_readn
profile connect "nw_tcp_connect(-1)" nw_tcp_connect "nw_tcp_connect(-1)"
profile connect "nw_tcp_connect(1000)" nw_tcp_connect "nw_tcp_connect(1000)"
profile connect "nw_tcp_connect(-1)" nw_accept
profile udp nw_udp nw_udp_connect

# Per line, the whole consumer loop of the lines case (the reader and the
# benchmark's check of each line, its full memcmp included on the quick
# sizes): the line view against the limit, read+memchr.  The lines are
# counted as the calls of memcmp, one per line checked.
per_line() {	# VARIANT FUNCTION
	log="$out/$2.log"
	./libtool --mode=execute valgrind --tool=callgrind --toggle-collect="$2" \
		--callgrind-out-file="$out/$2.cg" \
		bench/netbench --quick --only lines --variant "$1" >/dev/null 2>"$log"
	ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$log")
	lines=$(callgrind_annotate --inclusive=yes --threshold=100 "$out/$2.cg" 2>/dev/null |
		sed -n 's/.*__memcmp[^(]*(\([0-9,]*\)x).*/\1/p' | head -n 1 | tr -d ,)
	awk -v fn="$2" -v ir="$ir" -v lines="$lines" 'BEGIN {
		printf "%-22s %8d lines %12d Ir %10.1f Ir/line\n", fn, lines, ir,
			lines ? ir / lines : 0 }'
}

per_line "nw_reader_line" readline_view
per_line "limit" readline_limit
