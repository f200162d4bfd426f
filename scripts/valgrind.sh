#!/bin/sh
# valgrind.sh - run every unit test and fuzz replay of a build under
# valgrind memcheck (Postfix's ${VALGRIND} pass). Writes "passed failed"
# to BUILDDIR/valgrind.count.
#
# Usage: scripts/valgrind.sh BUILDDIR
set -u
b=${1:?usage: valgrind.sh BUILDDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir="$top" CMOCKA_MESSAGE_OUTPUT=TAP
pass=0
fail=0
for t in "$b"/tests/unit/test_* "$b"/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	case $t in *.o|*.log|*.trs) continue ;; esac
	if valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite "$t" >"$t.vg.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "valgrind: $t failed:"
		tail -30 "$t.vg.log"
	fi
done
# The daemon itself under valgrind, fed hostile clients (policyd).
if [ -f "$b/Makefile" ]; then
	if (cd "$b" && VALGRIND="valgrind -q --leak-check=full --track-fds=yes --error-exitcode=99" \
	    make check TESTS=tests/integration/pd_hostile.sh >vg-pd_hostile.log 2>&1); then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "valgrind: pd_hostile.sh failed:"
		tail -30 "$b/tests/integration/pd_hostile.sh.log" 2>/dev/null
	fi
fi
echo "valgrind: $pass passed, $fail failed"
echo "$pass $fail" >"$b/valgrind.count"
[ $fail -eq 0 ]
