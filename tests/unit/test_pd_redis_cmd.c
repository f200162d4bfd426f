/*
 * NAME
 *	test_pd_redis_cmd - one decision as a RESP command
 * SYNOPSIS
 *	tests/unit/test_pd_redis_cmd
 * DESCRIPTION
 *	pd_redis_cmd() against an independent decoder of RESP arrays and
 *	of the packed numbers: the bytes of a small plan exactly; every
 *	argument of a plan with two limits (EVALSHA and EVAL); override
 *	hashes passed once each, in order of first use; negative and
 *	extreme numbers; no limits or too many give 0; the largest plan
 *	(PD_LIMITS_MAX limits, keys of PD_KEY_MAX - 1 bytes, every
 *	override hash distinct, the longest names, EVAL) fits
 *	PD_REDIS_CMD_MAX; a buffer one byte short gives 0, never a cut
 *	command.
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

/* expect_args - the first n arguments of the decoded command are want[] */
static void
expect_args(const struct decoded *d, const char *const *want, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (d->len[i] != strlen(want[i]) ||
		    memcmp(d->argv[i], want[i], d->len[i]) != 0)
			fail_msg("argument %d: got \"%.*s\", want \"%s\"", i,
			    (int)d->len[i], d->argv[i], want[i]);
	}
}

/* le64 - the 8-byte little-endian integer at p, decoded byte by byte */
static long long
le64(const char *p)
{
	unsigned long long u = 0;
	int i;

	for (i = 7; i >= 0; i--)
		u = u << 8 | (unsigned char)p[i];
	return (long long)u;
}

/* expect_nums - argument a holds exactly the numbers want[] */
static void
expect_nums(const struct decoded *d, int a, const long long *want, int n)
{
	int i;

	if (d->len[a] != 8 * (size_t)n)
		fail_msg("numbers: %zu bytes, want %d", d->len[a], 8 * n);
	for (i = 0; i < n; i++)
		if (le64(d->argv[a] + 8 * i) != want[i])
			fail_msg("number %d: got %lld, want %lld", i,
			    le64(d->argv[a] + 8 * i), want[i]);
}

/* encode - the plan's command decoded: want[] then the numbers and the
 * names */
static void
encode(const struct pd_plan *p, const char *sha, struct decoded *d,
    const char *const *want, int n)
{
	static char buf[4096];
	size_t len;

	len = pd_redis_cmd(buf, sizeof buf, p, sha);
	assert_int_equal(decode(buf, len, d), 0);
	assert_int_equal(d->argc, n + 2);
	expect_args(d, want, n);
}

static void
test_small_plan_bytes(void **state)
{
	static struct pd_limit l = { .name = "x" };
	/* n 1, check, no instance, marker TTL 1 (0 is sent as 1); max 15,
	 * cost 0, ttl 1, slot 0, nslots 0, keep 0, override hash 1 */
#define Z7 "\0\0\0\0\0\0\0"
	static const char want[] = "*8\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n"
				   "$1\r\n3\r\n$1\r\nk\r\n$1\r\nk\r\n"
				   "$1\r\no\r\n$88\r\n"
				   "\1" Z7 "\0" Z7 "\0" Z7 "\1" Z7 "\17" Z7
				   "\0" Z7 "\1" Z7 "\0" Z7 "\0" Z7 "\0" Z7
				   "\1" Z7 "\r\n"
				   "$1\r\nx\r\n";
#undef Z7
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
		fail_msg("got %zu bytes \"%.*s\"", n, (int)n, buf);
}

static void
test_commit_evalsha(void **state)
{
	/* one override hash for both limits (one subject): 4 keys */
	static const char *const want[] = { "EVALSHA", "0123abcd", "4",
		"mt:{a@b}:i:1.2.3", "mt:{a@b}:hourly:r3600",
		"mt:{a@b}:daily:d20261123", "mt:{a@b}:ovr" };
	static const long long nums[] = { 2, 1, 1, 3600, 200, 1, 3780, 29924366,
		61, 62, 1, 1000, 3, 19993, 0, 0, 0, 1 };
	struct pd_plan p;
	struct decoded d;

	(void)state;
	two_limits(&p);
	encode(&p, "0123abcd", &d, want, (int)countof(want));
	expect_nums(&d, (int)countof(want), nums, (int)countof(nums));
	assert_int_equal(d.len[d.argc - 1], 12);
	assert_memory_equal(d.argv[d.argc - 1], "hourly daily", 12);
}

