/*
 * NAME
 *	test_pd_limits - the limit grammar, good and bad
 * SYNOPSIS
 *	tests/unit/test_pd_limits
 * DESCRIPTION
 *	A table of "limit NAME = VALUE" entries: each good one must parse to
 *	the wanted fields and format back to its canonical text (which must
 *	parse to the same limit again); each bad one must fail with a
 *	reason. Hostile input: overlong names and numbers, quotes, control
 *	bytes, overflow. Overrides' MAX too.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pd_limits.h"

struct lcase {
	const char *name, *value;
	const char *want; /* canonical text; NULL: must fail */
};

static const struct lcase cases[] = {
	{ "daily", "day 1000 recipients",
	    "day 1000 recipients defer key=identity" },
	{ "burst", "1m 30 messages", "1m 30 messages defer key=identity" },
	{ "hourly", "1h 200 recipients reject",
	    "1h 200 recipients reject key=identity" },
	{ "monthly", "month 20000 recipients",
	    "month 20000 recipients defer key=identity" },
	{ "weekly", "week 5 message", "week 5 messages defer key=identity" },
	{ "w24", "24h 1 recipient", "24h 1 recipients defer key=identity" },
	{ "w7d", "7d 1 messages", "7d 1 messages defer key=identity" },
	{ "s90", "90s 1 messages", "90s 1 messages defer key=identity" },
	{ "m120", "120s 1 messages", "2m 1 messages defer key=identity" },
	{ "d1", "86400s 1 messages", "24h 1 messages defer key=identity" },
	{ "big", "day 10M bytes", "day 10485760 bytes defer key=identity" },
	{ "big2", "day 2G byte", "day 2147483648 bytes defer key=identity" },
	{ "zero", "day 0 messages", "day 0 messages defer key=identity" },
	{ "max", "day 1000000000000000 messages",
	    "day 1000000000000000 messages defer key=identity" },
	{ "dom", "day 5 messages key=sender_domain reject",
	    "day 5 messages reject key=sender_domain" },
	{ "ip", "  1h\t5 messages   key=client_address  ",
	    "1h 5 messages defer key=client_address" },
	{ "r", "day 5 messages reply=\"4.7.1 slow down, %{identity}\"",
	    "day 5 messages defer key=identity reply=\"4.7.1 slow down, "
	    "%{identity}\"" },
	{ "q", "day 5 messages reply=\"say \\\"hi\\\" \\\\ bye\"",
	    "day 5 messages defer key=identity reply=\"say \\\"hi\\\" \\\\ "
	    "bye\"" },
	{ "a-b_9", "day 1 messages", "day 1 messages defer key=identity" },
	{ "abcdefghijabcdefghijabcdefghij12", "day 1 messages",
	    "day 1 messages defer key=identity" },
	/* bad */
	{ "Daily", "day 1 messages", NULL },
	{ "", "day 1 messages", NULL },
	{ "abcdefghijabcdefghijabcdefghij123", "day 1 messages", NULL },
	{ "a.b", "day 1 messages", NULL },
	{ "x", "", NULL },
	{ "x", "day", NULL },
	{ "x", "day 10", NULL },
	{ "x", "year 10 messages", NULL },
	{ "x", "0s 10 messages", NULL },
	{ "x", "32d 10 messages", NULL },
	{ "x", "2678401s 10 messages", NULL },
	{ "x", "1x 10 messages", NULL },
	{ "x", "m 10 messages", NULL },
	{ "x", "-1m 10 messages", NULL },
	{ "x", "1m -10 messages", NULL },
	{ "x", "1m +10 messages", NULL },
	{ "x", "1m 10M messages", NULL },
	{ "x", "1m 1000000000000001 messages", NULL },
	{ "x", "1m 99999999999999999999999 messages", NULL },
	{ "x", "1m 1048576G bytes", NULL },
	{ "x", "1m 10 mails", NULL },
	{ "x", "1m 10 messages defer reject maybe", NULL },
	{ "x", "1m 10 messages key=helo", NULL },
	{ "x", "1m 10 messages reply=unquoted", NULL },
	{ "x", "1m 10 messages reply=\"open", NULL },
	{ "x", "1m 10 messages reply=\"a\"b\"", NULL },
	{ "x", "1m 10 messages reply=\"tab\there\"", NULL },
	{ "x", "1m 10 messages reply=\"cr\rlf\n\"", NULL },
	{ "x", "1m 10 messages a b c d e f", NULL },
	{ "x", "1m 10 messages reply=\"a\\\x0f\"", NULL },
	{ "x", "1m 10 messages\x01", NULL },
	{ "x", "1m 10 messages key=identity\xff", NULL },
};

/* test_grammar - every case parses or fails as wanted; round trip */
static void
test_grammar(void **state)
{
	const struct lcase *c;
	struct pd_limit lim, again;
	char buf[1024], buf2[1024];
	const char *why;
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		why = NULL;
		r = pd_limit_parse(c->name, c->value, &lim, &why);
		if (c->want == NULL) {
			if (r != -1 || why == NULL)
				fail_msg("%s = %s: got success, want failure",
				    c->name, c->value);
			continue;
		}
		if (r == -1)
			fail_msg("%s = %s: got \"%s\", want success", c->name,
			    c->value, why);
		assert_int_equal(pd_limit_format(&lim, buf, sizeof buf), 0);
		if (strcmp(buf, c->want) != 0)
			fail_msg("%s = %s: got \"%s\", want \"%s\"", c->name,
			    c->value, buf, c->want);
		assert_int_equal(pd_limit_parse(c->name, buf, &again, &why), 0);
		assert_int_equal(pd_limit_format(&again, buf2, sizeof buf2), 0);
		assert_string_equal(buf, buf2);
		pd_limit_clear(&lim);
		pd_limit_clear(&again);
	}
}

/* test_fields - what the parser stores */
static void
test_fields(void **state)
{
	struct pd_limit lim;
	const char *why = "";
	char small[8];

	assert_int_equal(pd_limit_parse("h",
			     "1h 200 recipients reject "
			     "key=sender_domain reply=\"x\"",
			     &lim, &why),
	    0);
	assert_int_equal(lim.window, PD_WIN_ROLLING);
	assert_int_equal(lim.window_s, 3600);
	assert_int_equal(lim.max, 200);
	assert_int_equal(lim.unit, PD_UNIT_RECIPIENTS);
	assert_int_equal(lim.action, PD_LIMIT_REJECT);
	assert_int_equal(lim.key, PD_KEY_SENDER_DOMAIN);
	assert_string_equal(lim.reply, "x");
	assert_int_equal(pd_limit_format(&lim, small, sizeof small), -1);
	pd_limit_clear(&lim);
	assert_null(lim.reply);
}

/* test_override_max - "override ID LIMIT = MAX" values */
static void
test_override_max(void **state)
{
	static const struct {
		const char *in;
		long long want; /* -1: must fail */
	} t[] = {
		{ "5000", 5000 },
		{ " 7 ", 7 },
		{ "0", 0 },
		{ "1k", 1024 },
		{ "", -1 },
		{ "x", -1 },
		{ "-1", -1 },
		{ "5 6", -1 },
		{ "1000000000000001", -1 },
	};
	const char *why;
	long long v;
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = -1;
		r = pd_override_parse_max(t[i].in, &v, &why);
		if ((t[i].want == -1 && r != -1) ||
		    (t[i].want != -1 && (r != 0 || v != t[i].want)))
			fail_msg("\"%s\": got %d/%lld, want %lld", t[i].in, r,
			    v, t[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_override_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
