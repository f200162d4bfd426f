#!/bin/sh
# redis_cost.sh - redis-server's instructions per policy request (callgrind)
# for a pattern of senders, in the state that pattern leaves after an hour.
#
# Usage: bench/redis_cost.sh [BUILDDIR [EVERY [SENDERS [PER_SLOT]]]]
#   BUILDDIR  default .; needs tests/integration/pd_engine_drive
#   EVERY     each sender sends every EVERY minutes (default 1)
#   SENDERS   how many senders (default 1000)
#   PER_SLOT  messages a sender sends each time (default 1)
#
# A private redis-server (unix socket, no persistence) runs under
# valgrind --tool=callgrind. pd_engine_drive, on an injected clock, sends
# two hours of RCPT + END-OF-MESSAGE requests with the bench's two limits
# (1h rolling, day calendar); the counters are zeroed after the first hour,
# so the figure is the second hour's total over its requests: the cost of
# a decision once the rolling windows hold what the pattern puts there.
# Instruction counts do not depend on the machine's load, so runs compare
# across trees and hours (bench/RESULTS.md). About 1 minute per 10,000
# requests.

B=${1:-.}
EVERY=${2:-1}
SENDERS=${3:-1000}
PER=${4:-1}
DRIVE=$B/tests/integration/pd_engine_drive

for c in valgrind callgrind_control redis-server redis-cli; do
	command -v $c >/dev/null || { echo "redis_cost.sh: $c not found" >&2; exit 1; }
done
[ -x "$DRIVE" ] || {
	echo "redis_cost.sh: no $DRIVE (make tests/integration/pd_engine_drive)" >&2
	exit 1
}

T=$(mktemp -d)
V=
D=
cleanup() {
	[ -n "$D" ] && kill "$D" 2>/dev/null
	[ -n "$V" ] && { redis-cli -s "$T/r.sock" shutdown nosave >/dev/null 2>&1
		wait "$V" 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" redis-server \
    --port 0 --unixsocket "$T/r.sock" --save '' --appendonly no \
    --dir "$T" --logfile "$T/r.log" >/dev/null 2>"$T/vg.err" &
V=$!
i=0
until redis-cli -s "$T/r.sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "redis_cost.sh: redis-server did not start" >&2; exit 1; }
	sleep 0.1
done

cat >"$T/p.conf" <<EOF
store = redis+unix://$T/r.sock
store_timeout = 5s
log_target = stderr
limit hourly = 1h 100000000 messages
limit daily = day 1000000000 recipients
EOF

# Two hours, one minute of the injected clock at a time; "ZERO" marks the
# end of the first hour.
awk -v e="$EVERY" -v ns="$SENDERS" -v per="$PER" 'BEGIN {
	for (m = 0; m < 120; m++) {
		for (s = 0; s < ns; s++)
			if ((m + s) % e == 0)
				for (r = 0; r < per; r++)
					printf "rcpt u%d@example.org\neom u%d@example.org 1 1\n", s, s
		if (m == 59)
			print "ZERO"
		print "clock 60"
	} }' >"$T/in"
sed -n '1,/^ZERO$/p' "$T/in" | grep -v '^ZERO$' >"$T/in1"
sed -n '/^ZERO$/,$p' "$T/in" | grep -v '^ZERO$' >"$T/in2"
echo quit >>"$T/in2"
n1=$(grep -c . "$T/in1")
nreq=$(grep -c -e '^rcpt' -e '^eom' "$T/in2")

mkfifo "$T/fifo"
"$DRIVE" -c "$T/p.conf" -t 1795435200 <"$T/fifo" >"$T/out" 2>/dev/null &
D=$!
exec 3>"$T/fifo"
cat "$T/in1" >&3
while [ "$(grep -c . "$T/out")" -lt "$n1" ]; do
	kill -0 "$D" 2>/dev/null || { echo "redis_cost.sh: pd_engine_drive failed" >&2; exit 1; }
	sleep 0.2
done
callgrind_control -z "$V" >/dev/null 2>&1
cat "$T/in2" >&3
exec 3>&-
wait "$D"
D=
callgrind_control -d "$V" >/dev/null 2>&1
sleep 1
if grep -q 'storeerr=[1-9]' "$T/out"; then
	echo "redis_cost.sh: store errors; see the drive's output" >&2
	exit 1
fi
# The dump after the zeroing is the file with the largest total.
tot=$(for f in "$T"/cg.out*; do
	sed -n 's/^summary: //p' "$f" | head -1
done | sort -n | tail -1)
echo "senders $SENDERS, $PER message(s) every $EVERY min:" \
    "$nreq requests in the second hour," \
    "$((tot / nreq)) redis-server instructions per request"
