/*
 * NAME
 *	conf 3 - Postfix-style configuration files, declared by tables
 * SYNOPSIS
 *	#include <cm_conf.h>
 *
 *	int	cm_conf_defaults(const struct cm_conf_section *secs,
 *		    char *err, size_t errlen);
 *	int	cm_conf_load_file(const struct cm_conf_section *secs,
 *		    const char *path, char *err, size_t errlen);
 *	int	cm_conf_load_buf(const struct cm_conf_section *secs,
 *		    const char *name, const char *buf, size_t len,
 *		    char *err, size_t errlen);
 *	void	cm_conf_free(const struct cm_conf_section *secs);
 * DESCRIPTION
 *	The file syntax and the types are described in cm_conf.h. This file
 *	reads a file (conf_read), splits the buffer into logical lines,
 *	joining continuation lines (conf_lines), splits a logical line into
 *	key words and value (conf_line), and hands the value to the value
 *	module (conf_value.c) to parse and store. Printing for -n lives in
 *	conf_print.c.
 *
 *	A load first applies every default, so a caller zeroes its struct
 *	and calls cm_conf_load_file(); after success or failure it calls
 *	cm_conf_free() once. Duplicates are found with a per-load table of
 *	the line each plain key was set on, and a hash set of "name args"
 *	strings for keyed entries.
 * DIAGNOSTICS
 *	Every load error is one line "file:line: key: why" in err, with
 *	untrusted text (keys, values) escaped as \xHH and capped at
 *	CONF_SHOW_MAX bytes. Nothing is logged; nothing exits.
 * SECURITY
 *	Files are trusted by whoever runs the daemon, but they are bounded
 *	anyway: CONF_FILE_MAX bytes per file, CM_CONF_LINE_MAX per logical
 *	line, no NUL, no control bytes but tab, valid UTF-8 outside comments.
 * SEE ALSO
 *	conf_value.c, conf_print.c, conf_int.h
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_conf.h"
#include "cm_util.h"
#include "conf_int.h"

#define CONF_FILE_MAX (4 * 1024 * 1024) /* bytes per file */
#define CONF_SHOW_MAX 64 /* bytes of untrusted text in an error */
#define CONF_SHOW_LEN (CONF_SHOW_MAX * 4 + 8)
#define CONF_ARGS_MAX 8 /* words between a keyed name and '=' */
#define CONF_WHY_MAX 512

/* The state of one load. */
struct conf_ctx {
	const struct cm_conf_section *secs;
	const char *name; /* file name for messages */
	size_t line; /* first physical line of the logical line */
	char *err;
	size_t errlen;
	size_t *seen; /* per def (flat index): line it was set on */
	char **keys; /* hash set of keyed "name args" */
	size_t nkeys, capkeys;
};

