/*
 * NAME
 *	test_event - unit tests of event rendering (common/event*.c)
 * SYNOPSIS
 *	tests/unit/test_event
 * DESCRIPTION
 *	Golden text and JSON renderings of a sample auth and quota event at
 *	a fixed time; tables of hostile values (NUL, invalid UTF-8, control
 *	bytes, 1 MiB) whose JSON rendering must parse (json_check.h) and
 *	whose text rendering must stay on one printable line; nesting past
 *	the depth bound; the line cap; text- and JSON-only fields; address
 *	privacy modes; NULL events.
 * DIAGNOSTICS
 *	TAP through cmocka.
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

#include "cm_addr.h"
#include "cm_buf.h"
#include "cm_log.h"
#include "cm_util.h"
#include "log_fix.h"

/* assert_one_line - text output: printable ASCII only, no newline */
static void
assert_one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			fail_msg("byte 0x%02x in text line", (unsigned char)*s);
}

/* sample_auth - the milter's event for one message */
static struct cm_event *
sample_auth(void)
{
	struct cm_event *ev = cm_event_new("auth", "4XyZ1p2");

	cm_event_str(ev, "client_ip", "192.0.2.7");
	cm_event_str(ev, "client_name", "mail.example.org");
	cm_event_obj_begin(ev, "tls");
	cm_event_str(ev, "version", "TLSv1.3");
	cm_event_int(ev, "bits", 256);
	cm_event_obj_end(ev);
	cm_event_null(ev, "sasl_user");
	cm_event_addr(ev, "mail_from", "<Alice@Example.ORG>");
	cm_event_arr_begin(ev, "rcpt");
	cm_event_addr(ev, NULL, "bob@example.net");
	cm_event_addr(ev, NULL, "<>");
	cm_event_arr_end(ev);
	cm_event_str(ev, "message_id", "<1234@example.org>");
	cm_event_obj_begin(ev, "spf");
	cm_event_str(ev, "result", "pass");
	cm_event_str(ev, "domain", "example.org");
	cm_event_obj_end(ev);
	cm_event_flags(ev, CM_EV_TEXT);
	cm_event_str(ev, "dkim", "pass:example.org");
	cm_event_flags(ev, CM_EV_JSON);
	cm_event_arr_begin(ev, "dkim");
	cm_event_obj_begin(ev, NULL);
	cm_event_str(ev, "d", "example.org");
	cm_event_int(ev, "bits", 2048);
	cm_event_str(ev, "result", "pass");
	cm_event_obj_end(ev);
	cm_event_arr_end(ev);
	cm_event_flags(ev, CM_EV_BOTH);
	cm_event_bool(ev, "tls_ok", 1);
	cm_event_str(ev, "action", "accept");
	cm_event_int(ev, "elapsed_ms", 12);
	return ev;
}

/* sample_quota - the policy daemon's event for one decision */
static struct cm_event *
sample_quota(void)
{
	struct cm_event *ev = cm_event_new("quota", NULL);

	cm_event_str(ev, "client_ip", "2001:db8::7");
	cm_event_str(ev, "protocol_state", "RCPT");
	cm_event_addr(ev, "sender", "alice@example.org");
	cm_event_int(ev, "rcpt_count", 3);
	cm_event_arr_begin(ev, "limits");
	cm_event_obj_begin(ev, NULL);
	cm_event_str(ev, "name", "hourly");
	cm_event_str(ev, "window", "1h");
	cm_event_int(ev, "used", 200);
	cm_event_int(ev, "max", 200);
	cm_event_obj_end(ev);
	cm_event_arr_end(ev);
	cm_event_str(ev, "action", "defer");
	cm_event_str(ev, "reason", "hourly limit");
	cm_event_null(ev, "store_error");
	cm_event_int(ev, "elapsed_us", -1);
	return ev;
}

