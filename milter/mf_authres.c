/*
 * NAME
 *	mf_authres 3 - build and recognize Authentication-Results headers
 * SYNOPSIS
 *	#include "mf_authres.h"
 *
 *	int	mf_authres_build(struct cm_buf *out, const char *authserv_id,
 *		    const struct mf_spf_verdict *spf,
 *		    const struct mf_dkim_verdict *dkim, int leadspc);
 *	int	mf_authres_is_ours(const char *value, size_t len,
 *		    const char *authserv_id);
 *	int	mf_authres_value(struct cm_buf *out, const char *s);
 * DESCRIPTION
 *	The header the milter adds looks like this (RFC 8601 2.2):
 *
 *	Authentication-Results: mx.example.net;
 *		dkim=pass (2048-bit rsa key) header.d=example.org
 *		header.s=sel1 header.a=rsa-sha256 header.b=AbCdEf12;
 *		spf=pass smtp.mailfrom=alice@example.org smtp.helo=mx.example.org
 *
 *	Each resinfo starts a new line; a line is folded at a word
 *	boundary before MF_AUTHRES_FOLD columns (a tab counts 8). Every
 *	value that came from the message or DNS is written bare only when
 *	RFC 8601's pvalue allows it (an RFC 2045 token, or local-part@domain
 *	with a dot-atom local part), otherwise as a quoted string with '"'
 *	and '\' escaped and other bytes replaced, so a hostile d= or reason
 *	cannot inject a resinfo or a header line, and a header.b= holding
 *	'/' or '=' is quoted as the grammar wants.
 *
 *	With no method at all (spf and dkim both off) the value is
 *	"authserv-id; none" (RFC 8601 2.2 no-result, Appendix B.2): the
 *	message passed a conforming verifier, which checked nothing. A
 *	method that did not run is left out, never written as "=none"
 *	(dkim=none means "not signed", spf=none "no record").
 *
 *	mf_authres_is_ours() is the check of RFC 8601 section 5: an
 *	Authentication-Results header that arrives with our authserv-id is
 *	forged and must be removed. It skips CFWS (white space, folding and
 *	nested comments with quoted-pairs), reads the authserv-id as a
 *	token or a quoted-string, compares it case-insensitively and
 *	requires what follows to be an optional version number and then a
 *	';' or the end. So "mx.example.net.evil" and "mx.example" are not
 *	ours when we are "mx.example.net".
 * SECURITY
 *	The value given to mf_authres_is_ours() is untrusted: it is read
 *	with a pointer and a length, never past len, whatever its bytes.
 * DIAGNOSTICS
 *	mf_authres_build() and mf_authres_value() return 0, or -1 when the
 *	buffer is full or memory ran out. mf_authres_is_ours() returns 1 or 0.
 * SEE ALSO
 *	RFC 8601, RFC 7208 9.1, RFC 6008, mf_checks(3h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cm_addr.h"
#include "cm_buf.h"
#include "cm_util.h"
#include "mf_authres.h"

struct fold {
	struct cm_buf *out;
	size_t col; /* current column */
	int fresh; /* nothing on this line yet after the tab */
};

#define TSPECIALS "()<>@,;:\\\"/[]?="

/* is_token_char - RFC 2045 token character */
static int
is_token_char(int c)
{
	if (c < 0x21 || c > 0x7e)
		return 0;
	return strchr(TSPECIALS, c) == NULL;
}

/* put_quoted - append s as an RFC 5322 quoted-string */
static int
put_quoted(struct cm_buf *out, const char *s)
{
	const unsigned char *p;

	if (cm_buf_putc(out, '"') < 0)
		return -1;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p == '"' || *p == '\\') && cm_buf_putc(out, '\\') < 0)
			return -1;
		if (cm_buf_putc(out, *p >= 0x20 && *p < 0x7f ? *p : '?') < 0)
			return -1;
	}
	return cm_buf_putc(out, '"');
}

/*
 * is_bare - may s stand unquoted as a pvalue (RFC 8601 2.2)? Either an
 * RFC 2045 token, or local-part@domain as the core's address helper
 * accepts it unchanged but for the domain's case (dot-atom local part,
 * no quotes, no address literal, ASCII). So "alice@example.org" and
 * "AbCd+x12" stay bare, while a b= holding '/' or '=' (tspecials) and
 * "Macro Error@example.com" are quoted.
 */
