/*
 * NAME
 *	mf_results 3 - the result words of SPF and DKIM
 * SYNOPSIS
 *	#include "mf_checks.h"
 *
 *	const char *mf_spf_result_name(int);
 *	const char *mf_dkim_result_name(int);
 * DESCRIPTION
 *	The RFC 8601 words for Authentication-Results and the log line:
 *	spf = none neutral pass fail softfail temperror permerror (RFC
 *	7208 2.6), dkim = none pass fail neutral policy temperror
 *	permerror (RFC 6376 6.1, RFC 8601 2.7.1).
 * DIAGNOSTICS
 *	A value outside the enum is a bug: the name is "permerror", the
 *	safe word for "could not tell".
 */
#include "config.h"

#include <stddef.h>

#include "mf_checks.h"

static const char *const mf_spf_names[] = {
	[MF_SPF_NONE] = "none",
	[MF_SPF_NEUTRAL] = "neutral",
	[MF_SPF_PASS] = "pass",
	[MF_SPF_FAIL] = "fail",
	[MF_SPF_SOFTFAIL] = "softfail",
	[MF_SPF_TEMPERROR] = "temperror",
	[MF_SPF_PERMERROR] = "permerror",
};

static const char *const mf_dkim_names[] = {
	[MF_DKIM_NONE] = "none",
	[MF_DKIM_PASS] = "pass",
	[MF_DKIM_FAIL] = "fail",
	[MF_DKIM_NEUTRAL] = "neutral",
	[MF_DKIM_POLICY] = "policy",
	[MF_DKIM_TEMPERROR] = "temperror",
	[MF_DKIM_PERMERROR] = "permerror",
};

/* mf_spf_result_name - word for an enum mf_spf_result */
const char *
mf_spf_result_name(int r)
{
	if (r < 0 || (size_t)r >= sizeof mf_spf_names / sizeof mf_spf_names[0])
		return "permerror";
	return mf_spf_names[r];
}

/* mf_dkim_result_name - word for an enum mf_dkim_result */
const char *
mf_dkim_result_name(int r)
{
	if (r < 0 ||
	    (size_t)r >= sizeof mf_dkim_names / sizeof mf_dkim_names[0])
		return "permerror";
	return mf_dkim_names[r];
}
