/*
 * NAME
 *	mf_dkim 3 - DKIM verification of one message (libopendkim)
 * SYNOPSIS
 *	#include "mf_checks.h"
 *
 *	struct mf_dkim_lib *mf_dkim_lib_new(struct mf_dns *,
 *	    unsigned min_key_bits, unsigned max_signatures, const char **why);
 *	int mf_dkim_lib_set_keyfile(struct mf_dkim_lib *, const char *path);
 *	void mf_dkim_lib_free(struct mf_dkim_lib *);
 *	struct mf_dkim_msg *mf_dkim_msg_new(struct mf_dkim_lib *,
 *	    const char **why);
 *	int mf_dkim_header(struct mf_dkim_msg *, const char *name,
 *	    const char *value);
 *	int mf_dkim_eoh(struct mf_dkim_msg *);
 *	int mf_dkim_need_body(const struct mf_dkim_msg *);
 *	int mf_dkim_body(struct mf_dkim_msg *, const unsigned char *, size_t);
 *	int mf_dkim_eom(struct mf_dkim_msg *, struct mf_dkim_verdict *out);
 *	void mf_dkim_msg_free(struct mf_dkim_msg *);
 * DESCRIPTION
 *	One DKIM_LIB for the process (libopendkim is thread-safe per
 *	handle), one DKIM handle per message. Key lookups go through
 *	mf_dns via the dkim_dns_set_query_* hooks (mf_dkimdns.c), so the
 *	resolver, its timeout and its cache are shared with SPF; tests may
 *	use libopendkim's key file instead (mf_dkim_lib_set_keyfile).
 *
 *	The library's own minimum key size is set to 1 bit and rsa-sha1
 *	is let through, so that a signature that verifies with a weak key
 *	or hash is reported as "policy" (RFC 8301) rather than as a failure,
 *	and one that does not verify as "fail" whatever its key.
 *
 *	Per signature: pass needs both the header signature
 *	(DKIM_SIGFLAG_PASSED) and the body hash (DKIM_SIGBH_MATCH). A DNS
 *	failure or timeout is temperror; a missing, revoked or malformed
 *	key, a malformed signature, and an expired one (x= in the past,
 *	RFC 6376 6.1.1: "PERMFAIL (signature expired)") are permerror. A
 *	signature that verifies with a= rsa-sha1, or with an RSA key under
 *	min_key_bits, is policy. An unsigned message is none. Signatures
 *	after the first max_signatures are ignored (no key lookup).
 *
 *	Header bytes are capped at MF_DKIM_HEADER_MAX (64 KiB); beyond it
 *	the message is reported permerror ("headers too large").
 * DIAGNOSTICS
 *	Constructors return NULL with *why. mf_dkim_header/eoh/body return
 *	0, or -1 on an internal error; a message libopendkim cannot parse
 *	is not an error, it makes the verdict permerror. mf_dkim_eom()
 *	returns 0 with a verdict, -1 on an internal error.
 * SECURITY
 *	Everything here is untrusted message data and DNS data; lengths
 *	are bounded and tag values are copied with truncation.
 * SEE ALSO
 *	RFC 6376, RFC 8301, RFC 8463, mf_dkimdns(3)
 */
#include "config.h"

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "mf_checks.h"
#include "mf_dkim_int.h"

#define MF_DKIM_HEADER_MAX (64 * 1024)

struct mf_dkim_msg {
	struct mf_dkim_lib *lib;
	DKIM *dkim;
	size_t header_bytes;
	int state; /* MF_DKIM_S_* */
	const char *why; /* for a message-level verdict */
	int msg_result; /* enum mf_dkim_result when state is DONE */
};

enum { MF_DKIM_S_HEADERS, MF_DKIM_S_BODY, MF_DKIM_S_DONE };

