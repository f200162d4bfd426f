#!/bin/sh
# test.sh - build mailtally and run every test: the plain build with
# -Werror, the same under ASan+UBSan, the unit and fuzz replay tests
# again under clang's ASan+UBSan, the unit tests under valgrind, a
# short libFuzzer run of every fuzz target, and make distcheck. Ends with
# one summary line "N passed, N failed".
#
# Usage: scripts/test.sh [--quick]   (--quick: plain build and make check only)
#
# Builds happen out of tree in build/plain, build/asan, build/clang-asan
# and build/dist, so the source tree stays clean. Integration tests start
# their own redis-server, dnsmasq and Postfix on loopback and stop them.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
quick=no
[ "${1:-}" = --quick ] && quick=yes

scripts/deps.sh || exit 1

passed=0
failed=0
skipped=0
phases_failed=

note() { printf '\n=== %s\n' "$*"; }

# count_log DIR - add the automake test-suite summary in DIR to the totals
count_log() {
	f=$1/test-suite.log
	[ -f "$f" ] || return 0
	p=$(sed -n 's/^# PASS: *//p' "$f" | head -1)
	x=$(sed -n 's/^# XFAIL: *//p' "$f" | head -1)
	s=$(sed -n 's/^# SKIP: *//p' "$f" | head -1)
	fl=$(sed -n 's/^# FAIL: *//p' "$f" | head -1)
	xp=$(sed -n 's/^# XPASS: *//p' "$f" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$f" | head -1)
	passed=$((passed + ${p:-0} + ${x:-0}))
	skipped=$((skipped + ${s:-0}))
	failed=$((failed + ${fl:-0} + ${xp:-0} + ${e:-0}))
}

# phase NAME CMD... - run a step, remember whether it failed
phase() {
	name=$1
	shift
	note "$name"
	if ! "$@"; then
		echo "*** $name failed"
		phases_failed="$phases_failed $name"
		return 1
	fi
}

if [ -f config.status ]; then
	echo "test.sh: the source tree is configured in place; cleaning it for out-of-tree builds"
	make distclean >/dev/null 2>&1 || true
fi
[ -f configure ] && [ configure -nt configure.ac ] || phase autogen ./autogen.sh || exit 1

# build DIR CONFIGURE-FLAGS... - configure and build in DIR
build() {
	dir=$1
	shift
	mkdir -p "$dir" && cd "$dir" &&
	    { [ -f Makefile ] || "$top/configure" -q "$@"; } &&
	    make -j2 >make.log 2>&1 || { tail -40 make.log 2>/dev/null; cd "$top"; return 1; }
	cd "$top"
}

# check DIR [TARGET] - make check (or TARGET, e.g. check-unit) in DIR,
# print failures' logs, add the counts
check() {
	(cd "$1" && make -j2 "${2:-check}" >check.log 2>&1)
	rc=$?
	grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$1/check.log" | grep -v '^PASS' || true
	count_log "$1"
	if [ $rc -ne 0 ]; then
		for l in $(grep -l -E '^(not ok|Bail out)' "$1"/tests/*/*.log 2>/dev/null); do
			echo "--- $l"
			tail -30 "$l"
		done
	fi
	return $rc
}

phase build-plain build build/plain --enable-werror &&
    phase check-plain check build/plain

if [ $quick = no ]; then
	phase format sh -c 'cd build/plain && make -s check-format'

	phase build-asan build build/asan --enable-werror --enable-sanitizers \
	    CFLAGS="-O1 -g" &&
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    phase check-asan check build/asan

	# clang's ASan+UBSan differ from gcc's (other checks, other
	# instrumentation); the unit tests and fuzz corpus replays catch what
	# they add, so the slow integration suites are not run a third time.
	phase build-clang-asan build build/clang-asan --enable-werror \
	    --enable-sanitizers CC=clang CFLAGS="-O1 -g" &&
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    phase check-clang-asan check build/clang-asan check-unit

	phase valgrind scripts/valgrind.sh build/plain
	vg=$(cat build/plain/valgrind.count 2>/dev/null || echo "0 1")
	passed=$((passed + ${vg% *}))
	failed=$((failed + ${vg#* }))

	phase fuzz scripts/fuzz.sh --smoke 10
	fz=$(cat build/fuzz/fuzz.count 2>/dev/null || echo "0 1")
	passed=$((passed + ${fz% *}))
	failed=$((failed + ${fz#* }))

	# distcheck: the tarball builds, tests and installs on its own. The
	# slow integration suites already ran above; MT_QUICK skips them here.
	phase distcheck sh -c 'cd build/plain && MT_QUICK=1 make -j2 distcheck >distcheck.log 2>&1 ||
	    { tail -40 distcheck.log; exit 1; }'
fi

note "summary"
[ -n "$phases_failed" ] && echo "failed phases:$phases_failed"
[ -n "$phases_failed" ] && [ $failed -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ -z "$phases_failed" ]
