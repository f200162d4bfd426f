# stack_mail.sh - the mail side of the test stack (sourced by stack.sh)
#
# NAME
#	stack_mail.sh - make, sign and send test messages; find a queue id's
#	delivered copy, its Authentication-Results and its log lines
# SYNOPSIS
#	stack_msg FILE FROM TO SUBJECT [BODY]
#	stack_sign IN OUT DOMAIN; stack_tamper IN OUT
#	stack_send IP FROM TO FILE [swaks args]	# -> $ST_QID, $ST_REPLY, $ST_RC
#	stack_qid_of IP FROM; stack_wait_removed QID [SECS]
#	stack_delivered QID; stack_ar FILE; stack_dkimpy_verify FILE
#	stack_mark; stack_lines_since; stack_lines QID
# DESCRIPTION
#	Uses the state stack.sh sets up ($ST_DIR, $ST_SMTP_PORT, the logs).
#	Messages are CRLF text; signatures are made with dkimpy at run time
#	with the keys stack_keys generated (RSA-2048 for dom1.example,
#	Ed25519 for dom2.example), relaxed/relaxed over From, To, Subject,
#	Date and Message-ID.
# SEE ALSO
#	tests/integration/stack.sh

# shellcheck disable=SC2034 # ST_* are read by the callers

# stack_msg - write a small RFC 5322 message (CRLF) to FILE
stack_msg() {
	local file=$1 from=$2 to=$3 subject=$4 body=${5:-Hello from the mailtally stack.}
	{
		printf 'From: <%s>\r\n' "$from"
		printf 'To: <%s>\r\n' "$to"
		printf 'Subject: %s\r\n' "$subject"
		printf 'Date: %s\r\n' "$(LC_ALL=C date -R)"
		printf 'Message-ID: <%s.%s@%s>\r\n' "$(date +%s%N)" "$RANDOM" \
		    "${from#*@}"
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: text/plain; charset=us-ascii\r\n'
		printf '\r\n'
		printf '%s\r\n' "$body"
	} >"$file"
}

# stack_sign - DKIM-sign IN into OUT for dom1.example (rsa) or dom2.example (ed25519)
stack_sign() {
	local in=$1 out=$2 domain=$3 sel key alg
	case $domain in
	dom1.example)
		sel=s2048 alg=rsa-sha256 key=$ST_DIR/keys/dom1.rsa.pem ;;
	dom2.example)
		sel=ed1 alg=ed25519-sha256 key=$ST_DIR/keys/dom2.ed.seed ;;
	*)
		stack_err "no DKIM key for $domain"
		return 1 ;;
	esac
	"$ST_PY" - "$in" "$out" "$domain" "$sel" "$key" "$alg" <<'EOF'
import sys, dkim
src, dst, domain, sel, keyfile, alg = sys.argv[1:7]
msg = open(src, "rb").read()
key = open(keyfile, "rb").read().strip()
sig = dkim.sign(msg, sel.encode(), domain.encode(), key,
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=alg.encode(),
                include_headers=[b"from", b"to", b"subject", b"date",
                                 b"message-id"])
sig = sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
open(dst, "wb").write(sig + msg)
EOF
}

# stack_tamper - copy IN to OUT with one body line changed after signing
stack_tamper() {
	sed 's/Hello/Hullo/' "$1" >"$2"
}

# stack_send - send FILE as client IP with swaks; sets ST_QID, ST_REPLY, ST_RC
#	The connection comes from 127.0.0.1 and announces IP with XCLIENT
#	(IP 127.0.0.1: no XCLIENT). Extra arguments go to swaks (e.g.
#	--helo). The full transcript is in $ST_DIR/swaks.last.
stack_send() {
	local ip=$1 from=$2 to=$3 file=$4
	shift 4
	local xclient=
	[ "$ip" = 127.0.0.1 ] || xclient="--xclient-addr $ip"
	stack_mark
	# shellcheck disable=SC2086
	swaks --server 127.0.0.1 --port "$ST_SMTP_PORT" $xclient \
	    --helo "mail.${from#*@}" --from "$from" --to "$to" \
	    --data "@$file" --timeout 60 "$@" >"$ST_DIR/swaks.last" 2>&1
	ST_RC=$?
	ST_QID=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' \
	    "$ST_DIR/swaks.last" | tail -1)
	ST_REPLY=$(grep -E '^ *<(-|\*\*) ' "$ST_DIR/swaks.last" |
	    sed -E 's/^ *<(-|\*\*) +//' | grep -v '^221 ' | tail -1)
	return 0
}