/* mf_dkim_prescreen - ignore signatures after the first max_signatures */
static DKIM_CBSTAT
mf_dkim_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct mf_dkim_lib *lib = dkim_get_user_context(dkim);
	int i;

	for (i = lib ? (int)lib->max_signatures : nsigs; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* mf_dkim_lib_new - the process's DKIM library handle */
struct mf_dkim_lib *
mf_dkim_lib_new(struct mf_dns *dns, unsigned min_key_bits,
    unsigned max_signatures, const char **why)
{
	struct mf_dkim_lib *lib;
	unsigned int flags, minbits = 1;
	unsigned int timeout;

	if ((lib = calloc(1, sizeof *lib)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	lib->dns = dns;
	lib->min_key_bits = min_key_bits;
	lib->max_signatures = max_signatures == 0 ? 1
	    : max_signatures > MF_DKIM_SIGS_MAX	  ? MF_DKIM_SIGS_MAX
						  : max_signatures;
	if ((lib->lib = dkim_init(NULL, NULL)) == NULL) {
		*why = "dkim_init failed";
		free(lib);
		return NULL;
	}
	flags = DKIM_LIBFLAGS_BADSIGHANDLES;
	timeout = dns ? (unsigned int)((mf_dns_timeout_ms(dns) + 999) / 1000)
		      : 5;
	if (dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
		sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
		&minbits, sizeof minbits) != DKIM_STAT_OK ||
	    dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout,
		sizeof timeout) != DKIM_STAT_OK ||
	    dkim_set_prescreen(lib->lib, mf_dkim_prescreen) != DKIM_STAT_OK) {
		*why = "dkim_options failed";
		mf_dkim_lib_free(lib);
		return NULL;
	}
	if (dns != NULL)
		mf_dkimdns_init(lib);
	return lib;
}

/* mf_dkim_lib_set_keyfile - tests: keys from a file, no DNS */
int
mf_dkim_lib_set_keyfile(struct mf_dkim_lib *lib, const char *path)
{
	int qm = DKIM_QUERY_FILE;

	if (dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm,
		sizeof qm) != DKIM_STAT_OK ||
	    dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
		(void *)(uintptr_t)path, strlen(path)) != DKIM_STAT_OK)
		return -1;
	return 0;
}

/* mf_dkim_lib_free - close the library */
void
mf_dkim_lib_free(struct mf_dkim_lib *lib)
{
	if (lib == NULL)
		return;
	if (lib->lib)
		dkim_close(lib->lib);
	mf_dkimdns_fini(lib);
	free(lib);
}

/* mf_dkim_msg_new - a verifying handle for one message */
struct mf_dkim_msg *
mf_dkim_msg_new(struct mf_dkim_lib *lib, const char **why)
{
	struct mf_dkim_msg *m;
	DKIM_STAT st;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	m->lib = lib;
	m->dkim = dkim_verify(lib->lib, (const unsigned char *)"mailtally",
	    NULL, &st);
	if (m->dkim == NULL) {
		*why = "dkim_verify failed";
		free(m);
		return NULL;
	}
	dkim_set_user_context(m->dkim, lib);
	return m;
}

/* mf_dkim_msg_free - release the handle */
void
mf_dkim_msg_free(struct mf_dkim_msg *m)
{
	if (m == NULL)
		return;
	if (m->dkim)
		dkim_free(m->dkim);
	free(m);
}

/* mf_dkim_finish - the message's verdict is settled before eom */
static void
mf_dkim_finish(struct mf_dkim_msg *m, int result, const char *why)
{
	m->state = MF_DKIM_S_DONE;
	m->msg_result = result;
	m->why = why;
}

/*
 * mf_dkim_header - one header field: name and value as received (value
 * without the colon, leading white space and folding kept, no final
 * line end). libopendkim wants "name:value" with CRLF folding; a bare
 * LF in the value (some MTAs hand folded fields over that way) is made
 * CRLF, so "simple" header canonicalization still sees the signer's bytes.
 */
int
mf_dkim_header(struct mf_dkim_msg *m, const char *name, const char *value)
{
	size_t nl, vl, o, i;
	char small[1024], *buf;
	DKIM_STAT st;

	if (m->state != MF_DKIM_S_HEADERS || name == NULL || value == NULL)
		return 0;
	nl = strlen(name);
	vl = strlen(value);
	m->header_bytes += nl + vl + 3;
	if (m->header_bytes > MF_DKIM_HEADER_MAX) {
		mf_dkim_finish(m, MF_DKIM_PERMERROR, "headers too large");
		return 0;
	}
	/* most fields fit on the stack: no allocation per field */
	buf = nl + 2 * vl + 2 <= sizeof small ? small : malloc(nl + 2 * vl + 2);
	if (buf == NULL)
		return -1;
	memcpy(buf, name, nl);
	buf[nl] = ':';
	for (i = 0, o = nl + 1; i < vl; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			buf[o++] = '\r';
		buf[o++] = value[i];
	}
	buf[o] = '\0';
	st = dkim_header(m->dkim, (unsigned char *)buf, o);
	if (buf != small)
		free(buf);
	/* A malformed field is skipped by libopendkim; a signature that
	 * covers it fails on its own. Only resource trouble is ours. */
	if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL)
		return -1;
	return 0;
}

