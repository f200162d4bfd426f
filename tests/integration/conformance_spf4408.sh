#!/bin/sh
# NAME
#	conformance_spf4408.sh - the older OpenSPF RFC 4408 suite (191 tests)
# DESCRIPTION
#	The same driver as conformance_spf.sh, on corpora/spf/rfc4408-tests.yml.
. "${top_srcdir:-.}/tests/integration/quick.sh"
top_srcdir=${top_srcdir:-.}
SPF_SUITE=$top_srcdir/../shared/corpora/spf/rfc4408-tests.yml
MF_PORT_BASE=22553	# not conformance_spf.sh's: make check runs both at once
export SPF_SUITE top_srcdir MF_PORT_BASE
exec "$top_srcdir/tests/integration/conformance_spf.sh"
