#!/bin/sh
# pd_redis.sh - the policy engine and mailtally-ctl against a real
# redis-server on loopback: exact caps under concurrency (one process and
# two "MX hosts"), idempotent retries, SCRIPT FLUSH recovery, overrides
# set by mailtally-ctl seen by a running engine (two subjects, two
# override hashes, in one decision), calendar reset on an injected
# clock, rolling counters (old slots dropped, hashes of earlier builds
# read and rewritten, a corrupt one, a host whose clock is ahead), Redis
# killed and hung (every request still answered, with on_store_error),
# Redis back (counting resumes, no commit lost), unix socket + AUTH, and
# the password never logged. Prints TAP; skips when redis-server is not
# installed.

N=37
top_builddir=${top_builddir:-.}
DRIVE=$top_builddir/tests/integration/pd_engine_drive
CTL=$top_builddir/tools/mailtally-ctl
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}

echo "1..$N"
if ! command -v redis-server >/dev/null 2>&1 ||
    ! command -v redis-cli >/dev/null 2>&1; then
	i=1
	while [ $i -le $N ]; do
		echo "ok $i - redis # SKIP redis-server not installed"
		i=$((i + 1))
	done
	exit 0
fi

T=$(mktemp -d)
cleanup() {
	exec 3>&- 2>/dev/null
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null &&
		    kill -9 "$(cat "$f")" 2>/dev/null
	done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	[ -n "$KEEP" ] && cp "$T/err" /tmp/pd_redis_err; rm -rf "$T"
}
trap cleanup EXIT

# free_port - the first port from $1 nobody listens on (loopback)
free_port() {
	p=$1
	while [ "$p" -lt 21999 ]; do
		if ! ss -ltnH 2>/dev/null | awk '{print $4}' |
		    grep -q ":$p\$"; then
			echo "$p"
			return
		fi
		p=$((p + 1))
	done
}

# start_redis NAME ARGS... - start and wait for PONG
start_redis() {
	name=$1
	shift
	redis-server --bind 127.0.0.1 --daemonize yes --save '' \
	    --dir "$T" --pidfile "$T/$name.pid" --logfile "$T/$name.log" "$@"
	i=0
	while [ $i -lt 100 ]; do
		rcli ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "# redis $name did not start" >&2
	return 1
}

PORT=$(free_port $((21000 + $$ % 500)))
rcli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
start_redis r1 --port "$PORT" --appendonly yes --appendfsync always ||
    exit 1
DAY=$(TZ=UTC date +%Y%m%d)

cat > "$T/c.conf" <<EOC
store = redis://127.0.0.1:$PORT/0
store_timeout = 400ms
store_reconnect_max = 200ms
on_store_error = defer
log_target = stderr
limit daily = day 1000 messages
limit burst = 1m 100000 messages
EOC

