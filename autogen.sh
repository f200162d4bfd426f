#!/bin/sh
# autogen.sh - generate configure and Makefile.in from a git checkout
set -e
cd "$(dirname "$0")"
acdir=$(aclocal --print-ac-dir 2>/dev/null) || {
	echo "autogen.sh: aclocal not found: apt-get install automake autoconf libtool pkg-config" >&2
	exit 1
}
test -f "$acdir/ax_check_compile_flag.m4" || {
	echo "autogen.sh: AX_CHECK_COMPILE_FLAG not found: apt-get install autoconf-archive" >&2
	exit 1
}
autoreconf -fi
