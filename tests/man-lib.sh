# Shared by tests/man-*.sh (sourced, not run).  Those scripts are run by
# `make check` (one alone: `make check TESTS=tests/man-lint.sh`), which
# passes the page lists of man/local.mk and the build settings in the
# environment; they run in the top build directory.
set -eu

: "${srcdir:=.}"
if [ -z "${NW_MAN3:-}" ]; then
	echo "run me through make check (make check TESTS=$0)" >&2
	exit 99
fi

nw_status=0
nw_fail() {
	echo "FAIL: $*"
	nw_status=1
}

# Every listed page, by its name in the source tree (man/NAME.S).
nw_pages() {
	for p in $NW_MAN3 $NW_MAN3_ALIASES $NW_MAN7; do echo "$p"; done
}

# The built copy of a source page: man/nw_x.3 -> man/man3/nw_x.3.
nw_built() {
	b=${1##*/}
	echo "man/man${b##*.}/$b"
}

nw_is_alias() {
	for a in $NW_MAN3_ALIASES; do
		[ "$a" = "$1" ] && return 0
	done
	return 1
}

# The page an alias leads to (man/FAMILY.3), from its built `.so` line.
nw_alias_target() {
	b=$(nw_built "$1")
	if [ -f "$b" ]; then
		sed -n 's|^\.so man3/\(.*\)$|man/\1|p' "$b"
	fi
}

# The text of one section (.SH NAME) of a page, macro lines included.
nw_section() {
	awk -v want="$2" '
		/^\.SH / { sec = $0; sub(/^\.SH +"?/, "", sec); sub(/"$/, "", sec)
			   on = (sec == want); next }
		on' "$1"
}

# The names a page's NAME section lists (before the "\-").
nw_names() {
	nw_section "$1" NAME | tr '\n' ' ' | sed 's/\\-.*//' | tr ',' ' ' |
		tr -s ' \t' '\n' | sed '/^$/d'
}

# The nw_ symbols the built library exports, one a line.
nw_exported() {
	lib=lib/.libs/libnetwrap.so
	nm=${NM:-nm}
	if [ -f "$lib" ]; then
		$nm -D --defined-only "$lib"
	else
		# --disable-shared: the archive's global text symbols.
		$nm --defined-only lib/.libs/libnetwrap.a
	fi | awk '$2 ~ /^[TDBRWiV]$/ { sub(/@.*/, "", $3); print $3 }' |
		grep '^nw_' | sort -u
}
