#!/bin/bash
# milter_lua.sh - black-box tests of mailtally-milter with miltertest.
#
# Starts a private dnsmasq (SPF and DKIM records) and the milter, both on
# 127.0.0.1 and free ports from 23000, in a mktemp -d directory, runs
# each tests/integration/miltertest/t-*.lua script against the milter,
# then checks the auth log lines, that the milter is still up after
# hostile input, that its stderr has no sanitizer report, and that it
# stops on SIGTERM. Prints TAP. Needs miltertest and dnsmasq; a DKIM
# signature is made with python3-dkim when it is there.

. "${top_srcdir:-.}/tests/integration/quick.sh"
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
MILTER=$top_builddir/milter/mailtally-milter
DIR=$top_srcdir/tests/integration/miltertest
SCRIPTS=${MT_SCRIPTS:-"t-forged t-reject t-internal t-softfail t-dkim t-hostile t-forged"}
LOGCHECKS=10
NTESTS=$(( $(echo $SCRIPTS | wc -w) + LOGCHECKS + 7 ))
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip_all() {
	echo "1..$NTESTS"
	i=0
	while [ $i -lt $NTESTS ]; do
		i=$((i + 1))
		echo "ok $i - milter_lua # SKIP $1"
	done
	exit 0
}

command -v miltertest >/dev/null 2>&1 || skip_all "miltertest not installed"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip_all "dnsmasq not installed"
[ -x "$MILTER" ] || skip_all "$MILTER not built"
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

T=$(mktemp -d /tmp/mt-milter.XXXXXX)
MPID=
DPID=
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	for i in 1 2 3 4 5 6 7 8 9 10; do
		{ [ -n "$MPID" ] && kill -0 "$MPID" 2>/dev/null; } || break
		sleep 1
	done
	[ -n "$MPID" ] && kill -9 "$MPID" 2>/dev/null
	rm -rf "$T"
}
[ -n "$MT_KEEP" ] || trap cleanup EXIT

# free_port - first port from $1 free for TCP and UDP on 127.0.0.1
free_port() {
	$PY - "$1" <<'EOF'
import socket, sys
p = int(sys.argv[1])
while p < 24000:
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", p))
            s.close()
        print(p)
        break
    except OSError:
        p += 1
EOF
}

# A DKIM key and a message signed with it (relaxed/relaxed), if we can.
DKIM_TXT=
if $PY -c 'import dkim' 2>/dev/null && command -v openssl >/dev/null; then
	openssl genrsa -out $T/dkim.key 2048 2>/dev/null
	P=$(openssl rsa -in $T/dkim.key -pubout -outform DER 2>/dev/null |
	    base64 -w0)
	DKIM_TXT="txt-record=sel1._domainkey.pass.example,\"v=DKIM1; k=rsa; p=${P:0:200}\",\"${P:200}\""
	# relaxed/relaxed, and simple/simple with a folded Subject (Postfix
	# hands folded lines over joined with a bare LF)
	$PY - $T/dkim.key $T/signed.eml $T/signed-simple.eml <<'EOF'
import dkim, sys
key = open(sys.argv[1], "rb").read()
for c, path, subj in ((b"relaxed", sys.argv[2], b"signed"),
                      (b"simple", sys.argv[3], b"signed and\r\n\tfolded")):
    msg = (b"From: Alice <alice@pass.example>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: " + subj + b"\r\n"
           b"Message-ID: <signed-" + c + b"@pass.example>\r\n"
           b"Date: Mon, 23 Nov 2026 16:00:00 +0000\r\n"
           b"\r\n"
           b"A signed body.\r\nSecond line.\r\n")
    sig = dkim.sign(msg, b"sel1", b"pass.example", key, canonicalize=(c, c),
                    include_headers=[b"from", b"to", b"subject",
                                     b"message-id", b"date"])
    open(path, "wb").write(sig + msg)
EOF
fi

DPORT=$(free_port 23053)
cat >$T/dnsmasq.conf <<EOF
listen-address=127.0.0.1
bind-interfaces
port=$DPORT
no-resolv
no-hosts
local=/#/
log-queries
log-facility=$T/dnsmasq.log
local-ttl=300
txt-record=pass.example,"v=spf1 ip4:192.0.2.0/24 -all"
txt-record=mail.pass.example,"v=spf1 ip4:192.0.2.0/24 -all"
txt-record=fail.example,"v=spf1 -all"
txt-record=soft.example,"v=spf1 ~all"
txt-record=mx.soft.example,"v=spf1 ~all"
$DKIM_TXT
EOF
"$DNSMASQ" --keep-in-foreground --conf-file=$T/dnsmasq.conf \
    --pid-file=$T/dnsmasq.pid --user=root 2>$T/dnsmasq.err &
DPID=$!

MPORT=$(free_port $((DPORT + 1)))
cat >$T/milter.conf <<EOF
listen = inet:127.0.0.1:$MPORT
authserv_id = mx.example.net
internal_hosts = 10.0.0.0/8
dns_nameservers = 127.0.0.1@$DPORT
dns_timeout = 2s
on_spf_fail = reject
on_spf_softfail = quarantine
on_dkim_fail = tempfail
add_received_spf = yes
log_target = file:$T/milter.log
log_format = text
EOF
"$MILTER" -c $T/milter.conf -f >$T/milter.out 2>$T/milter.err &
MPID=$!

