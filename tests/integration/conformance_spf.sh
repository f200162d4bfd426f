#!/bin/bash
# NAME
#	conformance_spf.sh - the OpenSPF RFC 7208 suite through a real DNS server
# SYNOPSIS
#	top_srcdir=. top_builddir=. tests/integration/conformance_spf.sh
# DESCRIPTION
#	Each of the suite's 16 scenarios becomes a zone (spf_suite.py),
#	served on 127.0.0.1 by dnsd.py; every test runs the milter itself,
#	"mailtally-milter -c CONF --test MESSAGE --client-ip --helo
#	--mail-from" (the daemon's stage functions, its libunbound resolver
#	and that server; one process per test, so nothing is cached across
#	scenarios) and compares the spf= result of its
#	Authentication-Results with the suite's. Prints TAP, one test
#	per suite test.
#	A test listed in conformance_spf.known is a known difference (TAP
#	TODO, reason from the file; doc/conformance.md explains each). The
#	last line is "# spf rfc7208-tests: N/203 match". SPF_SUITE=FILE
#	runs another suite of the same format (rfc4408-tests.yml: 191).
#
#	A few tests (list in $threaded) also run from 8 threads at once
#	through mf_verify (the same --test code path, each thread on its
#	own connection, sharing the resolver and libspf2 server as the
#	daemon's threads do), and any answer that differs from the
#	single-threaded one fails them.
# DIAGNOSTICS
#	Skips (TAP SKIP) when ../shared/corpora, python3 with PyYAML, or the
#	driver is missing.
set -u
. "${top_srcdir:-.}/tests/integration/quick.sh"
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
here=$top_srcdir/tests/integration
suite=${SPF_SUITE:-$top_srcdir/../shared/corpora/spf/rfc7208-tests.yml}
known=$here/conformance_spf.known
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
T=
port=

verify() { "$top_builddir/milter/mailtally-milter" -c "$T/milter.conf" --test "$@"; }
# Tests listed here are also run from 8 threads at once (30 times each),
# through mf_verify (threads): the per-request state
# (void lookups, DNS terms) is thread-local and must not leak across.
threaded=" void-over-limit include-over-limit mx-limit p-macro-multiple ptr-limit a-cidr4-0 "

skip_all() {
	echo "1..1"
	echo "ok 1 - SPF suite # SKIP $1"
	exit 0
}

[ -f "$suite" ] || skip_all "no corpus at $suite"
$PY -c 'import yaml' 2>/dev/null || skip_all "python3 PyYAML missing (apt-get install python3-yaml)"
[ -x "$top_builddir/milter/mailtally-milter" ] || skip_all "mailtally-milter not built"
[ -x "$top_builddir/tests/integration/mf_verify" ] || skip_all "mf_verify not built"

T=$(mktemp -d)
. "$here/dns_common.sh"
trap 'stop_dns; rm -rf "$T"' EXIT

$PY "$here/spf_suite.py" "$suite" "$T" || { echo "Bail out! spf_suite.py failed"; exit 1; }
port=$(free_port "${MF_PORT_BASE:-22053}")
printf 'From: a@example.org\r\nSubject: spf\r\n\r\nbody\r\n' >"$T/msg.eml"
cat >"$T/milter.conf" <<EOF
dns_nameservers = 127.0.0.1@$port
dns_timeout = 1500ms
dkim = no
spf = yes
spf_helo = no
EOF

ntests=$(wc -l <"$T/tests.txt")
echo "1..$ntests"
n=0 match=0 scen=
while IFS=$'\x1f' read -r sc id ip helo from want; do
	if [ "$sc" != "$scen" ]; then
		[ -n "$scen" ] && stop_dns
		scen=$sc
		start_dnsd "$port" "$T/zone-$sc.json"
	fi
	n=$((n + 1))
	out=$(verify "$T/msg.eml" --client-ip "$ip" --helo "$helo" \
	    --mail-from "$from" 2>>"$T/verify.log")
	got=$(printf '%s\n' "$out" | ar_header | sed -n 's/.*spf=\([a-z]*\).*/\1/p' | head -1)
	case "$threaded" in
	*" $id "*)
		tout=$("$top_builddir/tests/integration/mf_verify" \
		    -c "$T/milter.conf" "$T/msg.eml" --client-ip "$ip" \
		    --helo "$helo" --mail-from "$from" --threads 8 --repeat 30 \
		    2>>"$T/verify.log" | sed -n 's/^threads: .*mismatches: //p')
		[ "$tout" = 0 ] || got="$got (threads: ${tout:-crash} mismatches)"
		;;
	esac
	case ",$want," in
	*",$got,"*)
		match=$((match + 1))
		echo "ok $n - $id: $got"
		;;
	*)
		why=$(awk -v id="$id" '$1 == id { $1 = ""; sub(/^ /, ""); print; exit }' "$known")
		if [ -n "$why" ]; then
			echo "not ok $n - $id: got ${got:-nothing}, want $want # TODO $why"
		else
			echo "not ok $n - $id: got ${got:-nothing}, want $want"
		fi
		;;
	esac
done <"$T/tests.txt"
stop_dns
echo "# spf $(basename "$suite" .yml): $match/$ntests match"
