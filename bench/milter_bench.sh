#!/bin/bash
# milter_bench.sh - mailtally-milter vs opendkim under bench/milter_load
#
# Usage: bench/milter_bench.sh [-o bench/RESULTS.md] [-d SECONDS] [-q]
#
# In one run, with one corpus and one DNS server, this script:
#  - generates a signed corpus and its DNS zone (bench/make_corpus.py) in a
#    mktemp -d directory;
#  - starts dnsmasq on 127.0.0.x port 53 (the first free x from 2) serving
#    the keys with a TTL of 300 s (local-ttl: dnsmasq's default for its own
#    records is 0, which no cache keeps): opendkim's Nameservers option
#    takes an address, no port;
#  - for opendkim (Debian package, Mode v) and mailtally-milter (if built),
#    over a unix socket and over TCP (127.0.0.1, ports from 26000), runs
#    milter_load at N = 1, 4, 16 connections, recording the milter's CPU
#    time (utime+stime from /proc/PID/stat) per message;
#  - runs `openssl speed -seconds 3 rsa2048 ed25519` for the verify ceiling;
#  - prints a markdown section; with -o FILE it also replaces the section
#    between <!-- milter:begin --> and <!-- milter:end --> in FILE.
#
# Environment: MILTER_LOAD (default $top_builddir/bench/milter_load),
# MAILTALLY_MILTER (default $top_builddir/milter/mailtally-milter), OPENDKIM
# (default opendkim), PYTHON (default /usr/bin/python3, which has dkimpy),
# top_builddir (default: the source tree). Needs root for port 53.
# Everything started here is stopped on exit.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MILTER_LOAD=${MILTER_LOAD:-$top_builddir/bench/milter_load}
MAILTALLY_MILTER=${MAILTALLY_MILTER:-$top_builddir/milter/mailtally-milter}
OPENDKIM=${OPENDKIM:-opendkim}
PYTHON=${PYTHON:-/usr/bin/python3}
DURATION=6
WARMUP=1
OUT=
QUIET=0
NS="1 4 16"
AUTHSERV=mx.bench.example

while getopts "d:o:q" opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	o) OUT=$OPTARG ;;
	q) QUIET=1 ;;
	*) echo "usage: $0 [-o RESULTS.md] [-d seconds] [-q]" >&2; exit 2 ;;
	esac
done

T=$(mktemp -d /tmp/milter_bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { [ "$QUIET" = 1 ] || echo "milter_bench: $*" >&2; }
die() { echo "milter_bench: $*" >&2; exit 1; }

[ -x "$MILTER_LOAD" ] || die "$MILTER_LOAD not built (make)"
command -v dnsmasq >/dev/null || die "dnsmasq not found (dnsmasq-base)"
command -v "$OPENDKIM" >/dev/null || die "opendkim not found"
"$PYTHON" -c 'import dkim, nacl' 2>/dev/null || die "$PYTHON lacks dkimpy/nacl"

# kv KEY LINE - the value of KEY=value in a milter_load result line
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# cpu_ticks PID - utime+stime of a process, all threads, in clock ticks
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# free_port - the first TCP port from the last one used up that is free
PORT=26000
free_port() {
	while ss -Hltn "sport = :$PORT" | grep -q .; do
		PORT=$((PORT + 1))
	done
	echo $PORT
	PORT=$((PORT + 1))
}

# wait_listen SPEC PID - wait until a milter listens (or died)
wait_listen() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		case $1 in
		unix:*) [ -S "${1#unix:}" ] && return 0 ;;
		inet:*) ss -Hltn "sport = :${1##*:}" | grep -q . && return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# stop PID - end a milter quickly (libmilter takes ~5 s on SIGTERM)
stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- corpus and DNS --------------------------------------------------------
say "generating the corpus in $T"
CORPUS_INFO=$("$PYTHON" "$here/make_corpus.py" "$T/corpus") ||
    die "make_corpus.py failed"
say "$CORPUS_INFO"

DNS_IP=
for x in 2 3 4 5 6 7 8 9; do
	ss -Hlun "src = 127.0.0.$x and sport = :53" | grep -q . && continue
	cat >"$T/dnsmasq.conf" <<EOF
