/*
 * NAME
 *	test_addr - unit tests of the address normalizer (common/addr.c)
 * SYNOPSIS
 *	tests/unit/test_addr
 * DESCRIPTION
 *	A table of good and bad envelope addresses, each checked for the
 *	normalized form (or the error) and, when good, for idempotence;
 *	length limits at and one past the bound; cm_addr_domain();
 *	cm_addr_hash() against an RFC 4231 test vector and for stability.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cm_addr.h"
#include "cm_util.h"

struct norm_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *want; /* NULL: an error */
};

#define BAD(name, in)                                                          \
	{                                                                      \
		name, in, 0, NULL                                              \
	}
#define GOOD(name, in, want)                                                   \
	{                                                                      \
		name, in, 0, want                                              \
	}

static const struct norm_case norm_cases[] = {
	GOOD("plain", "alice@example.org", "alice@example.org"),
	GOOD("brackets", "<alice@example.org>", "alice@example.org"),
	GOOD("domain case", "<Alice@EXAMPLE.Org>", "Alice@example.org"),
	GOOD("local case kept", "ALICE@x.org", "ALICE@x.org"),
	GOOD("null sender", "<>", ""),
	GOOD("empty", "", ""),
	GOOD("trailing dot", "a@example.org.", "a@example.org"),
	GOOD("source route", "<@r1.example,@r2.example:bob@Example.NET>",
	    "bob@example.net"),
	GOOD("route no brackets", "@relay.example:bob@x.org", "bob@x.org"),
	GOOD("quoted dot-atom", "\"john.doe\"@x.org", "john.doe@x.org"),
	GOOD("quoted space", "\"john doe\"@X.org", "\"john doe\"@x.org"),
	GOOD("quoted escapes", "\"a\\ b\\\"c\\\\\"@x.org",
	    "\"a b\\\"c\\\\\"@x.org"),
	GOOD("quoted needless escape", "\"\\a\\b\"@x.org", "ab@x.org"),
	GOOD("quoted at", "\"a@b\"@x.org", "\"a@b\"@x.org"),
	GOOD("quoted dots", "\"a..b\"@x.org", "\"a..b\"@x.org"),
	GOOD("quoted leading dot", "\".a\"@x.org", "\".a\"@x.org"),
	GOOD("unquoted double dot", "a..b@x.org", "a..b@x.org"),
	GOOD("atext", "a!#$%&'*+-/=?^_`{|}~z@x.org",
	    "a!#$%&'*+-/=?^_`{|}~z@x.org"),
	GOOD("plus", "a+tag@x.org", "a+tag@x.org"),
	GOOD("bare login", "alice", "alice"),
	GOOD("bare login brackets", "<alice>", "alice"),
	GOOD("bare quoted", "\"al ice\"", "\"al ice\""),
	GOOD("ipv4 literal", "a@[192.0.2.1]", "a@[192.0.2.1]"),
	GOOD("ipv6 literal", "a@[IPv6:2001:DB8:0:0::1]",
	    "a@[IPv6:2001:db8::1]"),
	GOOD("ipv6 tag case", "a@[ipv6:::1]", "a@[IPv6:::1]"),
	GOOD("utf8 local", "j\xc3\xb6rg@x.org", "j\xc3\xb6rg@x.org"),
	GOOD("utf8 domain", "a@B\xc3\xbc\x63her.example",
	    "a@b\xc3\xbc\x63her.example"),
	GOOD("underscore domain", "a@_dmarc.Example", "a@_dmarc.example"),
	GOOD("digits", "123@456.789", "123@456.789"),
	GOOD("single label", "root@localhost", "root@localhost"),
	BAD("nul", "a\0@x.org"),
	BAD("control", "a\x01@x.org"),
	BAD("newline", "a@x.org\n"),
	BAD("tab in quotes", "\"a\tb\"@x.org"),
	BAD("del", "a\x7f@x.org"),
	BAD("open bracket", "<a@x.org"),
	BAD("close bracket", "a@x.org>"),
	BAD("lone open", "<"),
	BAD("lone close", ">"),
	BAD("double brackets", "<<a@x.org>>"),
	BAD("inner bracket", "a<b@x.org"),
	BAD("open quote", "\"abc@x.org"),
	BAD("lone quote", "\""),
	BAD("quote in middle", "ab\"c\"@x.org"),
	BAD("text after quote", "\"a\"b@x.org"),
	BAD("escape at end", "\"a\\"),
	BAD("escape of utf8", "\"\\\xc3\xa9\"@x.org"),
	BAD("empty quoted", "\"\"@x.org"),
	BAD("space", "a b@x.org"),
	BAD("leading space", " a@x.org"),
	BAD("trailing space", "a@x.org "),
	BAD("space in domain", "a@x .org"),
	BAD("empty local", "@x.org"),
	BAD("empty domain", "a@"),
	BAD("dot domain", "a@."),
	BAD("two ats", "a@b@c.org"),
	BAD("empty label", "a@x..org"),
	BAD("leading dot domain", "a@.x.org"),
	BAD("two trailing dots", "a@x.org.."),
	BAD("bad domain char", "a@x!.org"),
	BAD("comma", "a,b@x.org"),
	BAD("paren", "a(comment)@x.org"),
	BAD("backslash", "a\\b@x.org"),
	BAD("colon", "a:b@x.org"),
	BAD("route no colon", "@a.example,@b.example"),
	BAD("route empty", "@:a@x.org"),
	BAD("route bad", "@a b:c@x.org"),
	BAD("route not at", "@a,b:c@x.org"),
	BAD("route only", "<@a.example:>"),
	BAD("bad ipv4", "a@[192.0.2.256]"),
	BAD("ipv4 short", "a@[192.0.2]"),
	BAD("bad ipv6", "a@[IPv6:2001:db8::g]"),
	BAD("ipv6 no tag", "a@[2001:db8::1]"),
	BAD("other tag", "a@[x400:foo]"),
	BAD("literal open", "a@[192.0.2.1"),
	BAD("literal close", "a@192.0.2.1]"),
	BAD("literal empty", "a@[]"),
	BAD("literal trailing", "a@[192.0.2.1]x"),
	BAD("bad utf8 local", "a\xff@x.org"),
	BAD("overlong utf8", "\xc0\xaf@x.org"),
	BAD("surrogate utf8", "\xed\xa0\x80@x.org"),
	BAD("cut utf8 domain", "a@x\xc3"),
	BAD("utf8 in quotes bad", "\"a\xfe\"@x.org"),
};

