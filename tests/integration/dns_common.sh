# NAME
#	dns_common.sh - loopback DNS servers for the integration tests
# SYNOPSIS
#	. "$top_srcdir/tests/integration/dns_common.sh"
#	port=$(free_port 22053)
#	start_dnsd PORT ZONE.json; start_dnsmasq PORT CONF; stop_dns
# DESCRIPTION
#	Sourced by the conformance and hostile-input tests. Servers listen
#	on 127.0.0.1 only, write into $T (the caller's mktemp -d), and are
#	stopped by stop_dns (call it from the caller's EXIT trap too). Each
#	test starts its port search at its own base (make check runs them
#	in parallel), and a server that could not bind is an error.
#	dnsd.py is our own tiny server (any TXT bytes, CNAME loops, silence,
#	SERVFAIL); dnsmasq serves plain key records like a real server.
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
dns_pids=

# free_port - first port free for UDP and TCP on 127.0.0.1, from $1
free_port() {
	$PY - "$1" <<'PYEOF'
import socket, sys
p = int(sys.argv[1])
while True:
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", p))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", p))
        u.close(); t.close(); print(p); break
    except OSError:
        p += 1
PYEOF
}

# dns_wait - until something answers DNS on port $1 (5 s at most)
dns_wait() {
	$PY - "$1" <<'PYEOF'
import socket, sys, time
q = bytes.fromhex("1234010000010000000000000570726f6265076578616d706c650000010001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
for _ in range(50):
    try:
        s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
        s.recvfrom(512)
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PYEOF
}

# start_dnsd PORT ZONE - our server; bails out if it cannot listen
start_dnsd() {
	$PY "$top_srcdir/tests/integration/dnsd.py" --port "$1" --zone "$2" \
	    2>>"$T/dnsd.log" &
	_pid=$!
	dns_pids="$dns_pids $_pid"
	# a TIMEOUT-only zone never answers: give it a moment instead
	dns_wait "$1" || sleep 0.3
	# the answer may have come from someone else's server on that port
	kill -0 "$_pid" 2>/dev/null || {
		echo "Bail out! dnsd could not listen on 127.0.0.1:$1: $(tail -1 "$T/dnsd.log")"
		exit 1
	}
}

# start_dnsmasq PORT CONF - dnsmasq in the foreground, in the background
start_dnsmasq() {
	dnsmasq --no-daemon --conf-file="$2" --port="$1" \
	    --listen-address=127.0.0.1 --bind-interfaces \
	    --pid-file="$T/dnsmasq.pid" 2>>"$T/dnsmasq.log" &
	_pid=$!
	dns_pids="$dns_pids $_pid"
	dns_wait "$1" && kill -0 "$_pid" 2>/dev/null || {
		echo "Bail out! dnsmasq could not listen on 127.0.0.1:$1: $(tail -1 "$T/dnsmasq.log")"
		exit 1
	}
}

# ar_header - only the Authentication-Results field of a verifier's output
# (mailtally-milter --test prints its log line after it, which also
# says "dkim=..." and "spf=...")
ar_header() {
	awk '/^Authentication-Results:/ { f = 1; print; next }
	    f && /^[ \t]/ { print; next } { f = 0 }'
}

# stop_dns - stop every server started here
stop_dns() {
	for p in $dns_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	dns_pids=
}
