#!/bin/sh
# milter_cli.sh - mailtally-milter's command line without a server: -V,
# -n (effective config, and file:line: key: why with EX_CONFIG), usage
# errors, and the offline --test mode (header it would add, forged
# headers it would delete, the log line in text and in JSON). DNS is not
# used: SPF is off and the messages are unsigned. Prints TAP.

. "${top_srcdir:-.}/tests/integration/quick.sh"
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
MILTER=$top_builddir/milter/mailtally-milter
N=12
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() {
	what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; sed 's/^/# /' $T/out; fi
}

echo "1..$N"
if [ ! -x "$MILTER" ]; then
	i=0
	while [ $i -lt $N ]; do
		i=$((i + 1))
		echo "ok $i - milter_cli # SKIP $MILTER not built"
	done
	exit 0
fi

T=$(mktemp -d /tmp/mt-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT

cat >$T/ok.conf <<EOF
authserv_id = mx.example.net
spf = no
dns_nameservers = 127.0.0.1@9
dns_timeout = 200ms
log_target = stderr
EOF
printf 'authserv_id = mx.example.net\nspf = no\non_spf_fail = bounce\n' \
    >$T/bad.conf
printf 'Authentication-Results: mx.example.net; spf=pass\r\n%s\r\n%s\r\n%s\r\n\r\nhi\r\n' \
    'Authentication-Results: other.example; spf=pass' \
    'From: Alice <alice@Example.ORG>' \
    'Authentication-Results: (x) MX.EXAMPLE.NET 1; dkim=pass' >$T/msg.eml

"$MILTER" -V >$T/out 2>&1
check "-V prints the version" grep -q "^mailtally-milter [0-9]" $T/out

"$MILTER" -n -c $T/ok.conf >$T/out 2>&1
rc=$?
check "-n exits 0" [ $rc -eq 0 ]
check "-n prints every key" sh -c "grep -q '^authserv_id = mx.example.net' $T/out &&
    grep -q '^on_internal_error = accept' $T/out && grep -q '^log_format = text' $T/out"

"$MILTER" -n -c $T/bad.conf >$T/out 2>&1
rc=$?
check "-n on a bad config exits 78" [ $rc -eq 78 ]
check "-n names file, line and key" grep -q "bad.conf:3: on_spf_fail" $T/out

printf 'dns_nameservers = not-an-address\n' >$T/badns.conf
"$MILTER" -n -c $T/badns.conf >$T/out 2>&1
rc=$?
check "-n checks the name servers too" sh -c \
    "[ $rc -eq 78 ] && grep -q 'dns: ' $T/out"

"$MILTER" -f --helo x >$T/out 2>&1
rc=$?
check "--helo without --test is a usage error" [ $rc -eq 64 ]

"$MILTER" -c $T/ok.conf --test $T/msg.eml >$T/out 2>&1
check "--test adds our header" grep -q "^Authentication-Results: mx.example.net;" $T/out
check "--test deletes forged headers, last first" sh -c \
    "grep X-Mailtally-Delete $T/out | tr '\n' ' ' | grep -q 'Results 3 .*Results 1 '"
check "--test prints the log line" sh -c \
    "grep -q '^TEST: auth .*action=accept.*from_domain=example.org.*forged_ar=2' $T/out"

printf 'log_format = json\n' >>$T/ok.conf
"$MILTER" -c $T/ok.conf --test $T/msg.eml >$T/out 2>&1
check "--test log line in JSON" sh -c "tail -1 $T/out | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
assert j[\"event\"] == \"auth\" and j[\"queue_id\"] == \"TEST\"
assert j[\"spf\"][\"result\"] == \"none\" and j[\"forged_ar\"] == 2
'"

"$MILTER" -c $T/ok.conf --test $T/nonexistent.eml >$T/out 2>&1
rc=$?
check "--test on a missing file exits 66" [ $rc -eq 66 ]