/* test_norm - the table, and norm(norm(x)) == norm(x) */
static void
test_norm(void **state)
{
	char out[CM_ADDR_MAX + 1], again[CM_ADDR_MAX + 1];
	const char *why;
	size_t i, len;
	int r;

	for (i = 0; i < countof(norm_cases); i++) {
		const struct norm_case *c = &norm_cases[i];

		len = c->len ? c->len : strlen(c->in);
		if (strcmp(c->name, "nul") == 0)
			len = 8;
		why = NULL;
		r = cm_addr_norm(c->in, len, out, &why);
		if (c->want == NULL) {
			if (r != -1)
				fail_msg("%s: got %s, want an error", c->name,
				    out);
			assert_non_null(why);
			assert_string_equal(out, "");
			continue;
		}
		if (r != 0 || strcmp(out, c->want) != 0)
			fail_msg("%s: got %d %s (%s), want %s", c->name, r, out,
			    r ? why : "", c->want);
		r = cm_addr_norm(out, strlen(out), again, &why);
		if (r != 0 || strcmp(again, out) != 0)
			fail_msg("%s: not idempotent: got %s, want %s", c->name,
			    again, out);
	}
}

/* check - normalize s and compare with want (NULL: an error) */
static void
check(const char *name, const char *s, const char *want)
{
	char out[CM_ADDR_MAX + 1];
	const char *why;
	int r;

	r = cm_addr_norm(s, strlen(s), out, &why);
	if (want == NULL && r == 0)
		fail_msg("%s: got %s, want an error", name, out);
	if (want != NULL && (r != 0 || strcmp(out, want) != 0))
		fail_msg("%s: got %s (%s), want %s", name, out, r ? why : "",
		    want);
}

