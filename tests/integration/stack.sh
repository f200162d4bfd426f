# stack.sh - a private mail stack on loopback, for tests and the demo
#
# NAME
#	stack.sh - start and stop dnsmasq, redis-server, mailtally-milter,
#	mailtally-policyd and a private Postfix instance wired to both
# SYNOPSIS
#	. tests/integration/stack.sh
#	stack_init [BASE_PORT]		# temp dir, free ports, traps
#	stack_start			# everything, in dependency order
#	stack_send IP FROM TO FILE [swaks args]	# -> $ST_QID, $ST_REPLY
#	stack_stop			# also run by the EXIT trap
#	(the mail side, stack_msg, stack_sign, stack_send and the log helpers,
#	is in stack_mail.sh, which this file sources)
# DESCRIPTION
#	Everything lives in one mktemp -d directory ($ST_DIR) and listens on
#	127.0.0.1 only, on ports found free from BASE_PORT (default 24000)
#	upward. stack_init installs traps so that stack_stop runs on exit,
#	Ctrl-C, SIGTERM and SIGHUP; a caller with its own EXIT work sets
#	ST_ON_EXIT to a command that runs before the stack is stopped; one
#	that sets ST_KEEP_RUNNING=1 leaves everything running (demo --keep).
#
#	Client addresses. Every connection comes from 127.0.0.1, and the
#	SPF records name documentation addresses, so that the suite never
#	depends on which loopback addresses a machine has configured.
#	Instead the client announces the address to check
#	with XCLIENT (smtpd_authorized_xclient_hosts = 127.0.0.1), as a
#	Postfix operator would test: Postfix, the milter and the policy
#	daemon then all see that address. The announced addresses are RFC
#	5737 documentation addresses; nothing ever connects to them.
#	  192.0.2.5    authorized by SPF for dom1.example and dom2.example
#	  192.0.2.6    authorized by SPF for dom2.example only
#	  203.0.113.7  authorized for nothing: SPF fail
#	  127.0.0.1    the real TCP peer; smtp-source (no XCLIENT) load, an
#	               SPF pass by libspf2's loopback rule
#	  127.0.0.8    mynetworks and the milter's internal_hosts (so
#	               127.0.0.1 and the addresses above are all checked)
#
#	DNS (dnsmasq, no recursion, NXDOMAIN for anything else):
#	  dom1.example   "v=spf1 ip4:192.0.2.5 -all", DKIM rsa  s2048 (2048 bit)
#	  dom2.example   "v=spf1 ip4:192.0.2.5 ip4:192.0.2.6 -all", DKIM ed25519 ed1
#	  load.example   "v=spf1 ip4:127.0.0.1 -all"
#	  rcpt.example   the virtual mailbox domain (one maildir, $ST_MAILDIR)
#	Names are under .example because libunbound answers .test locally.
#
#	Knobs (set before stack_start, or before stack_milter_start and
#	friends when restarting one part): ST_MILTER_CONF_EXTRA and
#	ST_POLICYD_CONF_EXTRA (lines appended to the daemons' configs),
#	ST_POSTFIX_MAIN_EXTRA (lines appended to main.cf), ST_LOG_FORMAT
#	(text or json), ST_WITH_MILTER=0 / ST_WITH_POLICYD=0 (run Postfix
#	without that daemon and without wiring it), ST_SOCKETS=unix (both
#	daemons on unix sockets under the queue directory, named relative to
#	it in main.cf; Redis on a unix socket too) and ST_CHROOT=y (smtpd chrooted in the queue
#	directory, as Debian's master.cf has it).
# DIAGNOSTICS
#	Functions return non-zero and print to stderr what failed, with the
#	tail of that server's log.
# SEE ALSO
#	scripts/demo.sh, tests/integration/e2e_postfix.sh, doc/operator.md

# The variables ST_* are this library's interface: callers read them.
# shellcheck disable=SC2034

ST_PY=/usr/bin/python3
[ -x "$ST_PY" ] || ST_PY=python3

