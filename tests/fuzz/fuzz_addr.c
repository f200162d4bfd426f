/*
 * FUZZ-SOURCES:
 * FUZZ-LIBS: -lcrypto
 *
 * NAME
 *	fuzz_addr - libFuzzer target of the address normalizer
 * SYNOPSIS
 *	tests/fuzz/fuzz_addr [FILE|DIR ...]
 * DESCRIPTION
 *	Normalizes the input bytes with cm_addr_norm() and checks what the
 *	normalizer promises: the result is a C string of at most CM_ADDR_MAX
 *	bytes without control bytes, normalization is idempotent
 *	(norm(norm(x)) == norm(x)), the domain is lower-case ASCII, and a
 *	failure leaves "" and a reason. Any broken promise aborts.
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cm_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - abort when a promise is broken */
static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[CM_ADDR_MAX + 1], again[CM_ADDR_MAX + 1];
	char h[CM_ADDR_HASH_LEN + 1];
	const char *why = NULL, *dom, *p;
	size_t n;

	memset(out, 'Z', sizeof out);
	if (cm_addr_norm((const char *)data, size, out, &why) == -1) {
		check(why != NULL && out[0] == '\0');
		return 0;
	}
	n = strnlen(out, sizeof out);
	check(n <= CM_ADDR_MAX);
	for (p = out; *p; p++)
		check((unsigned char)*p >= 0x20 && *p != 0x7f);
	memset(again, 'Z', sizeof again);
	check(cm_addr_norm(out, n, again, &why) == 0);
	check(strcmp(out, again) == 0);
	if ((dom = cm_addr_domain(out)) != NULL) {
		check(*dom != '\0' && strlen(dom) <= CM_ADDR_DOMAIN_MAX);
		for (p = dom; *p; p++)
			check(!(*p >= 'A' && *p <= 'Z') || dom[0] == '[');
	}
	check(cm_addr_hash((const unsigned char *)"k", 1, out, h) == 0);
	check(strlen(h) == CM_ADDR_HASH_LEN);
	return 0;
}