/* test_limits - 64-byte local parts, 63-byte labels, 255-byte domains */
static void
test_limits(void **state)
{
	char in[1024], want[1024], local[100], label[100], dom[400];

	memset(local, 'l', 64);
	local[64] = '\0';
	memset(label, 'd', 63);
	label[63] = '\0';
	snprintf(in, sizeof in, "%s@x.org", local);
	check("local 64", in, in);
	snprintf(in, sizeof in, "<\"%s\"@x.org>", local);
	snprintf(want, sizeof want, "%s@x.org", local);
	check("quoted local 64", in, want);
	local[63] = ' ';
	snprintf(in, sizeof in, "\"%s\"@x.org", local);
	check("quoted local 64 with space", in, in);
	local[63] = '"';
	snprintf(in, sizeof in, "\"%s\"@x.org", local);
	check("quoted local 64 escapes to 65", in, NULL);
	local[63] = 'l';
	snprintf(in, sizeof in, "%sl@x.org", local);
	check("local 65", in, NULL);
	snprintf(in, sizeof in, "\"%sl\"@x.org", local);
	check("quoted local 65", in, NULL);
	snprintf(in, sizeof in, "%sl", local);
	check("bare local 65", in, NULL);

	snprintf(in, sizeof in, "a@%s.org", label);
	check("label 63", in, in);
	snprintf(in, sizeof in, "a@%sd.org", label);
	check("label 64", in, NULL);
	/* 4 labels of 63 + 3 dots = 255 bytes */
	snprintf(dom, sizeof dom, "%s.%s.%s.%s", label, label, label, label);
	assert_int_equal(strlen(dom), 255);
	snprintf(in, sizeof in, "%s@%s", local, dom);
	check("max address", in, in);
	snprintf(in, sizeof in, "%s@%s.", local, dom);
	snprintf(want, sizeof want, "%s@%s", local, dom);
	check("max address trailing dot", in, want);
	snprintf(in, sizeof in, "a@%s.b", dom);
	check("domain 257", in, NULL);
	dom[0] = 'D';
	snprintf(in, sizeof in, "a@%sx", dom);
	check("domain 256", in, NULL);
}

/* test_hostile - long and odd inputs stay bounded and never crash */
static void
test_hostile(void **state)
{
	static char big[1 << 20];
	char out[CM_ADDR_MAX + 1];
	const char *why;

	memset(big, 'a', sizeof big);
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	big[100] = '@';
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	big[0] = '<';
	big[sizeof big - 1] = '>';
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	memset(big, '"', sizeof big);
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	memset(big, '@', sizeof big);
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	memset(big, '\\', sizeof big);
	big[0] = '"';
	assert_int_equal(cm_addr_norm(big, sizeof big, out, &why), -1);
	/* a length shorter than the string is honoured */
	assert_int_equal(cm_addr_norm("a@x.org>", 7, out, &why), 0);
	assert_string_equal(out, "a@x.org");
	assert_int_equal(cm_addr_norm(NULL, 0, out, &why), 0);
	assert_string_equal(out, "");
}

/* test_domain - cm_addr_domain() */
static void
test_domain(void **state)
{
	assert_string_equal(cm_addr_domain("a@x.org"), "x.org");
	assert_string_equal(cm_addr_domain("\"a@b\"@x.org"), "x.org");
	assert_null(cm_addr_domain(""));
	assert_null(cm_addr_domain("alice"));
	assert_null(cm_addr_domain("\"a@B\""));
	assert_null(cm_addr_domain(NULL));
}

/* test_hash - HMAC-SHA256 truncated to 8 bytes, hex */
static void
test_hash(void **state)
{
	unsigned char key[20];
	char h[CM_ADDR_HASH_LEN + 1], h2[CM_ADDR_HASH_LEN + 1];

	/* RFC 4231 test case 1: key 20 x 0x0b, data "Hi There" */
	memset(key, 0x0b, sizeof key);
	assert_int_equal(cm_addr_hash(key, sizeof key, "Hi There", h), 0);
	assert_string_equal(h, "b0344c61d8db3853");
	assert_int_equal(cm_addr_hash(key, sizeof key, "a@x.org", h), 0);
	assert_int_equal(cm_addr_hash(key, sizeof key, "a@x.org", h2), 0);
	assert_string_equal(h, h2);
	assert_int_equal(strlen(h), CM_ADDR_HASH_LEN);
	assert_int_equal(cm_addr_hash(key, 19, "a@x.org", h2), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(cm_addr_hash(NULL, 0, "a@x.org", h2), 0);
	assert_int_equal(strlen(h2), CM_ADDR_HASH_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