/* conf_show - escape untrusted text for a message, capped */
static const char *
conf_show(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char ch;

	for (i = 0; i < len && i < CONF_SHOW_MAX; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else
			out[o++] = (char)ch;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* conf_err - write "name:line: key: why" to err; key may be NULL */
static int __attribute__((__format__(printf, 3, 4)))
conf_err(struct conf_ctx *c, const char *key, const char *fmt, ...)
{
	char why[CONF_WHY_MAX], where[64];
	va_list ap;

	if (c->err == NULL || c->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (c->line > 0)
		snprintf(where, sizeof where, ":%zu", c->line);
	else
		where[0] = '\0';
	snprintf(c->err, c->errlen, "%s%s: %s%s%s", c->name, where,
	    key ? key : "", key ? ": " : "", why);
	return -1;
}

/* conf_count - number of defs in every section */
static size_t
conf_count(const struct cm_conf_section *secs)
{
	const struct cm_conf_def *d;
	size_t n = 0;

	for (; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++)
			n++;
	return n;
}

/* conf_find - the def named 'key', its section base and flat index */
static const struct cm_conf_def *
conf_find(const struct cm_conf_section *secs, const char *key, void **base,
    size_t *idx)
{
	const struct cm_conf_def *d;

	for (*idx = 0; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++, (*idx)++)
			if (strcmp(d->name, key) == 0) {
				*base = secs->base;
				return d;
			}
	return NULL;
}

/* conf_hash - FNV-1a */
static size_t
conf_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/*
 * conf_key_add - insert 'k' (taking it) into the keyed set; returns 1 when
 * it was already there (k freed), 0 when added, -1 out of memory.
 */
static int
conf_key_add(struct conf_ctx *c, char *k)
{
	char **nk;
	size_t i, j, ncap;

	if (2 * (c->nkeys + 1) > c->capkeys) {
		ncap = c->capkeys ? 2 * c->capkeys : 64;
		if ((nk = calloc(ncap, sizeof *nk)) == NULL)
			return -1;
		for (i = 0; i < c->capkeys; i++) {
			if (c->keys[i] == NULL)
				continue;
			j = conf_hash(c->keys[i]) & (ncap - 1);
			while (nk[j] != NULL)
				j = (j + 1) & (ncap - 1);
			nk[j] = c->keys[i];
		}
		free(c->keys);
		c->keys = nk;
		c->capkeys = ncap;
	}
	for (i = conf_hash(k) & (c->capkeys - 1); c->keys[i] != NULL;
	     i = (i + 1) & (c->capkeys - 1))
		if (strcmp(c->keys[i], k) == 0) {
			free(k);
			return 1;
		}
	c->keys[i] = k;
	c->nkeys++;
	return 0;
}

/* conf_ctx_free - release a load's bookkeeping */
static void
conf_ctx_free(struct conf_ctx *c)
{
	size_t i;

	for (i = 0; i < c->capkeys; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->seen);
}

/*
 * conf_set - parse, range-check and store one plain value. On error the
 * message is written through c, naming 'key' (escaped).
 */
static int
conf_set(struct conf_ctx *c, const struct cm_conf_def *d, void *base,
    const char *key, const char *val)
{
	char show[CONF_SHOW_LEN], lo[32], hi[32], ch[CONF_WHY_MAX];
	const char *why = "bad value";
	union conf_val v;
	size_t i, o;

	if (cm_conf_parse_value(d, val, &v, &why) == -1) {
		if (d->type == CM_CONF_CIDR)
			return conf_err(c, key, "%s", why);
		if (d->type != CM_CONF_ENUM)
			return conf_err(c, key, "\"%s\": %s",
			    conf_show(show, val, strlen(val)), why);
		for (i = 0, o = 0, ch[0] = '\0';
		     d->choices && d->choices[i] && o < sizeof ch; i++)
			o += (size_t)snprintf(ch + o, sizeof ch - o, "%s%s",
			    i ? ", " : "", d->choices[i]);
		return conf_err(c, key, "\"%s\": want one of: %s",
		    conf_show(show, val, strlen(val)), ch);
	}
	if ((d->type == CM_CONF_INT || d->type == CM_CONF_DURATION ||
		d->type == CM_CONF_SIZE) &&
	    (d->min != 0 || d->max != 0) && (v.n < d->min || v.n > d->max)) {
		cm_conf_fmt_num(d, d->min, lo, sizeof lo);
		cm_conf_fmt_num(d, d->max, hi, sizeof hi);
		return conf_err(c, key, "\"%s\": out of range (%s..%s)",
		    conf_show(show, val, strlen(val)), lo, hi);
	}
	cm_conf_store(d, base, &v);
	return 0;
}

/* cm_conf_defaults - apply every default; reset keyed entries */
int
cm_conf_defaults(const struct cm_conf_section *secs, char *err, size_t errlen)
{
	struct conf_ctx c = { .secs = secs,
		.name = "(default)",
		.err = err,
		.errlen = errlen };
	const struct cm_conf_def *d;
	const char *def;
	union conf_val zero;

	for (; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++) {
			if (d->type == CM_CONF_KEYED) {
				cm_conf_clear(d, secs->base);
				continue;
			}
			if ((def = d->def) == NULL) {
				memset(&zero, 0, sizeof zero);
				cm_conf_store(d, secs->base, &zero);
				continue;
			}
			if (conf_set(&c, d, secs->base, d->name, def) == -1)
				return -1;
		}
	return 0;
}

/* conf_check_bytes - no control bytes but tab, valid UTF-8 */
static int
conf_check_bytes(struct conf_ctx *c, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
				return conf_err(c, NULL,
				    "control character \\x%02x", p[i]);
			i++;
			continue;
		}
		if ((n = cm_utf8_len(p + i, len - i)) == 0)
			return conf_err(c, NULL, "invalid UTF-8");
		i += n;
	}
	return 0;
}

/* conf_keyed - check and store one keyed entry "name args = value" */
static int
conf_keyed(struct conf_ctx *c, const struct cm_conf_def *d, void *base,
    char **words, size_t nw, const char *val)
{
	char key[CM_CONF_LINE_MAX + 1], show[CONF_SHOW_LEN],
	    vshow[CONF_SHOW_LEN];
	const char *why = "bad value";
	char *k;
	size_t i, o = 0;
	int r;

	/* the words came from one line of at most CM_CONF_LINE_MAX bytes */
	for (i = 0; i < nw && o < sizeof key; i++)
		o += (size_t)snprintf(key + o, sizeof key - o, "%s%s",
		    i ? " " : "", words[i]);
	if (o >= sizeof key)
		return conf_err(c, NULL, "keyed entry too long");
	conf_show(show, key, o);
	if (nw - 1 != d->nargs)
		return conf_err(c, show,
		    "want %zu word%s between \"%s\" and \"=\", got %zu",
		    d->nargs, d->nargs == 1 ? "" : "s", d->name, nw - 1);
	if ((k = strdup(key)) == NULL || (r = conf_key_add(c, k)) == -1) {
		free(k);
		return conf_err(c, show, "out of memory");
	}
	if (r == 1)
		return conf_err(c, show, "duplicate entry");
	if (d->keyed == NULL)
		return conf_err(c, show, "no handler for this key");
	if (d->keyed(base, (const char *const *)(words + 1), nw - 1, val,
		&why) == -1)
		return conf_err(c, show, "\"%s\": %s",
		    conf_show(vshow, val, strlen(val)), why);
	return 0;
}

/*
 * conf_line - handle one logical line, NUL-terminated, trailing white
 * space removed: split "words = value", find the def, store.
 */
static int
conf_line(struct conf_ctx *c, char *line, size_t len)
{
	char show[CONF_SHOW_LEN], *words[CONF_ARGS_MAX + 2], *eq, *p, *val;
	const struct cm_conf_def *d;
	size_t nw = 0, idx;
	void *base;

	if (conf_check_bytes(c, line, len) == -1)
		return -1;
	if ((eq = memchr(line, '=', len)) == NULL)
		return conf_err(c, NULL,
		    "\"%s\": missing \"=\" (want key = value)",
		    conf_show(show, line, len));
	*eq = '\0';
	for (val = eq + 1; *val == ' ' || *val == '\t'; val++)
		;
	for (p = line;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (nw == CONF_ARGS_MAX + 2)
			return conf_err(c,
			    conf_show(show, words[0], strlen(words[0])),
			    "too many words before \"=\"");
		words[nw++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (nw == 0)
		return conf_err(c, NULL, "empty key before \"=\"");
	conf_show(show, words[0], strlen(words[0]));
	if ((d = conf_find(c->secs, words[0], &base, &idx)) == NULL)
		return conf_err(c, show, "unknown key");
	if (d->type == CM_CONF_KEYED)
		return conf_keyed(c, d, base, words, nw, val);
	if (nw != 1)
		return conf_err(c, show, "unexpected words before \"=\"");
	if (c->seen[idx] != 0)
		return conf_err(c, show,
		    "duplicate key (first set at line %zu)", c->seen[idx]);
	c->seen[idx] = c->line;
	return conf_set(c, d, base, show, val);
}

/* conf_finish - trim a collected logical line and handle it */
static int
conf_finish(struct conf_ctx *c, char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	line[len] = '\0';
	return conf_line(c, line, len);
}

/*
 * conf_join - append the continuation text p[0..n) to the logical line
 * of 'llen' bytes, joined with one space after its trailing blanks are
 * dropped.
 */
static int
conf_join(struct conf_ctx *c, char *line, size_t *llen, const char *p, size_t n)
{
	while (*llen > 0 && (line[*llen - 1] == ' ' || line[*llen - 1] == '\t'))
		(*llen)--;
	if (*llen + 1 + n > CM_CONF_LINE_MAX)
		return conf_err(c, NULL, "logical line longer than %d bytes",
		    CM_CONF_LINE_MAX);
	line[(*llen)++] = ' ';
	memcpy(line + *llen, p, n);
	*llen += n;
	return 0;
}

/*
 * conf_lines - split a buffer into logical lines. A physical line ends
 * in LF (a CR before it is dropped); blank and comment lines are skipped,
 * also inside a continued line, as Postfix does; a line that starts with
 * blanks continues the logical line, joined with one space.
 */
static int
conf_lines(struct conf_ctx *c, const char *buf, size_t len)
{
	char line[CM_CONF_LINE_MAX + 1];
	size_t pos = 0, phys = 0, n, s, llen = 0;
	const char *p, *nl;
	int have = 0;

	while (pos < len) {
		p = buf + pos;
		nl = memchr(p, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - p) : len - pos;
		pos += n + (nl != NULL);
		phys++;
		if (memchr(p, '\0', n) != NULL) {
			c->line = phys;
			return conf_err(c, NULL, "NUL byte");
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (s = 0; s < n && (p[s] == ' ' || p[s] == '\t'); s++)
			;
		if (s == n || p[s] == '#')
			continue;
		if (s > 0 && !have) {
			c->line = phys;
			return conf_err(c, NULL,
			    "continuation line without a key line before it");
		}
		if (s > 0) {
			if (conf_join(c, line, &llen, p + s, n - s) == -1)
				return -1;
			continue;
		}
		if (have && conf_finish(c, line, llen) == -1)
			return -1;
		c->line = phys;
		if (n > CM_CONF_LINE_MAX)
			return conf_err(c, NULL, "line longer than %d bytes",
			    CM_CONF_LINE_MAX);
		memcpy(line, p, n);
		llen = n;
		have = 1;
	}
	return have ? conf_finish(c, line, llen) : 0;
}

/* cm_conf_load_buf - apply the defaults, then the text in buf */
int
cm_conf_load_buf(const struct cm_conf_section *secs, const char *name,
    const char *buf, size_t len, char *err, size_t errlen)
{
	struct conf_ctx c = { .secs = secs,
		.name = name ? name : "(buffer)",
		.err = err,
		.errlen = errlen };
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cm_conf_defaults(secs, err, errlen) == -1)
		return -1;
	if (len > CONF_FILE_MAX)
		return conf_err(&c, NULL, "file larger than 4 MiB");
	if ((c.seen = calloc(conf_count(secs) + 1, sizeof *c.seen)) == NULL)
		return conf_err(&c, NULL, "out of memory");
	rc = conf_lines(&c, buf, len);
	conf_ctx_free(&c);
	return rc;
}

/* conf_read - read a whole file of at most CONF_FILE_MAX bytes */
static int
conf_read(FILE *fp, char **bufp, size_t *lenp, const char **why)
{
	size_t len = 0, cap = 0, ncap, n;
	char *buf = NULL, *nb;

	for (;;) {
		if (len == cap) {
			if (cap > CONF_FILE_MAX) {
				*why = "file larger than 4 MiB";
				goto fail;
			}
			ncap = cap ? cap * 2 : 8192;
			if (ncap > CONF_FILE_MAX + 1)
				ncap = CONF_FILE_MAX + 1;
			if ((nb = realloc(buf, ncap)) == NULL) {
				*why = "out of memory";
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		*why = strerror(errno);
		goto fail;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return -1;
}

/* cm_conf_load_file - apply the defaults, then the file at path */
int
cm_conf_load_file(const struct cm_conf_section *secs, const char *path,
    char *err, size_t errlen)
{
	struct conf_ctx c = { .secs = secs,
		.name = path,
		.err = err,
		.errlen = errlen };
	const char *why;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL) {
		rc = errno;
		cm_conf_defaults(secs, NULL, 0);
		return conf_err(&c, NULL, "%s", strerror(rc));
	}
	rc = conf_read(fp, &buf, &len, &why);
	fclose(fp);
	if (rc == -1) {
		cm_conf_defaults(secs, NULL, 0);
		return conf_err(&c, NULL, "%s", why);
	}
	rc = cm_conf_load_buf(secs, path, buf ? buf : "", len, err, errlen);
	free(buf);
	return rc;
}

/* cm_conf_free - free every string, list and CIDR list; keyed entries */
void
cm_conf_free(const struct cm_conf_section *secs)
{
	const struct cm_conf_def *d;

	for (; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++)
			cm_conf_clear(d, secs->base);
}
