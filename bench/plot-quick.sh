#!/bin/sh
# plot-quick.sh - bench/plot-serve.sh draws one line for every column of a
# real serve-bench table (a brief run, as bench/serve-quick.sh does), named
# after the column, so `make bench-serve`'s plot cannot rot.
set -u
srcdir=${srcdir:-.}
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "SKIP: gnuplot not installed (scripts/deps.sh installs gnuplot-nox)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./bench/serve-bench -s 0.05 -r 1 -c 4,20 -w 8 >"$work/table" || { echo "FAIL: serve-bench"; exit 1; }
sh "$srcdir/bench/plot-serve.sh" "$work/table" "$work/plot.svg" || { echo "FAIL: plot-serve.sh"; exit 1; }
status=0
columns=$(awk '$1 == "clients" { for (i = 2; i <= NF; i++) print $i; exit }' "$work/table")
for name in $columns; do
	grep -q "<text>$name</text>" "$work/plot.svg" || { echo "FAIL: no line for '$name' in the plot"; status=1; }
done
lines=$(grep -c '<g id="gnuplot_plot_[0-9]*"' "$work/plot.svg")
[ "$lines" -eq "$(echo "$columns" | wc -l)" ] || { echo "FAIL: $lines lines for columns: $columns"; status=1; }
[ $status -eq 0 ] && echo "plot-quick: one line per column ($(echo $columns))"
exit $status
