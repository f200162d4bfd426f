/*
 * NAME
 *	mf_verify 1 - verify one message with the milter's checks, offline
 * SYNOPSIS
 *	mf_verify [--nameserver IP[@PORT]]... [--timeout MS]
 *	    [--min-key-bits N] [--max-signatures N] [--keyfile FILE]
 *	    [--client-ip IP] [--helo NAME] [--mail-from ADDR] [--check-helo]
 *	    MESSAGE
 * DESCRIPTION
 *	The test driver of the conformance suites: it reads an RFC 5322
 *	file (LF or CRLF), feeds it to mf_dkim exactly as the milter
 *	callbacks do (one header field at a time, folding kept, then the
 *	body in CRLF form), checks SPF when --client-ip is given, and
 *	prints the result as an Authentication-Results header, one
 *	"method=result" per signature and identity, like
 *	`mailtally-milter --test`. So the suites only grep "dkim=" and
 *	"spf=" and can run either program.
 *
 *	--keyfile makes libopendkim read keys from a file (DKIM_QUERY_FILE)
 *	instead of DNS. --check-helo checks the HELO identity as well.
 * DIAGNOSTICS
 *	Exit 0 with a verdict printed, 1 on an internal error, 2 on usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_checks.h"

#define MV_NS_MAX 4

struct mv_opts {
	const char *ns[MV_NS_MAX];
	size_t nns;
	long long timeout_ms;
	unsigned min_bits, max_sigs;
	const char *keyfile, *ip, *helo, *from, *file;
	int check_helo;
};

/* mv_read - whole file into memory */
static char *
mv_read(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, 4096, fp)) == 0)
			break;
		len += n;
	}
	fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* mv_eol - end of the line at p: points at '\n' or end */
static const char *
mv_eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/*
 * mv_header - feed one unfolded field [p, q): name up to ':', value as
 * is with its line breaks made CRLF. Returns -1 when malformed.
 */
static int
mv_header(struct mf_dkim_msg *m, const char *p, const char *q)
{
	const char *colon = memchr(p, ':', (size_t)(q - p));
	char *name, *val;
	size_t o = 0;
	const char *s;
	int r;

	if (colon == NULL)
		return -1;
	name = strndup(p, (size_t)(colon - p));
	val = malloc((size_t)(q - colon) * 2 + 1);
	if (name == NULL || val == NULL) {
		free(name);
		free(val);
		return -1;
	}
	for (s = colon + 1; s < q; s++) {
		if (*s == '\r')
			continue;
		if (*s == '\n')
			val[o++] = '\r';
		val[o++] = *s;
	}
	val[o] = '\0';
	r = mf_dkim_header(m, name, val);
	free(name);
	free(val);
	return r;
}

/* mv_feed - split the message and run the DKIM steps */
static int
mv_feed(struct mf_dkim_msg *m, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *start, *e;
	char *body;
	size_t o = 0;

	while (p < end && *p != '\n' &&
	    !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		start = p;
		e = mv_eol(p, end);
		while (e < end && e + 1 < end && (e[1] == ' ' || e[1] == '\t'))
			e = mv_eol(e + 1, end);
		p = e < end ? e + 1 : end;
		if (e > start && e[-1] == '\r')
			e--;
		(void)mv_header(m, start, e);
	}
	p = p < end ? mv_eol(p, end) + 1 : end;
	if (mf_dkim_eoh(m) != 0)
		return -1;
	if (p >= end || !mf_dkim_need_body(m))
		return 0;
	if ((body = malloc((size_t)(end - p) * 2)) == NULL)
		return -1;
	for (; p < end; p++) {
		if (*p == '\n' && (o == 0 || body[o - 1] != '\r'))
			body[o++] = '\r';
		body[o++] = *p;
	}
	mf_dkim_body(m, (const unsigned char *)body, o);
	free(body);
	return 0;
}

