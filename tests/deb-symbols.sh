#!/bin/sh
# debian/libnetwrap0.symbols lists exactly what the built library exports,
# each symbol with the release that added it; when a new call is missing,
# the diff says so and scripts/update-symbols.sh writes the new file.
lib=$(pwd)/lib/.libs/libnetwrap.so
if [ ! -f "$lib" ]; then
	echo "SKIP: $lib not built (--disable-shared?)"
	exit 77
fi
exec sh "${srcdir:-.}/scripts/update-symbols.sh" --check "$lib"
