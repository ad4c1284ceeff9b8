#!/bin/sh
# plot-serve.sh TABLE SVG - draw bench/serve-bench's table (round trips per
# second by clients) or bench/http-bench.sh's (requests per second by
# connections) as an SVG plot (gnuplot; a name ending in .png gives a PNG):
# one line per column of the table, whatever columns it has (each server
# model, and the reference servers, drawn dashed; a ratio column such as
# "event/floor" is left out).  `make bench-serve` and `make bench-http` run it.
#   bench/serve-bench | tee table; bench/plot-serve.sh table plot.svg
set -eu
[ $# -eq 2 ] || { echo "usage: plot-serve.sh TABLE SVG" >&2; exit 2; }
table=$1
svg=$2
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot-serve.sh: gnuplot not installed (Debian: gnuplot-nox): no plot" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The header row names the columns; each later row starting with a number is
# one client count, "RATE (RATIO)" per column: keep the rates.
awk '
	$1 == "clients" || $1 == "conns" {
		for (i = 2; i <= NF; i++) if ($i !~ /\//) name[i] = $i
		n = NF; next
	}
	n && $1 ~ /^[0-9]+$/ {
		gsub(/\( *[0-9.]+\)/, "")
		line = $1
		for (i = 2; i <= n; i++) if (i in name) line = line " " $i
		print line
	}
	END { if (!n) exit 1
	      for (i = 2; i <= n; i++) if (i in name) print name[i] > "/dev/stderr" }' "$table" \
	>"$work/data" 2>"$work/names" || { echo "plot-serve.sh: no table in $table" >&2; exit 1; }
[ -s "$work/data" ] || { echo "plot-serve.sh: no rows in $table" >&2; exit 1; }

# A tick at each client count measured.
xtics=$(awk '{ printf "%s%s", sep, $1; sep = ", " }' "$work/data")
title=$(head -n 1 "$table" | sed 's/[;,]*$//; s/"/\\"/g')
if grep -q '^ *conns ' "$table"; then
	xlabel='concurrent connections' ylabel='requests per second'
else
	xlabel='concurrent clients' ylabel='round trips per second'
fi
plots=
col=2
while read -r name; do
	case $name in
	libevent | nginx* | floor | reference*) style="dashtype 2 linewidth 2" ;;	# reference servers
	*) style="linewidth 2.5" ;;
	esac
	plots="$plots${plots:+, }'$work/data' using 1:$col with linespoints $style pointsize 1.2 title '$name'"
	col=$((col + 1))
done <"$work/names"

case $svg in
*.png) terminal="pngcairo noenhanced size 820,480 font 'Helvetica,11' background rgb 'white'" ;;
*) terminal="svg noenhanced size 820,480 dynamic font 'Helvetica,13' background rgb 'white'" ;;
esac
gnuplot <<GP
set terminal $terminal
set output '$svg'
set title "nw_server: $title"
set xlabel '$xlabel'
set ylabel '$ylabel'
set logscale x
set xtics ($xtics)
set yrange [0:*]
set format y '%.0s%c'
set grid
set key outside right top
set offsets graph 0.03, graph 0.03, graph 0.05, 0
plot $plots
GP
echo "plot-serve.sh: wrote $svg ($(wc -l <"$work/names") lines)"