# The driver reads commands from a fifo; cmd waits for its result line.
mkfifo "$T/in"
: > "$T/out" # cmd() reads it before the driver may have opened it
"$DRIVE" -c "$T/c.conf" < "$T/in" > "$T/out" 2> "$T/err" &
DPID=$!
exec 3> "$T/in"
cmd() {
	before=$(wc -l < "$T/out")
	echo "$1" >&3
	i=0
	while [ "$(wc -l < "$T/out")" -le "$before" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	tail -n 1 "$T/out"
}

check "50 in flight, cap 1000: exactly 1000 committed" \
    "$(cmd 'eom race@example.org 1200 50')" \
    "dunno=1000 defer=200 reject=0 storeerr=0"

printf 'eom two@example.org 700 50\nquit\n' |
    "$DRIVE" -c "$T/c.conf" > "$T/o1" 2>/dev/null &
P1=$!
printf 'eom two@example.org 700 50\nquit\n' |
    "$DRIVE" -c "$T/c.conf" > "$T/o2" 2>/dev/null &
P2=$!
wait $P1 $P2
d1=$(sed -n 's/^dunno=\([0-9]*\).*/\1/p' "$T/o1")
d2=$(sed -n 's/^dunno=\([0-9]*\).*/\1/p' "$T/o2")
check "two processes racing: 1000 committed in all" "$((d1 + d2))" 1000
check "two processes racing: counter in Redis" \
    "$(rcli GET "mt:{two@example.org}:daily:d$DAY")" 1000

r1=$(cmd 'eomi idem@example.org 4f1.6a2b.1')
r2=$(cmd 'eomi idem@example.org 4f1.6a2b.1')
r3=$(cmd 'eomi idem@example.org 4f1.6a2b.1')
check "retried instance answered DUNNO every time" "$r1 $r2 $r3" \
    "action=DUNNO action=DUNNO action=DUNNO"
check "retried instance counted once" \
    "$(rcli GET "mt:{idem@example.org}:daily:d$DAY")" 1

ttl_d=$(rcli TTL "mt:{idem@example.org}:daily:d$DAY")
ttl_b=$(rcli TTL "mt:{idem@example.org}:burst:r60")
ttl_i=$(rcli TTL "mt:{idem@example.org}:i:4f1.6a2b.1")
check "counters and marker carry a TTL" \
    "$([ "$ttl_d" -gt 0 ] && [ "$ttl_b" -gt 60 ] && [ "$ttl_b" -le 3600 ] &&
        [ "$ttl_i" -gt 0 ] && echo yes)" yes

# A message refused over the cap leaves no marker, so the same instance
# is counted once the cap allows it (race@ is at its cap of 1000).
r1=$(cmd 'eomi race@example.org 9a.refused.1')
check "refused message: no instance marker left" \
    "${r1%% *} $(rcli EXISTS "mt:{race@example.org}:i:9a.refused.1")" \
    "action=DEFER 0"
"$CTL" -c "$T/c.conf" override race@example.org daily 1001
r2=$(cmd 'eomi race@example.org 9a.refused.1')
check "refused instance counted when retried under a higher cap" \
    "$r2 $(rcli GET "mt:{race@example.org}:daily:d$DAY")" \
    "action=DUNNO 1001"

rcli SCRIPT FLUSH >/dev/null
check "SCRIPT FLUSH: NOSCRIPT recovered by EVAL" \
    "$(cmd 'eom flush@example.org 3 1')" \
    "dunno=3 defer=0 reject=0 storeerr=0"

"$CTL" -c "$T/c.conf" override ovr@example.org daily 2
check "override set by mailtally-ctl seen by the running engine" \
    "$(cmd 'eom ovr@example.org 5 1')" "dunno=2 defer=3 reject=0 storeerr=0"
check "mailtally-ctl usage" \
    "$("$CTL" -c "$T/c.conf" usage '<ovr@EXAMPLE.org>' | head -n 1 |
        cut -d' ' -f1-5)" "daily day 2/2 messages override"
"$CTL" -c "$T/c.conf" override --remove ovr@example.org daily
"$CTL" -c "$T/c.conf" reset ovr@example.org daily
r=$(cmd 'eom ovr@example.org 1 1')
check "override removed and counter reset" \
    "$r $("$CTL" -c "$T/c.conf" usage ovr@example.org | head -n 1 |
        cut -d' ' -f1-3)" \
    "dunno=1 defer=0 reject=0 storeerr=0 daily day 1/1000"

# Limits of two subjects in one decision (the identity and its sender
# domain): each override hash is read once and applies to its own limit.
cat "$T/c.conf" > "$T/dom.conf"
echo "limit dom = day 1000 messages key=sender_domain" >> "$T/dom.conf"
"$CTL" -c "$T/dom.conf" override a@two.example.net daily 2
"$CTL" -c "$T/dom.conf" override two.example.net dom 3
printf 'eom a@two.example.net 5 1\neom b@two.example.net 5 1\nquit\n' |
    "$DRIVE" -c "$T/dom.conf" > "$T/dom.out" 2>/dev/null
