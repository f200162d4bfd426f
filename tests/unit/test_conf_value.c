/*
 * NAME
 *	test_conf_value - unit tests of the configuration value parsers
 * SYNOPSIS
 *	tests/unit/test_conf_value
 * DESCRIPTION
 *	cm_conf_parse_duration(), cm_conf_parse_size(), cm_conf_parse_bool()
 *	and cm_conf_parse_list() on their own (common/conf_value.c), over
 *	tables of {input, want value or the reason it fails}, hostile
 *	inputs included.
 * DIAGNOSTICS
 *	TAP through cmocka, one test per parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_conf.h"

/* Value parsers on their own: {input, want value or -1 with why}. */
struct vrow {
	const char *in;
	long long want;
	const char *why; /* NULL: success */
};

static const struct vrow durations[] = {
	{ "0", 0, NULL },
	{ "1", 1000, NULL },
	{ "50ms", 50, NULL },
	{ "5s", 5000, NULL },
	{ "2m", 120000, NULL },
	{ "1h", 3600000, NULL },
	{ "1d", 86400000, NULL },
	{ "007s", 7000, NULL },
	{ "", 0, "empty value" },
	{ "-1s", 0, "negative" },
	{ "+1s", 0, "not a number" },
	{ " 1s", 0, "not a number" },
	{ "1s ", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1S", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1sec", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1w", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "9223372036854775807", 0, "number too large" },
	{ "9223372036854775807ms", 9223372036854775807LL, NULL },
	{ "9223372036854775808ms", 0, "number too large" },
	{ "106751991168d", 0, "number too large" },
	{ "106751991167d", 106751991167LL * 86400000, NULL },
};

static const struct vrow sizes[] = {
	{ "0", 0, NULL },
	{ "1", 1, NULL },
	{ "10k", 10240, NULL },
	{ "10K", 10240, NULL },
	{ "10M", 10485760, NULL },
	{ "2G", 2147483648LL, NULL },
	{ "", 0, "empty value" },
	{ "-1", 0, "negative" },
	{ "1kb", 0, "unknown unit (use k, M, G)" },
	{ "1T", 0, "unknown unit (use k, M, G)" },
	{ "8589934592G", 0, "number too large" },
	{ "99999999999999999999", 0, "number too large" },
};

static const struct vrow bools[] = {
	{ "yes", 1, NULL },
	{ "Yes", 1, NULL },
	{ "true", 1, NULL },
	{ "on", 1, NULL },
	{ "1", 1, NULL },
	{ "no", 0, NULL },
	{ "FALSE", 0, NULL },
	{ "off", 0, NULL },
	{ "0", 0, NULL },
	{ "", 0, "want yes or no" },
	{ "y", 0, "want yes or no" },
	{ "yes ", 0, "want yes or no" },
	{ "2", 0, "want yes or no" },
};

/* check_vrows - run one parser over a table */
static void
check_vrows(const char *what, const struct vrow *t, size_t n,
    int (*fn)(const char *, long long *, const char **))
{
	const char *why;
	long long v;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		why = NULL;
		v = -42;
		rc = fn(t[i].in, &v, &why);
		if (t[i].why == NULL && (rc != 0 || v != t[i].want))
			fail_msg(
			    "%s \"%s\": got rc %d value %lld (%s), want %lld",
			    what, t[i].in, rc, v, why ? why : "", t[i].want);
		if (t[i].why != NULL &&
		    (rc != -1 || why == NULL || strcmp(why, t[i].why) != 0))
			fail_msg("%s \"%s\": got rc %d why '%s', want '%s'",
			    what, t[i].in, rc, why ? why : "(null)", t[i].why);
	}
}

/* bool_ll - cm_conf_parse_bool() with the signature of the others */
static int
bool_ll(const char *s, long long *v, const char **why)
{
	int b = -1, rc;

	rc = cm_conf_parse_bool(s, &b, why);
	*v = b;
	return rc;
}

/* t_duration - the duration table */
static void
t_duration(void **state)
{
	check_vrows("duration", durations, sizeof durations / sizeof *durations,
	    cm_conf_parse_duration);
}

/* t_size - the size table */
static void
t_size(void **state)
{
	check_vrows("size", sizes, sizeof sizes / sizeof *sizes,
	    cm_conf_parse_size);
}

/* t_bool - the boolean table */
static void
t_bool(void **state)
{
	check_vrows("bool", bools, sizeof bools / sizeof *bools, bool_ll);
}

/* t_list - split, join with '|' and compare */
static void
t_list(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "" },
		{ " , ,\t", "" },
		{ "a", "a" },
		{ "a,b", "a|b" },
		{ " a ,  b\tc,,d ", "a|b|c|d" },
		{ "sasl_username, sender", "sasl_username|sender" },
	};
	struct cm_list l;
	const char *why;
	char got[256];
	size_t i, j, o;

	for (i = 0; i < sizeof t / sizeof *t; i++) {
		assert_int_equal(cm_conf_parse_list(t[i].in, &l, &why), 0);
		for (j = 0, o = 0, got[0] = '\0'; j < l.n; j++)
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s",
			    j ? "|" : "", l.v[j]);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("list \"%s\": got '%s', want '%s'", t[i].in,
			    got, t[i].want);
		if (l.n > 0)
			assert_null(l.v[l.n]);
		else
			assert_null(l.v);
		cm_list_free(&l);
		assert_int_equal(l.n, 0);
	}
	assert_int_equal(cm_conf_parse_list(NULL, &l, &why), 0);
	assert_int_equal(l.n, 0);
	cm_list_free(NULL);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(t_duration),
		cmocka_unit_test(t_size),
		cmocka_unit_test(t_bool),
		cmocka_unit_test(t_list),
	};

	return cmocka_run_group_tests(fixed, NULL, NULL);
}
