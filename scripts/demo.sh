#!/bin/sh
# The README's demo command: build everything, then run each demo server
# with its client on loopback, show the exchange, and stop the server.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/build.sh >/dev/null

work=$(mktemp -d)
server_pid=
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
. "$top/tests/demo-lib.sh"

show() { sed 's/^/    /' "$1"; }

for proto in tcp udp; do
	echo "== $proto: examples/$proto-echo-server 0 127.0.0.1"
	start_server "$proto" "examples/$proto-echo-server" 0 127.0.0.1
	echo "   server: $(head -n 1 "$work/$proto.out")"
	echo "== $proto: printf 'hello\\nlibnetwrap\\n' | examples/$proto-echo-client 127.0.0.1 $server_port"
	printf 'hello\nlibnetwrap\n' | "examples/$proto-echo-client" 127.0.0.1 "$server_port" >"$work/echo"
	echo "   client printed:"
	show "$work/echo"
	echo "== $proto: seq 100000 | examples/$proto-echo-client 127.0.0.1 $server_port | cmp - <(seq 100000)"
	seq 100000 >"$work/in"
	"examples/$proto-echo-client" 127.0.0.1 "$server_port" <"$work/in" | cmp - "$work/in"
	echo "   100000 lines echoed exactly"
	stop_server TERM
	echo "   server log (stopped with SIGTERM, exit 0):"
	show "$work/$proto.out"
	echo
done

for model in process thread pool; do
	echo "== concurrent echo server: examples/echo-server --model $model 0 127.0.0.1"
	start_server "serve-$model" examples/echo-server --model "$model" 0 127.0.0.1
	echo "== examples/echo-load -c 200 -n 16384 127.0.0.1 $server_port (200 clients at once)"
	examples/echo-load -c 200 -n 16384 127.0.0.1 "$server_port" | sed 's/^/    /'
	stop_server INT
	echo "   server stopped with SIGINT, exit 0"
	echo
done

./scripts/demo-dgram.sh
echo
./scripts/demo-tcp-states.sh
