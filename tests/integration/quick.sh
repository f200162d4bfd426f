# NAME
#	quick.sh - stop a slow integration test under MT_QUICK
# SYNOPSIS
#	. "${top_srcdir:-.}/tests/integration/quick.sh"
# DESCRIPTION
#	Sourced first by the slow suites. scripts/test.sh sets MT_QUICK=1
#	for make distcheck, after the same suites have run in the plain and
#	sanitizer builds; then the test says so in TAP and exits 0.
case "${MT_QUICK:-0}" in
0 | "") ;;
*)
	echo "1..1"
	echo "ok 1 # SKIP MT_QUICK set"
	exit 0
	;;
esac