# stack_missing - print the commands the stack needs and cannot find
stack_missing() {
	local c missing=
	for c in postfix postconf redis-server redis-cli dnsmasq swaks openssl \
	    smtp-source ss; do
		command -v "$c" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$c" ] || missing="$missing $c"
	done
	"$ST_PY" -c 'import dkim, nacl, dns.resolver' 2>/dev/null ||
	    missing="$missing python3-dkim/python3-nacl/python3-dnspython"
	echo "${missing# }"
}

# stack_log - a progress line on stderr (quiet unless ST_VERBOSE=1)
stack_log() {
	[ "${ST_VERBOSE:-0}" = 1 ] && echo "stack: $*" >&2
	return 0
}

# stack_err - a failure line on stderr
stack_err() {
	echo "stack: $*" >&2
}

# stack_port_free - is 127.0.0.1:PORT free for both TCP and UDP?
stack_port_free() {
	"$ST_PY" - "$1" <<'EOF' 2>/dev/null
import socket, sys
p = int(sys.argv[1])
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", p))
    s.close()
EOF
}

# stack_pick_port - set variable NAME to the next free port from $ST_NEXT_PORT
stack_pick_port() {
	local p=$ST_NEXT_PORT
	while ! stack_port_free "$p"; do
		p=$((p + 1))
		[ "$p" -lt "$((ST_BASE_PORT + 500))" ] || return 1
	done
	ST_NEXT_PORT=$((p + 1))
	eval "$1=$p"
}

# stack_set_listen - the daemons' listen addresses and Postfix's names for them
stack_set_listen() {
	if [ "${ST_SOCKETS:-inet}" = unix ]; then
		# Under the queue directory, named relative to it in Postfix:
		# that works whether smtpd is chrooted there or not.
		ST_MILTER_LISTEN=unix:$ST_DIR/queue/mailtally/milter.sock
		ST_POLICYD_LISTEN=unix:$ST_DIR/queue/mailtally/policyd.sock
		ST_MILTER_POSTFIX=unix:mailtally/milter.sock
		ST_POLICYD_POSTFIX=unix:mailtally/policyd.sock
		ST_STORE=redis+unix://$ST_DIR/redis.sock
		mkdir -p "$ST_DIR/queue/mailtally"
	else
		ST_MILTER_LISTEN=inet:127.0.0.1:$ST_MILTER_PORT
		ST_POLICYD_LISTEN=inet:127.0.0.1:$ST_POLICYD_PORT
		ST_MILTER_POSTFIX=$ST_MILTER_LISTEN
		ST_POLICYD_POSTFIX=$ST_POLICYD_LISTEN
		ST_STORE=redis://127.0.0.1:$ST_REDIS_PORT/0
	fi
}

# stack_on_exit - the trap: the caller's work, then stop everything
stack_on_exit() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "${ST_ON_EXIT:-}" ]; then
		eval "$ST_ON_EXIT" || true
	fi
	[ "${ST_KEEP_RUNNING:-0}" = 1 ] || stack_stop
	exit "$rc"
}

