#!/bin/sh
# deps.sh - install the Debian packages mailtally needs to build, test and
# run its demo, when they are missing. Needs root for apt-get; prints what
# is missing otherwise. Used by scripts/test.sh and scripts/demo.sh.
#
# Why each package is here: doc/design.md, "Dependencies".
set -eu

PKGS="build-essential autoconf automake autoconf-archive libtool pkg-config
libmilter-dev libopendkim-dev libspf2-dev libhiredis-dev libcmocka-dev
libunbound-dev libevent-dev libssl-dev
redis-server redis-tools postfix swaks miltertest dnsmasq-base
python3 python3-dkim python3-nacl python3-yaml libmail-dkim-perl
opendkim-tools valgrind clang clang-format libclang-rt-14-dev"

missing=
for p in $PKGS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A "No configuration" Postfix: we always run it with a private -c dir.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
