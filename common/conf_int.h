/*
 * NAME
 *	conf_int 3h - private interface between the configuration modules
 * SYNOPSIS
 *	#include "conf_int.h"
 * DESCRIPTION
 *	conf.c (reading, logical lines, dispatch, load and free),
 *	conf_value.c (value parsers and field storage) and conf_print.c
 *	(-n output) share these declarations. Nothing outside common/conf*.c
 *	includes this file; the public interface is cm_conf.h.
 *
 *	A union conf_val holds one parsed value of any plain type until it
 *	is stored in its field; it owns what it points to until then.
 * DIAGNOSTICS
 *	See the files that define each function.
 */
#ifndef CONF_INT_H
#define CONF_INT_H

#include <stddef.h>

#include "cm_cidr.h"
#include "cm_conf.h"

union conf_val {
	char *s;
	int i;
	long long n;
	struct cm_list l;
	struct cm_cidr_list *c;
};

/* conf_value.c: parse, locate, free and store one def's value */
int cm_conf_parse_value(const struct cm_conf_def *, const char *,
    union conf_val *, const char **why);
void *cm_conf_field(const struct cm_conf_def *, void *base);
void cm_conf_clear(const struct cm_conf_def *, void *base);
void cm_conf_store(const struct cm_conf_def *, void *base, union conf_val *);

/* conf_print.c: a number as it would be written in a file for its def */
void cm_conf_fmt_num(const struct cm_conf_def *, long long, char *buf,
    size_t len);

#endif
