#!/bin/bash
# demo.sh - mailtally end to end on loopback, in one command
#
# NAME
#	demo.sh - install, build, start a private Postfix with both mailtally
#	daemons, send four messages and show what happened to each
# SYNOPSIS
#	scripts/demo.sh [--keep] [--json] [--no-install]
# DESCRIPTION
#	On a fresh Debian 12 machine, as root: installs the missing packages
#	with apt-get, builds mailtally unless it is built already, and starts
#	on 127.0.0.1 only: dnsmasq (SPF and DKIM records of dom1.example and
#	dom2.example), redis-server, mailtally-milter, mailtally-policyd and
#	a private Postfix instance (its own queue, config and maillog in one
#	temporary directory; the machine's Postfix, if any, is not touched).
#	Then it sends:
#	  1. a DKIM-signed message from an SPF-authorized host (pass/pass)
#	  2. the same message with its body changed after signing (dkim=fail)
#	  3. a message from a host SPF does not authorize (spf=fail: rejected,
#	     because this demo sets on_spf_fail = reject)
#	  4. four messages from one sender whose daily cap is 3 (the fourth is
#	     deferred with 4.7.1)
#	and for each prints the SMTP client's final reply, the
#	Authentication-Results header of the delivered copy, and the Postfix
#	and mailtally log lines of its queue id in time order.
#
#	--keep leaves the stack running and prints how to send more mail and
#	how to stop it; otherwise everything started is stopped on exit,
#	Ctrl-C or failure. --json switches both daemons to log_format = json.
#	--no-install never runs apt-get (it only reports what is missing).
#	DEMO_BUILD=DIR uses the binaries of the build directory DIR;
#	DEMO_BASE_PORT (default 24500) is where the search for free ports
#	starts.
# DIAGNOSTICS
#	Exit status 0 when every message did what the demo expects, 1 when one
#	did not (the output says which), 2 when the stack could not start.
# SEE ALSO
#	tests/integration/stack.sh, doc/operator.md, doc/logs.md
set -u

cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
keep=0
install=1
export ST_LOG_FORMAT=text
for a in "$@"; do
	case $a in
	--keep) keep=1 ;;
	--json) ST_LOG_FORMAT=json ;;
	--no-install) install=0 ;;
	-h|--help) sed -n '3,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
	*) echo "usage: $0 [--keep] [--json] [--no-install]" >&2; exit 2 ;;
	esac
done

# What the demo needs on Debian 12: the build, the stack, the DKIM signer.
PKGS="build-essential autoconf automake autoconf-archive libtool pkg-config
libmilter-dev libopendkim-dev libspf2-dev libhiredis-dev libcmocka-dev
libunbound-dev libevent-dev libssl-dev redis-server redis-tools postfix swaks
miltertest dnsmasq-base python3 python3-dkim python3-nacl python3-dnspython
libmail-dkim-perl openssl iproute2"

if [ -t 1 ]; then
	bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	bold() { printf '\n%s\n' "$*"; }
fi
say() { printf '%s\n' "$*"; }
indent() { sed 's/^/    /'; }

