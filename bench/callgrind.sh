#!/bin/sh
# Instruction counts per call of the library's hot paths, under callgrind:
# noise-free, so a change in lib/ can be judged on a shared machine.
# Usage (from the build directory): bench/callgrind.sh [OUTDIR]
# Counts are user-space instructions only; the kernel's share of a system
# call is not in them (strace -c counts the calls themselves).
set -eu
out=${1:-callgrind-out}
mkdir -p "$out"
top=$(pwd)

profile() {	# NAME CASE VARIANT FUNCTIONS...
	name=$1 case=$2 variant=$3
	shift 3
	"$top/libtool" --mode=execute valgrind --tool=callgrind \
		--callgrind-out-file="$out/$name.cg" \
		"$top/bench/netbench" --quick --only "$case" --variant "$variant" >/dev/null 2>"$out/$name.log"
	callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$out/$name.cg" \
		>"$out/$name.txt" 2>/dev/null
	for fn in "$@"; do
		awk -v fn="$fn" '
			/^ *[0-9,]+ .*  < / && index($0, ":" fn " (") {
				n = $0; sub(/.*\(/, "", n); sub(/x\).*/, "", n); gsub(/,/, "", n); calls += n
			}
			/^ *[0-9,]+ .*  \* / && index($0, ":" fn " [") {
				ir = $1; gsub(/,/, "", ir)
			}
			END {
				if (calls > 0)
					printf "%-16s %-22s %9d calls %12d Ir %9.1f Ir/call\n", \
						name, fn, calls, ir, ir / calls
			}' name="$name" "$out/$name.txt"
	done
}

profile lines lines nw_readline nw_readline
profile reader reader nw_reader_read nw_reader_read
profile bulk bulk nw_writen nw_writen nw_readn
profile connect-1 connect "nw_tcp_connect(-1)" nw_tcp_connect nw_accept
profile connect-1000 connect "nw_tcp_connect(1000)" nw_tcp_connect nw_accept
profile udp udp nw_udp nw_udp_bind nw_udp_connect