# stack_qid_of - the queue id of the last rejected transaction from IP and FROM
#	A message rejected at RCPT or DATA has its queue id only in the
#	maillog (it exists because smtpd_delay_open_until_valid_rcpt = no).
stack_qid_of() {
	local ip=$1 from=$2
	grep -E "postfix/(smtpd|cleanup)\[[0-9]+\]: [0-9A-Za-z]+: (reject|milter-reject): .*\[$ip\].* from=<$from>" \
	    "$ST_MAILLOG" 2>/dev/null | grep -v ': NOQUEUE: ' | tail -1 |
	    sed -E 's/.*(smtpd|cleanup)\[[0-9]+\]: ([0-9A-Za-z]+): .*/\2/'
}

# stack_wait_removed - wait until Postfix is done with QID (delivered or bounced)
stack_wait_removed() {
	local qid=$1 secs=${2:-20} i=0
	while ! grep -q " $qid: removed" "$ST_MAILLOG" 2>/dev/null; do
		[ "$i" -lt "$((secs * 10))" ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# stack_delivered - print the maildir file that holds QID's delivered copy
stack_delivered() {
	grep -rlE "with E?SMTPS?A? id $1(;|\$|\r)" "$ST_MAILDIR/new" \
	    "$ST_MAILDIR/cur" 2>/dev/null | head -1
}

# stack_ar - print the Authentication-Results fields of a message file
#	Unfolds header continuation lines; one field per output line.
stack_ar() {
	awk '
	/^\r?$/ { exit }
	/^[ \t]/ { if (cur != "") cur = cur " " $0; next }
	{ if (cur ~ /^[Aa]uthentication-[Rr]esults:/) print cur; cur = $0 }
	END { if (cur ~ /^[Aa]uthentication-[Rr]esults:/) print cur }
	' "$1" | tr -d '\r' | tr -s ' \t' ' '
}

# stack_mark - remember how long the logs are (see stack_lines_since)
stack_mark() {
	local f
	ST_MARKS=
	for f in "$ST_MAILLOG" "$ST_MILTER_LOG" "$ST_POLICYD_LOG"; do
		ST_MARKS="$ST_MARKS $( (wc -l <"$f") 2>/dev/null || echo 0)"
	done
}

# stack_lines_since - the log lines written since the last stack_mark
#	(stack_send marks): Postfix and mailtally lines in time order.
stack_lines_since() {
	local f m
	# shellcheck disable=SC2086 # three numbers, split on purpose
	set -- $ST_MARKS
	for f in "$ST_MAILLOG" "$ST_MILTER_LOG" "$ST_POLICYD_LOG"; do
		m=${1:-0}
		shift
		[ -f "$f" ] && tail -n "+$((m + 1))" "$f"
	done | sort -s -k1,1M -k2,2n -k3,3
}

# stack_lines - every log line (Postfix, milter, policyd) that names QID
stack_lines() {
	grep -hF "$1" "$ST_MAILLOG" "$ST_MILTER_LOG" "$ST_POLICYD_LOG" \
	    2>/dev/null | sort -s -k1,1M -k2,2n -k3,3
}

# stack_dkimpy_verify - verify FILE's DKIM signatures with dkimpy against the
#	stack's dnsmasq: an independent second opinion next to the milter's.
#	Prints pass or fail; exit status 0 on pass.
stack_dkimpy_verify() {
	"$ST_PY" - "$1" "$ST_DNS_PORT" <<'EOF'
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = int(sys.argv[2])
def txt(name, timeout=5):
    try:
        a = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    except Exception:
        return None
    return b"".join(a[0].strings)
msg = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
ok = dkim.verify(msg, dnsfunc=txt)
print("pass" if ok else "fail")
sys.exit(0 if ok else 1)
EOF
}
