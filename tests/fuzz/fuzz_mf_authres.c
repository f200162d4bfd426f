/*
 * FUZZ-SOURCES: milter/mf_authres.c milter/mf_results.c
 *
 * NAME
 *	fuzz_mf_authres - Authentication-Results builder and matcher on fuzz bytes
 * SYNOPSIS
 *	tests/fuzz/fuzz_mf_authres [FILE|DIR ...]
 * DESCRIPTION
 *	Input: a NUL-separated list of fields. The first byte picks the
 *	mode. Matcher mode: field 1 is the authserv-id, the rest of the
 *	input the header value (read with its length, NUL bytes and all).
 *	Builder mode: the fields fill an SPF verdict and up to
 *	MF_DKIM_SIGS_MAX DKIM signatures; the header built must be
 *	printable ASCII folded with LF + TAB only, and, built for a valid
 *	authserv-id, must be recognized as ours by the matcher (what we add
 *	we would also remove when it came back forged).
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_buf.h"
#include "mf_authres.h"
#include "mf_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct cursor {
	const uint8_t *p, *end;
};

/* field - next NUL-terminated field, copied with a bound */
static void
field(struct cursor *c, char *dst, size_t size)
{
	size_t n = 0;

	while (c->p < c->end && *c->p != '\0') {
		if (n + 1 < size)
			dst[n++] = (char)*c->p;
		c->p++;
	}
	if (c->p < c->end)
		c->p++;
	dst[n] = '\0';
}

/* byte - next byte, 0 at the end */
static unsigned
byte(struct cursor *c)
{
	return c->p < c->end ? *c->p++ : 0;
}

/* valid_id - a plain token, as mf_conf accepts */
static int
valid_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *s))
			return 0;
	return 1;
}

/* check_header - the built value is printable, folded with LF TAB */
static void
check_header(const struct cm_buf *b, const char *id)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->data[i];

		if (ch == '\n' && (i + 1 >= b->len || b->data[i + 1] != '\t'))
			abort();
		if (ch != '\n' && ch != '\t' && (ch < 0x20 || ch > 0x7e))
			abort();
	}
	if (valid_id(id) && !mf_authres_is_ours(b->data, b->len, id))
		abort();
}

/* build - fill verdicts from the input and build a header */
static void
build(struct cursor *c, const char *id)
{
	static struct mf_spf_verdict spf;
	static struct mf_dkim_verdict dkim;
	struct cm_buf out;
	size_t i;
	unsigned flags = byte(c);

	memset(&spf, 0, sizeof(spf));
	memset(&dkim, 0, sizeof(dkim));
	spf.result = (int)(byte(c) % 7);
	field(c, spf.mail_from, sizeof(spf.mail_from));
	field(c, spf.helo, sizeof(spf.helo));
	field(c, spf.reason, sizeof(spf.reason));
	dkim.nsigs = byte(c) % (MF_DKIM_SIGS_MAX + 1);
	dkim.result = (int)(byte(c) % 7);
	for (i = 0; i < dkim.nsigs; i++) {
		dkim.sig[i].result = (int)(byte(c) % 7);
		dkim.sig[i].bits = byte(c) * 32;
		field(c, dkim.sig[i].d, sizeof(dkim.sig[i].d));
		field(c, dkim.sig[i].s, sizeof(dkim.sig[i].s));
		field(c, dkim.sig[i].a, sizeof(dkim.sig[i].a));
		field(c, dkim.sig[i].b, sizeof(dkim.sig[i].b));
		field(c, dkim.sig[i].reason, sizeof(dkim.sig[i].reason));
	}
	cm_buf_init(&out, 65536);
	if (mf_authres_build(&out, id, flags & 1 ? &spf : NULL,
		flags & 2 ? &dkim : NULL, (int)(flags & 4)) == 0)
		check_header(&out, id);
	cm_buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, data + size };
	char id[MF_DOMAIN_MAX + 1];
	unsigned mode = byte(&c);

	field(&c, id, sizeof(id));
	if (mode & 1)
		(void)mf_authres_is_ours((const char *)c.p,
		    (size_t)(c.end - c.p), id);
	else
		build(&c, valid_id(id) ? id : "mx.example.net");
	return 0;
}
