/*
 * NAME
 *	mf_authres 3h - Authentication-Results header (RFC 8601)
 * SYNOPSIS
 *	#include "mf_authres.h"
 * DESCRIPTION
 *	mf_authres_build() writes the value of the header the milter adds
 *	(without the field name): authserv-id, then one resinfo per DKIM
 *	signature and one for SPF, folded before 78 columns with a tab.
 *	A NULL verdict means "not checked"; when nothing was checked the
 *	value is "authserv-id; none". When leadspc is set the value starts
 *	with a space (SMFIP_HDR_LEADSPC: the milter supplies it).
 *
 *	mf_authres_is_ours() tells whether an Authentication-Results value
 *	carries our authserv-id (case-insensitive; leading CFWS, a quoted
 *	authserv-id and a version number tolerated, RFC 8601 2.2 and 5).
 *
 *	mf_authres_value() writes an RFC 2045 value: bare when it is a
 *	token, a quoted-string otherwise; bytes outside printable ASCII
 *	become '?'.
 * DIAGNOSTICS
 *	mf_authres_build() returns 0, or -1 when the buffer bound was hit or
 *	memory ran out.
 */
#ifndef MF_AUTHRES_H
#define MF_AUTHRES_H

#include <stddef.h>

#include "cm_buf.h"
#include "mf_checks.h"

#define MF_AUTHRES_NAME "Authentication-Results"
#define MF_AUTHRES_FOLD 78 /* fold before this column */

int mf_authres_build(struct cm_buf *out, const char *authserv_id,
    const struct mf_spf_verdict *spf, const struct mf_dkim_verdict *dkim,
    int leadspc);
int mf_authres_is_ours(const char *value, size_t len, const char *authserv_id);
int mf_authres_value(struct cm_buf *out, const char *s);

#endif