check "two subjects: the identity's override caps its own limit" \
    "$(sed -n 1p "$T/dom.out")" "dunno=2 defer=3 reject=0 storeerr=0"
check "two subjects: the domain's override caps the domain limit" \
    "$(sed -n 2p "$T/dom.out") $(rcli GET "mt:{two.example.net}:dom:d$DAY")" \
    "dunno=1 defer=4 reject=0 storeerr=0 3"

# Calendar reset at local midnight, Europe/Berlin, injected clock:
# 1795474798 is 2026-11-23 23:59:58 CET.
sed 's/^limit daily.*/limit daily = day 2 messages/' "$T/c.conf" > "$T/cal.conf"
echo "timezone = Europe/Berlin" >> "$T/cal.conf"
printf 'eom cal@example.org 3 1\nclock 1\neom cal@example.org 1 1\nclock 1\neom cal@example.org 3 1\nquit\n' |
    "$DRIVE" -c "$T/cal.conf" -t 1795474798 2>/dev/null |
    grep dunno | tr '\n' ' ' > "$T/cal.out"
check "calendar day resets at local midnight (Europe/Berlin)" \
    "$(cat "$T/cal.out")" \
    "dunno=2 defer=1 reject=0 storeerr=0 dunno=0 defer=1 reject=0 storeerr=0 dunno=2 defer=1 reject=0 storeerr=0 "

# Rolling window in the Lua script, same answers as the memory store.
printf 'limit burst = 1m 3 messages\n' > "$T/roll.conf"
grep -v '^limit' "$T/c.conf" >> "$T/roll.conf"
printf 'eom roll@example.org 5 1\nclock 59\neom roll@example.org 1 1\nclock 1\neom roll@example.org 4 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 2>/dev/null |
    grep dunno | tr '\n' ' ' > "$T/roll.out"
check "rolling 1m window: exact at one-second slots" "$(cat "$T/roll.out")" \
    "dunno=3 defer=2 reject=0 storeerr=0 dunno=0 defer=1 reject=0 storeerr=0 dunno=3 defer=1 reject=0 storeerr=0 "