/* test_golden - the sample events, both formats */
static void
test_golden(void **state)
{
	struct cm_event *ev;
	char want[2048];

	ev = sample_auth();
	assert_string_equal(render(ev, CM_LOG_TEXT),
	    "4XyZ1p2: auth client_ip=192.0.2.7 client_name=mail.example.org "
	    "tls.version=TLSv1.3 tls.bits=256 mail_from=<Alice@example.org> "
	    "rcpt.0=<bob@example.net> rcpt.1=<> "
	    "message_id=\"<1234@example.org>\" spf.result=pass "
	    "spf.domain=example.org dkim=pass:example.org tls_ok=yes "
	    "action=accept elapsed_ms=12");
	snprintf(want, sizeof want,
	    "{\"ts\":\"2026-11-23T16:33:26.123Z\",\"host\":\"%s\","
	    "\"program\":\"test_event\",\"event\":\"auth\",\"queue_id\":"
	    "\"4XyZ1p2\",\"client_ip\":\"192.0.2.7\",\"client_name\":"
	    "\"mail.example.org\",\"tls\":{\"version\":\"TLSv1.3\",\"bits\":"
	    "256},\"sasl_user\":null,\"mail_from\":\"Alice@example.org\","
	    "\"rcpt\":[\"bob@example.net\",\"\"],\"message_id\":"
	    "\"<1234@example.org>\",\"spf\":{\"result\":\"pass\",\"domain\":"
	    "\"example.org\"},\"dkim\":[{\"d\":\"example.org\",\"bits\":2048,"
	    "\"result\":\"pass\"}],\"tls_ok\":true,\"action\":\"accept\","
	    "\"elapsed_ms\":12}",
	    host);
	assert_string_equal(render(ev, CM_LOG_JSON), want);
	assert_json(render(ev, CM_LOG_JSON));
	cm_event_free(ev);

	ev = sample_quota();
	assert_string_equal(render(ev, CM_LOG_TEXT),
	    "NOQUEUE: quota client_ip=2001:db8::7 protocol_state=RCPT "
	    "sender=<alice@example.org> rcpt_count=3 limits.0.name=hourly "
	    "limits.0.window=1h limits.0.used=200 limits.0.max=200 "
	    "action=defer reason=\"hourly limit\" elapsed_us=-1");
	snprintf(want, sizeof want,
	    "{\"ts\":\"2026-11-23T16:33:26.123Z\",\"host\":\"%s\","
	    "\"program\":\"test_event\",\"event\":\"quota\",\"queue_id\":null,"
	    "\"client_ip\":\"2001:db8::7\",\"protocol_state\":\"RCPT\","
	    "\"sender\":\"alice@example.org\",\"rcpt_count\":3,\"limits\":"
	    "[{\"name\":\"hourly\",\"window\":\"1h\",\"used\":200,\"max\":200}"
	    "],\"action\":\"defer\",\"reason\":\"hourly limit\","
	    "\"store_error\":null,\"elapsed_us\":-1}",
	    host);
	assert_string_equal(render(ev, CM_LOG_JSON), want);
	cm_event_free(ev);
}

struct value_case {
	const char *name;
	const char *in;
	size_t len;
	const char *text; /* want: the text line after "Q: e " */
	const char *json; /* want: the JSON value of "v" */
};

