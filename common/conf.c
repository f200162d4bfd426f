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
 *	void	cm_conf_print(const struct cm_conf_section *secs, FILE *fp);
 *	void	cm_conf_free(const struct cm_conf_section *secs);
 *
 *	int	cm_conf_parse_duration(const char *s, long long *ms,
 *		    const char **why);
 *	int	cm_conf_parse_size(const char *s, long long *bytes,
 *		    const char **why);
 *	int	cm_conf_parse_bool(const char *s, int *v, const char **why);
 *	int	cm_conf_parse_list(const char *s, struct cm_list *l,
 *		    const char **why);
 *	void	cm_list_free(struct cm_list *l);
 * DESCRIPTION
 *	The file syntax and the types are described in cm_conf.h. This file
 *	splits a buffer into logical lines (conf_next_line), a logical line
 *	into key words and value (conf_line), and stores the value through
 *	the def (conf_parse, conf_store). The public value parsers come
 *	last.
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
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_cidr.h"
#include "cm_conf.h"

#define CONF_FILE_MAX (4 * 1024 * 1024) /* bytes per file */
#define CONF_SHOW_MAX 64 /* bytes of untrusted text in an error */
#define CONF_SHOW_LEN (CONF_SHOW_MAX * 4 + 8)
#define CONF_ARGS_MAX 8 /* words between a keyed name and '=' */
#define CONF_WHY_MAX 512

union conf_val {
	char *s;
	int i;
	long long n;
	struct cm_list l;
	struct cm_cidr_list *c;
};

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

/* conf_parse_int - decimal, or octal with a leading 0 (modes: 0660) */
static int
conf_parse_int(const char *s, long long *v, const char **why)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	char *end;

	if (*p < '0' || *p > '9') {
		*why = *s ? "not a number" : "empty value";
		return -1;
	}
	errno = 0;
	*v = strtoll(s, &end, p[0] == '0' && p[1] != '\0' ? 8 : 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -1;
	}
	if (*end != '\0') {
		*why = "not a number";
		return -1;
	}
	return 0;
}

/* conf_parse_str - a string, optionally in double quotes with \" \\ */
static int
conf_parse_str(const char *s, char **out, const char **why)
{
	size_t len = strlen(s), i, o = 0;
	char *b;

	*out = NULL;
	if (len == 0)
		return 0;
	if (s[0] != '"') {
		if ((*out = strdup(s)) == NULL)
			goto nomem;
		return 0;
	}
	if ((b = malloc(len)) == NULL)
		goto nomem;
	for (i = 1; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= len ||
			    (s[i + 1] != '"' && s[i + 1] != '\\')) {
				free(b);
				*why =
				    "bad escape in quotes (use \\\" or \\\\)";
				return -1;
			}
			i++;
		}
		b[o++] = s[i];
	}
	if (i >= len || i != len - 1) {
		free(b);
		*why = i >= len ? "unterminated quote"
				: "text after closing quote";
		return -1;
	}
	b[o] = '\0';
	if (o == 0)
		free(b);
	else
		*out = b;
	return 0;
nomem:
	*why = "out of memory";
	return -1;
}

/* conf_parse_enum - the index of a choice, case-insensitive */
static int
conf_parse_enum(const struct cm_conf_def *d, const char *s, int *v)
{
	int i;

	for (i = 0; d->choices != NULL && d->choices[i] != NULL; i++)
		if (strcasecmp(d->choices[i], s) == 0) {
			*v = i;
			return 0;
		}
	return -1;
}

/* conf_parse - parse a value for def 'd' into 'v'; no range check */
static int
conf_parse(const struct cm_conf_def *d, const char *s, union conf_val *v,
    const char **why)
{
	memset(v, 0, sizeof *v);
	switch (d->type) {
	case CM_CONF_STR:
		return conf_parse_str(s, &v->s, why);
	case CM_CONF_BOOL:
		return cm_conf_parse_bool(s, &v->i, why);
	case CM_CONF_INT:
		return conf_parse_int(s, &v->n, why);
	case CM_CONF_DURATION:
		return cm_conf_parse_duration(s, &v->n, why);
	case CM_CONF_SIZE:
		return cm_conf_parse_size(s, &v->n, why);
	case CM_CONF_LIST:
		return cm_conf_parse_list(s, &v->l, why);
	case CM_CONF_CIDR:
		return cm_cidr_parse(s, &v->c, why);
	case CM_CONF_ENUM:
		*why = "not one of the choices";
		return conf_parse_enum(d, s, &v->i);
	case CM_CONF_KEYED:
		break;
	}
	*why = "not a plain key";
	return -1;
}