# A rolling counter is a string: the sum of its counts, then (slot, count)
# pairs, slots ascending, 8-byte little-endian integers; decoded by Redis
# itself as "sum: second:count ...", seconds from the injected clock's
# start.
slots() {
	rcli EVAL "local s = redis.call('GET', KEYS[1])
if not s then return 'none' end
local t = {struct.unpack('<' .. string.rep('i8', #s / 8), s)}
local o = {t[1] .. ':'}
for j = 2, #t - 1, 2 do
  o[#o + 1] = string.format('%d:%d', t[j] - 1795435200, t[j + 1])
end
return table.concat(o, ' ')" 1 "mt:{$1@example.org}:burst:r60"
}

# Old slots are deleted when the limit is next counted: three slots, then
# a commit 200 s later leaves only its own, and the key's TTL covers the
# window from it (63 slots of 1 s).
K="mt:{prune@example.org}:burst:r60"
printf 'eom prune@example.org 1 1\nclock 1\neom prune@example.org 1 1\nclock 1\neom prune@example.org 1 1\nclock 200\neom prune@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 >/dev/null 2>&1
check "rolling window: slots older than the window deleted at commit" \
    "$(rcli TYPE "$K") $(slots prune) $(rcli TTL "$K")" "string 1: 202:1 63"

# Two messages in one slot, then one in the next: the count and the sum
# raised in place (SETRANGE), the new pair appended, the TTL renewed.
K="mt:{inplace@example.org}:burst:r60"
printf 'eom inplace@example.org 2 1\nclock 1\neom inplace@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 >/dev/null 2>&1
check "rolling window: counts raised in place, a new slot appended" \
    "$(slots inplace) $(rcli TTL "$K")" "3: 0:2 1:1 63"

# A rolling hash written by an earlier build (one field per slot, with
# or without a summary field "m"): its slots counted, the one left of
# the window dropped, and the key rewritten as a string by the commit.
K="mt:{leg@example.org}:burst:r60"
rcli HSET "$K" 1795435190 1 1795435195 1 1795435100 7 >/dev/null
printf 'eom leg@example.org 3 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 > "$T/leg.out" 2>/dev/null
check "rolling hash of an earlier build: its slots counted" \
    "$(cat "$T/leg.out")" "dunno=1 defer=2 reject=0 storeerr=0"
check "rolling hash of an earlier build: rewritten as a string" \
    "$(rcli TYPE "$K") $(slots leg)" "string 3: -10:1 -5:1 0:1"
K="mt:{legm@example.org}:burst:r60"
rcli HSET "$K" 1795435199 2 m garbage >/dev/null
printf 'eom legm@example.org 2 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 > "$T/legm.out" 2>/dev/null
check "rolling hash with a summary field: counted, rewritten" \
    "$(cat "$T/legm.out") $(slots legm)" \
    "dunno=1 defer=1 reject=0 storeerr=0 3: -1:2 0:1"

# A host whose clock is ahead: its slots are not counted by a host
# behind it until that host's clock reaches them (as the memory store),
# and they are kept.
printf 'clock 1\neom skew@example.org 1 1\nclock 1\neom skew@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 >/dev/null 2>&1
printf 'eom skew@example.org 3 1\nclock 2\neom skew@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 2>/dev/null |
    grep dunno | tr '\n' ' ' > "$T/skew.out"
check "rolling window, a host's clock 2 s ahead: its slots counted from then" \
    "$(cat "$T/skew.out")" \
    "dunno=3 defer=0 reject=0 storeerr=0 dunno=0 defer=1 reject=0 storeerr=0 "
check "rolling window, a host's clock 2 s ahead: its slots kept" \
    "$(slots skew)" "5: 0:3 1:1 2:1"

# Hosts a second apart: the one behind puts its slot between the others'.
printf 'eom mid@example.org 1 1\nclock 2\neom mid@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 >/dev/null 2>&1
printf 'eom mid@example.org 1 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435201 >/dev/null 2>&1
check "rolling window, a host a second behind: its slot in order" \
    "$(slots mid)" "3: 0:1 1:1 2:1"

# A corrupt counter (not the sum and whole pairs) reads as empty and is
# rewritten by the commit.
K="mt:{bad@example.org}:burst:r60"
rcli SET "$K" garbage >/dev/null
printf 'eom bad@example.org 2 1\nquit\n' |
    "$DRIVE" -c "$T/roll.conf" -t 1795435200 > "$T/bad.out" 2>/dev/null
check "rolling counter with a corrupt value: read as empty, rewritten" \
    "$(cat "$T/bad.out") $(slots bad)" \
    "dunno=2 defer=0 reject=0 storeerr=0 2: 0:2"

# mailtally-ctl usage sums the slots of a rolling window, in either form.
printf 'eom use@example.org 4 1\nquit\n' |
    "$DRIVE" -c "$T/c.conf" >/dev/null 2>&1
check "mailtally-ctl usage of a rolling window" \
    "$("$CTL" -c "$T/c.conf" usage use@example.org | sed -n 2p |
        cut -d' ' -f1-4)" "burst 1m 4/100000 messages"
rcli HSET "mt:{useold@example.org}:burst:r60" "$(date +%s)" 6 m x >/dev/null
check "mailtally-ctl usage of a rolling hash of an earlier build" \
    "$("$CTL" -c "$T/c.conf" usage useold@example.org | sed -n 2p |
        cut -d' ' -f1-4)" "burst 1m 6/100000 messages"

cmd 'eom kill@example.org 10 1' >/dev/null
kill -9 "$(cat "$T/r1.pid")"
check "Redis killed: every request answered with on_store_error" \
    "$(cmd 'eom kill@example.org 5 1')" "dunno=0 defer=0 reject=0 storeerr=5"
start_redis r1 --port "$PORT" --appendonly yes --appendfsync always
r=$(cmd 'until_ok kill@example.org')
case $r in "ok after"*) ok "Redis back: counting resumes ($r)" ;;
*) not_ok "Redis back: counting resumes: got '$r'" ;; esac
cmd 'pause 1100' >/dev/null # "available again" after 1 s of quiet
cmd 'eom kill@example.org 10 1' >/dev/null
check "no commit lost across the restart" \
    "$(rcli GET "mt:{kill@example.org}:daily:d$DAY")" 21