static const struct value_case value_cases[] = {
	{ "plain", "abc", 3, "v=abc", "\"abc\"" },
	{ "empty", "", 0, "v=\"\"", "\"\"" },
	{ "space", "a b", 3, "v=\"a b\"", "\"a b\"" },
	{ "quote", "a\"b", 3, "v=\"a\\\"b\"", "\"a\\\"b\"" },
	{ "backslash", "a\\b", 3, "v=\"a\\\\b\"", "\"a\\\\b\"" },
	{ "newline", "a\nb", 3, "v=\"a\\x0ab\"", "\"a\\nb\"" },
	{ "cr", "a\rb", 3, "v=\"a\\x0db\"", "\"a\\u000db\"" },
	{ "nul", "a\0b", 3, "v=\"a\\x00b\"", "\"a\\u0000b\"" },
	{ "del", "\x7f", 1, "v=\"\\x7f\"", "\"\\u007f\"" },
	{ "esc", "\x1b[31m", 5, "v=\"\\x1b[31m\"", "\"\\u001b[31m\"" },
	{ "utf8", "caf\xc3\xa9", 5, "v=\"caf\\xc3\\xa9\"", "\"caf\xc3\xa9\"" },
	{ "utf8 4", "\xf0\x9f\x98\x80", 4, "v=\"\\xf0\\x9f\\x98\\x80\"",
	    "\"\xf0\x9f\x98\x80\"" },
	{ "lone cont", "a\x80", 2, "v=\"a\\x80\"", "\"a\\u0080\"" },
	{ "overlong", "\xc0\xaf", 2, "v=\"\\xc0\\xaf\"", "\"\\u00c0\\u00af\"" },
	{ "surrogate", "\xed\xa0\x80", 3, "v=\"\\xed\\xa0\\x80\"",
	    "\"\\u00ed\\u00a0\\u0080\"" },
	{ "cut utf8", "\xe2\x82", 2, "v=\"\\xe2\\x82\"", "\"\\u00e2\\u0082\"" },
	{ "too big", "\xf5\x80\x80\x80", 4, "v=\"\\xf5\\x80\\x80\\x80\"",
	    "\"\\u00f5\\u0080\\u0080\\u0080\"" },
	{ "ff", "\xff", 1, "v=\"\\xff\"", "\"\\u00ff\"" },
	{ "injection", "x\nNOQUEUE: quota action=accept", 30,
	    "v=\"x\\x0aNOQUEUE: quota action=accept\"",
	    "\"x\\nNOQUEUE: quota action=accept\"" },
	{ "json breakout", "\",\"admin\":true,\"x\":\"", 20,
	    "v=\"\\\",\\\"admin\\\":true,\\\"x\\\":\\\"\"",
	    "\"\\\",\\\"admin\\\":true,\\\"x\\\":\\\"\"" },
	{ "safe punct", "a.b-c_d:e/f@g+h,i=j[k](l)", 25,
	    "v=a.b-c_d:e/f@g+h,i=j[k](l)", "\"a.b-c_d:e/f@g+h,i=j[k](l)\"" },
};

/* test_values - escaping of hostile values in both formats */
static void
test_values(void **state)
{
	char want[512];
	const char *got;
	size_t i;

	for (i = 0; i < countof(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		struct cm_event *ev = cm_event_new("e", "Q");

		cm_event_strn(ev, "v", c->in, c->len);
		snprintf(want, sizeof want, "Q: e %s", c->text);
		got = render(ev, CM_LOG_TEXT);
		if (strcmp(got, want) != 0)
			fail_msg("%s: text: got %s, want %s", c->name, got,
			    want);
		assert_one_line(got);
		got = render(ev, CM_LOG_JSON);
		assert_json(got);
		snprintf(want, sizeof want, "\"queue_id\":\"Q\",\"v\":%s}",
		    c->json);
		if (strstr(got, want) == NULL)
			fail_msg("%s: json: got %s, want ...%s", c->name, got,
			    want);
		cm_event_free(ev);
	}
}

/* test_huge - a 1 MiB value is capped and ends in "..." */
static void
test_huge(void **state)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	struct cm_event *ev;
	const char *got;

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	big[CM_LOG_VALUE_MAX - 1] = '\xc3'; /* a 2-byte char across the cap */
	big[CM_LOG_VALUE_MAX] = '\xa9';
	ev = cm_event_new("e", big);
	cm_event_str(ev, "a", big);
	cm_event_strn(ev, "b", big, n);
	cm_event_addr(ev, "c", big);
	got = render(ev, CM_LOG_JSON);
	assert_json(got);
	assert_true(strlen(got) < 2000);
	assert_non_null(strstr(got, "xxx...\""));
	got = render(ev, CM_LOG_TEXT);
	assert_one_line(got);
	assert_true(strlen(got) < 2000);
	assert_non_null(strstr(got, " a=xxxxx"));
	assert_non_null(strstr(got, "x...>"));
	cm_event_free(ev);
	free(big);
}