/* conf_field - the address of def d's field in base */
static void *
conf_field(const struct cm_conf_def *d, void *base)
{
	return (char *)base + d->off;
}

/* conf_clear - free def d's field and zero it */
static void
conf_clear(const struct cm_conf_def *d, void *base)
{
	void *f = conf_field(d, base);

	switch (d->type) {
	case CM_CONF_STR:
		free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CM_CONF_LIST:
		cm_list_free(f);
		break;
	case CM_CONF_CIDR:
		*(struct cm_cidr_list **)f = cm_cidr_free(
		    *(struct cm_cidr_list **)f);
		break;
	case CM_CONF_KEYED:
		if (d->free != NULL)
			d->free(base);
		break;
	default:
		break;
	}
}

/* conf_store - replace def d's field with v (taking what v owns) */
static void
conf_store(const struct cm_conf_def *d, void *base, union conf_val *v)
{
	void *f = conf_field(d, base);

	conf_clear(d, base);
	switch (d->type) {
	case CM_CONF_STR:
		*(char **)f = v->s;
		break;
	case CM_CONF_BOOL:
	case CM_CONF_ENUM:
		*(int *)f = v->i;
		break;
	case CM_CONF_INT:
	case CM_CONF_DURATION:
	case CM_CONF_SIZE:
		*(long long *)f = v->n;
		break;
	case CM_CONF_LIST:
		*(struct cm_list *)f = v->l;
		break;
	case CM_CONF_CIDR:
		*(struct cm_cidr_list **)f = v->c;
		break;
	case CM_CONF_KEYED:
		break;
	}
}

/*
 * conf_fmt_num - write n as it would be written in a file for d: the
 * largest unit that divides it; an INT whose default is written in octal
 * ("0660") in octal, others in decimal.
 */
