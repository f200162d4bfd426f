#!/bin/sh
# e2e_postfix_unix.sh - the end-to-end suite again, the way Debian runs it:
# both daemons on unix sockets under the queue directory (named relative
# to it in main.cf), smtpd chrooted there. 500 messages of load instead
# of 2,000; its own port range so make -j runs it beside e2e_postfix.sh.
ST_SOCKETS=unix
ST_CHROOT=y
E2E_LOAD_MESSAGES=${E2E_LOAD_MESSAGES:-500}
E2E_BASE_PORT=${E2E_UNIX_BASE_PORT:-24300}
export ST_SOCKETS ST_CHROOT E2E_LOAD_MESSAGES E2E_BASE_PORT
exec bash "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/e2e_postfix.sh"
