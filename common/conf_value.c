/*
 * NAME
 *	conf_value 3 - configuration value parsers and field storage
 * SYNOPSIS
 *	#include <cm_conf.h>
 *
 *	int	cm_conf_parse_duration(const char *s, long long *ms,
 *		    const char **why);
 *	int	cm_conf_parse_size(const char *s, long long *bytes,
 *		    const char **why);
 *	int	cm_conf_parse_bool(const char *s, int *v, const char **why);
 *	int	cm_conf_parse_list(const char *s, struct cm_list *l,
 *		    const char **why);
 *	void	cm_list_free(struct cm_list *l);
 *
 *	#include "conf_int.h"
 *
 *	int	cm_conf_parse_value(const struct cm_conf_def *d,
 *		    const char *s, union conf_val *v, const char **why);
 *	void	*cm_conf_field(const struct cm_conf_def *d, void *base);
 *	void	cm_conf_clear(const struct cm_conf_def *d, void *base);
 *	void	cm_conf_store(const struct cm_conf_def *d, void *base,
 *		    union conf_val *v);
 * DESCRIPTION
 *	The value syntax of every type is described in cm_conf.h. The
 *	public parsers (durations, sizes, booleans, lists) are also used by
 *	modules that parse values of their own, such as keyed entries.
 *
 *	cm_conf_parse_value() parses a value for one def into a union
 *	conf_val without a range check (the loader checks min/max, since
 *	its message shows the bounds). cm_conf_store() frees what the field
 *	held and takes what the union owns; cm_conf_clear() frees a field
 *	and zeroes it; cm_conf_field() is the address of a def's field.
 * DIAGNOSTICS
 *	The parsers return 0, or -1 with *why set to a static string. A
 *	parser that fails leaves nothing allocated. Nothing is logged;
 *	nothing exits.
 * SEE ALSO
 *	conf.c, conf_print.c, cm_cidr_parse(3)
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_cidr.h"
#include "cm_conf.h"
#include "conf_int.h"

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

/* cm_conf_parse_value - parse a value for def 'd' into 'v'; no range check */
int
cm_conf_parse_value(const struct cm_conf_def *d, const char *s,
    union conf_val *v, const char **why)
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

/* cm_conf_field - the address of def d's field in base */
void *
cm_conf_field(const struct cm_conf_def *d, void *base)
{
	return (char *)base + d->off;
}

/* cm_conf_clear - free def d's field and zero it */
void
cm_conf_clear(const struct cm_conf_def *d, void *base)
{
	void *f = cm_conf_field(d, base);

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

/* cm_conf_store - replace def d's field with v (taking what v owns) */
void
cm_conf_store(const struct cm_conf_def *d, void *base, union conf_val *v)
{
	void *f = cm_conf_field(d, base);

	cm_conf_clear(d, base);
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

/*
 * conf_scaled - a number with an optional unit: its digits times the
 * multiplier of the unit that follows them in 'units' (NULL-terminated,
 * "" for none); 'unknown' is the message for a unit not in the list.
 */
static int
conf_scaled(const char *s, const char *const *units, const long long *mult,
    const char *unknown, long long *out, const char **why)
{
	long long v;
	char *end;
	size_t i;

	if (conf_digits(s, &v, &end, why) == -1)
		return -1;
	for (i = 0; units[i] != NULL; i++)
		if (strcmp(end, units[i]) == 0) {
			if (v > LLONG_MAX / mult[i]) {
				*why = "number too large";
				return -1;
			}
			*out = v * mult[i];
			return 0;
		}
	*why = unknown;
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

	return conf_scaled(s, units, mult, "unknown unit (use ms, s, m, h, d)",
	    ms, why);
}

/* cm_conf_parse_size - bytes, or "10k", "10M", "1G" (powers of 1024) */
int
cm_conf_parse_size(const char *s, long long *bytes, const char **why)
{
	static const char *const units[] = { "", "k", "K", "M", "G", NULL };
	static const long long mult[] = { 1, 1LL << 10, 1LL << 10, 1LL << 20,
		1LL << 30 };

	return conf_scaled(s, units, mult, "unknown unit (use k, M, G)", bytes,
	    why);
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
