#!/bin/sh
# Install what building and testing libnetwrap needs, if it is missing.
# Debian 12 (bookworm) or later; runs apt-get as root (or through sudo).
#   scripts/deps.sh                 the packages below
#   scripts/deps.sh PACKAGE...      those instead; a name such as check:i386
#                                   adds its architecture to dpkg first
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config check mandoc man-db
iproute2 netbase procps valgrind clang libclang-rt-14-dev libevent-dev"
# The musl build (scripts/musl.sh).
PACKAGES="$PACKAGES musl-tools"
# Packaging, the ABI guard, the CMake/Meson consumer tests, the pictures.
PACKAGES="$PACKAGES abigail-tools debhelper dh-autoreconf dpkg-dev lintian
cmake meson ninja-build graphviz gnuplot-nox"
# Dial and listen options (issue 13): systemd-socket-activate (in Debian 12's
# systemd package) for tests/activate.sh, nft for the black hole of
# tests/sockopts-netns.sh.
PACKAGES="$PACKAGES systemd nftables"
# tests/http-hello.sh: real HTTP clients (curl, ab, python) against examples/http-hello.
PACKAGES="$PACKAGES curl python3 apache2-utils"

[ $# -gt 0 ] && PACKAGES="$*"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	as_root="sudo"
else
	echo "deps.sh: need root (or sudo) to install:$missing" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
for p in $missing; do
	case $p in
	*:*)
		arch=${p#*:}
		dpkg --print-foreign-architectures | grep -qx "$arch" ||
			$as_root dpkg --add-architecture "$arch"
		;;
	esac
done
# A mirror caught mid-sync fails one index; the others still serve.
$as_root apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
