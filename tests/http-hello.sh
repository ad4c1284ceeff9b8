#!/bin/sh
# examples/http-hello in every model against real clients: curl (keep-alive
# reuse, HTTP/1.0, Connection: close), ApacheBench (ab, HTTP/1.0 with and
# without keep-alive) and python's http.client and raw
# sockets (tests/http-hello-client.py: bodies, pipelining, malformed,
# oversized and chunked requests).  SKIP (77) without curl or python3.
set -u
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
srcdir=${srcdir:-.}
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
status=0

fail() {
	echo "FAIL: $model: $*"
	status=1
}

for model in event thread pool process; do
	./examples/http-hello 0 127.0.0.1 --model "$model" --workers 2 > "$tmp/out.$model" &
	pid=$!
	for i in $(seq 50); do
		[ -s "$tmp/out.$model" ] && break
		sleep 0.1
	done
	port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out.$model")
	if [ -z "$port" ]; then
		fail "no 'listening on' line: $(cat "$tmp/out.$model")"
		kill "$pid"
		wait "$pid"
		pid=
		continue
	fi
	url=http://127.0.0.1:$port

	# Keep-alive: the second request reuses the connection (0 new connects).
	got=$(curl -s -m 10 -w '%{http_code} %{num_connects}\n' -o /dev/null -o /dev/null "$url/" "$url/b")
	[ "$got" = "200 1
200 0" ] || fail "curl keep-alive: $got"
	got=$(curl -s -m 10 "$url/")
	[ "$got" = hello ] || fail "curl body: $got"
	# HTTP/1.0 and Connection: close: a new connection each time.
	got=$(curl -s -m 10 --http1.0 -w '%{http_code} %{num_connects}\n' -o /dev/null -o /dev/null "$url/" "$url/b")
	[ "$got" = "200 1
200 1" ] || fail "curl HTTP/1.0: $got"
	got=$(curl -s -m 10 -H 'Connection: close' -w '%{http_code} %{num_connects}\n' -o /dev/null -o /dev/null \
		"$url/" "$url/b")
	[ "$got" = "200 1
200 1" ] || fail "curl Connection: close: $got"
	got=$(curl -s -m 10 -d 'a body to discard' -w ' %{http_code}' "$url/")
	[ "$got" = "hello
 200" ] || fail "curl POST: $got"

	python3 "$srcdir/tests/http-hello-client.py" "$port" > "$tmp/py" 2>&1 ||
		fail "python: $(cat "$tmp/py")"

	# ApacheBench speaks HTTP/1.0, with and without keep-alive.  A pool
	# serves as many connections at once as it has workers: a kept-alive
	# one holds its worker, so ab uses one connection there.
	if command -v ab >/dev/null 2>&1; then
		conc=4
		[ "$model" = pool ] && conc=1
		for ka in -k ""; do
			ab -q -s 10 -n 200 -c $conc $ka "$url/" > "$tmp/ab" 2>&1 || fail "ab $ka: $(cat "$tmp/ab")"
			grep -q '^Complete requests: *200$' "$tmp/ab" &&
				grep -q '^Failed requests: *0$' "$tmp/ab" ||
				fail "ab $ka: $(cat "$tmp/ab")"
		done
	fi

	kill "$pid"
	wait "$pid" || fail "http-hello exited $?"
	pid=
	[ $status -eq 0 ] && echo "ok: $model"
done
exit $status