static void
conf_fmt_num(const struct cm_conf_def *d, long long n, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		long long mult;
	} dur[] = { { "d", 86400000LL }, { "h", 3600000LL }, { "m", 60000LL },
		{ "s", 1000LL }, { "ms", 1 } },
	  sz[] = { { "G", 1LL << 30 }, { "M", 1LL << 20 }, { "k", 1LL << 10 },
		  { "", 1 } };
	size_t i;

	if (d->type == CM_CONF_INT && n > 0 && d->def != NULL &&
	    d->def[0] == '0' && d->def[1] >= '0' && d->def[1] <= '7') {
		/* a mode written in octal in the table prints in octal */
		snprintf(buf, len, "0%llo", (unsigned long long)n);
		return;
	}
	if (n == 0 || d->type == CM_CONF_INT) {
		snprintf(buf, len, "%lld", n);
		return;
	}
	for (i = 0; d->type == CM_CONF_DURATION && i < 5; i++)
		if (n % dur[i].mult == 0) {
			snprintf(buf, len, "%lld%s", n / dur[i].mult,
			    dur[i].unit);
			return;
		}
	for (i = 0; i < 4; i++)
		if (n % sz[i].mult == 0) {
			snprintf(buf, len, "%lld%s", n / sz[i].mult,
			    sz[i].unit);
			return;
		}
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

	if (conf_parse(d, val, &v, &why) == -1) {
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
		conf_fmt_num(d, d->min, lo, sizeof lo);
		conf_fmt_num(d, d->max, hi, sizeof hi);
		return conf_err(c, key, "\"%s\": out of range (%s..%s)",
		    conf_show(show, val, strlen(val)), lo, hi);
	}
	conf_store(d, base, &v);
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
				conf_clear(d, secs->base);
				continue;
			}
			if ((def = d->def) == NULL) {
				memset(&zero, 0, sizeof zero);
				conf_store(d, secs->base, &zero);
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
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
				return conf_err(c, NULL,
				    "control character \\x%02x", p[i]);
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1, cp = p[i] & 0x1f;
		else if ((p[i] & 0xf0) == 0xe0)
			n = 2, cp = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 3, cp = p[i] & 0x07;
		else
			return conf_err(c, NULL, "invalid UTF-8");
		if (len - i - 1 < n)
			return conf_err(c, NULL, "invalid UTF-8");
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return conf_err(c, NULL, "invalid UTF-8");
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 &&
			(cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return conf_err(c, NULL, "invalid UTF-8");
		i += n + 1;
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
			while (llen > 0 &&
			    (line[llen - 1] == ' ' || line[llen - 1] == '\t'))
				llen--;
			if (llen + 1 + (n - s) > CM_CONF_LINE_MAX)
				return conf_err(c, NULL,
				    "logical line longer than %d bytes",
				    CM_CONF_LINE_MAX);
			line[llen++] = ' ';
			memcpy(line + llen, p + s, n - s);
			llen += n - s;
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

/* conf_print_str - a string, quoted when it would not read back bare */
static void
conf_print_str(const char *name, const char *s, FILE *fp)
{
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0) {
		fprintf(fp, "%s =\n", name);
		return;
	}
	if (s[0] != '"' && s[0] != ' ' && s[0] != '\t' && s[len - 1] != ' ' &&
	    s[len - 1] != '\t') {
		fprintf(fp, "%s = %s\n", name, s);
		return;
	}
	fprintf(fp, "%s = \"", name);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputs("\"\n", fp);
}

/* conf_print_cidr - a CIDR list through cm_cidr_format */
static void
conf_print_cidr(const char *name, const struct cm_cidr_list *l, FILE *fp)
{
	size_t len;
	char *buf;

	for (len = 256; len <= 64 * 1024 * 1024; len *= 2) {
		if ((buf = malloc(len)) == NULL)
			break;
		if (cm_cidr_format(l, buf, len) == 0) {
			fprintf(fp, "%s =%s%s\n", name, buf[0] ? " " : "", buf);
			free(buf);
			return;
		}
		free(buf);
	}
	fprintf(fp, "# %s: cannot format\n", name);
}

/* conf_print_def - one key as "name = value", or its keyed entries */
static void
conf_print_def(const struct cm_conf_def *d, void *base, FILE *fp)
{
	const struct cm_list *l;
	void *f = conf_field(d, base);
	char num[64];
	size_t i;
	int e;

	switch (d->type) {
	case CM_CONF_STR:
		conf_print_str(d->name, *(char **)f, fp);
		break;
	case CM_CONF_BOOL:
		fprintf(fp, "%s = %s\n", d->name, *(int *)f ? "yes" : "no");
		break;
	case CM_CONF_INT:
	case CM_CONF_DURATION:
	case CM_CONF_SIZE:
		conf_fmt_num(d, *(long long *)f, num, sizeof num);
		fprintf(fp, "%s = %s\n", d->name, num);
		break;
	case CM_CONF_LIST:
		l = f;
		fprintf(fp, "%s =", d->name);
		for (i = 0; i < l->n; i++)
			fprintf(fp, "%s%s", i ? ", " : " ", l->v[i]);
		fputc('\n', fp);
		break;
	case CM_CONF_CIDR:
		conf_print_cidr(d->name, *(struct cm_cidr_list **)f, fp);
		break;
	case CM_CONF_ENUM:
		e = *(int *)f;
		for (i = 0; d->choices != NULL && d->choices[i] != NULL; i++)
			if ((int)i == e)
				break;
		fprintf(fp, "%s = %s\n", d->name,
		    d->choices != NULL && d->choices[i] != NULL ? d->choices[i]
								: "");
		break;
	case CM_CONF_KEYED:
		if (d->print != NULL)
			d->print(base, fp);
		break;
	}
}

/* cm_conf_print - the effective configuration, in table order, for -n */
void
cm_conf_print(const struct cm_conf_section *secs, FILE *fp)
{
	const struct cm_conf_def *d;

	for (; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++)
			conf_print_def(d, secs->base, fp);
}

/* cm_conf_free - free every string, list and CIDR list; keyed entries */
void
cm_conf_free(const struct cm_conf_section *secs)
{
	const struct cm_conf_def *d;

	for (; secs->defs != NULL; secs++)
		for (d = secs->defs; d->name != NULL; d++)
			conf_clear(d, secs->base);
}

/* conf_digits - the number at the start of s: digits only, no sign */
static int
conf_digits(const char *s, long long *v, char **end, const char **why)
{
	if (s == NULL || *s == '\0') {
		*why = "empty value";
		return -1;
	}
	if (*s == '-') {
		*why = "negative";
		return -1;
	}
	if (*s < '0' || *s > '9') {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	*v = strtoll(s, end, 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -1;
	}
	return 0;
}

/* conf_scale - v times the multiplier of the unit 'end' names */
static int
conf_scale(long long v, const char *end, const char *const *units,
    const long long *mult, long long *out)
{
	size_t i;

	for (i = 0; units[i] != NULL; i++)
		if (strcmp(end, units[i]) == 0) {
			if (v > LLONG_MAX / mult[i])
				return 1;
			*out = v * mult[i];
			return 0;
		}
	return -1;
}

/* cm_conf_parse_duration - "50ms", "5s", "2m", "1h", "1d"; bare = seconds */
int
cm_conf_parse_duration(const char *s, long long *ms, const char **why)
{
	static const char *const units[] = { "ms", "s", "m", "h", "d", "",
		NULL };
	static const long long mult[] = { 1, 1000, 60000, 3600000, 86400000,
		1000 };
	long long v;
	char *end;
	int r;

	if (conf_digits(s, &v, &end, why) == -1)
		return -1;
	if ((r = conf_scale(v, end, units, mult, ms)) != 0) {
		*why = r > 0 ? "number too large"
			     : "unknown unit (use ms, s, m, h, d)";
		return -1;
	}
	return 0;
}

/* cm_conf_parse_size - bytes, or "10k", "10M", "1G" (powers of 1024) */
int
cm_conf_parse_size(const char *s, long long *bytes, const char **why)
{
	static const char *const units[] = { "", "k", "K", "M", "G", NULL };
	static const long long mult[] = { 1, 1LL << 10, 1LL << 10, 1LL << 20,
		1LL << 30 };
	long long v;
	char *end;
	int r;

	if (conf_digits(s, &v, &end, why) == -1)
		return -1;
	if ((r = conf_scale(v, end, units, mult, bytes)) != 0) {
		*why = r > 0 ? "number too large"
			     : "unknown unit (use k, M, G)";
		return -1;
	}
	return 0;
}

/* cm_conf_parse_bool - yes/no true/false on/off 1/0, any case */
int
cm_conf_parse_bool(const char *s, int *v, const char **why)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; s != NULL && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	*why = "want yes or no";
	return -1;
}

/* conf_is_sep - list separators: comma and white space */
static int
conf_is_sep(int ch)
{
	return ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * cm_conf_parse_list - split on commas and/or white space; empty items are
 * skipped. An empty list has v == NULL, n == 0; else v[n] is NULL too.
 */
int
cm_conf_parse_list(const char *s, struct cm_list *l, const char **why)
{
	size_t n = 0, i, start;

	l->v = NULL;
	l->n = 0;
	for (i = 0; s != NULL && s[i] != '\0'; n++) {
		while (conf_is_sep((unsigned char)s[i]))
			i++;
		if (s[i] == '\0')
			break;
		while (s[i] != '\0' && !conf_is_sep((unsigned char)s[i]))
			i++;
	}
	if (n == 0)
		return 0;
	if ((l->v = calloc(n + 1, sizeof *l->v)) == NULL)
		goto nomem;
	for (i = 0; s[i] != '\0';) {
		while (conf_is_sep((unsigned char)s[i]))
			i++;
		if (s[i] == '\0')
			break;
		for (start = i;
		     s[i] != '\0' && !conf_is_sep((unsigned char)s[i]);)
			i++;
		if ((l->v[l->n++] = strndup(s + start, i - start)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	cm_list_free(l);
	*why = "out of memory";
	return -1;
}

/* cm_list_free - free a list's items and reset it to empty */
void
cm_list_free(struct cm_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; l->v != NULL && i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
