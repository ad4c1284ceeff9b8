#!/bin/sh
# The musl layer (issue 18), run by scripts/robust.sh: libnetwrap built with
# Debian's musl-gcc (musl-tools) in build-musl/, from `make distdir` as a
# fresh clone would be, the library static (an Alpine-style build), and
# every program that needs no Check run against it, every byte compared:
#   1. `CC=musl-gcc ./configure --disable-shared && make`, no warning allowed;
#   2. the TCP and UDP echo demos (tests/demos.sh, as `make check` runs them
#      for glibc; its "Connection refused" check reads the message through
#      musl's XSI strerror_r);
#   3. the concurrent echo server in each model (process, thread, pool)
#      under examples/echo-load, 200 clients at once, every byte checked;
#   4. every EXAMPLES program of the manual, compiled against the musl
#      library and run (tests/man-examples.sh);
#   5. the signal storm of check_resolve (tests/signal-storm.c): bounded
#      lookups under a storm of a signal blocked in every thread.
# The Check suites stay glibc-only: Debian's Check library is built for
# glibc, and a musl program cannot link it.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
./scripts/build.sh >/dev/null	# a configured tree, for make distdir
command -v musl-gcc >/dev/null 2>&1 || ./scripts/deps.sh
command -v musl-gcc >/dev/null 2>&1 || { echo "musl.sh: musl-gcc missing (musl-tools)" >&2; exit 1; }

rm -rf build-musl
make -s distdir distdir=build-musl >/dev/null
cd build-musl
work=$(mktemp -d)
server_pid=
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "musl.sh: FAIL: $*" >&2; exit 1; }

echo "== musl: CC=musl-gcc ./configure --disable-shared && make"
CC=musl-gcc ./configure -q --disable-shared >"$work/configure.log" 2>&1 ||
	{ cat "$work/configure.log"; fail "configure"; }
make -s -j"$(nproc)" >/dev/null 2>"$work/make.log" || { cat "$work/make.log"; fail "make"; }
if grep -q 'warning:' "$work/make.log"; then
	cat "$work/make.log"
	fail "warnings in the musl build"
fi
# The programs must really be musl's: its dynamic loader, no glibc.
readelf -l examples/tcp-echo-server | grep -q 'ld-musl-' || fail "examples not linked with musl"
echo "   built with $(musl-gcc -dumpversion 2>/dev/null | sed 's/^/gcc /') and musl $(dpkg-query -W -f='${Version}' musl 2>/dev/null || echo '?')"

echo "== musl: TCP and UDP echo demos (tests/demos.sh)"
EXAMPLES_DIR=examples srcdir=. sh tests/demos.sh

. ./tests/demo-lib.sh
for model in process thread pool; do
	echo "== musl: examples/echo-server --model $model, echo-load -c 200 -n 16384"
	start_server "serve-$model" examples/echo-server --model "$model" 0 127.0.0.1 ||
		fail "echo-server --model $model did not start"
	examples/echo-load -c 200 -n 16384 127.0.0.1 "$server_port" >"$work/load.out" 2>&1 ||
		{ cat "$work/load.out"; fail "echo-load against the $model model"; }
	sed 's/^/   /' "$work/load.out"
	stop_server INT || fail "echo-server --model $model did not stop cleanly"
	server_pid=
done

echo "== musl: the manual's EXAMPLES programs (tests/man-examples.sh)"
# Only that script: check_PROGRAMS emptied, as the Check suites need glibc.
if ! make -s check TESTS=tests/man-examples.sh check_PROGRAMS= check_LTLIBRARIES= \
	>"$work/man.log" 2>&1; then
	cat "$work/man.log" tests/man-examples.sh.log 2>/dev/null
	fail "man-page examples"
fi
grep '^man-examples:' tests/man-examples.sh.log | sed 's/^/   /'

echo "== musl: signal storm during bounded lookups (tests/signal-storm.c)"
musl-gcc -std=gnu11 -Wall -Wextra -Werror -Iinclude -o "$work/signal-storm" \
	tests/signal-storm.c lib/.libs/libnetwrap.a -lpthread || fail "signal-storm does not build"
status=0
"$work/signal-storm" >"$work/storm.out" 2>&1 || status=$?
sed 's/^/   /' "$work/storm.out"
[ "$status" -eq 0 ] || fail "signal-storm exited $status (signal $((status - 128)) if over 128)"
cd "$top"
echo "musl.sh: every musl check passed"