listen-address=127.0.0.$x
bind-interfaces
port=53
no-resolv
no-hosts
local=/#/
cache-size=1000
local-ttl=300
conf-file=$T/corpus/zone.conf
EOF
	dnsmasq -k -C "$T/dnsmasq.conf" --log-facility="$T/dnsmasq.log" \
	    2>>"$T/dnsmasq.log" &
	pid=$!
	sleep 0.3
	if kill -0 $pid 2>/dev/null; then
		PIDS+=($pid)
		DNS_IP=127.0.0.$x
		break
	fi
done
[ -n "$DNS_IP" ] || die "cannot start dnsmasq on 127.0.0.2-9:53 (root?)"
say "dnsmasq on $DNS_IP:53"

# ---- milters -----------------------------------------------------------------
# start_opendkim EXTRA SPEC - opendkim in verify mode on SPEC, EXTRA (a
# config line or "") added; sets MPID
start_opendkim() {
	local extra=$1 sock=$2 i=$((${#PIDS[@]}))
	case $sock in
	unix:*) ;;
	inet:*) sock="inet:${sock##*:}@127.0.0.1" ;;
	esac
	cat >"$T/opendkim$i.conf" <<EOF
Mode			v
Socket			$sock
Nameservers		$DNS_IP
AuthservID		$AUTHSERV
Syslog			no
UMask			002
PidFile			$T/opendkim$i.pid
$extra
EOF
	"$OPENDKIM" -f -x "$T/opendkim$i.conf" >>"$T/opendkim.log" 2>&1 &
	MPID=$!
}

# start_mailtally SPF SPEC - mailtally-milter on SPEC; sets MPID
start_mailtally() {
	local i=$((${#PIDS[@]}))
	set -- "$2" "$1"
	cat >"$T/mailtally$i.conf" <<EOF
listen = $1
authserv_id = $AUTHSERV
dns_nameservers = $DNS_IP
spf = $2
log_target = file:$T/mailtally.log
EOF
	"$MAILTALLY_MILTER" -c "$T/mailtally$i.conf" -f \
	    >>"$T/mailtally.out" 2>&1 &
	MPID=$!
}

ROWS=
NOTES=
PROTOS=
NAMES=()
SPECS=()
MPIDS=()
# launch NAME TRANSPORT START... - start one milter; adds it to NAMES etc.
launch() {
	local name=$1 transport=$2 spec
	shift 2
	if [ "$transport" = unix ]; then
		spec="unix:$T/$name-$RANDOM.sock"
	else
		spec="inet:127.0.0.1:$(free_port)"
	fi
	"$@" "$spec"
	PIDS+=($MPID)
	if ! wait_listen "$spec" "$MPID"; then
		NOTES="$NOTES- $name over $transport did not start: $(tail -n 3 \
		    "$T"/*.out "$T"/*.log 2>/dev/null | tr '\n' ' ' | cut -c1-300)
"
		stop "$MPID"
		return 1
	fi
	NAMES+=("$name")
	SPECS+=("$spec")
	MPIDS+=("$MPID")
}

# measure NAME TRANSPORT SPEC PID N - one milter_load run, one table row
measure() {
	local name=$1 transport=$2 spec=$3 pid=$4 n=$5 line c0 c1 total cpu
	c0=$(cpu_ticks "$pid")
	line=$("$MILTER_LOAD" -s "$spec" -m "$T/corpus/manifest" -n "$n" \
	    -d "$DURATION" -w "$WARMUP" -a "$AUTHSERV" 2>"$T/run.err")
	c1=$(cpu_ticks "$pid")
	sed "s|^|[$name $transport N=$n] |; s|$T/corpus/||" "$T/run.err" \
	    >>"$T/errors.log"
	say "$name $transport N=$n: $line"
	total=$(kv total "$line")
	cpu=$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
	    -v m="${total:-0}" \
	    'BEGIN { if (m > 0) printf "%.2f", t * 1000 / hz / m; else print "-" }')
	ROWS="$ROWS$name|$transport|$n|$(kv rate "$line")|$(kv p50_ms "$line")|$(kv p99_ms "$line")|$(kv max_ms "$line")|$cpu|$(kv verdict_errors "$line")/$(kv io_errors "$line")|$total|$(kv replies_per_msg "$line")
"
	case $PROTOS in
	*"$name "*) ;;
	*) PROTOS="$PROTOS$name proto=$(kv proto "$line") actions=$(kv actions "$line"); " ;;
	esac
}

# run_transport TRANSPORT - every milter on one transport, interleaved by N
# so that a change in the shared machine's load hits both alike
run_transport() {
	local tr=$1 n i
	NAMES=() SPECS=() MPIDS=()
	launch opendkim "$tr" start_opendkim ""
	if [ "$tr" = unix ]; then
		launch opendkim+QueryCache "$tr" start_opendkim "QueryCache yes"
	fi
	if [ -x "$MAILTALLY_MILTER" ]; then
		launch mailtally-milter "$tr" start_mailtally no
	fi
	for n in $NS; do
		for i in "${!NAMES[@]}"; do
			measure "${NAMES[$i]}" "$tr" "${SPECS[$i]}" \
			    "${MPIDS[$i]}" "$n"
		done
	done
	for i in "${!MPIDS[@]}"; do
		stop "${MPIDS[$i]}"
	done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for tr in unix tcp; do
	say "milters over $tr"
	run_transport $tr
done
if [ -x "$MAILTALLY_MILTER" ]; then
	NAMES=() SPECS=() MPIDS=()
	if launch "mailtally-milter+spf" unix start_mailtally yes; then
		measure "${NAMES[0]}" unix "${SPECS[0]}" "${MPIDS[0]}" 16
		stop "${MPIDS[0]}"
	fi
else
	NOTES="$NOTES- mailtally-milter not built ($MAILTALLY_MILTER): no rows.
"
fi

# ---- crypto ceiling ------------------------------------------------------------
say "openssl speed -seconds 3 rsa2048 ed25519"
SPEED=$(openssl speed -seconds 3 rsa2048 ed25519 2>/dev/null)
RSA_V=$(printf '%s\n' "$SPEED" | awk '/^rsa 2048 bits/ {print $NF}')
ED_V=$(printf '%s\n' "$SPEED" | awk '/Ed25519/ {print $NF}')
NRSA=$(printf '%s\n' "$CORPUS_INFO" | sed -n 's/.*(\([0-9]*\) rsa-2048.*/\1/p')
NED=$(printf '%s\n' "$CORPUS_INFO" | sed -n 's/.* \([0-9]*\) ed25519.*/\1/p')
CORES=$(nproc)
MIX=$(awk -v r="$RSA_V" -v e="$ED_V" -v nr="$NRSA" -v ne="$NED" \
    'BEGIN { if (r > 0 && e > 0 && nr + ne > 0)
	printf "%.0f", 1 / ((nr / (nr + ne)) / r + (ne / (nr + ne)) / e) }')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ------------------------------------------------------------------------
# rate_of NAME TRANSPORT N / field_of ... - look a number up in ROWS
field_of() {
	printf '%s' "$ROWS" | awk -F'|' -v m="$1" -v t="$2" -v n="$3" \
	    -v f="$4" '$1 == m && $2 == t && $3 == n { print $f }'
}

report() {
	local n od mt qc best
	echo "<!-- milter:begin -->"
	echo "## milter: mailtally-milter vs opendkim (DKIM verify)"
	echo
	echo "Measured by \`bench/milter_bench.sh\`, finished $(date -u "+%Y-%m-%d %H:%M UTC") (tree $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo "?")),"
	echo "$CORES cores, load average $LOAD0 before and $LOAD1 after (the"
	echo "machine is shared with other work: absolute numbers can move by 2x between"
	echo "runs; the milters run interleaved at each N, so their ratios move less)."
	echo
	echo "- Corpus (\`bench/make_corpus.py\`, dkimpy): ${CORPUS_INFO#corpus: };"
	echo "  bodies 1-64 KiB (log-uniform), one DKIM-Signature each, relaxed/relaxed"
	echo "  (3/4) or simple/simple (1/4); tampered ones have one body byte or the"
	echo "  signed Subject changed and must get dkim=fail."
	echo "- DNS: one dnsmasq on $DNS_IP:53 for both milters (opendkim"
	echo "  \`Nameservers $DNS_IP\`, mailtally \`dns_nameservers = $DNS_IP\`),"
	echo "  records served with a TTL of 300 s (\`local-ttl=300\`; dnsmasq's default"
	echo "  for its own records is 0, which no resolver cache keeps, as a real"
	echo "  zone's DKIM keys would be). Same TTL for both milters; mailtally sets"
	echo "  no cache-min-ttl, so it caches only what the TTL allows."
	echo "- opendkim $("$OPENDKIM" -V 2>&1 | sed -n 's/.*Filter v//p' | head -1) (Debian), \`Mode v\`, defaults otherwise: no"
	echo "  \`QueryCache\`, so one DNS query per message; the opendkim+QueryCache"
	echo "  rows (unix only) turn its key cache on, for reference. The targets"
	echo "  compare with plain opendkim."
	echo "  mailtally-milter with \`spf = no\` (DKIM only, like opendkim) unless the"
	echo "  row says +spf (then SPF of MAIL FROM and HELO too, against the same dnsmasq)."
	echo "- Client: \`bench/milter_load\`, milter protocol 6 as Postfix 3.7 speaks it"
	echo "  (default macros, one SMFIC_HEADER per field, 64 KiB body chunks, buffered"
	echo "  writes flushed when a reply is due and after DATA), one milter connection"
	echo "  per message, N concurrent connections, ${DURATION} s per run after ${WARMUP} s"
	echo "  warm-up. Like Postfix it does **not** set TCP_NODELAY, so Nagle/delayed-ACK"
	echo "  stalls a milter causes show up as they would under Postfix. Every verdict"
	echo "  is checked (Authentication-Results with authserv-id $AUTHSERV)."
	echo "- The client's packet sequence was checked against a trace of Postfix"
	echo "  3.7.11 + opendkim on this machine (proxy between them): same OPTNEG"
	echo "  masks, macro lists, per-header packets, write grouping, ABORT/QUIT"
	echo "  ending, and the same two TCP stalls described below."
	echo "- CPU ms/msg: the milter process's utime+stime (/proc/PID/stat) over the"
	echo "  run, divided by all messages of the run (warm-up included)."
	echo
	echo "| milter | socket | N | msgs/s | p50 ms | p99 ms | max ms | CPU ms/msg | replies/msg | wrong verdicts / I/O errors | messages |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	printf '%s' "$ROWS" | awk -F'|' 'NF >= 11 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $11, $9, $10 }'
	echo
	echo "replies/msg: reply packets the client read per message, i.e. the"
	echo "round trips the milter asked for (no SMFIP_NR_* flag = one reply per"
	echo "header, etc.). Negotiated masks: ${PROTOS%; }."
	echo
	echo "Targets:"
	for n in 1 4 16; do
		od=$(field_of opendkim unix $n 4)
		qc=$(field_of opendkim+QueryCache unix $n 4)
		mt=$(field_of mailtally-milter unix $n 4)
		if [ -n "$mt" ] && [ -n "$od" ]; then
			awk -v a="$mt" -v b="$od" -v q="${qc:-0}" -v n=$n \
			    -v e="$(field_of mailtally-milter unix $n 9)" 'BEGIN {
			    r = b > 0 ? a / b : 0
			    ok = e == "0/0" ? (r >= 1.5 ? "met" : "NOT met") : \
				"NOT met: wrong verdicts/I/O errors " e
			    printf "- unix, N = %d: mailtally-milter %.0f msgs/s = %.2fx opendkim (%.0f): %s (target >= 1.5x)",
				n, a, r, b, ok
			    if (q > 0)
				printf "; %.2fx opendkim+QueryCache (%.0f)", a / q, q
			    printf "\n" }'
		else
			echo "- unix, N = $n: no mailtally-milter number (target >= 1.5x opendkim's ${od:-?} msgs/s): NOT measured"
		fi
	done
	mt=$(field_of mailtally-milter tcp 1 5)
	od=$(field_of opendkim tcp 1 5)
	if [ -n "$mt" ]; then
		awk -v a="$mt" -v b="${od:-?}" \
		    -v e="$(field_of mailtally-milter tcp 1 9)" 'BEGIN {
		    ok = e == "0/0" ? (a < 5 ? "met" : "NOT met") : \
			"NOT met: wrong verdicts/I/O errors " e
		    printf "- TCP, N = 1: mailtally-milter p50 %.2f ms (opendkim %s ms): %s (target < 5 ms, no Nagle stall)\n",
			a, b, ok }'
	else
		echo "- TCP, N = 1: no mailtally-milter number (opendkim p50 ${od:-?} ms): NOT measured"
	fi
	echo
	od=$(field_of opendkim tcp 1 5)
	if [ -n "$od" ]; then
		echo "Why opendkim over TCP is slow (p50 $od ms at N = 1): two delayed-ACK"
		echo "stalls of ~40-45 ms per message, which Postfix pays too"
		echo "(ENVIRONMENT.md measured ~90 ms per message with Postfix itself)."
		echo "1. opendkim has no DATA callback, so it negotiates SMFIP_NODATA: the"
		echo "   DATA macro packet, flushed when smtpd hands the milter socket to"
		echo "   cleanup, gets no reply; cleanup's first header packet then waits on"
		echo "   Nagle until the milter's delayed ACK of that packet."
		echo "2. At end of message libmilter writes SMFIR_INSHEADER and SMFIR_ACCEPT"
		echo "   as two segments without TCP_NODELAY; the second waits on Nagle for"
		echo "   the MTA's delayed ACK of the first."
		echo "Over a unix socket neither exists."
		echo
	fi
	echo "Verify ceiling, \`openssl speed -seconds 3 rsa2048 ed25519\`, one core:"
	echo "RSA-2048 ${RSA_V:-?} verify/s, Ed25519 ${ED_V:-?} verify/s; for this"
	echo "corpus's mix ($NRSA RSA, $NED Ed25519) ${MIX:-?} signatures/s per core,"
	echo "about $(awk -v m="${MIX:-0}" -v c="$CORES" 'BEGIN { printf "%.0f", m * c }')/s on $CORES cores (the load generator shares them)."
	best=$(printf '%s' "$ROWS" | awk -F'|' '$4 > b { b = $4 } END { print b + 0 }')
	awk -v b="$best" -v m="${MIX:-0}" -v c="$CORES" 'BEGIN { if (m > 0 && b > 0)
	    printf "The best rate above (%.0f msgs/s) is %.0f%% of that: per-message cost\nis milter protocol work (packets, context switches, DNS), not signature\nchecking; the replies/msg column counts the round trips.\n", b, 100 * b / (m * c) }'
	if grep -q '^\[[^]]*\] milter_load' "$T/errors.log" 2>/dev/null; then
		echo
		echo "First errors reported by milter_load (at most 10 per run; AR"
		echo "continuation lines left out):"
		echo
		echo '```'
		grep '^\[[^]]*\] milter_load' "$T/errors.log" | head -n 12 |
		    cut -c1-250
		echo '```'
	fi
	if [ -n "$NOTES" ]; then
		echo
		echo "Not measured:"
		echo
		printf '%s' "$NOTES"
	fi
	echo "<!-- milter:end -->"
}

report >"$T/section.md"
cat "$T/section.md"
if [ -n "$OUT" ]; then
	if [ -f "$OUT" ] && grep -q '<!-- milter:begin -->' "$OUT"; then
		awk -v sec="$T/section.md" '
		    /<!-- milter:begin -->/ { while ((getline l < sec) > 0) print l; skip = 1; next }
		    /<!-- milter:end -->/ { skip = 0; next }
		    !skip { print }' "$OUT" >"$T/results.new" &&
		    cat "$T/results.new" >"$OUT"
	else
		{ [ -f "$OUT" ] || printf '# mailtally benchmarks\n\n'
		  [ -f "$OUT" ] && cat "$OUT" && echo
		  cat "$T/section.md"; } >"$T/results.new" &&
		    cat "$T/results.new" >"$OUT"
	fi
	say "wrote the milter section of $OUT"
fi
if [ -s "$T/errors.log" ]; then
	say "milter_load reported (first lines):"
	head -n 20 "$T/errors.log" >&2
fi
exit 0
