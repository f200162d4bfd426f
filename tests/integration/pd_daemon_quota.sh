#!/bin/sh
# pd_daemon_quota.sh - mailtally-policyd, black box, on a private Redis:
# recorded requests (tests/integration/pd_quota.in, one connection) and
# their action= replies compared with pd_quota.ref by diff: RCPT checks
# without counting, END-OF-MESSAGE counts, a retried instance counts
# once, the first limit over is named, exempt clients, other states, no
# identity. Then the quota log lines, mailtally-ctl usage against the
# daemon's counters, and Redis stopped: on_store_error = defer answered.
# Prints TAP; skips when the daemon, its test client or redis-server is
# missing.
LC_ALL=C
export LC_ALL
N=6
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
B=$(cd "$top_builddir" && pwd)
S=$(cd "$top_srcdir" && pwd)
DAEMON=$B/policyd/mailtally-policyd
CLIENT=$B/tests/integration/pd_client
CTL=$B/tools/mailtally-ctl
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
skip_all() {
	i=1
	while [ $i -le $N ]; do
		echo "ok $i - daemon quota # SKIP $1"
		i=$((i + 1))
	done
	exit 0
}

echo "1..$N"
[ -x "$DAEMON" ] && [ -x "$CLIENT" ] || skip_all "daemon or pd_client not built"
command -v redis-server >/dev/null 2>&1 &&
    command -v redis-cli >/dev/null 2>&1 || skip_all "redis-server not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/pd_daemon_quota.XXXXXX")
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	[ -f "$T/r.pid" ] && kill -9 "$(cat "$T/r.pid")" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# free_port - the first port from $1 nobody listens on (from /proc)
free_port() {
	p=$1
	while [ "$p" -lt 21999 ]; do
		hex=$(printf '%04X' "$p")
		if ! grep -q ":$hex .* 0A " /proc/net/tcp /proc/net/tcp6 \
		    2>/dev/null; then
			echo "$p"
			return
		fi
		p=$((p + 1))
	done
}

RPORT=$(free_port $((21500 + $$ % 200)))
redis-server --port "$RPORT" --bind 127.0.0.1 --daemonize yes --save '' \
    --appendonly no --dir "$T" --pidfile "$T/r.pid" --logfile "$T/r.log"
i=0
until redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG; do
	i=$((i + 1))
	[ $i -gt 100 ] && skip_all "redis-server did not start"
	sleep 0.05
done
PPORT=$(free_port $((RPORT + 1)))
cat > "$T/p.conf" <<EOC
listen = inet:127.0.0.1:$PPORT
store = redis://127.0.0.1:$RPORT/0
store_timeout = 500ms
store_reconnect_max = 200ms
on_store_error = defer
log_target = file:$T/p.log
exempt_clients = 192.0.2.0/24
limit daily = day 3 messages
limit rcpt = day 4 recipients
EOC
"$DAEMON" -f -c "$T/p.conf" 2>"$T/p.err" &
DPID=$!
printf 'request=smtpd_access_policy\nprotocol_state=DATA\n\n' > "$T/ping"
i=0
until "$CLIENT" -t 500 "127.0.0.1:$PPORT" send "$T/ping" 2>/dev/null |
    grep -q '^action=DUNNO'; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$T/p.err" >&2; skip_all "daemon did not start"; }
	sleep 0.05
done

"$CLIENT" -r 12 -t 5000 "127.0.0.1:$PPORT" send "$S/tests/integration/pd_quota.in" \
    > "$T/out" 2>&1
if diff "$S/tests/integration/pd_quota.ref" "$T/out" > "$T/diff"; then
	ok "recorded requests: replies as in pd_quota.ref"
else
	not_ok "recorded requests: replies differ from pd_quota.ref"
	sed 's/^/# /' "$T/diff"
fi

sleep 0.2 # the log file is written by the daemon
check "one info quota line per RCPT and END-OF-MESSAGE request" \
    "$(grep -c ': quota ' "$T/p.log")" 11
check "the refusal line names the limits, action and reason" \
    "$(grep -c 'limits=daily:3/3,rcpt:4/4 action=DEFER reason=over-limit store=redis' "$T/p.log")" 1
check "mailtally-ctl reads the daemon's counters" \
    "$("$CTL" -c "$T/p.conf" usage '<dora@EXAMPLE.org>' | cut -d' ' -f1-3 |
        tr '\n' ' ')" "daily day 3/3 rcpt day 4/4 "

redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1
printf 'request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\nsender=eve@example.org\nrecipient_count=1\n\n' > "$T/eom"
check "Redis stopped: on_store_error = defer" \
    "$("$CLIENT" -t 5000 "127.0.0.1:$PPORT" send "$T/eom" | head -n 1)" \
    "action=DEFER_IF_PERMIT 4.3.0 Quota service temporarily unavailable"
if kill -0 "$DPID" 2>/dev/null; then
	ok "the daemon keeps running without its store"
else
	not_ok "the daemon keeps running without its store"
fi
exit 0