static int
is_bare(const char *s)
{
	char norm[CM_ADDR_MAX + 1];
	const char *p, *why;

	for (p = s; *p != '\0' && is_token_char((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return *s != '\0';
	if (strchr(s, '@') == NULL || strpbrk(s, "\"[]") != NULL ||
	    s[0] == '.' || strstr(s, "..") != NULL || strstr(s, ".@") != NULL)
		return 0; /* the helper is as lenient as Postfix with dots */
	for (p = s; *p != '\0'; p++)
		if (*p < 0x21 || *p > 0x7e)
			return 0;
	return cm_addr_norm(s, strlen(s), norm, &why) == 0 &&
	    strcasecmp(norm, s) == 0;
}

/* mf_authres_value - append a value: bare if it may be, else quoted */
int
mf_authres_value(struct cm_buf *out, const char *s)
{
	if (!is_bare(s))
		return put_quoted(out, s);
	return cm_buf_append(out, s, strlen(s));
}

/* fold_word - append one word, folding the line when it would be too long */
static int
fold_word(struct fold *f, const struct cm_buf *w)
{
	if (w->len == 0)
		return 0;
	if (!f->fresh) {
		if (f->col + 1 + w->len >= MF_AUTHRES_FOLD) {
			if (cm_buf_append(f->out, "\n\t", 2) < 0)
				return -1;
			f->col = 8;
		} else {
			if (cm_buf_putc(f->out, ' ') < 0)
				return -1;
			f->col++;
		}
	}
	if (cm_buf_append(f->out, w->data, w->len) < 0)
		return -1;
	f->col += w->len;
	f->fresh = 0;
	return 0;
}

/* fold_line - start a resinfo on a new continuation line */
static int
fold_line(struct fold *f)
{
	f->col = 8;
	f->fresh = 1;
	return cm_buf_append(f->out, "\n\t", 2);
}

/* word_prop - emit "name=value" as one word */
static int
word_prop(struct fold *f, struct cm_buf *w, const char *name, const char *val)
{
	cm_buf_reset(w);
	if (cm_buf_printf(w, "%s=", name) < 0 || mf_authres_value(w, val) < 0)
		return -1;
	return fold_word(f, w);
}

/* word_text - emit a fixed word */
static int
word_text(struct fold *f, struct cm_buf *w, const char *text)
{
	cm_buf_reset(w);
	if (cm_buf_append(w, text, strlen(text)) < 0)
		return -1;
	return fold_word(f, w);
}

/* put_dkim_sig - one dkim resinfo */
static int
put_dkim_sig(struct fold *f, struct cm_buf *w, const struct mf_dkim_sig *s)
{
	char ktype[16];
	size_t n;

	cm_buf_reset(w);
	if (cm_buf_printf(w, "dkim=%s", mf_dkim_result_name(s->result)) < 0 ||
	    fold_word(f, w) < 0)
		return -1;
	if (s->reason[0] != '\0' && s->result != MF_DKIM_PASS) {
		cm_buf_reset(w);
		if (cm_buf_append(w, "reason=", 7) < 0 ||
		    put_quoted(w, s->reason) < 0 || fold_word(f, w) < 0)
			return -1;
	}
	if (s->bits > 0) {
		n = strcspn(s->a, "-");
		if (n == 0 || n >= sizeof(ktype))
			n = 0;
		memcpy(ktype, s->a, n);
		ktype[n] = '\0';
		for (n = 0; ktype[n] != '\0'; n++)
			if (!isalnum((unsigned char)ktype[n]))
				ktype[n] = '?';
		cm_buf_reset(w);
		if (cm_buf_printf(w, "(%u-bit%s%s key)", s->bits,
			ktype[0] != '\0' ? " " : "", ktype) < 0 ||
		    fold_word(f, w) < 0)
			return -1;
	}
	if (s->d[0] != '\0' && word_prop(f, w, "header.d", s->d) < 0)
		return -1;
	if (s->s[0] != '\0' && word_prop(f, w, "header.s", s->s) < 0)
		return -1;
	if (s->a[0] != '\0' && word_prop(f, w, "header.a", s->a) < 0)
		return -1;
	if (s->b[0] != '\0' && word_prop(f, w, "header.b", s->b) < 0)
		return -1;
	return 0;
}

/* put_spf - the spf resinfo */
static int
put_spf(struct fold *f, struct cm_buf *w, const struct mf_spf_verdict *spf)
{
	cm_buf_reset(w);
	if (cm_buf_printf(w, "spf=%s", mf_spf_result_name(spf->result)) < 0 ||
	    fold_word(f, w) < 0)
		return -1;
	/* A reason helps only for errors; "matched -all" is noise. */
	if (spf->reason[0] != '\0' &&
	    (spf->result == MF_SPF_TEMPERROR ||
		spf->result == MF_SPF_PERMERROR)) {
		cm_buf_reset(w);
		if (cm_buf_append(w, "reason=", 7) < 0 ||
		    put_quoted(w, spf->reason) < 0 || fold_word(f, w) < 0)
			return -1;
	}
	if (spf->mail_from[0] != '\0' &&
	    word_prop(f, w, "smtp.mailfrom", spf->mail_from) < 0)
		return -1;
	if (spf->helo[0] != '\0' && word_prop(f, w, "smtp.helo", spf->helo) < 0)
		return -1;
	return 0;
}

/* mf_authres_build - the value of our Authentication-Results header */
int
mf_authres_build(struct cm_buf *out, const char *authserv_id,
    const struct mf_spf_verdict *spf, const struct mf_dkim_verdict *dkim,
    int leadspc)
{
	struct fold f;
	struct cm_buf w;
	size_t i, nres, done;
	int rc = -1;

	cm_buf_init(&w, 1024);
	f.out = out;
	f.col = sizeof(MF_AUTHRES_NAME ": ") - 1;
	f.fresh = 1;
	if (leadspc && cm_buf_putc(out, ' ') < 0)
		goto fail;
	if (word_text(&f, &w, authserv_id) < 0)
		goto fail;
	nres = (dkim != NULL ? (dkim->nsigs > 0 ? dkim->nsigs : 1) : 0) +
	    (spf != NULL);
	if (nres == 0) {
		rc = cm_buf_append(out, "; none", 6);
		goto fail;
	}
	done = 0;
	if (dkim != NULL) {
		for (i = 0; i < dkim->nsigs && i < MF_DKIM_SIGS_MAX; i++) {
			if (cm_buf_putc(out, ';') < 0 || fold_line(&f) < 0 ||
			    put_dkim_sig(&f, &w, &dkim->sig[i]) < 0)
				goto fail;
			done++;
		}
		if (dkim->nsigs == 0) {
			cm_buf_reset(&w);
			if (cm_buf_putc(out, ';') < 0 || fold_line(&f) < 0 ||
			    cm_buf_printf(&w, "dkim=%s",
				mf_dkim_result_name(dkim->result)) < 0 ||
			    fold_word(&f, &w) < 0)
				goto fail;
		}
	}
	if (spf != NULL &&
	    (cm_buf_putc(out, ';') < 0 || fold_line(&f) < 0 ||
		put_spf(&f, &w, spf) < 0))
		goto fail;
	rc = out->overflow ? -1 : 0;
fail:
	cm_buf_release(&w);
	return rc;
}

/* skip_cfws - skip white space, folding and (nested) comments */
static const char *
skip_cfws(const char *p, const char *end)
{
	int depth;

	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
			continue;
		}
		if (*p != '(')
			break;
		for (depth = 0; p < end; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
	return p;
}

/* mf_authres_is_ours - does this AR value carry our authserv-id? */
int
mf_authres_is_ours(const char *value, size_t len, const char *authserv_id)
{
	const char *p, *end = value + len;
	char id[MF_DOMAIN_MAX + 1];
	size_t n = 0;

	p = skip_cfws(value, end);
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (n >= sizeof(id) - 1)
				return 0;
			id[n++] = *p;
		}
		if (p >= end)
			return 0;
		p++;
	} else {
		for (; p < end && is_token_char((unsigned char)*p); p++) {
			if (n >= sizeof(id) - 1)
				return 0;
			id[n++] = *p;
		}
	}
	if (n == 0 || n != strlen(authserv_id) ||
	    strncasecmp(id, authserv_id, n) != 0)
		return 0;
	p = skip_cfws(p, end);
	if (p < end && isdigit((unsigned char)*p)) {
		while (p < end && isdigit((unsigned char)*p))
			p++;
		p = skip_cfws(p, end);
	}
	return p == end || *p == ';';
}
