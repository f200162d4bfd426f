/*
 * NAME
 *	test_pd_redis_cmd - one decision as a RESP command
 * SYNOPSIS
 *	tests/unit/test_pd_redis_cmd
 * DESCRIPTION
 *	pd_redis_cmd() against an independent decoder of RESP arrays: the
 *	bytes of a small plan exactly; every argument of a plan with two
 *	limits (EVALSHA and EVAL); negative and extreme numbers; the
 *	largest plan (PD_LIMITS_MAX limits, keys of PD_KEY_MAX - 1 bytes,
 *	the longest names, EVAL) fits PD_REDIS_CMD_MAX; a buffer one byte
 *	short gives 0, never a cut command.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_util.h"
#include "pd_limits.h"
#include "pd_store.h"

#define ARGS 256

struct decoded {
	int argc;
	const char *argv[ARGS];
	size_t len[ARGS];
};

/* number - a decimal after a type byte, ended by CRLF; -1 if malformed */
static long long
number(const char **p, const char *end, char type)
{
	long long v = 0;
	const char *q = *p;

	if (q >= end || *q++ != type || q >= end)
		return -1;
	do {
		if (*q < '0' || *q > '9' || v > LLONG_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*q++ - '0');
	} while (q < end && *q != '\r');
	if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
		return -1;
	*p = q + 2;
	return v;
}

/* decode - a whole RESP array of bulk strings, nothing after; 0 or -1 */
static int
decode(const char *buf, size_t n, struct decoded *d)
{
	const char *p = buf, *end = buf + n;
	long long argc, len;
	int i;

	if ((argc = number(&p, end, '*')) < 1 || argc > ARGS)
		return -1;
	for (i = 0; i < argc; i++) {
		if ((len = number(&p, end, '$')) < 0 || end - p < len + 2 ||
		    p[len] != '\r' || p[len + 1] != '\n')
			return -1;
		d->argv[i] = p;
		d->len[i] = (size_t)len;
		p += len + 2;
	}
	d->argc = (int)argc;
	return p == end ? 0 : -1;
}

static struct pd_limit hourly = { .name = "hourly" };
static struct pd_limit daily = { .name = "daily" };

/* two_limits - a commit plan with a rolling and a calendar limit */
static void
two_limits(struct pd_plan *p)
{
	memset(p, 0, sizeof *p);
	p->commit = 1;
	snprintf(p->instance_key, sizeof p->instance_key, "mt:{a@b}:i:1.2.3");
	p->instance_ttl_s = 3600;
	p->n = 2;
	p->item[0] = (struct pd_plan_item){ .limit = &hourly,
		.max = 200,
		.cost = 1,
		.ttl_s = 3780,
		.slot = 29924366,
		.nslots = 61,
		.keep = 62 };
	snprintf(p->item[0].key, PD_KEY_MAX, "mt:{a@b}:hourly:r3600");
	snprintf(p->item[0].ovr_key, PD_KEY_MAX, "mt:{a@b}:ovr");
	p->item[1] = (struct pd_plan_item){ .limit = &daily,
		.max = 1000,
		.cost = 3,
		.ttl_s = 19993 };
	snprintf(p->item[1].key, PD_KEY_MAX, "mt:{a@b}:daily:d20261123");
	snprintf(p->item[1].ovr_key, PD_KEY_MAX, "mt:{a@b}:ovr");
}

/* expect_args - the decoded command is exactly want[] */
static void
expect_args(const struct decoded *d, const char *const *want, int n)
{
	int i;

	assert_int_equal(d->argc, n);
	for (i = 0; i < n; i++) {
		if (d->len[i] != strlen(want[i]) ||
		    memcmp(d->argv[i], want[i], d->len[i]) != 0)
			fail_msg("argument %d: got \"%.*s\", want \"%s\"", i,
			    (int)d->len[i], d->argv[i], want[i]);
	}
}

static void
test_small_plan_bytes(void **state)
{
	static struct pd_limit l = { .name = "x" };
	static const char want[] = "*17\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n"
				   "$1\r\n3\r\n$1\r\nk\r\n$1\r\nk\r\n"
				   "$1\r\no\r\n$1\r\n0\r\n$1\r\n0\r\n"
				   "$1\r\n1\r\n$1\r\n1\r\n$1\r\nx\r\n"
				   "$2\r\n15\r\n$1\r\n0\r\n$1\r\n1\r\n"
				   "$1\r\n0\r\n$1\r\n0\r\n$1\r\n0\r\n";
	struct pd_plan p;
	char buf[256];
	size_t n;

	(void)state;
	memset(&p, 0, sizeof p);
	p.n = 1;
	p.item[0].limit = &l;
	p.item[0].max = 15;
	snprintf(p.item[0].key, PD_KEY_MAX, "k");
	snprintf(p.item[0].ovr_key, PD_KEY_MAX, "o");
	n = pd_redis_cmd(buf, sizeof buf, &p, "abc");
	if (n != sizeof want - 1 || memcmp(buf, want, n) != 0)
		fail_msg("got \"%.*s\"", (int)n, buf);
}