/*
 * mf_dkim_eoh - end of headers: signatures are parsed and their keys
 * fetched here. Unsigned mail is settled as none.
 */
int
mf_dkim_eoh(struct mf_dkim_msg *m)
{
	DKIM_STAT st;

	if (m->state != MF_DKIM_S_HEADERS)
		return 0;
	st = dkim_eoh(m->dkim);
	switch (st) {
	case DKIM_STAT_OK:
		m->state = MF_DKIM_S_BODY;
		break;
	case DKIM_STAT_NOSIG:
		mf_dkim_finish(m, MF_DKIM_NONE, "no signature");
		break;
	case DKIM_STAT_NORESOURCE:
	case DKIM_STAT_INTERNAL:
		mf_dkim_finish(m, MF_DKIM_TEMPERROR, "internal error");
		return -1;
	default:
		/* e.g. SYNTAX (no From:); signatures still reported at eom */
		m->state = MF_DKIM_S_BODY;
		m->msg_result = MF_DKIM_PERMERROR;
		m->why = st == DKIM_STAT_SYNTAX ? "message syntax"
						: "bad signature";
		break;
	}
	return 0;
}

/* mf_dkim_need_body - is the body worth feeding? (no: unsigned mail) */
int
mf_dkim_need_body(const struct mf_dkim_msg *m)
{
	return m->state == MF_DKIM_S_BODY && m->why == NULL;
}

/* mf_dkim_body - a chunk of the body, CRLF line ends */
int
mf_dkim_body(struct mf_dkim_msg *m, const unsigned char *p, size_t len)
{
	DKIM_STAT st;

	if (!mf_dkim_need_body(m) || len == 0)
		return 0;
	st = dkim_body(m->dkim, (unsigned char *)(uintptr_t)p, len);
	if (st != DKIM_STAT_OK && st != DKIM_STAT_INVALID)
		m->why = "body error";
	return 0;
}

/*
 * mf_dkim_eom - end of message: verify every signature (up to
 * max_signatures) and fill out. out->result is the best over the
 * signatures (mf_dkimsig_rank), or the message-level verdict when
 * there is no signature to report.
 */
int
mf_dkim_eom(struct mf_dkim_msg *m, struct mf_dkim_verdict *out)
{
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT st;
	int nsigs = 0, i;
	struct mf_dkim_sig *s;

	memset(out, 0, sizeof *out);
	out->result = MF_DKIM_NONE;
	if (m->state == MF_DKIM_S_HEADERS)
		mf_dkim_eoh(m);
	if (m->state == MF_DKIM_S_DONE) {
		out->result = m->msg_result;
		return 0;
	}
	if (m->why == NULL) {
		st = dkim_eom(m->dkim, NULL);
		if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
			out->result = MF_DKIM_TEMPERROR;
			return -1;
		}
	}
	m->state = MF_DKIM_S_DONE;
	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (i = 0; i < nsigs && out->nsigs < m->lib->max_signatures; i++) {
		if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
			continue;
		s = &out->sig[out->nsigs++];
		mf_dkimsig_fill(sigs[i], m->lib->min_key_bits, s);
		if (m->why != NULL && s->result == MF_DKIM_PASS) {
			/* eoh failed (e.g. no From:): nothing really passed */
			s->result = MF_DKIM_PERMERROR;
			snprintf(s->reason, sizeof s->reason, "%s", m->why);
		}
		if (out->nsigs == 1 ||
		    mf_dkimsig_rank(s->result) < mf_dkimsig_rank(out->result))
			out->result = s->result;
	}
	if (out->nsigs == 0 && m->why != NULL)
		out->result = m->msg_result;
	return 0;
}