# install_missing - apt-get install whatever of $PKGS is not installed
install_missing() {
	local p s missing=
	for p in $PKGS; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
		[ "$s" = installed ] || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$install" = 0 ] || [ "$(id -u)" != 0 ]; then
		say "demo: missing Debian packages:$missing" >&2
		say "demo: run as root, or: apt-get install$missing" >&2
		return 1
	fi
	bold "Installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# "No configuration": the demo runs its own Postfix with postfix -c.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	apt-get update -qq || return 1
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# find_build - the build directory that has both daemons, or empty
find_build() {
	local d
	for d in ${DEMO_BUILD:-} "$top" "$top/build/plain" "$top/build/demo"; do
		if [ -x "$d/milter/mailtally-milter" ] &&
		    [ -x "$d/policyd/mailtally-policyd" ]; then
			echo "$d"
			return 0
		fi
	done
}

# build - ./autogen.sh && ./configure && make, unless already built
build() {
	local d
	d=$(find_build)
	if [ -n "$d" ]; then
		say "Using the build in $d"
		BUILD=$d
		return 0
	fi
	bold "Building mailtally (autogen, configure, make: a minute or two)"
	if [ ! -x configure ]; then
		./autogen.sh >autogen.log 2>&1 || {
			tail -20 autogen.log
			return 1
		}
		rm -f autogen.log
	fi
	if [ -f config.status ]; then
		BUILD=$top
	else
		# Out of tree, so scripts/test.sh finds a clean source tree.
		BUILD=$top/build/demo
		mkdir -p "$BUILD" &&
		(cd "$BUILD" && "$top/configure" -q) || return 1
	fi
	(cd "$BUILD" && make -j2 >make.log 2>&1) || {
		tail -30 "$BUILD/make.log"
		return 1
	}
}

if [ "$(id -u)" != 0 ]; then
	say "demo: run as root: a private Postfix instance needs root to start" >&2
	exit 2
fi
install_missing || exit 2
build || { say "demo: the build failed" >&2; exit 2; }

top_srcdir=$top
top_builddir=$BUILD
# shellcheck source=../tests/integration/stack.sh
. "$top/tests/integration/stack.sh"

ST_MILTER_CONF_EXTRA="on_spf_fail     = reject
on_dkim_fail    = accept"
ST_POLICYD_CONF_EXTRA="limit daily     = day 3 messages
defer_reply     = 4.7.1 Sending quota exceeded (%{limit}: %{used}/%{max} per %{window})"
[ "$keep" = 1 ] && ST_KEEP_DIR=1
ST_ON_EXIT='demo_exit'
failures=0

# demo_exit - on exit: with --keep and a started stack, leave it running
demo_exit() {
	if [ "$keep" = 1 ] && [ "${demo_started:-0}" = 1 ]; then
		ST_KEEP_RUNNING=1
		keep_running
	fi
}

# keep_running - with --keep: tell how to use and stop the running stack
keep_running() {
	local pids
	pids="$ST_DNS_PID $ST_REDIS_PID $ST_MILTER_PID $ST_POLICYD_PID"
	bold "The stack keeps running (--keep)"
	cat <<EOF
Send more mail as client 192.0.2.5 (SPF pass for dom1.example) or
203.0.113.7 (SPF fail); XCLIENT tells Postfix which client address to check:
    swaks --server 127.0.0.1 --port $ST_SMTP_PORT --xclient-addr 192.0.2.5 \\
        --from alice@dom1.example --to bob@rcpt.example
A burst from one sender: its daily cap of 3 applies, the rest is deferred (4.7.1):
    smtp-source -s 2 -m 10 -f x@load.example -t bob@rcpt.example 127.0.0.1:$ST_SMTP_PORT
Follow one message:   grep QUEUEID $ST_MAILLOG $ST_MILTER_LOG $ST_POLICYD_LOG
Delivered mail:       $ST_MAILDIR/new/
Quota of a sender:    $ST_CTL_BIN -c $ST_DIR/policyd.conf usage carol@dom2.example
Configs:              $ST_DIR/milter.conf $ST_DIR/policyd.conf $ST_PF/main.cf
Stop everything:
    postfix -c $ST_PF stop; kill $pids; rm -rf $ST_DIR
EOF
}

stack_init "${DEMO_BASE_PORT:-24500}" || exit 2
bold "Starting the stack in $ST_DIR"
stack_start || { say "demo: the stack did not start" >&2; exit 2; }
demo_started=1
cat <<EOF
    dnsmasq        127.0.0.1:$ST_DNS_PORT   SPF and DKIM records of dom1.example, dom2.example
    redis-server   127.0.0.1:$ST_REDIS_PORT   quota counters
    milter         127.0.0.1:$ST_MILTER_PORT   $ST_DIR/milter.conf
    policyd        127.0.0.1:$ST_POLICYD_PORT   $ST_DIR/policyd.conf
    Postfix smtpd  127.0.0.1:$ST_SMTP_PORT   $ST_PF/main.cf, log $ST_MAILLOG
    SPF: dom1.example allows 192.0.2.5; dom2.example allows 192.0.2.5 and 192.0.2.6
    Every SMTP session comes from 127.0.0.1 and names the client address to
    check with XCLIENT, so one machine can play several senders: 192.0.2.5
    and 203.0.113.7 are only what Postfix and mailtally are told; nothing
    connects to them.
EOF

# show SCENARIO-TITLE EXPECT IP FROM FILE - send one message and explain it
#	EXPECT is a regular expression the final SMTP reply must match.
show() {
	local title=$1 expect=$2 ip=$3 from=$4 file=$5 f qid
	bold "$title"
	say "  client $ip: MAIL FROM:<$from> RCPT TO:<bob@rcpt.example>"
	stack_send "$ip" "$from" bob@rcpt.example "$file"
	say "  SMTP client saw:"
	echo "$ST_REPLY" | indent | indent
	qid=$ST_QID
	if [ -n "$qid" ]; then
		stack_wait_removed "$qid" 20
		f=$(stack_delivered "$qid")
		say "  Authentication-Results of the delivered copy:"
		if [ -n "$f" ]; then
			stack_ar "$f" | fold -s -w 100 | indent | indent
		else
			say "        (not delivered)"
		fi
	else
		qid=$(stack_qid_of "$ip" "$from")
	fi
	if [ -n "$qid" ]; then
		say "  Log lines of $qid (Postfix and mailtally, in time order to the second):"
		stack_lines "$qid" | cut -c1-400 | indent | indent
	else
		say "  No queue id (rejected at MAIL FROM, before Postfix made one); the log"
		say "  lines of this session (the milter's line carries its connection id):"
		stack_lines_since | grep -E 'smtpd|mailtally' | cut -c1-400 |
		    indent | indent
	fi
	if echo "$ST_REPLY" | grep -Eq "$expect"; then
		say "  => as expected"
	else
		say "  => UNEXPECTED: the reply should match /$expect/"
		failures=$((failures + 1))
	fi
}

m=$ST_DIR/msgs
mkdir -p "$m"
stack_msg "$m/1" alice@dom1.example bob@rcpt.example "Demo 1: signed, authorized"
stack_sign "$m/1" "$m/1.signed" dom1.example
show "1. DKIM-signed (RSA-2048) from 192.0.2.5, which SPF authorizes: spf=pass dkim=pass" \
    '^250 ' 192.0.2.5 alice@dom1.example "$m/1.signed"

stack_tamper "$m/1.signed" "$m/2.tampered"
show "2. The same message, body changed after signing: dkim=fail (accepted: on_dkim_fail = accept)" \
    '^250 ' 192.0.2.5 alice@dom1.example "$m/2.tampered"

stack_msg "$m/3" alice@dom1.example bob@rcpt.example "Demo 3: forged"
show "3. From 203.0.113.7, which SPF does not authorize for dom1.example: spf=fail, rejected (on_spf_fail = reject)" \
    '^5[0-9][0-9] 5\.7\.' 203.0.113.7 alice@dom1.example "$m/3"

for i in 1 2 3 4; do
	stack_msg "$m/4.$i" carol@dom2.example bob@rcpt.example "Demo 4: message $i of 4"
	stack_sign "$m/4.$i" "$m/4.$i.signed" dom2.example
	if [ "$i" -lt 4 ]; then
		stack_send 192.0.2.6 carol@dom2.example bob@rcpt.example \
		    "$m/4.$i.signed"
		say "" "  carol@dom2.example message $i of the daily 3: $ST_REPLY"
		[ -n "$ST_QID" ] && stack_wait_removed "$ST_QID" 20
	fi
done
show "4. carol@dom2.example (Ed25519-signed) sends a 4th message; her cap is 3 a day: deferred with 4.7.1" \
    '^4[0-9][0-9] 4\.7\.1 ' 192.0.2.6 carol@dom2.example "$m/4.4.signed"
if [ -x "$ST_CTL_BIN" ]; then
	say "  mailtally-ctl usage carol@dom2.example:"
	stack_ctl usage carol@dom2.example 2>&1 | indent | indent
fi

bold "Summary"
if [ "$failures" = 0 ]; then
	say "All four cases did what they should."
else
	say "$failures case(s) did not do what they should: see UNEXPECTED above."
fi

[ "$failures" = 0 ]
