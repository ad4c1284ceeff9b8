#!/bin/sh
# make bench-http: requests per second from wrk (-t2 -d5s, keep-alive GET /)
# at 100 and 1000 connections against examples/http-hello in each model,
# against nginx (worker_processes 2, return 200 "hello\n", access log
# off) and against bench/http-floor (a bare epoll responder: the floor),
# all in one run, each in turn on loopback.  Prints a table of requests
# per second with the ratio to nginx in brackets, and the event model's
# ratio to the floor.  bench/bench-deps.sh installs wrk and nginx (and
# libevent, for bench-serve) with apt-get when missing.
#
#   bench/http-bench.sh [CONNS...]      (default: 100 1000)
#   BENCH_SECONDS=5 to change wrk's duration.
set -eu
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-5}
conns=${*:-100 1000}

"$(dirname "$0")/bench-deps.sh"
nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x examples/http-hello ] && [ -x bench/http-floor ] ||
	{ echo "http-bench: build first (make bench-http does)" >&2; exit 1; }
# wrk and the servers each hold a descriptor per connection.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -H -n)"

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Start a server that prints "listening on ADDR"; sets pid and port.
start_listener() {
	"$@" > "$tmp/out" 2>"$tmp/err" &
	pid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out")
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	echo "http-bench: $* did not start: $(cat "$tmp/err")" >&2
	exit 1
}

# nginx needs its port in its configuration: take a free one from the kernel.
start_nginx() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$tmp/nginx"
	cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 100000000;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "hello\n"; }
	}
}
CONF
	"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return 0
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" \
			2>/dev/null && return 0
		sleep 0.05
	done
	echo "http-bench: nginx did not start: $(cat "$tmp/err")" >&2
	exit 1
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

# Requests per second wrk reports (0 if it saw errors on most requests).
measure() {
	wrk -t2 -c"$1" -d"${seconds}s" "http://127.0.0.1:$port/" > "$tmp/wrk" 2>&1 || true
	awk '/^Requests\/sec:/ { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }' "$tmp/wrk"
}

servers="nginx floor event thread pool process"
echo "HTTP keep-alive GET requests per second, wrk -t2 -d${seconds}s, one run each, in turn;"
echo "in brackets the ratio to nginx measured in the same run."
echo
printf '%8s' conns
for s in $servers; do printf ' %18s' "$s"; done
printf ' %14s\n' event/floor
for c in $conns; do
	printf '%8s' "$c"
	nginx_rate=
	floor_rate=
	for s in $servers; do
		case $s in
		nginx) start_nginx ;;
		floor) start_listener ./bench/http-floor 2 ;;
		*) start_listener ./examples/http-hello 0 127.0.0.1 --model "$s" ;;
		esac
		rate=$(measure "$c")
		stop
		[ -n "$nginx_rate" ] || nginx_rate=$rate
		[ "$s" = floor ] && floor_rate=$rate
		[ "$s" = event ] && event_rate=$rate
		printf ' %10s (%5s)' "$rate" "$(awk -v a="$rate" -v b="$nginx_rate" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
	done
	printf ' %14s\n' "$(awk -v a="$event_rate" -v b="$floor_rate" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
done