static void
test_commit_evalsha(void **state)
{
	static const char *const want[] = { "EVALSHA", "0123abcd", "5",
		"mt:{a@b}:i:1.2.3", "mt:{a@b}:hourly:r3600", "mt:{a@b}:ovr",
		"mt:{a@b}:daily:d20261123", "mt:{a@b}:ovr", "1", "1", "3600",
		"2", "hourly", "200", "1", "3780", "29924366", "61", "62",
		"daily", "1000", "3", "19993", "0", "0", "0" };
	struct pd_plan p;
	struct decoded d;
	char buf[4096];
	size_t n;

	(void)state;
	two_limits(&p);
	n = pd_redis_cmd(buf, sizeof buf, &p, "0123abcd");
	assert_int_equal(decode(buf, n, &d), 0);
	expect_args(&d, want, (int)countof(want));
}

static void
test_check_eval_no_instance(void **state)
{
	struct pd_plan p;
	struct decoded d;
	static char buf[PD_REDIS_CMD_MAX];
	size_t n;

	(void)state;
	two_limits(&p);
	p.instance_key[0] = '\0';
	p.commit = 0;
	n = pd_redis_cmd(buf, sizeof buf, &p, NULL);
	assert_int_equal(decode(buf, n, &d), 0);
	assert_int_equal(d.argc, 26);
	assert_int_equal(d.len[1], strlen(pd_redis_script));
	assert_memory_equal(d.argv[0], "EVAL", 4);
	assert_memory_equal(d.argv[1], pd_redis_script, d.len[1]);
	/* no marker: KEYS[1] is the first counter, commit 0, has_instance 0 */
	assert_memory_equal(d.argv[3], "mt:{a@b}:hourly:r3600", 21);
	assert_memory_equal(d.argv[8], "0", 1);
	assert_memory_equal(d.argv[9], "0", 1);
}

static void
test_numbers(void **state)
{
	struct pd_plan p;
	struct decoded d;
	char buf[4096];
	size_t n;

	(void)state;
	two_limits(&p);
	p.item[0].max = LLONG_MAX;
	p.item[0].cost = 0;
	p.item[0].slot = -42;
	p.item[1].max = LLONG_MIN;
	p.instance_ttl_s = 0; /* sent as 1: EX 0 is an error */
	n = pd_redis_cmd(buf, sizeof buf, &p, "s");
	assert_int_equal(decode(buf, n, &d), 0);
	assert_int_equal(d.argc, 26);
	assert_memory_equal(d.argv[10], "1", d.len[10]);
	assert_int_equal(d.len[13], 19);
	assert_memory_equal(d.argv[13], "9223372036854775807", 19);
	assert_memory_equal(d.argv[14], "0", d.len[14]);
	assert_int_equal(d.len[16], 3);
	assert_memory_equal(d.argv[16], "-42", 3);
	assert_int_equal(d.len[20], 20);
	assert_memory_equal(d.argv[20], "-9223372036854775808", 20);
}

static void
test_largest_plan_fits(void **state)
{
	static struct pd_limit lim[PD_LIMITS_MAX];
	static struct pd_plan p;
	static char buf[PD_REDIS_CMD_MAX];
	struct decoded d;
	size_t i, n;

	(void)state;
	memset(&p, 0, sizeof p);
	memset(p.instance_key, 'i', PD_KEY_MAX - 1);
	p.commit = 1;
	p.instance_ttl_s = LLONG_MAX;
	p.n = PD_LIMITS_MAX;
	for (i = 0; i < PD_LIMITS_MAX; i++) {
		memset(lim[i].name, 'n', PD_LIMIT_NAME_MAX);
		p.item[i].limit = &lim[i];
		memset(p.item[i].key, 'k', PD_KEY_MAX - 1);
		memset(p.item[i].ovr_key, 'o', PD_KEY_MAX - 1);
		p.item[i].max = p.item[i].ttl_s = p.item[i].slot = LLONG_MIN;
		p.item[i].cost = p.item[i].nslots = p.item[i].keep = LLONG_MIN;
	}
	n = pd_redis_cmd(buf, sizeof buf, &p, NULL);
	if (n == 0)
		fail_msg("the largest plan does not fit PD_REDIS_CMD_MAX (%d)",
		    (int)PD_REDIS_CMD_MAX);
	assert_int_equal(decode(buf, n, &d), 0);
	assert_int_equal(d.argc,
	    3 + 1 + 2 * PD_LIMITS_MAX + 4 + 7 * PD_LIMITS_MAX);
	/* one byte short: 0, not a cut command */
	assert_int_equal(pd_redis_cmd(buf, n - 1, &p, NULL), 0);
	assert_int_equal(pd_redis_cmd(buf, n, &p, NULL), n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_plan_bytes),
		cmocka_unit_test(test_commit_evalsha),
		cmocka_unit_test(test_check_eval_no_instance),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_largest_plan_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
