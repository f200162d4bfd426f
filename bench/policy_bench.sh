#!/bin/sh
# policy_bench.sh - mailtally-policyd side by side with its ceiling, Redis
# and postfwd, at 1, 10, 50 and 100 persistent connections.
#
# Usage: bench/policy_bench.sh [BUILDDIR]    (default: .)
# Environment: BENCH_SECONDS (per run, default 10), BENCH_CONNS
# (default "1 10 50 100"), BENCH_SENDERS (default 1000), BENCH_PORT
# (first port to try, default 20500).
#
# Every server runs on 127.0.0.1 in a private temporary directory and is
# stopped at the end. Columns:
#   trivial   policy_load -t: a built-in server that answers DUNNO without
#             parsing; the ceiling of the load generator on this machine
#   memory    mailtally-policyd, store = memory
#   redis     mailtally-policyd, store = redis (private redis-server)
#   redis, unix socket
#             the same, the load generator connecting to a unix socket
#             (check_policy_service unix:...) instead of TCP on loopback
#   redis-bm  redis-benchmark, unpipelined, same concurrency, EVAL of a
#             Lua script doing GET, INCRBY and EXPIRE on 3 keys (the shape
#             of one check-and-commit round trip)
#   postfwd   postfwd2 with a per-sender rate limit rule
# The Redis columns start from the state of an MX busy for an hour
# (every sender's hourly window full) when tests/integration/
# pd_engine_drive is built (make tests/integration/pd_engine_drive).
# Each policy server gets RCPT + END-OF-MESSAGE request pairs of ~30
# attributes; cells are requests/s, p99 latency in microseconds and,
# where the server is one process, its CPU time per request.
# Finally the resident memory of mailtally-policyd with 1,000 open
# connections (each served once).
LC_ALL=C
export LC_ALL
B=$(cd "${1:-.}" && pwd)
S=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-1 10 50 100}
K=${BENCH_SENDERS:-1000}
NEXT_PORT=${BENCH_PORT:-20500}
LOAD=$B/bench/policy_load
DAEMON=$B/policyd/mailtally-policyd

for x in "$LOAD" "$DAEMON"; do
	[ -x "$x" ] || { echo "policy_bench: $x not built" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/policy_bench.XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	[ -n "$RPORT" ] && redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1
	[ -f "$T/postfwd.pid" ] && kill "$(cat "$T/postfwd.pid")" 2>/dev/null
	sleep 0.5
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ulimit -n 8192 2>/dev/null

# free_port - the next port nobody listens on (from /proc/net/tcp)
free_port() {
	while :; do
		p=$NEXT_PORT
		NEXT_PORT=$((NEXT_PORT + 1))
		hex=$(printf '%04X' "$p")
		if ! grep -q ":$hex .* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
		then
			echo "$p"
			return
		fi
	done
}

# wait_until CMD... - until CMD succeeds (10 s at most)
wait_until() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

# listening PORT - something listens on that TCP port
listening() {
	grep -q ":$(printf '%04X' "$1") .* 0A " /proc/net/tcp 2>/dev/null
}

# wait_port PORT - until something listens there (10 s at most)
wait_port() {
	wait_until listening "$1"
}

# cell OUTPUT - "rps / p99" from a RESULT line
cell() {
	echo "$1" | awk '/^RESULT/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		e = v["errors"] > 0 ? " (" v["errors"] " errors)" : ""
		c = v["cpu_us"] > 0 ? " / " v["cpu_us"] : ""
		printf "%s / %s%s%s", v["rps"], v["p99_us"], c, e }'
}

# start_policyd NAME STORE [unix] - a daemon with two limits no bench
# reaches, on a free loopback port or (unix) on the unix socket $T/NAME.sock;
# sets NAME_addr (policy_load's address options) and NAME_pid
start_policyd() {
	if [ "$3" = unix ]; then
		listen="unix:$T/$1.sock"
		addr="-u $T/$1.sock"
		ready="test -S $T/$1.sock"
	else
		port=$(free_port)
		listen="inet:127.0.0.1:$port"
		addr="-p $port"
		ready="listening $port"
	fi
	cat >"$T/$1.conf" <<EOF
listen = $listen
store = $2
max_connections = 2000
log_target = file:$T/$1.log
limit hourly = 1h 100000000 messages
limit daily = day 1000000000 recipients
EOF
	"$DAEMON" -f -c "$T/$1.conf" 2>"$T/$1.err" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_until $ready || {
		echo "policy_bench: $1 did not start:" >&2
		cat "$T/$1.err" "$T/$1.log" >&2
		return 1
	}
	eval "${1}_addr=\"$addr\" ${1}_pid=$pid"
}

echo "# policy_bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "${S}s per run, $K senders"

# A private Redis.
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --daemonize yes --save '' \
    --appendonly no --dir "$T" --pidfile "$T/redis.pid" \
    --logfile "$T/redis.log" >/dev/null || RPORT=
[ -n "$RPORT" ] && wait_port "$RPORT"

# postfwd2: one per-sender rate rule no bench reaches.
if command -v postfwd2 >/dev/null; then
	PPORT=$(free_port)
	cat >"$T/postfwd.cf" <<EOF
