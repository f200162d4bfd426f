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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_checks.h"

#define MV_NS_MAX 4
#define MV_THREADS_MAX 64

struct mv_opts {
	const char *ns[MV_NS_MAX];
	size_t nns;
	long long timeout_ms;
	unsigned min_bits, max_sigs;
	const char *keyfile, *ip, *helo, *from, *file;
	int check_helo, received_spf;
	int threads, repeat;
};

/* What every verification shares; --threads runs many at once. */
struct mv_run {
	const struct mv_opts *o;
	struct mf_dkim_lib *lib;
	struct mf_spf_ctx *spf;
	char *buf;
	size_t len;
	char *first; /* the first answer; the others must match */
	pthread_mutex_t lock;
	int mismatches;
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

/* mv_dkim - verify and print one dkim= entry per signature to fp */
static int
mv_dkim(struct mf_dkim_lib *lib, const char *buf, size_t len, FILE *fp)
{
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;
	size_t i;
	int r;

	if ((m = mf_dkim_msg_new(lib, &why)) == NULL) {
		fprintf(stderr, "mf_verify: dkim: %s\n", why);
		return -1;
	}
	r = mv_feed(m, buf, len);
	if (mf_dkim_eom(m, &v) != 0)
		r = -1;
	if (v.nsigs == 0)
		fprintf(fp, ";\n\tdkim=%s", mf_dkim_result_name(v.result));
	for (i = 0; i < v.nsigs; i++) {
		const struct mf_dkim_sig *s = &v.sig[i];
		fprintf(fp,
		    ";\n\tdkim=%s (%u-bit key; %s) header.d=%s "
		    "header.s=%s header.a=%s header.b=%s",
		    mf_dkim_result_name(s->result), s->bits, s->reason, s->d,
		    s->s, s->a, s->b);
		if (s->i[0])
			fprintf(fp, " header.i=%s", s->i);
	}
	mf_dkim_msg_free(m);
	return r;
}

/* mv_spf - check and print spf= to fp */
static int
mv_spf(struct mf_spf_ctx *ctx, const struct mv_opts *o, FILE *fp)
{
	struct mf_spf_verdict v;
	int r;

	r = mf_spf_check(ctx, o->ip, o->helo, o->from, o->check_helo, 1, &v);
	fprintf(fp, ";\n\tspf=%s (%s) smtp.mailfrom=%s smtp.helo=%s",
	    mf_spf_result_name(v.result), v.reason, v.mail_from, v.helo);
	if (v.helo_checked)
		fprintf(fp, " (helo=%s)", mf_spf_result_name(v.helo_result));
	if (o->received_spf)
		fprintf(fp, "\nReceived-SPF: %s", v.received_spf);
	return r;
}

/* mv_once - one verification: the A-R text into a malloc'ed string */
static char *
mv_once(struct mv_run *run, int *failed)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &tlen)) == NULL)
		return NULL;
	fprintf(fp, "Authentication-Results: mf_verify");
	if (mv_dkim(run->lib, run->buf, run->len, fp) != 0)
		*failed = 1;
	if (run->o->ip && mv_spf(run->spf, run->o, fp) != 0)
		*failed = 1;
	fprintf(fp, "\n");
	fclose(fp);
	return text;
}

/* mv_thread - --threads: repeat and compare with the first answer */
static void *
mv_thread(void *arg)
{
	struct mv_run *run = arg;
	char *text;
	int i, failed = 0;

	for (i = 0; i < run->o->repeat; i++) {
		text = mv_once(run, &failed);
		if (text == NULL || strcmp(text, run->first) != 0) {
			pthread_mutex_lock(&run->lock);
			run->mismatches++;
			pthread_mutex_unlock(&run->lock);
		}
		free(text);
	}
	return NULL;
}

/* mv_threads - N threads sharing the resolver and the libraries */
static int
mv_threads(struct mv_run *run)
{
	pthread_t tid[MV_THREADS_MAX];
	int i, n = run->o->threads;

	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, mv_thread, run) != 0)
			break;
	}
	n = i;
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	printf("threads: %d x %d, mismatches: %d\n", n, run->o->repeat,
	    run->mismatches);
	return run->mismatches == 0 && n == run->o->threads ? 0 : 1;
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
		if (strcmp(a, "--received-spf") == 0) {
			o->received_spf = 1;
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
		else if (strcmp(a, "--threads") == 0)
			o->threads = atoi(v) > MV_THREADS_MAX ? MV_THREADS_MAX
							      : atoi(v);
		else if (strcmp(a, "--repeat") == 0)
			o->repeat = atoi(v);
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
		.threads = 0,
		.repeat = 1 };
	struct mv_run run = { .o = &o };
	struct mf_dns *dns = NULL;
	const char *why = NULL;
	int r = 1, failed = 0;

	if (mv_args(argc, argv, &o) != 0) {
		fprintf(stderr,
		    "usage: mf_verify [--nameserver IP[@PORT]] "
		    "[--timeout MS] [--min-key-bits N] [--max-signatures N] "
		    "[--keyfile F] [--client-ip IP] [--helo H] "
		    "[--mail-from A] [--check-helo] [--received-spf] "
		    "[--threads N --repeat M] MESSAGE\n");
		return 2;
	}
	if ((run.buf = mv_read(o.file, &run.len)) == NULL) {
		perror(o.file);
		return 1;
	}
	pthread_mutex_init(&run.lock, NULL);
	if ((dns = mf_dns_new(o.ns, o.nns, o.timeout_ms, &why)) == NULL ||
	    (run.lib = mf_dkim_lib_new(dns, o.min_bits, o.max_sigs, &why)) ==
		NULL ||
	    (o.keyfile && mf_dkim_lib_set_keyfile(run.lib, o.keyfile) != 0) ||
	    (run.spf = mf_spf_new(dns, "mf_verify.invalid", &why)) == NULL) {
		fprintf(stderr, "mf_verify: %s\n", why ? why : "keyfile");
		goto out;
	}
	if ((run.first = mv_once(&run, &failed)) == NULL)
		goto out;
	fputs(run.first, stdout);
	r = failed;
	if (o.threads > 0)
		r |= mv_threads(&run);
out:
	free(run.first);
	mf_spf_free(run.spf);
	mf_dkim_lib_free(run.lib);
	mf_dns_free(dns);
	free(run.buf);
	return r;
}
