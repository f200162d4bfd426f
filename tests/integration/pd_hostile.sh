#!/bin/sh
# pd_hostile.sh - mailtally-policyd against hostile clients (TAP)
#
# Starts the daemon in the foreground with "store = memory" and no limit
# on a free loopback port, then sends what a broken or malicious client
# would: a 1 MiB line, 10,000 attributes, NUL bytes, binary garbage, a
# line without '=', duplicate names, an empty request, half a request
# that stalls, and 1,000 idle connections. Each bad client must be
# closed with a log line while the daemon stays up and keeps answering a
# well-formed request (protocol_state=RCPT, no limits: action=DUNNO).
#
# VALGRIND="valgrind --leak-check=full --error-exitcode=99" runs the
# daemon under valgrind; its exit status and report are checked at the
# end.
LC_ALL=C
export LC_ALL

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
B=$(cd "$top_builddir" && pwd)
DAEMON=$B/policyd/mailtally-policyd
CLIENT=$B/tests/integration/pd_client
PORT_FIRST=${PD_PORT_FIRST:-20100}
NTESTS=25
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
}
check() {	# check NAME COMMAND...
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

echo "1..$NTESTS"
if [ ! -x "$DAEMON" ] || [ ! -x "$CLIENT" ]; then
	i=0
	while [ $i -lt $NTESTS ]; do
		i=$((i + 1))
		echo "ok $i - hostile # SKIP $DAEMON or $CLIENT not built"
	done
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/pd_hostile.XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

# start NAME IDLE MAXCONN: start a daemon on the first free port; sets
# PORT and PID, log in $T/NAME.log.
start() {
	port=$PORT_FIRST
	while [ "$port" -lt $((PORT_FIRST + 100)) ]; do
		cat >"$T/$1.conf" <<EOF
listen = inet:127.0.0.1:$port, unix:$T/$1.sock
socket_mode = 0600
store = memory
idle_timeout = $2
max_connections = $3
log_target = file:$T/$1.log
log_level = info
EOF
		: >"$T/$1.log"
		$VALGRIND "$DAEMON" -f -c "$T/$1.conf" 2>"$T/$1.stderr" &
		PID=$!
		i=0
		while [ $i -lt 100 ]; do
			if grep -q "starting" "$T/$1.log"; then
				PORT=$port
				PIDS="$PIDS $PID"
				return 0
			fi
			kill -0 $PID 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill $PID 2>/dev/null
		wait $PID 2>/dev/null
		port=$((port + 1))
	done
	return 1
}

printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.7\nsender=a@example.org\nrecipient=b@example.net\nqueue_id=\ninstance=123.456.7\n\n' >"$T/good"

# vg_clean FILE: a valgrind report without errors or descriptors left
# open other than those inherited (works with and without -q).
vg_clean() {
	if grep -q "ERROR SUMMARY: [1-9]" "$1" ||
	    grep -q "^==[0-9]*== \(Invalid\|Conditional\|Use of\)" "$1" ||
	    grep -q "definitely lost: [1-9]" "$1"; then
		sed 's/^/# /' "$1"
		return 1
	fi
	nopen=$(grep -c "^==[0-9]*== Open " "$1")
	ninh=$(grep -c "inherited from parent" "$1")
	if [ "$nopen" -gt "$ninh" ]; then
		echo "# $((nopen - ninh)) descriptors left open at exit"
		return 1
	fi
}

# answers: the daemon is alive and answers a good request with DUNNO
answers() {
	out=$("$CLIENT" -r 1 -t 20000 "127.0.0.1:$PORT" send "$T/good")
	[ "$out" = "action=DUNNO" ] && kill -0 "$PID" 2>/dev/null
}

# closed_logged FILE REASON: the daemon closes the connection and logs
closed_logged() {
	before=$(grep -c "reason=\"$2\"" "$T/a.log")
	out=$("$CLIENT" -t 20000 "127.0.0.1:$PORT" send "$1" | tail -n 1)
	[ "$out" = "[closed]" ] || { echo "# got '$out', want [closed]"; return 1; }
	i=0
	while [ "$(grep -c "reason=\"$2\"" "$T/a.log")" -le "$before" ]; do
		i=$((i + 1))
		[ $i -gt 50 ] && { echo "# no log line with reason=\"$2\""; return 1; }
		sleep 0.1
	done
	answers
}

if ! start a 1s 100; then
	not_ok "daemon starts"
	cat "$T/a.stderr" "$T/a.log" | sed 's/^/# /'
	exit 1
fi
ok "daemon starts on 127.0.0.1:$PORT"
check "answers a RCPT request with action=DUNNO" answers

out=$("$CLIENT" -r 1 "$T/a.sock" send "$T/good")
check "answers on the unix socket too" [ "$out" = "action=DUNNO" ]
mode=$(stat -c %a "$T/a.sock")
check "unix socket has socket_mode 0600 (got $mode)" [ "$mode" = 600 ]

# A 1 MiB line.
head -c 1048576 /dev/zero | tr '\0' 'a' | sed 's/^/sender=/' >"$T/long"
echo >>"$T/long"
check "1 MiB line: closed, logged, still serving" \
    closed_logged "$T/long" "line too long"

# 10,000 attributes.
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "attr%d=v\n", i; print "" }' \
    >"$T/many"