id=RATE01; protocol_state==END-OF-MESSAGE; action=rate(sender/100000000/3600/450 4.7.1 too many messages)
id=DEFAULT; action=dunno
EOF
	postfwd2 --file "$T/postfwd.cf" --interface 127.0.0.1 --port "$PPORT" \
	    --user nobody --group nogroup --pidfile "$T/postfwd.pid" \
	    --nodns --perfmon --max_servers 128 >"$T/postfwd.out" 2>&1 ||
	    PPORT=
	[ -n "$PPORT" ] && { wait_port "$PPORT" || PPORT=; }
fi

memory_addr=
redis_addr=
unix_addr=
start_policyd memory memory || true
if [ -n "$RPORT" ]; then
	start_policyd redis "redis://127.0.0.1:$RPORT/0" || true
	start_policyd unix "redis://127.0.0.1:$RPORT/0" unix || true
fi

# Steady state: every sender's hourly window already holds 60 one-minute
# slots, as on an MX busy for an hour, not the one or two slots of a
# fresh run. Filled through pd_engine_drive (the engine and the script
# the daemon runs, with an injected clock), one message per sender and
# minute over the last hour.
DRIVE=$B/tests/integration/pd_engine_drive
FILLED=
if [ -n "$redis_addr" ] && [ -x "$DRIVE" ]; then
	grep -v -e '^listen' -e '^log_target' "$T/redis.conf" > "$T/fill.conf"
	echo 'log_target = stderr' >> "$T/fill.conf"
	awk -v k="$K" 'BEGIN {
		for (m = 0; m < 60; m++) {
			for (s = 0; s < k; s++)
				printf "eom user%d@example.org 1 1\n", s
			print "clock 60"
		}
		print "quit" }' |
	    "$DRIVE" -c "$T/fill.conf" -t $(($(date +%s) - 3540)) \
		>"$T/fill.out" 2>/dev/null &&
	    FILLED=$(grep -c 'dunno=1 ' "$T/fill.out")
fi

LUA="local m=tonumber(ARGV[1]) for i=1,3 do local v=tonumber(redis.call('GET',KEYS[i]) or '0') if v>=m then return 0 end end for i=1,3 do redis.call('INCRBY',KEYS[i],1) redis.call('EXPIRE',KEYS[i],ARGV[2]) end return 1"

echo
echo "| conns | trivial ceiling | policyd memory | policyd redis | policyd redis, unix socket | redis-benchmark EVAL | postfwd2 |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $CONNS; do
	tp=$(free_port)
	triv=$(cell "$("$LOAD" -t -p "$tp" -c "$n" -k "$K" -d "$S")")
	mem=n/a
	[ -n "$memory_addr" ] &&
	    mem=$(cell "$("$LOAD" $memory_addr -r "$memory_pid" -c "$n" \
		-k "$K" -d "$S")")
	red=n/a
	[ -n "$redis_addr" ] &&
	    red=$(cell "$("$LOAD" $redis_addr -r "$redis_pid" -c "$n" \
		-k "$K" -d "$S")")
	uni=n/a
	[ -n "$unix_addr" ] &&
	    uni=$(cell "$("$LOAD" $unix_addr -r "$unix_pid" -c "$n" \
		-k "$K" -d "$S")")
	rbm=n/a
	if [ -n "$RPORT" ]; then
		# About S seconds' worth at the figure seen on this machine.
		rbm=$(redis-benchmark -h 127.0.0.1 -p "$RPORT" -c "$n" \
		    -n $((S * 15000)) -r 100000 --csv EVAL "$LUA" 3 \
		    "mt:{__rand_int__}:a" "mt:{__rand_int__}:b" \
		    "mt:{__rand_int__}:c" 100000000 3600 2>/dev/null |
		    awk -F'"' 'NR == 2 { printf "%.0f / %.0f", $4, $14 * 1000 }')
	fi
	pf=n/a
	[ -n "$PPORT" ] &&
	    pf=$(cell "$("$LOAD" -p "$PPORT" -c "$n" -k "$K" -d "$S")")
	echo "| $n | $triv | $mem | $red | $uni | $rbm | $pf |"
done
echo
echo "Cells: requests/s / p99 latency in microseconds [/ CPU microseconds"
echo "per request used by the server process: the trivial server and"
echo "mailtally-policyd (not counting redis-server)]."
if [ -n "$FILLED" ]; then
	echo "Redis columns: before the first run, $FILLED messages of $K senders"
	echo "over the last hour filled every sender's hourly window (60 slots);"
	echo "the memory store starts fresh (it lives in the daemon)."
else
	echo "Redis columns: fresh counters (no $DRIVE to fill them)."
fi

echo
# RSS: fresh daemons, so that the counters the runs above left in the
# memory store do not count as connection memory.
for p in $PIDS; do kill "$p" 2>/dev/null; done
PIDS=
rss_memory_addr=
rss_redis_addr=
start_policyd rss_memory memory || true
[ -n "$RPORT" ] && { start_policyd rss_redis "redis://127.0.0.1:$RPORT/0" || true; }
for name in memory redis; do
	eval "addr=\$rss_${name}_addr pid=\$rss_${name}_pid"
	[ -n "$addr" ] || continue
	out=$("$LOAD" $addr -o 1000 -r "$pid" | grep '^RESULT')
	echo "mailtally-policyd ($name store), fresh, 1,000 connections open" \
	    "(each served one request): $(echo "$out" | sed 's/^RESULT //')"
done
