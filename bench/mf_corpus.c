/*
 * NAME
 *	mf_corpus - load the signed message corpus for milter_load
 * SYNOPSIS
 *	#include "mf_corpus.h"
 *
 *	int	mf_corpus_load(struct mf_corpus *corpus, const char *manifest,
 *		    const char **why);
 *	void	mf_corpus_free(struct mf_corpus *corpus);
 * DESCRIPTION
 *	mf_corpus_load() reads a manifest written by bench/make_corpus.py,
 *	one message per line:
 *
 *		pass|fail SP mail_from SP rcpt_to SP path
 *
 *	(a relative path is relative to the manifest's directory) and loads
 *	each message into memory, split the way Postfix feeds a milter: one
 *	struct mf_hdr per header field, and the body as CRLF lines. Bare LF
 *	line ends in a file are read as CRLF.
 *
 *	mf_corpus_free() releases everything.
 * DIAGNOSTICS
 *	mf_corpus_load() returns -1 with *why set (the offending file is
 *	printed on stderr). Allocation failure exits.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_corpus.h"

#define MF_MANIFEST_LINE_MAX 4096

/* mf_xalloc - allocate or exit */
static void *
mf_xalloc(void *old, size_t n)
{
	void *p;

	if ((p = realloc(old, n ? n : 1)) == NULL) {
		perror("milter_load: realloc");
		exit(2);
	}
	return p;
}

/* mf_xstrdup - copy a string or exit */
static char *
mf_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(mf_xalloc(NULL, n), s, n);
}

/* mf_read_crlf - read a whole file, turning bare LF into CRLF */
static unsigned char *
mf_read_crlf(const char *path, size_t *lenp)
{
	FILE *fp;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	int ch, prev = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	while ((ch = getc(fp)) != EOF) {
		if (len + 2 >= cap) {
			cap = cap ? cap * 2 : 65536;
			buf = mf_xalloc(buf, cap);
		}
		if (ch == '\n' && prev != '\r')
			buf[len++] = '\r';
		buf[len++] = (unsigned char)ch;
		prev = ch;
	}
	fclose(fp);
	*lenp = len;
	return buf ? buf : mf_xalloc(NULL, 1);
}

/*
 * mf_add_header - record one header field, lines [p, end) without the
 * final CRLF. The value keeps its leading white space; inner CRLFs of
 * folded lines become "\n", as Postfix sends them.
 */
static int
mf_add_header(struct mf_msg *m, const unsigned char *p,
    const unsigned char *end)
{
	const unsigned char *colon = memchr(p, ':', (size_t)(end - p));
	struct mf_hdr *h;
	size_t nlen;
	char *w;

	if (colon == NULL || colon == p)
		return -1;
	nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--;
	m->hdr = mf_xalloc(m->hdr, (m->nhdr + 1) * sizeof(*m->hdr));
	h = &m->hdr[m->nhdr++];
	w = h->wire = mf_xalloc(NULL, (size_t)(end - p) + 2);
	memcpy(w, p, nlen);
	w[nlen] = '\0';
	h->name_len = nlen;
	w += nlen + 1;
	for (p = colon + 1; p < end; p++) {
		if (p[0] == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		*w++ = (char)*p;
	}
	*w = '\0';
	h->val_len = (size_t)(w - (h->wire + nlen + 1));
	return 0;
}

/* mf_split - split a CRLF message into header fields and body */
static int
mf_split(struct mf_msg *m, unsigned char *raw, size_t len)
{
	const unsigned char *p = raw, *end = raw + len, *field = NULL, *eol;
	const unsigned char *hend = end;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol ? eol + 1 : end;
		if (p[0] == '\r' && eol == p + 2) { /* empty line */
			hend = p;
			p = eol;
			break;
		}
		if ((p[0] == ' ' || p[0] == '\t') && field != NULL) {
			p = eol; /* folded continuation */
			continue;
		}
		if (field != NULL && mf_add_header(m, field, p - 2) < 0)
			return -1;
		field = p;
		p = eol;
	}
	if (field == NULL || hend - field < 2 ||
	    mf_add_header(m, field, hend - 2) < 0)
		return -1;
	m->body_len = (size_t)(end - p);
	m->body = mf_xalloc(NULL, m->body_len);
	memcpy(m->body, p, m->body_len);
	m->size = len;
	return 0;
}

