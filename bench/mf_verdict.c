/*
 * NAME
 *	mf_verdict - what a milter decided about one message, and is it right
 * SYNOPSIS
 *	#include "mf_session.h"
 *
 *	int	mf_verdict_header(struct mf_verdict *v, const char *authserv_id,
 *		    int cmd, const unsigned char *data, size_t len);
 *	int	mf_verdict_check(const struct mf_verdict *v,
 *		    const struct mf_msg *msg, const char **why);
 * DESCRIPTION
 *	mf_verdict_header() parses an end-of-message header edit
 *	(SMFIR_ADDHEADER "name\0value\0", or SMFIR_INSHEADER/CHGHEADER
 *	with an index first) and keeps the value of an Authentication-Results
 *	field whose authserv-id is 'authserv_id' (any, if null); several
 *	are joined with '|'. An empty value (a deletion) is ignored.
 *
 *	mf_verdict_check() compares a verdict with what the corpus expects:
 *	an accepting final reply at end of message and dkim=pass for good
 *	messages, dkim=fail and no dkim=pass for tampered ones.
 * DIAGNOSTICS
 *	mf_verdict_header() returns -1 on a malformed packet.
 *	mf_verdict_check() returns 0, or -1 with *why set.
 * SECURITY
 *	Packets come from the milter under test: every string must end in
 *	NUL inside the packet; a long value is truncated to MF_AR_MAX.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <strings.h>

#include "mf_session.h"

/* mf_ar_capture - keep an Authentication-Results value with our id */
static void
mf_ar_capture(struct mf_verdict *v, const char *authserv_id, const char *val)
{
	size_t idlen, n;

	val += strspn(val, " \t\r\n");
	if (authserv_id != NULL) {
		idlen = strlen(authserv_id);
		if (strncasecmp(val, authserv_id, idlen) != 0 ||
		    strchr("; \t\r\n", val[idlen]) == NULL ||
		    val[idlen] == '\0')
			return;
	}
	n = strlen(val);
	if (v->ar_len + n + 2 >= sizeof(v->ar))
		n = sizeof(v->ar) - v->ar_len - 2;
	if (v->ar_len > 0)
		v->ar[v->ar_len++] = '|';
	memcpy(v->ar + v->ar_len, val, n);
	v->ar_len += n;
	v->ar[v->ar_len] = '\0';
}

/*
 * mf_verdict_header - parse SMFIR_ADDHEADER ("name\0value\0") or
 * SMFIR_INSHEADER/CHGHEADER (index, then the same), capturing AR.
 */
int
mf_verdict_header(struct mf_verdict *v, const char *authserv_id, int cmd,
    const unsigned char *d, size_t len)
{
	const char *name, *val;
	const unsigned char *nul;

	if (cmd != MF_R_ADDHEADER) {
		if (len < 4)
			return -1;
		d += 4;
		len -= 4;
	}
	if ((nul = memchr(d, '\0', len)) == NULL)
		return -1;
	name = (const char *)d;
	val = (const char *)nul + 1;
	if (memchr(val, '\0', len - (size_t)(nul + 1 - d)) == NULL)
		return -1;
	if (strcasecmp(name, "Authentication-Results") == 0 && *val != '\0')
		mf_ar_capture(v, authserv_id, val);
	return 0;
}

/* mf_verdict_check - does the milter's verdict match the corpus? */
int
mf_verdict_check(const struct mf_verdict *v, const struct mf_msg *msg,
    const char **why)
{
	int pass, fail;

	if (v->final != MF_R_ACCEPT && v->final != MF_R_CONTINUE) {
		*why = v->final == MF_R_TEMPFAIL ? "tempfail"
		    : v->final == MF_R_REJECT || v->final == MF_R_REPLYCODE
		    ? "reject"
		    : "no accepting final reply";
		return -1;
	}
	if (v->stage != MF_C_BODYEOB) {
		*why = "decided before end of message";
		return -1;
	}
	if (v->ar_len == 0) {
		*why = "no Authentication-Results with our authserv-id";
		return -1;
	}
	pass = strstr(v->ar, "dkim=pass") != NULL;
	fail = strstr(v->ar, "dkim=fail") != NULL;
	if (msg->expect_pass && !pass) {
		*why = "want dkim=pass";
		return -1;
	}
	if (!msg->expect_pass && (pass || !fail)) {
		*why = "want dkim=fail";
		return -1;
	}
	return 0;
}
