/*
 * NAME
 *	mf_dkimsig 3 - one DKIM signature's result, in RFC 8601 words
 * SYNOPSIS
 *	#include <opendkim/dkim.h>
 *	#include "mf_dkim_int.h"
 *
 *	void mf_dkimsig_fill(DKIM_SIGINFO *, unsigned min_key_bits,
 *	    struct mf_dkim_sig *out);
 *	int mf_dkimsig_rank(int result);
 * DESCRIPTION
 *	mf_dkimsig_fill() copies d=, s=, a=, i=, the first 8 characters of
 *	b= (RFC 6008) and the key size (256 for Ed25519), and classifies
 *	the signature after dkim_eom():
 *
 *	pass       header signature and body hash both verify, and the
 *	           signature is acceptable under RFC 8301;
 *	policy     it verifies, but a= is rsa-sha1 or the RSA key is
 *	           shorter than min_key_bits (RFC 8301 3.1, 3.2);
 *	fail       the header signature or the body hash does not verify;
 *	temperror  the key lookup failed or timed out;
 *	permerror  no key, a key that is revoked or malformed, a malformed
 *	           signature, an expired or future one.
 *
 *	mf_dkimsig_rank() orders results for the message-level summary:
 *	pass, policy, temperror, fail, permerror, neutral, none.
 * DIAGNOSTICS
 *	None; an unknown library error is permerror "unknown error".
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "mf_checks.h"
#include "mf_dkim_int.h"

/* mf_dkimsig_rank - lower is better */
int
mf_dkimsig_rank(int result)
{
	static const int rank[] = {
		[MF_DKIM_PASS] = 0,
		[MF_DKIM_POLICY] = 1,
		[MF_DKIM_TEMPERROR] = 2,
		[MF_DKIM_FAIL] = 3,
		[MF_DKIM_PERMERROR] = 4,
		[MF_DKIM_NEUTRAL] = 5,
		[MF_DKIM_NONE] = 6,
	};

	if (result < 0 || (size_t)result >= sizeof rank / sizeof rank[0])
		return 7;
	return rank[result];
}

/* mf_dkimsig_tag - copy a signature tag's value, bounded; "" if absent */
static void
mf_dkimsig_tag(DKIM_SIGINFO *sig, const char *tag, char *buf, size_t size,
    int squeeze)
{
	unsigned char *v;
	size_t o = 0;

	buf[0] = '\0';
	v = dkim_sig_gettagvalue(sig, false, (unsigned char *)(uintptr_t)tag);
	if (v == NULL)
		return;
	for (; *v != '\0' && o + 1 < size; v++) {
		if (squeeze &&
		    (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
			continue;
		buf[o++] = (*v < 0x20 || *v == 0x7f) ? '?' : (char)*v;
	}
	buf[o] = '\0';
}

/* mf_dkimsig_error - classify a DKIM_SIGERROR_* code; NULL for OK */
static const char *
mf_dkimsig_error(int err, int *result)
{
	*result = MF_DKIM_PERMERROR;
	switch (err) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		return NULL;
	case DKIM_SIGERROR_KEYFAIL:
		*result = MF_DKIM_TEMPERROR;
		return "key lookup failed";
	case DKIM_SIGERROR_NOKEY:
		return "no key";
	case DKIM_SIGERROR_KEYREVOKED:
		return "key revoked";
	case DKIM_SIGERROR_MULTIREPLY:
		return "multiple key records";
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
		return "bad key";
	case DKIM_SIGERROR_KEYTOOSMALL:
		*result = MF_DKIM_POLICY;
		return "key too small";
	case DKIM_SIGERROR_EXPIRED:
		return "signature expired";
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_TIMESTAMPS:
		return "bad timestamps";
	case DKIM_SIGERROR_BADSIG:
		*result = MF_DKIM_FAIL;
		return "bad signature";
	case DKIM_SIGERROR_TOOLARGE_L:
		*result = MF_DKIM_FAIL;
		return "l= exceeds body";
	default:
		return "bad signature syntax";
	}
}

/* mf_dkimsig_verdict - result and reason of a processed signature */
static int
mf_dkimsig_verdict(DKIM_SIGINFO *sig, unsigned min_key_bits,
    const struct mf_dkim_sig *s, const char **reason)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int result, bh = dkim_sig_getbh(sig);

	/* libopendkim may call a good signature over a changed body BADSIG */
	if ((flags & DKIM_SIGFLAG_PROCESSED) && bh == DKIM_SIGBH_MISMATCH) {
		*reason = "body hash mismatch";
		return MF_DKIM_FAIL;
	}
	if ((*reason = mf_dkimsig_error(dkim_sig_geterror(sig), &result)))
		return result;
	if (!(flags & DKIM_SIGFLAG_PROCESSED)) {
		*reason = "not verified";
		return MF_DKIM_PERMERROR;
	}
	if (!(flags & DKIM_SIGFLAG_PASSED)) {
		*reason = "bad signature";
		return MF_DKIM_FAIL;
	}
	if (bh != DKIM_SIGBH_MATCH) {
		*reason = "body hash mismatch";
		return MF_DKIM_FAIL;
	}
	if (strcasecmp(s->a, "rsa-sha1") == 0) {
		*reason = "rsa-sha1 (RFC 8301)";
		return MF_DKIM_POLICY;
	}
	if (strncasecmp(s->a, "rsa-", 4) == 0 && s->bits < min_key_bits) {
		*reason = "key too small (RFC 8301)";
		return MF_DKIM_POLICY;
	}
	*reason = "verified";
	return MF_DKIM_PASS;
}

/* mf_dkimsig_fill - describe and classify one signature */
void
mf_dkimsig_fill(DKIM_SIGINFO *sig, unsigned min_key_bits, struct mf_dkim_sig *s)
{
	const char *reason;
	unsigned int bits = 0;
	dkim_alg_t alg;

	memset(s, 0, sizeof *s);
	mf_dkimsig_tag(sig, "d", s->d, sizeof s->d, 1);
	mf_dkimsig_tag(sig, "s", s->s, sizeof s->s, 1);
	mf_dkimsig_tag(sig, "a", s->a, sizeof s->a, 1);
	mf_dkimsig_tag(sig, "i", s->i, sizeof s->i, 1);
	mf_dkimsig_tag(sig, "b", s->b, 9, 1);
	if (dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK &&
	    alg == DKIM_SIGN_ED25519SHA256) {
		if (dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED)
			bits = 256;
	} else if (dkim_sig_getkeysize(sig, &bits) != DKIM_STAT_OK) {
		bits = 0;
	}
	s->bits = bits;
	s->result = mf_dkimsig_verdict(sig, min_key_bits, s, &reason);
	snprintf(s->reason, sizeof s->reason, "%s", reason);
}