static void
test_override_hashes(void **state)
{
	/* limits of three subjects, the first and third the same: the
	 * distinct override hashes in order of first use, indexes 1 2 1 */
	static struct pd_limit dom = { .name = "per-domain_1" };
	static const char *const want[] = { "EVALSHA", "s", "6",
		"mt:{a@b}:i:1.2.3", "mt:{a@b}:hourly:r3600",
		"mt:{b}:dom:d20261123", "mt:{a@b}:daily:d20261123",
		"mt:{a@b}:ovr", "mt:{b}:ovr" };
	struct pd_plan p;
	struct decoded d;

	(void)state;
	two_limits(&p);
	p.n = 3;
	p.item[2] = p.item[1];
	p.item[1] = (struct pd_plan_item){ .limit = &dom, .max = 5 };
	snprintf(p.item[1].key, PD_KEY_MAX, "mt:{b}:dom:d20261123");
	snprintf(p.item[1].ovr_key, PD_KEY_MAX, "mt:{b}:ovr");
	encode(&p, "s", &d, want, (int)countof(want));
	assert_int_equal(d.len[9], 8 * PD_REDIS_NUMS(3));
	assert_int_equal(le64(d.argv[9]), 3);
	assert_int_equal(le64(d.argv[9] + 8 * (4 + 6)), 1);
	assert_int_equal(le64(d.argv[9] + 8 * (4 + 7 + 6)), 2);
	assert_int_equal(le64(d.argv[9] + 8 * (4 + 14 + 6)), 1);
	assert_int_equal(d.len[10], 25);
	assert_memory_equal(d.argv[10], "hourly per-domain_1 daily", 25);
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
	assert_int_equal(d.argc, 9);
	assert_int_equal(d.len[1], strlen(pd_redis_script));
	assert_memory_equal(d.argv[0], "EVAL", 4);
	assert_memory_equal(d.argv[1], pd_redis_script, d.len[1]);
	/* no marker: KEYS[1] is the first counter, commit 0, has_instance 0 */
	assert_memory_equal(d.argv[3], "mt:{a@b}:hourly:r3600", 21);
	assert_int_equal(le64(d.argv[7] + 8), 0);
	assert_int_equal(le64(d.argv[7] + 16), 0);
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
	p.item[1].ttl_s = -5; /* sent as 1, like a TTL of 0 */
	p.instance_ttl_s = 0; /* sent as 1: EX 0 is an error */
	n = pd_redis_cmd(buf, sizeof buf, &p, "s");
	assert_int_equal(decode(buf, n, &d), 0);
	assert_int_equal(d.argc, 9);
	assert_true(le64(d.argv[7] + 8 * 3) == 1);
	assert_true(le64(d.argv[7] + 8 * 4) == LLONG_MAX);
	assert_true(le64(d.argv[7] + 8 * 5) == 0);
	assert_true(le64(d.argv[7] + 8 * 7) == -42);
	assert_true(le64(d.argv[7] + 8 * 11) == LLONG_MIN);
	assert_true(le64(d.argv[7] + 8 * 13) == 1);
}

static void
test_no_limits(void **state)
{
	struct pd_plan p;
	char buf[4096];

	(void)state;
	two_limits(&p);
	p.n = 0;
	assert_int_equal(pd_redis_cmd(buf, sizeof buf, &p, "s"), 0);
	p.n = PD_LIMITS_MAX + 1;
	assert_int_equal(pd_redis_cmd(buf, sizeof buf, &p, "s"), 0);
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
		/* every override hash distinct: the most keys */
		memset(p.item[i].ovr_key, 'o', PD_KEY_MAX - 1);
		p.item[i].ovr_key[0] = (char)('A' + i);
		p.item[i].max = p.item[i].ttl_s = p.item[i].slot = LLONG_MIN;
		p.item[i].cost = p.item[i].nslots = p.item[i].keep = LLONG_MIN;
	}
	n = pd_redis_cmd(buf, sizeof buf, &p, NULL);
	if (n == 0)
		fail_msg("the largest plan does not fit PD_REDIS_CMD_MAX (%d)",
		    (int)PD_REDIS_CMD_MAX);
	assert_int_equal(decode(buf, n, &d), 0);
	assert_int_equal(d.argc, 3 + 1 + 2 * PD_LIMITS_MAX + 2);
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
		cmocka_unit_test(test_override_hashes),
		cmocka_unit_test(test_check_eval_no_instance),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_no_limits),
		cmocka_unit_test(test_largest_plan_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
