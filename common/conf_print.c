/*
 * NAME
 *	conf_print 3 - print the effective configuration, for -n
 * SYNOPSIS
 *	#include <cm_conf.h>
 *
 *	void	cm_conf_print(const struct cm_conf_section *secs, FILE *fp);
 *
 *	#include "conf_int.h"
 *
 *	void	cm_conf_fmt_num(const struct cm_conf_def *d, long long n,
 *		    char *buf, size_t len);
 * DESCRIPTION
 *	cm_conf_print() writes every key of every section, in table order,
 *	as a "name = value" line that reads back to the same value: strings
 *	are quoted when blanks or a leading quote would be lost, numbers
 *	take the largest unit that divides them, enums their choice, and
 *	keyed entries are printed by their def's print callback.
 *
 *	cm_conf_fmt_num() writes a number as it would be written in a file
 *	for its def; the loader also uses it to show min/max in messages.
 * DIAGNOSTICS
 *	Output errors are left to the caller (ferror(fp)). A CIDR list that
 *	cannot be formatted prints as a "# name: cannot format" comment.
 *	Nothing is logged; nothing exits.
 * SEE ALSO
 *	conf.c, conf_value.c, cm_cidr_format(3)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_cidr.h"
#include "cm_conf.h"
#include "conf_int.h"

/*
 * cm_conf_fmt_num - write n as it would be written in a file for d: the
 * largest unit that divides it; an INT whose default is written in octal
 * ("0660") in octal, others in decimal.
 */
void
cm_conf_fmt_num(const struct cm_conf_def *d, long long n, char *buf, size_t len)
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
	void *f = cm_conf_field(d, base);
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
		cm_conf_fmt_num(d, *(long long *)f, num, sizeof num);
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
