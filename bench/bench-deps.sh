#!/bin/sh
# Install what the benchmarks compare against, with apt-get, if missing:
# wrk and nginx (make bench-http), libevent (make bench-serve; configure
# must run again after it is installed).  Tests never need any of them.
set -eu
need=""
command -v wrk >/dev/null 2>&1 || need="$need wrk"
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need="$need nginx-light"
dpkg-query -W -f='${Status}' libevent-dev 2>/dev/null | grep -q 'ok installed' ||
	need="$need libevent-dev"
[ -z "$need" ] && exit 0
as_root=""
[ "$(id -u)" -eq 0 ] || as_root=sudo
echo "bench-deps.sh: installing:$need" >&2
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $need