/* mv_dkim - verify and print one dkim= entry per signature */
static int
mv_dkim(struct mf_dns *dns, const struct mv_opts *o, const char *buf,
    size_t len)
{
	struct mf_dkim_lib *lib;
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;
	size_t i;
	int r;

	if ((lib = mf_dkim_lib_new(dns, o->min_bits, o->max_sigs, &why)) ==
		NULL ||
	    (o->keyfile && mf_dkim_lib_set_keyfile(lib, o->keyfile))) {
		fprintf(stderr, "mf_verify: dkim: %s\n", lib ? "keyfile" : why);
		return -1;
	}
	if ((m = mf_dkim_msg_new(lib, &why)) == NULL) {
		fprintf(stderr, "mf_verify: dkim: %s\n", why);
		mf_dkim_lib_free(lib);
		return -1;
	}
	r = mv_feed(m, buf, len);
	if (mf_dkim_eom(m, &v) != 0)
		r = -1;
	if (v.nsigs == 0)
		printf(";\n\tdkim=%s", mf_dkim_result_name(v.result));
	for (i = 0; i < v.nsigs; i++) {
		const struct mf_dkim_sig *s = &v.sig[i];
		printf(";\n\tdkim=%s (%u-bit key; %s) header.d=%s header.s=%s "
		       "header.a=%s header.b=%s",
		    mf_dkim_result_name(s->result), s->bits, s->reason, s->d,
		    s->s, s->a, s->b);
		if (s->i[0])
			printf(" header.i=%s", s->i);
	}
	mf_dkim_msg_free(m);
	mf_dkim_lib_free(lib);
	return r;
}

/* mv_spf - check and print spf= */
static int
mv_spf(struct mf_dns *dns, const struct mv_opts *o)
{
	struct mf_spf_ctx *ctx;
	struct mf_spf_verdict v;
	const char *why;
	int r;

	if ((ctx = mf_spf_new(dns, "mf_verify.invalid", &why)) == NULL) {
		fprintf(stderr, "mf_verify: spf: %s\n", why);
		return -1;
	}
	r = mf_spf_check(ctx, o->ip, o->helo, o->from, o->check_helo, 0, &v);
	printf(";\n\tspf=%s (%s) smtp.mailfrom=%s smtp.helo=%s",
	    mf_spf_result_name(v.result), v.reason, v.mail_from, v.helo);
	if (v.helo_checked)
		printf(" (helo=%s)", mf_spf_result_name(v.helo_result));
	mf_spf_free(ctx);
	return r;
}

/* mv_args - parse the command line; -1 on usage error */
static int
mv_args(int argc, char **argv, struct mv_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' && o->file == NULL) {
			o->file = a;
			continue;
		}
		if (strcmp(a, "--check-helo") == 0) {
			o->check_helo = 1;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--nameserver") == 0 && o->nns < MV_NS_MAX)
			o->ns[o->nns++] = v;
		else if (strcmp(a, "--timeout") == 0)
			o->timeout_ms = strtoll(v, NULL, 10);
		else if (strcmp(a, "--min-key-bits") == 0)
			o->min_bits = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--max-signatures") == 0)
			o->max_sigs = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--keyfile") == 0)
			o->keyfile = v;
		else if (strcmp(a, "--client-ip") == 0)
			o->ip = v;
		else if (strcmp(a, "--helo") == 0)
			o->helo = v;
		else if (strcmp(a, "--mail-from") == 0)
			o->from = v;
		else
			return -1;
	}
	return o->file ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct mv_opts o = { .timeout_ms = 5000,
		.min_bits = 1024,
		.max_sigs = 5,
		.check_helo = 0 };
	struct mf_dns *dns;
	const char *why;
	char *buf;
	size_t len;
	int r = 0;

	if (mv_args(argc, argv, &o) != 0) {
		fprintf(stderr,
		    "usage: mf_verify [--nameserver IP[@PORT]] "
		    "[--timeout MS] [--min-key-bits N] [--max-signatures N] "
		    "[--keyfile F] [--client-ip IP] [--helo H] "
		    "[--mail-from A] [--check-helo] MESSAGE\n");
		return 2;
	}
	if ((buf = mv_read(o.file, &len)) == NULL) {
		perror(o.file);
		return 1;
	}
	if ((dns = mf_dns_new(o.ns, o.nns, o.timeout_ms, &why)) == NULL) {
		fprintf(stderr, "mf_verify: dns: %s\n", why);
		free(buf);
		return 1;
	}
	printf("Authentication-Results: mf_verify");
	if (mv_dkim(dns, &o, buf, len) != 0)
		r = 1;
	if (o.ip && mv_spf(dns, &o) != 0)
		r = 1;
	printf("\n");
	mf_dns_free(dns);
	free(buf);
	return r;
}
