#!/bin/sh
# consumers.sh - the README's CMake and Meson recipes (the blocks after
# "<!-- file: CMakeLists.txt -->" and "<!-- file: meson.build -->") build
# the README's app.c against a `make install DESTDIR=` copy, found through
# pkg-config alone, and the program runs on that copy.  Each build system
# is skipped when missing (scripts/deps.sh installs both); the test is
# skipped when both are.
set -u
srcdir=${srcdir:-.}
work=$(pwd)/tests/consumers.tmp
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

have_cmake=no have_meson=no
command -v cmake >/dev/null 2>&1 && have_cmake=yes
command -v meson >/dev/null 2>&1 && command -v ninja >/dev/null 2>&1 && have_meson=yes
if [ $have_cmake = no ] && [ $have_meson = no ]; then
	echo "SKIP: neither cmake nor meson (with ninja) found (scripts/deps.sh installs them)"
	exit 77
fi

root=$work/root
if ! ${MAKE:-make} install DESTDIR="$root" >"$work/install.log" 2>&1; then
	cat "$work/install.log"
	echo "FAIL: make install DESTDIR=$root"
	exit 1
fi
pc=$(find "$root" -name libnetwrap.pc | head -n 1)
libdir=${pc%/pkgconfig/libnetwrap.pc}
# The installed .pc names the final prefix; the sysroot maps it into DESTDIR.
export PKG_CONFIG_PATH="${pc%/*}" PKG_CONFIG_SYSROOT_DIR="$root"

block() { awk -v name="$1" -f "$srcdir/tests/readme-block.awk" "$srcdir/README.md"; }

# consume NAME DIR: run DIR/build/app on the installed copy.
check_app() {
	app=$2/build/app
	got=$(LD_LIBRARY_PATH="$libdir" ldd "$app" | awk '$1 == "libnetwrap.so.0" { print $3 }')
	case $got in
	"$root"/*) ;;
	*) fail "$1: app loads libnetwrap.so.0 from '$got', not the DESTDIR copy" ;;
	esac
	if out=$(LD_LIBRARY_PATH="$libdir" timeout 30 "$app" 2>&1); then
		echo "$1: built and ran: $out"
	else
		fail "$1: app failed: $out"
	fi
}

for tool in cmake meson; do
	case $tool in
	cmake) have=$have_cmake ;;
	meson) have=$have_meson ;;
	esac
	if [ "$have" = no ]; then
		echo "($tool not found: its recipe is not checked)"
		continue
	fi
	dir=$work/$tool
	mkdir -p "$dir"
	block app.c >"$dir/app.c"
	case $tool in
	cmake) file=CMakeLists.txt ;;
	meson) file=meson.build ;;
	esac
	block $file >"$dir/$file"
	if [ ! -s "$dir/app.c" ] || [ ! -s "$dir/$file" ]; then
		fail "README.md lacks the app.c or $file block"
		continue
	fi
	(
		cd "$dir" &&
		case $tool in
		cmake) cmake -B build && cmake --build build ;;
		meson) meson setup build && meson compile -C build ;;
		esac
	) >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; fail "$tool: the README's recipe does not build"; continue; }
	check_app "$tool" "$dir"
done

[ $status -eq 0 ] && echo "consumers: the README's build recipes work against the installed library"
exit $status
