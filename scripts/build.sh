#!/bin/sh
# Configure and build libnetwrap in the source tree (reconfiguring when needed).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	./configure ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"