# stack_init - make the directory, pick ports, install the traps
stack_init() {
	ST_BASE_PORT=${1:-24000}
	# A random start in the range, so that two runs started at the same
	# moment (two trees, make -j) rarely reach for the same ports.
	ST_NEXT_PORT=$((ST_BASE_PORT + RANDOM % 150))
	ST_TOP=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	ST_BUILD=${top_builddir:-$ST_TOP}
	ST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mailtally-stack.XXXXXX") || return 1
	ST_TOKEN=${ST_DIR##*/}
	chmod 0755 "$ST_DIR"	# postfix and nobody must traverse it
	ST_PF=$ST_DIR/postfix
	ST_MAILDIR=$ST_DIR/mail/u
	ST_MAILLOG=$ST_DIR/maillog
	ST_MILTER_LOG=$ST_DIR/milter.log
	ST_POLICYD_LOG=$ST_DIR/policyd.log
	ST_MILTER_BIN=${ST_MILTER_BIN:-$ST_BUILD/milter/mailtally-milter}
	ST_POLICYD_BIN=${ST_POLICYD_BIN:-$ST_BUILD/policyd/mailtally-policyd}
	ST_CTL_BIN=${ST_CTL_BIN:-$ST_BUILD/tools/mailtally-ctl}
	ST_AUTHSERV_ID=mx.rcpt.example
	ST_LOG_FORMAT=${ST_LOG_FORMAT:-text}
	stack_pick_port ST_DNS_PORT &&
	stack_pick_port ST_REDIS_PORT &&
	stack_pick_port ST_MILTER_PORT &&
	stack_pick_port ST_POLICYD_PORT &&
	stack_pick_port ST_SMTP_PORT || {
		stack_err "no free ports from $ST_BASE_PORT"
		return 1
	}
	stack_set_listen
	trap stack_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	stack_log "dir $ST_DIR ports dns=$ST_DNS_PORT redis=$ST_REDIS_PORT" \
	    "milter=$ST_MILTER_PORT policyd=$ST_POLICYD_PORT smtp=$ST_SMTP_PORT"
}

# stack_wait_tcp - wait up to SECS for a TCP listener on 127.0.0.1:PORT
#	With PID, the listener must be that process's (not another stack's
#	that got the port first); it fails early when PID is gone.
stack_wait_tcp() {
	local port=$1 secs=${2:-10} pid=${3:-} i=0
	while [ "$i" -lt "$((secs * 10))" ]; do
		if [ -n "$pid" ]; then
			ss -Hltnp "sport = :$port" 2>/dev/null |
			    grep -q "pid=$pid," && return 0
			kill -0 "$pid" 2>/dev/null || return 1
		else
			ss -Hltn "sport = :$port" 2>/dev/null | grep -q . &&
			    return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stack_wait_listen - wait for a daemon's listener: a TCP PORT, or with
#	ST_SOCKETS=unix the socket files under the queue directory
stack_wait_listen() {
	local port=$1 secs=${2:-10} i=0 sock
	[ "${ST_SOCKETS:-inet}" = unix ] || {
		stack_wait_tcp "$port" "$secs" "${3:-}"
		return
	}
	case $port in
	"$ST_MILTER_PORT") sock=${ST_MILTER_LISTEN#unix:} ;;
	*) sock=${ST_POLICYD_LISTEN#unix:} ;;
	esac
	while [ "$i" -lt "$((secs * 10))" ]; do
		[ -S "$sock" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stack_chroot_files - what a chrooted smtpd reads, copied into the jail
stack_chroot_files() {
	local f
	mkdir -p "$ST_DIR/queue/etc" "$ST_DIR/queue/lib" || return 1
	for f in localtime services resolv.conf hosts nsswitch.conf \
	    host.conf passwd group; do
		[ -f "/etc/$f" ] && cp "/etc/$f" "$ST_DIR/queue/etc/"
	done
	return 0
}

# stack_wait_udp - wait up to SECS for a UDP socket on 127.0.0.1:PORT
stack_wait_udp() {
	local port=$1 secs=${2:-10} i=0
	while [ "$i" -lt "$((secs * 10))" ]; do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stack_wait_gone - wait up to SECS for process PID to exit
stack_wait_gone() {
	local pid=$1 secs=${2:-10} i=0
	while kill -0 "$pid" 2>/dev/null; do
		[ "$i" -lt "$((secs * 10))" ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

# stack_kill - TERM a process we started, wait, KILL if it lingers
stack_kill() {
	local pid=$1 secs=${2:-10}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! stack_wait_gone "$pid" "$secs"; then
		kill -KILL "$pid" 2>/dev/null
		stack_wait_gone "$pid" 2
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# stack_b64 - base64 without line breaks
stack_b64() {
	base64 | tr -d '\n'
}

# stack_txt_split - a TXT value as dnsmasq's comma-separated 255-byte strings
stack_txt_split() {
	local s=$1 out=
	while [ "${#s}" -gt 250 ]; do
		out="$out\"${s:0:250}\","
		s=${s:250}
	done
	echo "$out\"$s\""
}

# stack_keys - generate the DKIM keys: RSA-2048 (dom1), Ed25519 (dom2)
stack_keys() {
	local k=$ST_DIR/keys
	mkdir -p "$k" || return 1
	openssl genrsa -traditional -out "$k/dom1.rsa.pem" 2048 2>/dev/null &&
	openssl rsa -in "$k/dom1.rsa.pem" -pubout -outform DER 2>/dev/null |
	    stack_b64 >"$k/dom1.rsa.pub" &&
	openssl genpkey -algorithm ed25519 -out "$k/dom2.ed.pem" 2>/dev/null &&
	openssl pkey -in "$k/dom2.ed.pem" -outform DER 2>/dev/null |
	    tail -c 32 | stack_b64 >"$k/dom2.ed.seed" &&
	openssl pkey -in "$k/dom2.ed.pem" -pubout -outform DER 2>/dev/null |
	    tail -c 32 | stack_b64 >"$k/dom2.ed.pub" || {
		stack_err "DKIM key generation failed"
		return 1
	}
	[ -s "$k/dom1.rsa.pub" ] && [ -s "$k/dom2.ed.pub" ]
}

# stack_dns_token - does the dnsmasq on ST_DNS_PORT answer with our token?
#	dnsmasq binds with SO_REUSEADDR, so two stacks started at the same
#	moment can share a UDP port without an error; the token tells ours.
stack_dns_token() {
	"$ST_PY" - "$ST_DNS_PORT" "$ST_TOKEN" <<'EOF' 2>/dev/null
import sys, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = int(sys.argv[1])
a = r.resolve("stack-token.example", "TXT", lifetime=3)
sys.exit(0 if b"".join(a[0].strings).decode() == sys.argv[2] else 1)
EOF
}

# stack_dns_run - write the config and run dnsmasq on ST_DNS_PORT
stack_dns_run() {
	local c=$ST_DIR/dnsmasq.conf
	{
		echo "listen-address=127.0.0.1"
		echo "bind-interfaces"
		echo "port=$ST_DNS_PORT"
		echo "no-resolv"
		echo "no-hosts"
		echo "no-negcache"
		echo "local=/#/"
		echo "log-facility=$ST_DIR/dnsmasq.log"
		echo "txt-record=stack-token.example,\"$ST_TOKEN\""
		echo "txt-record=dom1.example,\"v=spf1 ip4:192.0.2.5 -all\""
		echo "txt-record=dom2.example,\"v=spf1 ip4:192.0.2.5 ip4:192.0.2.6 -all\""
		echo "txt-record=load.example,\"v=spf1 ip4:127.0.0.1 -all\""
		echo "txt-record=s2048._domainkey.dom1.example,$(stack_txt_split \
		    "v=DKIM1; k=rsa; p=$(cat "$ST_DIR/keys/dom1.rsa.pub")")"
		echo "txt-record=ed1._domainkey.dom2.example,$(stack_txt_split \
		    "v=DKIM1; k=ed25519; p=$(cat "$ST_DIR/keys/dom2.ed.pub")")"
		echo "${ST_DNS_EXTRA:-}"
	} >"$c"
	dnsmasq -k -C "$c" --pid-file= >>"$ST_DIR/dnsmasq.log" 2>&1 &
	ST_DNS_PID=$!
	stack_wait_udp "$ST_DNS_PORT" 10 && stack_dns_token
}

# stack_dns_start - dnsmasq with the SPF and DKIM records of the test domains
#	The first start moves to another port when the one picked turns out
#	to be shared with another stack; a restart (the "DNS down" case)
#	keeps its port, which the milter's config names.
stack_dns_start() {
	local try=0
	[ -s "$ST_DIR/keys/dom2.ed.pub" ] || stack_keys || return 1
	until stack_dns_run; do
		stack_kill "$ST_DNS_PID" 5
		try=$((try + 1))
		if [ "${ST_DNS_STARTED:-0}" = 1 ] || [ "$try" -ge 5 ] ||
		    ! stack_pick_port ST_DNS_PORT; then
			stack_err "dnsmasq did not start on 127.0.0.1:$ST_DNS_PORT"
			tail -5 "$ST_DIR/dnsmasq.log" >&2
			return 1
		fi
		stack_log "dnsmasq: port shared with another stack, trying $ST_DNS_PORT"
	done
	ST_DNS_STARTED=1
	stack_log "dnsmasq pid $ST_DNS_PID on 127.0.0.1:$ST_DNS_PORT"
}

# stack_redis_start - a throwaway redis-server, no persistence
#	With ST_SOCKETS=unix it listens on $ST_DIR/redis.sock only.
stack_redis_start() {
	local i=0 listen
	if [ "${ST_SOCKETS:-inet}" = unix ]; then
		listen="--port 0 --unixsocket $ST_DIR/redis.sock --unixsocketperm 600"
	else
		listen="--port $ST_REDIS_PORT --bind 127.0.0.1"
	fi
	# shellcheck disable=SC2086 # options
	redis-server $listen --daemonize no \
	    --save '' --appendonly no --dir "$ST_DIR" \
	    --logfile "$ST_DIR/redis.log" >/dev/null 2>&1 &
	ST_REDIS_PID=$!
	# ready, and ours: INFO names the pid of the server that answers
	until stack_redis info server 2>/dev/null |
	    tr -d '\r' | grep -qx "process_id:$ST_REDIS_PID"; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$ST_REDIS_PID" 2>/dev/null; then
			stack_err "redis-server did not start"
			tail -5 "$ST_DIR/redis.log" >&2
			return 1
		fi
		sleep 0.1
	done
	stack_log "redis pid $ST_REDIS_PID on 127.0.0.1:$ST_REDIS_PORT"
}

# stack_redis_stop - stop redis-server (the "Redis down" case)
stack_redis_stop() {
	[ -n "${ST_REDIS_PID:-}" ] || return 0
	stack_redis shutdown nosave >/dev/null 2>&1
	stack_kill "$ST_REDIS_PID" 5
	ST_REDIS_PID=
}

# stack_redis - run redis-cli against the stack's Redis (at most 5 s)
stack_redis() {
	if [ "${ST_SOCKETS:-inet}" = unix ]; then
		timeout 5 redis-cli -s "$ST_DIR/redis.sock" "$@"
	else
		timeout 5 redis-cli -p "$ST_REDIS_PORT" "$@"
	fi
}

# stack_milter_conf - write the milter's config file
stack_milter_conf() {
	cat >"$ST_DIR/milter.conf" <<EOF
# mailtally-milter config written by tests/integration/stack.sh
listen          = $ST_MILTER_LISTEN
socket_mode     = 0666
authserv_id     = $ST_AUTHSERV_ID
internal_hosts  = 127.0.0.8/32
dns_nameservers = 127.0.0.1@$ST_DNS_PORT
dns_timeout     = 3s
log_format      = $ST_LOG_FORMAT
log_target      = file:$ST_MILTER_LOG
${ST_MILTER_CONF_EXTRA:-}
EOF
}

# stack_policyd_conf - write the policy daemon's config file
stack_policyd_conf() {
	cat >"$ST_DIR/policyd.conf" <<EOF
# mailtally-policyd config written by tests/integration/stack.sh
listen          = $ST_POLICYD_LISTEN
socket_mode     = 0666
store           = $ST_STORE
# Generous: a loaded test machine must not turn into on_store_error.
store_timeout   = 2s
on_store_error  = ${ST_ON_STORE_ERROR:-dunno}
identity        = sasl_username, sender
log_format      = $ST_LOG_FORMAT
log_target      = file:$ST_POLICYD_LOG
${ST_POLICYD_CONF_EXTRA:-limit daily = day 3 messages}
EOF
}

# stack_daemon_start - run BIN -c CONF -f in the background, wait for PORT
stack_daemon_start() {
	local name=$1 bin=$2 conf=$3 port=$4 pid
	if [ ! -x "$bin" ]; then
		stack_err "$name: $bin not built"
		return 1
	fi
	if [ "${ST_SOCKETS:-inet}" = unix ]; then
		rm -f "$ST_DIR/queue/mailtally/$name.sock"	# a stale one
	fi
	"$bin" -c "$conf" -f >>"$ST_DIR/$name.stderr" 2>&1 &
	pid=$!
	if ! stack_wait_listen "$port" 10 "$pid" || ! kill -0 "$pid" 2>/dev/null; then
		stack_err "$name did not start (pid $pid, port $port)"
		tail -5 "$ST_DIR/$name.stderr" >&2
		stack_kill "$pid" 2
		return 1
	fi
	eval "ST_$(echo "$name" | tr a-z A-Z)_PID=$pid"
	stack_log "$name pid $pid on 127.0.0.1:$port"
}

# stack_milter_start - (re)write the config and start mailtally-milter
stack_milter_start() {
	stack_milter_conf &&
	stack_daemon_start milter "$ST_MILTER_BIN" "$ST_DIR/milter.conf" \
	    "$ST_MILTER_PORT"
}

# stack_policyd_start - (re)write the config and start mailtally-policyd
stack_policyd_start() {
	stack_policyd_conf &&
	stack_daemon_start policyd "$ST_POLICYD_BIN" "$ST_DIR/policyd.conf" \
	    "$ST_POLICYD_PORT"
}

# stack_milter_stop - stop mailtally-milter (libmilter takes ~5 s)
stack_milter_stop() {
	stack_kill "${ST_MILTER_PID:-}" 15
	ST_MILTER_PID=
}

# stack_policyd_stop - stop mailtally-policyd
stack_policyd_stop() {
	stack_kill "${ST_POLICYD_PID:-}" 10
	ST_POLICYD_PID=
}

# stack_ctl - run mailtally-ctl against the policy daemon's config
stack_ctl() {
	"$ST_CTL_BIN" -c "$ST_DIR/policyd.conf" "$@"
}

# stack_postfix_conf - write main.cf and master.cf of the private instance
stack_postfix_conf() {
	local pf=$ST_PF milters='' rcpt='' eod=''
	mkdir -p "$pf" "$ST_DIR/queue" "$ST_DIR/data" "$ST_DIR/mail" || return 1
	chown postfix:postfix "$ST_DIR/data" &&
	chown nobody:nogroup "$ST_DIR/mail" || return 1
	[ -f "$pf/master.cf" ] || cp /etc/postfix/master.cf "$pf/" || return 1
	if [ "${ST_WITH_MILTER:-1}" = 1 ]; then
		milters=$ST_MILTER_POSTFIX
	fi
	if [ "${ST_WITH_POLICYD:-1}" = 1 ]; then
		rcpt="check_policy_service $ST_POLICYD_POSTFIX,"
		eod="check_policy_service $ST_POLICYD_POSTFIX"
	fi
	cat >"$pf/main.cf" <<EOF
# main.cf of a private Postfix written by tests/integration/stack.sh
compatibility_level = 3.6
queue_directory = $ST_DIR/queue
data_directory = $ST_DIR/data
myhostname = $ST_AUTHSERV_ID
mydomain = rcpt.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.8/32
mydestination = localhost
alias_maps =
alias_database =
maillog_file_prefixes = /var, /dev/stdout, $ST_DIR
maillog_file = $ST_MAILLOG
virtual_mailbox_domains = rcpt.example
virtual_mailbox_base = $ST_DIR/mail
virtual_mailbox_maps = static:u/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
transport_maps = inline:{discard.example=discard:}
smtpd_peername_lookup = no
# The client may announce the address to check (see stack.sh: loopback
# clients always pass SPF in libspf2).
smtpd_authorized_xclient_hosts = 127.0.0.1/32
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
# Long queue ids never repeat: with short ones (inode number + time) a
# busy run reuses a queue id, and "one auth line per queue id" breaks.
enable_long_queue_ids = yes
# The queue file (and so the queue id) exists from MAIL FROM on, so the
# policy request at RCPT carries the queue id the later lines use.
smtpd_delay_open_until_valid_rcpt = no
smtpd_milters = $milters
milter_default_action = ${ST_MILTER_DEFAULT_ACTION:-tempfail}
milter_connect_timeout = 5s
smtpd_recipient_restrictions = $rcpt reject_unauth_destination
smtpd_end_of_data_restrictions = $eod
smtpd_policy_service_default_action = ${ST_POLICY_DEFAULT_ACTION:-451 4.3.5 Policy service unavailable, try again later}
smtpd_policy_service_timeout = 10s
queue_run_delay = 10s
minimal_backoff_time = 10s
delay_warning_time = 0
${ST_POSTFIX_MAIN_EXTRA:-}
EOF
	postconf -c "$pf" -M# smtp/inet &&
	postconf -c "$pf" -M "127.0.0.1:$ST_SMTP_PORT/inet = 127.0.0.1:$ST_SMTP_PORT inet n - n - - smtpd" &&
	postconf -c "$pf" -F '*/*/chroot = n' || return 1
	if [ "${ST_CHROOT:-n}" = y ]; then
		# smtpd chrooted in the queue directory, as Debian ships it
		postconf -c "$pf" -F "127.0.0.1:$ST_SMTP_PORT/inet/chroot = y" &&
		stack_chroot_files
	fi
}

# stack_postfix - run postfix(1) on the private instance: start, stop, reload
stack_postfix() {
	postfix -c "$ST_PF" "$@"
}

# stack_postfix_start - configure and start the private Postfix
stack_postfix_start() {
	stack_postfix_conf || {
		stack_err "postfix configuration failed"
		return 1
	}
	stack_postfix start >"$ST_DIR/postfix.start" 2>&1 &&
	stack_wait_tcp "$ST_SMTP_PORT" 20 \
	    "$(tr -d ' ' <"$ST_DIR/queue/pid/master.pid" 2>/dev/null)" || {
		stack_err "postfix did not start on 127.0.0.1:$ST_SMTP_PORT"
		cat "$ST_DIR/postfix.start" >&2
		tail -5 "$ST_MAILLOG" >&2 2>/dev/null
		stack_postfix stop >/dev/null 2>&1
		return 1
	}
	ST_POSTFIX_UP=1
	stack_log "postfix on 127.0.0.1:$ST_SMTP_PORT, log $ST_MAILLOG"
}

# stack_postfix_stop - stop the private Postfix and wait for its master
stack_postfix_stop() {
	local pid
	[ "${ST_POSTFIX_UP:-0}" = 1 ] || return 0
	pid=$(tr -d ' ' <"$ST_DIR/queue/pid/master.pid" 2>/dev/null)
	stack_postfix stop >/dev/null 2>&1
	[ -n "$pid" ] && stack_wait_gone "$pid" 15
	ST_POSTFIX_UP=0
}

# stack_on_port - run START; while it fails, move VAR to another free port
#	(another stack may have taken the port between the check and the
#	bind), at most 5 times. Only for a first start: nothing names the
#	port yet.
stack_on_port() {
	local var=$1 start=$2 try=0
	until "$start"; do
		try=$((try + 1))
		[ "$try" -lt 5 ] && stack_pick_port "$var" || return 1
		[ "${ST_SOCKETS:-inet}" = unix ] && [ "$var" != ST_REDIS_PORT ] &&
		    [ "$var" != ST_SMTP_PORT ] && return 1
		stack_set_listen
		stack_log "$start: trying port $(eval echo "\$$var")"
	done
}

# stack_start - start every part in dependency order
stack_start() {
	stack_keys &&
	stack_dns_start &&
	stack_on_port ST_REDIS_PORT stack_redis_start || return 1
	if [ "${ST_WITH_MILTER:-1}" = 1 ]; then
		stack_on_port ST_MILTER_PORT stack_milter_start || return 1
	fi
	if [ "${ST_WITH_POLICYD:-1}" = 1 ]; then
		stack_on_port ST_POLICYD_PORT stack_policyd_start || return 1
	fi
	stack_on_port ST_SMTP_PORT stack_postfix_start
}

# stack_stop - stop whatever runs, remove the directory unless ST_KEEP_DIR=1
stack_stop() {
	stack_postfix_stop
	stack_milter_stop
	stack_policyd_stop
	stack_redis_stop
	stack_kill "${ST_DNS_PID:-}" 5
	ST_DNS_PID=
	if [ -n "${ST_DIR:-}" ] && [ -d "$ST_DIR" ] &&
	    [ "${ST_KEEP_DIR:-0}" != 1 ]; then
		rm -rf "$ST_DIR"
	fi
	return 0
}

# The mail side: messages, signatures, sending, following a queue id.
# shellcheck source=stack_mail.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack_mail.sh"