/* test_nesting - deep nesting is bounded, unbalanced ends are harmless */
static void
test_nesting(void **state)
{
	struct cm_event *ev = cm_event_new("e", "Q");
	const char *got;
	int i;

	cm_event_obj_end(ev); /* nothing open: ignored */
	cm_event_arr_end(ev);
	for (i = 0; i < 20; i++) {
		cm_event_obj_begin(ev, "o");
		cm_event_int(ev, "d", i);
	}
	for (i = 0; i < 25; i++)
		cm_event_obj_end(ev);
	cm_event_int(ev, "after", 1);
	cm_event_arr_begin(ev, "open"); /* never closed */
	cm_event_int(ev, NULL, 1);
	cm_event_obj_begin(ev, NULL);
	got = render(ev, CM_LOG_JSON);
	assert_json(got);
	assert_non_null(strstr(got,
	    "\"d\":7}}}}}}}},\"after\":1,"
	    "\"open\":[1,{}]}"));
	assert_null(strstr(got, "\"d\":8"));
	got = render(ev, CM_LOG_TEXT);
	assert_non_null(strstr(got, " o.o.o.o.o.o.o.o.d=7 after=1 open.0=1"));
	cm_event_free(ev);
}

/* test_line_cap - many fields: the line stops at a field, marked */
static void
test_line_cap(void **state)
{
	struct cm_event *ev = cm_event_new("e", "Q");
	char val[300];
	const char *got;
	int i;

	memset(val, '"', sizeof val - 1); /* escapes to twice the size */
	val[sizeof val - 1] = '\0';
	cm_event_obj_begin(ev, "a");
	cm_event_arr_begin(ev, "b");
	for (i = 0; i < 200; i++)
		cm_event_str(ev, NULL, val);
	cm_event_arr_end(ev);
	cm_event_obj_end(ev);
	cm_event_int(ev, "last", 1);
	got = render(ev, CM_LOG_JSON);
	assert_json(got);
	assert_true(strlen(got) <= CM_LOG_LINE_MAX);
	assert_non_null(strstr(got, "...\"]},\"truncated\":true}"));
	assert_null(strstr(got, "last"));
	got = render(ev, CM_LOG_TEXT);
	assert_true(strlen(got) <= CM_LOG_LINE_MAX);
	assert_non_null(strstr(got, "...\" truncated=yes"));
	cm_event_free(ev);
}

/* test_flags - text-only and JSON-only fields, hidden containers */
static void
test_flags(void **state)
{
	struct cm_event *ev = cm_event_new("e", "Q");

	cm_event_flags(ev, CM_EV_JSON);
	cm_event_obj_begin(ev, "j");
	cm_event_flags(ev, CM_EV_BOTH);
	cm_event_int(ev, "in", 1); /* inside a JSON-only object */
	cm_event_obj_end(ev);
	cm_event_flags(ev, CM_EV_TEXT);
	cm_event_int(ev, "t", 2);
	cm_event_flags(ev, CM_EV_BOTH);
	cm_event_int(ev, "b", 3);
	assert_string_equal(render(ev, CM_LOG_TEXT), "Q: e t=2 b=3");
	assert_non_null(strstr(render(ev, CM_LOG_JSON),
	    "\"queue_id\":\"Q\",\"j\":{\"in\":1},\"b\":3}"));
	cm_event_free(ev);
}

struct addr_case {
	const char *name;
	int mode;
	const char *in;
	const char *text;
	const char *json;
};

/* HMAC-SHA256("secret", ...) prefixes, from cm_addr_hash() itself. */
static const struct addr_case addr_cases[] = {
	{ "full", CM_LOG_ADDR_FULL, "<A@Example.ORG>", "a=<A@example.org>",
	    "\"A@example.org\"" },
	{ "full null", CM_LOG_ADDR_FULL, "<>", "a=<>", "\"\"" },
	{ "full empty", CM_LOG_ADDR_FULL, "", "a=<>", "\"\"" },
	{ "full bad", CM_LOG_ADDR_FULL, "a b>\n", "a=<a b\\x3e\\x0a>",
	    "\"a b>\\n\"" },
	{ "full backslash", CM_LOG_ADDR_FULL, "\"a\\\\b\"@x.org",
	    "a=<\"a\\\\\\\\b\"@x.org>", "\"\\\"a\\\\\\\\b\\\"@x.org\"" },
	{ "full quoted", CM_LOG_ADDR_FULL, "\"j d\"@x.org", "a=<\"j d\"@x.org>",
	    "\"\\\"j d\\\"@x.org\"" },
	{ "domain", CM_LOG_ADDR_DOMAIN, "<A@Example.ORG>", "a=<@example.org>",
	    "\"@example.org\"" },
	{ "domain null", CM_LOG_ADDR_DOMAIN, "<>", "a=<>", "\"\"" },
	{ "domain bare", CM_LOG_ADDR_DOMAIN, "alice", "a=<?>", "\"?\"" },
	{ "domain bad", CM_LOG_ADDR_DOMAIN, "a@b@c", "a=<?>", "\"?\"" },
	{ "hash null", CM_LOG_ADDR_HASH, "<>", "a=<>", "\"\"" },
};