check "10,000 attributes: closed, logged, still serving" \
    closed_logged "$T/many" "too many attributes"

# NUL bytes inside a value.
printf 'request=smtpd_access_policy\nsender=a\000b@example.org\n\n' >"$T/nul"
check "NUL byte: closed, logged, still serving" \
    closed_logged "$T/nul" "NUL byte in request"

# Binary garbage: the start of an ELF file.
head -c 65536 "$DAEMON" >"$T/garbage"
check "binary garbage: closed, logged, still serving" \
    closed_logged "$T/garbage" "NUL byte in request"

printf 'request=smtpd_access_policy\nthis line has no equals sign\n\n' >"$T/noeq"
check "line without '=': closed, logged, still serving" \
    closed_logged "$T/noeq" "attribute without '='"

printf 'request=smtpd_access_policy\nsender=a@example.org\nsender=b@example.org\n\n' >"$T/dup"
check "duplicate attribute: closed, logged, still serving" \
    closed_logged "$T/dup" "duplicate attribute"

# A quote in the sample cannot end the quoted value on the log line.
printf 'request=smtpd_access_policy\nevil" forged="1\n\n' >"$T/quote"
check "quote in a bad line: closed, sample escaped" \
    closed_logged "$T/quote" "bad attribute name"
check "quote in a bad line: no forged field on the log line" \
    grep -q 'sample="evil\\x22 forged=\\x221"' "$T/a.log"

printf '\n' >"$T/empty"
check "empty request: closed, logged, still serving" \
    closed_logged "$T/empty" "empty request"

printf 'request=smtpd_access_policy\nprotocol_state=RC' >"$T/half"
check "half a request then a stall: idle timeout closes it, logged" \
    closed_logged "$T/half" "idle timeout mid-request"

# CRLF line ends and pipelining are served.
printf 'request=smtpd_access_policy\r\nprotocol_state=RCPT\r\n\r\n' >"$T/crlf"
out=$("$CLIENT" -r 1 "127.0.0.1:$PORT" send "$T/crlf")
check "CRLF request answered" [ "$out" = "action=DUNNO" ]
cat "$T/good" "$T/good" "$T/good" >"$T/three"
out=$("$CLIENT" -r 3 "127.0.0.1:$PORT" send "$T/three" | grep -c '^action=DUNNO$')
check "three pipelined requests get three replies" [ "$out" = 3 ]

# 5,000 pipelined requests from a client with a small receive buffer
# that reads only after writing them all: every reply, in order.
i=0
: >"$T/5000"
while [ $i -lt 5000 ]; do cat "$T/good"; i=$((i + 1)); done >"$T/5000"
out=$("$CLIENT" -b 4096 -r 5000 -t 60000 "127.0.0.1:$PORT" send "$T/5000" |
    grep -c '^action=DUNNO$')
check "5,000 pipelined requests, replies read late: 5,000 replies (got $out)" \
    [ "$out" = 5000 ]

# SIGHUP reopens the log and the daemon goes on.
kill -HUP "$PID"
sleep 0.3
check "SIGHUP: log reopened, still serving" answers

# A client that disappears mid-request is logged too.
"$CLIENT" -t 1 "127.0.0.1:$PORT" send "$T/half" >/dev/null
i=0
while ! grep -q 'reason="client closed mid-request"' "$T/a.log" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "client gone mid-request: logged" \
    grep -q 'reason="client closed mid-request"' "$T/a.log"

# SIGTERM: clean exit with status 0.
APID=$PID
kill -TERM "$APID"
wait "$APID"
rc=$?
check "SIGTERM: exit status 0 (got $rc)" [ "$rc" = 0 ]
check "stop logged" grep -q "stopped" "$T/a.log"
check "unix socket removed at stop" [ ! -e "$T/a.sock" ]
if [ -n "$VALGRIND" ]; then
	check "valgrind: no errors, no leaked fd" vg_clean "$T/a.stderr"
else
	ok "valgrind # SKIP VALGRIND not set"
fi

# 1,000 idle connections (each served once) and one more client.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 2100 ]; then
	ok "1,000 connections # SKIP cannot raise ulimit -n to 2100"
	ok "1,000 idle connections: another client # SKIP ulimit -n"
	[ $fails -eq 0 ]
	exit
fi
if ! start b 300s 2000; then
	not_ok "1,000 idle connections: daemon starts"
	not_ok "1,000 idle connections: another client answered"
	exit 1
fi
mkfifo "$T/holdin"
"$CLIENT" -t 60000 "127.0.0.1:$PORT" hold 1000 120 "$T/good" <"$T/holdin" \
    >"$T/hold.out" 2>&1 &
HOLD=$!
exec 3>"$T/holdin"
i=0
while ! grep -q holding "$T/hold.out" && kill -0 $HOLD 2>/dev/null &&
    [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "1,000 connections open and served ($(cat "$T/hold.out"))" \
    grep -q '^holding 1000$' "$T/hold.out"
check "1,000 idle connections: another client still answered" answers
exec 3>&-
wait $HOLD
kill -TERM "$PID"
wait "$PID"
PIDS=
if [ -n "$VALGRIND" ] && ! vg_clean "$T/b.stderr"; then
	echo "# valgrind errors in the 1,000-connection run"
	fails=$((fails + 1))
fi
[ $fails -eq 0 ]