kill -STOP "$(cat "$T/r1.pid")"
check "Redis hung: requests answered at store_timeout" \
    "$(cmd 'eom hang@example.org 3 3')" "dunno=0 defer=0 reject=0 storeerr=3"
cmd 'pause 4100' >/dev/null # silent for 4 s (10 x store_timeout): dropped
check "Redis hung for 4 s: still answered, connection dropped" \
    "$(cmd 'eom hang@example.org 3 3') $(grep -c 'silent for' "$T/err")" \
    "dunno=0 defer=0 reject=0 storeerr=3 1"
kill -CONT "$(cat "$T/r1.pid")"
r=$(cmd 'until_ok hang@example.org')
case $r in "ok after"*) ok "Redis resumed: counting resumes ($r)" ;;
*) not_ok "Redis resumed: counting resumes: got '$r'" ;; esac
cmd 'pause 1100' >/dev/null
cmd 'eom hang@example.org 1 1' >/dev/null
check "store errors logged once per outage" \
    "$(grep -c 'redis unavailable' "$T/err") $(grep -c 'redis available again' "$T/err")" \
    "2 2"

# Unix socket, database 3, AUTH from a file; the password never logged.
echo 's3cret-Pw-77' > "$T/pw"
start_redis r2 --port 0 --unixsocket "$T/r2.sock" --requirepass s3cret-Pw-77
cat > "$T/u.conf" <<EOC
store = redis+unix://$T/r2.sock?db=3
store_password_file = $T/pw
on_store_error = defer
log_target = stderr
limit daily = day 1000 messages
EOC
sed 's/^store_password_file.*/store_password_file = '"$(echo "$T" |
    sed 's/\//\\\//g')"'\/bad/' "$T/u.conf" > "$T/bad.conf"
echo 'wrong' > "$T/bad"
a=$(printf 'eom pw@example.org 2 1\nquit\n' |
    "$DRIVE" -c "$T/u.conf" 2>>"$T/uerr")
b=$(printf 'eom pw@example.org 2 1\nquit\n' |
    "$DRIVE" -c "$T/bad.conf" 2>>"$T/uerr")
c=$(redis-cli -s "$T/r2.sock" -a s3cret-Pw-77 --no-auth-warning -n 3 \
    GET "mt:{pw@example.org}:daily:d$DAY")
check "unix socket + AUTH + db; wrong password is a store error" \
    "$a $b $c" \
    "dunno=2 defer=0 reject=0 storeerr=0 dunno=0 defer=0 reject=0 storeerr=2 2"
check "the password never reaches the log" \
    "$(cat "$T/err" "$T/uerr" | grep -c 's3cret')" 0

printf 'store = memory\nlimit daily = day 1 messages\n' > "$T/m.conf"
"$CTL" -c "$T/m.conf" usage a@example.org > /dev/null 2> "$T/m.err"
rc=$?
check "mailtally-ctl on store = memory: says it cannot reach it, exit 1" \
    "$rc $(grep -c 'cannot reach an embedded store' "$T/m.err")" "1 1"

redis-cli -s "$T/r2.sock" -a s3cret-Pw-77 --no-auth-warning shutdown nosave \
    >/dev/null 2>&1
rcli shutdown nosave >/dev/null 2>&1
exit 0
