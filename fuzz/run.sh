#!/bin/sh
# Run each libFuzzer target for a bounded time: `make fuzz` calls
#   run.sh SECONDS CORPUS_DIR TARGET...
# Prints the executions per target; fails if any target finds a crash.
set -u
seconds=$1
corpus=$2
shift 2
status=0
mkdir -p fuzz/work
for t in "$@"; do
	work=fuzz/work/$t
	log=fuzz/work/$t.log
	mkdir -p "$work"
	# New inputs go to the first directory, so the tree's corpus stays as is.
	./fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="fuzz/work/$t-" \
		"$work" "$corpus/$t" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	units=$(ls "$work" | wc -l)
	if [ "$rc" -eq 0 ]; then
		printf 'PASS: %-14s %s executions in %s s, %s new inputs\n' "$t" "${execs:-?}" "$seconds" "$units"
	else
		printf 'FAIL: %-14s exit %d after %s executions, see %s\n' "$t" "$rc" "${execs:-?}" "$log"
		grep -E 'ERROR|SUMMARY|^==|#0|#1|#2|#3' "$log" | head -n 30
		status=1
	fi
done
exit $status
