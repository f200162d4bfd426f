#!/bin/bash
# NAME
#	dkim_fixtures.sh - DKIM fixtures signed at test time, and hostile DNS
# SYNOPSIS
#	top_srcdir=. top_builddir=. tests/integration/dkim_fixtures.sh
# DESCRIPTION
#	dkim_sign.py makes fresh keys and signs messages with dkimpy
#	(relaxed, simple, l=, two signatures, a changed header, a changed
#	body, a 512-bit key, rsa-sha1, an expired x=, Ed25519, a revoked
#	key, no key, unsigned, too many signatures, garbage signatures).
#	dnsmasq serves the keys on 127.0.0.1; every fixture's per-signature
#	results must equal the expected list, and its output must contain
#	the expected text (bits, reason).
#
#	SPF from loopback clients (internal_hosts empty) must be RFC 7208's
#	result: none without a record, fail for -all, not libspf2's
#	"localhost is always allowed" pass.
#
#	Then the hostile cases: a header field with NUL bytes; a name
#	server that never answers (dnsd.py TIMEOUT zone) and one that
#	answers SERVFAIL: DKIM and SPF must both come back temperror (a
#	guard of 60 s catches a hang; no timing is asserted), also from 4
#	threads at once; a server that answers every lookup late but in
#	time (the whole SPF check has a budget of 4 lookup timeouts); and a
#	dead port. Before those, 8 threads verify
#	the same message 50 times each through one shared resolver and
#	must all get the first answer. Prints TAP.
#
#	Every check goes through "mailtally-milter -c CONF --test"; the
#	thread tests through mf_verify, the same code path run from many
#	threads on one shared environment.
# DIAGNOSTICS
#	Skips when python3-dkim, python3-nacl, openssl or dnsmasq is missing.
set -u
. "${top_srcdir:-.}/tests/integration/quick.sh"
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
here=$top_srcdir/tests/integration
T=
port=

verify() { timeout 60 "$top_builddir/milter/mailtally-milter" -c "$T/milter.conf" --test "$@"; }
# The thread tests need mf_verify's --threads.
mfv() { timeout 60 "$top_builddir/tests/integration/mf_verify" -c "$T/milter.conf" "$@"; }

skip_all() {
	echo "1..1"
	echo "ok 1 - dkim fixtures # SKIP $1"
	exit 0
}

PATH=$PATH:/usr/sbin
/usr/bin/python3 -c 'import dkim, nacl' 2>/dev/null || skip_all "python3-dkim or python3-nacl missing"
command -v openssl >/dev/null || skip_all "openssl missing"
command -v dnsmasq >/dev/null || skip_all "dnsmasq missing (apt-get install dnsmasq-base)"
[ -x "$top_builddir/milter/mailtally-milter" ] || skip_all "mailtally-milter not built"
[ -x "$top_builddir/tests/integration/mf_verify" ] || skip_all "mf_verify not built"

T=$(mktemp -d)
. "$here/dns_common.sh"
trap 'stop_dns; rm -rf "$T"' EXIT

$PY "$here/dkim_sign.py" "$T/fx" || { echo "Bail out! dkim_sign.py failed"; exit 1; }
port=$(free_port 22253)
# write_conf [TIMEOUT] - the milter's config for the current $port
write_conf() {
	cat >"$T/milter.conf" <<EOF
dns_nameservers = 127.0.0.1@$port
dns_timeout = ${1:-1000ms}
internal_hosts =
dkim_min_key_bits = 1024
dkim_max_signatures = 5
EOF
}
write_conf
$PY "$here/dkim_suite.py" "$T/fx/keys.txt" 1 >"$T/dnsmasq.conf"
# SPF for loopback clients (no record, -all, a record naming loopback)
cat >>"$T/dnsmasq.conf" <<'EOF'
txt-record=deny.fixtures.example,"v=spf1 -all"
txt-record=lo.fixtures.example,"v=spf1 ip4:127.0.0.1 ip6:::1 -all"
EOF
start_dnsmasq "$port" "$T/dnsmasq.conf"

nfix=$(wc -l <"$T/fx/expect.txt")
echo "1..$((nfix + 17))"
n=0

# results - the dkim= words of an A-R output on stdin, comma-separated
results() {
	ar_header | sed -n 's/.*dkim=\([a-z]*\).*/\1/p' | paste -sd, -
}

# check NAME GOT WANT OUTPUT NEEDLE - one TAP line
check() {
	n=$((n + 1))
	if [ "$2" != "$3" ]; then
		echo "not ok $n - $1: got ${2:-nothing}, want $3"
	elif [ "$5" != "-" ] && ! printf '%s' "$4" | grep -qF -- "$5"; then
		echo "not ok $n - $1: output lacks \"$5\""
	else
		echo "ok $n - $1: $2"
	fi
}

while IFS=$'\t' read -r name want needle; do
	out=$(verify "$T/fx/$name.eml" 2>&1)
	check "$name" "$(printf '%s\n' "$out" | results)" "$want" "$out" "$needle"
done <"$T/fx/expect.txt"

# Many threads sharing the resolver and the libraries, same answers.
out=$(mfv "$T/fx/two.eml" --client-ip 192.0.2.1 --helo mx.fixtures.example \
    --mail-from a@fixtures.example --threads 8 --repeat 50 2>&1)