echo "1..$NTESTS"
export MT_SOCK="inet:$MPORT@127.0.0.1" MT_DATA=$T
export MT_LIB=$DIR/common.lua MT_SIGNED=
[ -s $T/signed.eml ] && MT_SIGNED=$T/signed.eml
export MT_SIGNED

for s in $SCRIPTS; do
	if [ "$s" = t-forged ] && [ -f $T/t-hostile.out ]; then
		# after the hostile scripts: big headers over the raw protocol;
		# 100 KiB (Postfix's header_size_limit) must be answered
		$PY $DIR/bigheader.py 127.0.0.1 $MPORT 100 >$T/big100.out 2>&1
		if grep -q "end of message answered: b'a'" $T/big100.out; then
			ok "100 KiB header answered"
		else
			notok "100 KiB header answered"
			sed 's/^/# /' $T/big100.out
		fi
		if $PY $DIR/bigheader.py 127.0.0.1 $MPORT >$T/big.out 2>&1; then
			ok "1 MiB header: $(cat $T/big.out)"
		else
			notok "1 MiB header"
			sed 's/^/# /' $T/big.out
		fi
	fi
	if [ "$s" = t-dkim ] && [ -z "$MT_SIGNED" ]; then
		n=$((n + 1))
		echo "ok $n - $s # SKIP python3-dkim or openssl missing"
		continue
	fi
	if miltertest -s $DIR/$s.lua >$T/$s.out 2>&1; then
		ok "$s"
	else
		notok "$s"
		sed 's/^/# /' $T/$s.out
	fi
done

# log_has - the auth log has a line matching every pattern given
log_has() {
	what=$1
	shift
	f=$T/milter.log
	i=0
	for p in "$@"; do
		i=$((i + 1))
		grep -e "$p" "$f" >$T/match.$i || { f=; break; }
		f=$T/match.$i
	done
	if [ -n "$f" ] && [ -s "$f" ]; then
		ok "log: $what"
	else
		notok "log: $what"
		sed 's/^/# /' $T/milter.log | tail -20
	fi
}

log_has "forged headers removed" ": auth spf=pass" "forged_ar=2" \
    "from_domain=pass.example" "mail_from=<alice@pass.example>"
log_has "spf fail rejected at MAIL" "spf=fail" "action=reject" \
    "rule=on_spf_fail"
log_has "internal client skipped" "skip=internal" "action=accept" \
    "client_ip=10.1.2.3"
log_has "authenticated client skipped, TLS and SASL logged" \
    "skip=authenticated" "sasl_user=alice" "tls.version=TLSv1.3" \
    "tls.bits=128"
log_has "softfail quarantined" "spf=softfail" "action=quarantine" \
    "rule=on_spf_softfail"
log_has "dkim fail tempfailed at end of message" "dkim=fail:pass.example" \
    "action=tempfail" "rule=on_dkim_fail"
log_has "100 recipients counted" "rcpt_count=100"
log_has "hostile messages logged" "mail_from=<hostile@pass.example>" \
    "action=accept"
log_has "queue id from the macro" "^.*QID[0-9]*: auth "
log_has "dkim pass logged" "dkim=pass:pass.example" \
    "message_id=\"<signed-relaxed@pass.example>\""

# every signed message of t-dkim has the key of sel1._domainkey.pass.example,
# served with a TTL of 300 s: one query for all of them
if [ -z "$MT_SIGNED" ] || [ -z "$DKIM_TXT" ]; then
	n=$((n + 1))
	echo "ok $n - dkim key looked up once # SKIP no signed messages"
else
	q=$(grep -c 'query\[TXT\] sel1\._domainkey\.pass\.example' \
	    $T/dnsmasq.log 2>/dev/null)
	if [ "$q" = 1 ]; then
		ok "dkim key looked up once, kept for its TTL"
	else
		notok "dkim key looked up once, kept for its TTL (got ${q:-0} queries)"
		grep 'query\[' $T/dnsmasq.log 2>/dev/null | sed 's/^/# /' | head
	fi
fi

if kill -0 $MPID 2>/dev/null; then
	ok "milter still running after hostile input"
else
	notok "milter still running after hostile input"
fi
if grep -q -e "Sanitizer" -e "runtime error" $T/milter.err; then
	notok "no sanitizer report"
	sed 's/^/# /' $T/milter.err | head -40
else
	ok "no sanitizer report"
fi
kill -TERM $MPID
i=0
while kill -0 $MPID 2>/dev/null && [ $i -lt 30 ]; do
	sleep 0.5
	i=$((i + 1))
done
if kill -0 $MPID 2>/dev/null; then
	notok "milter stops on SIGTERM"
elif ! grep -q ": stopping" $T/milter.log; then
	notok "milter stops on SIGTERM (exited without its stopping line)"
	MPID=
else
	ok "milter stops on SIGTERM, cleanly"
	MPID=
fi
if grep -q -e "Sanitizer" -e "runtime error" $T/milter.err; then
	notok "no sanitizer report at exit (leaks)"
	sed 's/^/# /' $T/milter.err | head -60
else
	ok "no sanitizer report at exit (leaks)"
fi
