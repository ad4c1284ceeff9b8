#!/bin/sh
# Run Check suites again under a harness; used by `make check-faults` and
# `make check-valgrind` (tests/robust.mk), which pass every suite in
# CHECK_SUITES.  Prints one line per suite (Check's summary) and fails if
# any suite fails.
#
#   run-suites.sh faults SUITE...    under tests/faultinject.so
#   run-suites.sh valgrind SUITE...  under valgrind memcheck
#
# Environment: LIBTOOL and VALGRIND (from make); NW_FAULT_SEED and
# NW_FAULT_RATE for the fault injector.
set -u
mode=$1
shift

CK_VERBOSITY=normal
export CK_VERBOSITY
status=0
outdir=tests/$mode
mkdir -p "$outdir"
rm -f "$outdir"/*.log

case $mode in
faults)
	so=tests/.libs/faultinject.so
	if [ ! -f "$so" ]; then
		echo "run-suites.sh: $so missing (configure with shared libraries)" >&2
		exit 1
	fi
	LD_PRELOAD=$(cd tests/.libs && pwd)/faultinject.so
	counts=$(pwd)/$outdir/counts
	: > "$counts"
	NW_FAULT_LOG=$counts
	export LD_PRELOAD NW_FAULT_LOG
	;;
valgrind)
	# valgrind is 10-50 times slower: stretch the tests' timeouts (10x
	# bounds a test that cannot finish under valgrind to 10 minutes at most).
	CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
	export CK_TIMEOUT_MULTIPLIER
	;;
*)
	echo "usage: run-suites.sh faults|valgrind SUITE..." >&2
	exit 2
	;;
esac

for suite in "$@"; do
	name=${suite##*/}
	log=$outdir/$name.log
	case $mode in
	faults)
		./"$suite" > "$log" 2>&1
		;;
	valgrind)
		# Check forks a process per test; valgrind follows forks by itself,
		# and --trace-children follows tests that exec other programs, but
		# not into the system's own (the shell of a libtool wrapper, sed):
		# their leaks are not ours, and what they start is left alone.
		# No __libc_freeres at exit: with detached lookup threads (a
		# caller that gave up) still alive it frees their resolver state
		# under them and reports
		# glibc's own uninitialised reads and "definite" leaks.
		$LIBTOOL --mode=execute "$VALGRIND" --error-exitcode=1 --run-libc-freeres=no \
			--leak-check=full --show-leak-kinds=definite,indirect \
			--errors-for-leak-kinds=definite,indirect \
			--trace-children=yes --child-silent-after-fork=no \
			--trace-children-skip='/bin/*,/usr/bin/*,/sbin/*,/usr/sbin/*' \
			--track-origins=yes "./$suite" > "$log" 2>&1
		;;
	esac
	rc=$?
	summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		printf 'PASS: %-24s %s\n' "$name" "$summary"
	else
		printf 'FAIL: %-24s %s (exit %d, see %s)\n' "$name" "$summary" "$rc" "$log"
		# Check's verdicts, and the start of each valgrind report.
		grep -E ':[EF]:' "$log"
		grep -E -A12 '^==[0-9]+== (Invalid|Syscall param|Use of uninit|Conditional jump|Mismatched|Source and dest|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly))' \
			"$log" | head -n 60
		status=1
	fi
done

if [ "$mode" = valgrind ]; then
	# One ERROR SUMMARY per process: the suite's and each forked test's.
	cat "$outdir"/*.log | awk '/ERROR SUMMARY:/ { procs++; errors += $4 }
	     /definitely lost:/ { gsub(",", "", $4); definite += $4 }
	     /indirectly lost:/ { gsub(",", "", $4); indirect += $4 }
	     END { printf "valgrind total: %d processes, %d errors, %d bytes definitely and %d indirectly lost\n",
	                  procs, errors, definite, indirect }'
fi
if [ "$mode" = faults ]; then
	# Each suite's first process writes one line of counts at exit.
	awk '{ calls += $6; eintr += $8; shorts += $11; emfile += $14; enomem += $16
	       eagain += $18; wakeups += $21 }
	     END { printf "faultinject total: %d library calls, %d interrupted (EINTR), %d short transfers, %d EMFILE, %d ENOMEM, %d EAGAIN (pthread_create), %d spurious wake-ups\n",
	                  calls, eintr, shorts, emfile, enomem, eagain, wakeups
	           if (eintr == 0 || shorts == 0) { print "faultinject: nothing injected: is libnetwrap a shared library?"; exit 1 } }' \
		"$counts" || status=1
fi
exit $status