check "8 threads x 50, shared resolver" \
    "$(printf '%s\n' "$out" | sed -n 's/^threads: .*mismatches: //p')" 0 "$out" -

# A header field with NUL bytes: no crash, a verdict.
{
	printf 'DKIM-Signature: v=1; a=rsa-sha256; d=fixtures.example; s=rsa2048; h=from; bh=\0\0; b=\0x\r\n'
	printf 'From: a\0b@fixtures.example\r\n'
	printf 'Subject: nul\0\r\n\r\nbody\0\r\n'
} >"$T/nul.eml"
out=$(verify "$T/nul.eml" 2>&1)
rc=$?
n=$((n + 1))
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'dkim='; then
	echo "ok $n - NUL bytes in header fields: $(printf '%s\n' "$out" | results)"
else
	echo "not ok $n - NUL bytes in header fields: exit $rc: $out"
fi

# Loopback clients get RFC 7208 results like any other: libspf2's
# "localhost is always allowed" pass must not show (internal_hosts is
# empty here, so the loopback client is checked).
while read -r ip dom want; do
	out=$(verify "$T/fx/unsigned.eml" --client-ip "$ip" \
	    --helo mx.fixtures.example --mail-from "a@$dom" 2>&1)
	got=$(printf '%s\n' "$out" | ar_header | sed -n 's/.*spf=\([a-z]*\).*/\1/p')
	check "spf, loopback client $ip, $dom" "$got" "$want" "$out" -
done <<'EOF'
127.0.0.1 nospf.fixtures.example none
127.0.0.1 deny.fixtures.example fail
::1 deny.fixtures.example fail
127.0.0.2 lo.fixtures.example fail
127.0.0.1 lo.fixtures.example pass
EOF
stop_dns

# A name server that never answers, then one that answers SERVFAIL.
for mode in TIMEOUT SERVFAIL; do
	cat >"$T/bad.json" <<EOF
{"rsa2048._domainkey.fixtures.example": {"$mode": true},
 "fixtures.example": {"$mode": true}}
EOF
	start_dnsd "$port" "$T/bad.json"
	out=$(verify "$T/fx/relaxed.eml" --client-ip 192.0.2.1 \
	    --helo mx.fixtures.example --mail-from a@fixtures.example 2>&1)
	check "dkim, server $mode" "$(printf '%s\n' "$out" | results)" \
	    temperror "$out" "key lookup failed"
	got=$(printf '%s\n' "$out" | ar_header | sed -n 's/.*spf=\([a-z]*\).*/\1/p')
	check "spf, server $mode" "$got" temperror "$out" -
	# the same from 4 threads at once: queries given up while others wait
	out=$(mfv "$T/fx/relaxed.eml" --client-ip 192.0.2.1 \
	    --helo mx.fixtures.example --mail-from a@fixtures.example \
	    --threads 4 --repeat 2 2>&1)
	check "4 threads, server $mode" \
	    "$(printf '%s\n' "$out" | sed -n 's/^threads: .*mismatches: //p')" 0 "$out" -
	stop_dns
done

# A server that answers every lookup late but in time: one SPF check may
# take 4 lookup timeouts in all (2 s with dns_timeout = 500ms), then it
# is temperror; nine lookups of 300 ms each would take 2.7 s. (All
# answers are late alike, so that libunbound's retransmission timer,
# learnt from the first, lets them in.)
$PY - "$T/slow.json" <<'PYEOF'
import json, sys
z = {"slow.fixtures.example": {"TXT": [["v=spf1 " + " ".join(
    "a:a%d.slow.fixtures.example" % i for i in range(8)) + " -all"]],
    "DELAY": 300}}
for i in range(8):
    z["a%d.slow.fixtures.example" % i] = {"A": ["192.0.2.99"], "DELAY": 300}
json.dump(z, open(sys.argv[1], "w"))
PYEOF
start_dnsd "$port" "$T/slow.json"
write_conf 500ms
out=$(verify "$T/fx/unsigned.eml" --client-ip 192.0.2.1 \
    --helo mx.fixtures.example --mail-from a@slow.fixtures.example 2>&1)
write_conf
got=$(printf '%s\n' "$out" | ar_header | sed -n 's/.*spf=\([a-z]*\).*/\1/p')
check "spf, slow server, whole-check budget" "$got" temperror "$out" -
stop_dns

# Nothing listening at all.
port=$(free_port 22290)
write_conf
out=$(verify "$T/fx/relaxed.eml" --client-ip 192.0.2.1 \
    --helo mx.fixtures.example --mail-from a@fixtures.example 2>&1)
check "dkim, dead port" "$(printf '%s\n' "$out" | results)" temperror "$out" -
got=$(printf '%s\n' "$out" | ar_header | sed -n 's/.*spf=\([a-z]*\).*/\1/p')
check "spf, dead port" "$got" temperror "$out" -
# a d= that cannot be a name is no key, whatever the DNS: not temperror
out=$(verify "$T/fx/badname.eml" 2>&1)
check "dkim, dead port, impossible d=" "$(printf '%s\n' "$out" | results)" \
    permerror "$out" -