/* mf_load_one - parse one manifest line and load its message */
static int
mf_load_one(struct mf_corpus *c, char *line, const char *dir, const char **why)
{
	char *verdict, *from, *rcpt, *file, *save = NULL, path[4096];
	struct mf_msg *m;
	unsigned char *raw;
	size_t len;
	int n;

	verdict = strtok_r(line, " \t\r\n", &save);
	if (verdict == NULL || *verdict == '#')
		return 0;
	from = strtok_r(NULL, " \t\r\n", &save);
	rcpt = strtok_r(NULL, " \t\r\n", &save);
	file = strtok_r(NULL, " \t\r\n", &save);
	if (file == NULL ||
	    (strcmp(verdict, "pass") != 0 && strcmp(verdict, "fail") != 0)) {
		*why = "manifest line: want pass|fail FROM RCPT PATH";
		return -1;
	}
	n = file[0] == '/' ? snprintf(path, sizeof(path), "%s", file)
			   : snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		*why = "path too long";
		return -1;
	}
	if ((raw = mf_read_crlf(path, &len)) == NULL) {
		fprintf(stderr, "milter_load: %s: %s\n", path, strerror(errno));
		*why = "cannot read a message";
		return -1;
	}
	c->msg = mf_xalloc(c->msg, (c->nmsg + 1) * sizeof(*c->msg));
	m = &c->msg[c->nmsg++];
	memset(m, 0, sizeof(*m));
	m->path = mf_xstrdup(path);
	m->mail_from = mf_xstrdup(from);
	m->rcpt_to = mf_xstrdup(rcpt);
	m->expect_pass = strcmp(verdict, "pass") == 0;
	if (mf_split(m, raw, len) < 0) {
		fprintf(stderr, "milter_load: %s: no header\n", path);
		free(raw);
		*why = "malformed message";
		return -1;
	}
	free(raw);
	c->bytes += len;
	if (m->expect_pass)
		c->npass++;
	else
		c->nfail++;
	return 0;
}

/* mf_corpus_load - load every message the manifest names */
int
mf_corpus_load(struct mf_corpus *c, const char *manifest, const char **why)
{
	char line[MF_MANIFEST_LINE_MAX], dir[4096];
	const char *slash;
	FILE *fp;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	slash = strrchr(manifest, '/');
	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if ((size_t)(slash - manifest) < sizeof(dir)) {
		memcpy(dir, manifest, (size_t)(slash - manifest));
		dir[slash - manifest] = '\0';
	} else {
		*why = "manifest path too long";
		return -1;
	}
	if ((fp = fopen(manifest, "r")) == NULL) {
		*why = "cannot open the manifest";
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL)
		rc = mf_load_one(c, line, dir, why);
	fclose(fp);
	if (rc == 0 && c->nmsg == 0) {
		*why = "empty manifest";
		rc = -1;
	}
	return rc;
}

/* mf_corpus_free - release the corpus */
void
mf_corpus_free(struct mf_corpus *c)
{
	size_t i, j;

	for (i = 0; i < c->nmsg; i++) {
		for (j = 0; j < c->msg[i].nhdr; j++)
			free(c->msg[i].hdr[j].wire);
		free(c->msg[i].hdr);
		free(c->msg[i].body);
		free(c->msg[i].path);
		free(c->msg[i].mail_from);
		free(c->msg[i].rcpt_to);
	}
	free(c->msg);
	memset(c, 0, sizeof(*c));
}