/* test_addr_modes - log_addresses full, domain, hash */
static void
test_addr_modes(void **state)
{
	struct cm_log_conf c;
	struct cm_event *ev;
	const char *why, *got;
	char want[300], key[300], h[CM_ADDR_HASH_LEN + 1];
	size_t i;

	snprintf(key, sizeof key, "%s/key", tmpdir);
	write_key("key", "secret\n", 0600);
	for (i = 0; i < countof(addr_cases); i++) {
		const struct addr_case *t = &addr_cases[i];

		c = conf("stderr", t->mode, key);
		assert_int_equal(cm_log_setup(&c, &why), 0);
		ev = cm_event_new("e", "Q");
		cm_event_addr(ev, "a", t->in);
		snprintf(want, sizeof want, "Q: e %s", t->text);
		got = render(ev, CM_LOG_TEXT);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got %s, want %s", t->name, got, want);
		got = render(ev, CM_LOG_JSON);
		assert_json(got);
		snprintf(want, sizeof want, "\"a\":%s}", t->json);
		if (strstr(got, want) == NULL)
			fail_msg("%s: got %s, want ...%s", t->name, got, want);
		cm_event_free(ev);
	}
	/* hash: stable, keyed, domain kept, same for equal addresses */
	c = conf("stderr", CM_LOG_ADDR_HASH, key);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	ev = cm_event_new("e", "Q");
	cm_event_addr(ev, "a", "<alice@Example.org>");
	cm_event_addr(ev, "b", "alice@example.org.");
	cm_event_addr(ev, "c", "alice");
	cm_event_addr(ev, "d", "a b@c");
	assert_int_equal(cm_addr_hash((const unsigned char *)"secret", 6,
			     "alice@example.org", h),
	    0);
	snprintf(want, sizeof want,
	    "Q: e a=<h:%s@example.org> b=<h:%s@example.org> c=<h:", h, h);
	got = render(ev, CM_LOG_TEXT);
	if (strncmp(got, want, strlen(want)) != 0)
		fail_msg("got %s, want %s...", got, want);
	assert_null(strstr(got, "alice"));
	assert_int_equal(cm_addr_hash((const unsigned char *)"secret", 6,
			     "alice", h),
	    0);
	assert_non_null(strstr(got, h));
	cm_event_free(ev);
	c = conf("stderr", CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
}

/* test_null_event - every event function accepts NULL */
static void
test_null_event(void **state)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	cm_event_flags(NULL, CM_EV_BOTH);
	cm_event_str(NULL, "a", "b");
	cm_event_strn(NULL, "a", "b", 1);
	cm_event_int(NULL, "a", 1);
	cm_event_bool(NULL, "a", 1);
	cm_event_null(NULL, "a");
	cm_event_addr(NULL, "a", "b@c");
	cm_event_obj_begin(NULL, "a");
	cm_event_obj_end(NULL);
	cm_event_arr_begin(NULL, "a");
	cm_event_arr_end(NULL);
	assert_int_equal(cm_event_render(NULL, CM_LOG_TEXT, 0, &b), -1);
	cm_event_emit(NULL, CM_LOG_INFO);
	cm_event_free(NULL);
	cm_buf_release(&b);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_addr_modes),
		cmocka_unit_test(test_null_event),
	};

	return log_fix_run("/usr/sbin/test_event", tests, countof(tests));
}
