/*
 * NAME
 *	test_mf_spf - unit tests of the SPF check's pure parts
 * SYNOPSIS
 *	tests/unit/test_mf_spf
 * DESCRIPTION
 *	Hermetic (no DNS server): the record checks and rewrites that stand
 *	in for what libspf2 lacks (mf_spflint), the DNS rdata decoders
 *	(mf_dns_txt, mf_dns_name) with hostile input, the result words, and
 *	mf_spf_check() on inputs that need no lookup. The DNS paths are
 *	covered by tests/integration/conformance_spf.sh.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <arpa/nameser.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mf_checks.h"
#include "mf_spf_int.h"

struct lint_case {
	const char *name;
	const char *in;
	int v6;
	int want; /* 0 or -1 */
	const char *out; /* the rewrite when want is 0 */
};

static const struct lint_case lint_cases[] = {
	{ "plain", "v=spf1 -all", 0, 0, "v=spf1 -all" },
	{ "spaces", "v=spf1   ip4:192.0.2.1   -all", 0, 0,
	    "v=spf1 ip4:192.0.2.1 -all" },
	{ "redirect ignored with all", "v=spf1 redirect=a.example.com ~all", 0,
	    0, "v=spf1 ~all" },
	{ "redirect moved last", "v=spf1 redirect=a.example.com ip4:1.2.3.4", 0,
	    0, "v=spf1 ip4:1.2.3.4 redirect=a.example.com" },
	{ "exp moved last", "v=spf1 exp=e.example.com -all", 0, 0,
	    "v=spf1 -all exp=e.example.com" },
	{ "exp twice", "v=spf1 exp=x.example.com exp=y.example.com -all", 0, -1,
	    NULL },
	{ "redirect twice",
	    "v=spf1 redirect=x.example.com redirect=y.example.com", 0, -1,
	    NULL },
	{ "unknown modifier dropped",
	    "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 0, 0,
	    "v=spf1 ip4:1.2.3.4 -all" },
	{ "unknown modifier, bad macro", "v=spf1 foo=%{z} -all", 0, -1, NULL },
	{ "redirect as mechanism", "v=spf1 redirect:t2.example.com", 0, -1,
	    NULL },
	{ "unknown mechanism", "v=spf1 foo:bar.example.com", 0, -1, NULL },
	{ "all with argument", "v=spf1 all:x", 0, -1, NULL },
	{ "numeric toplabel", "v=spf1 a:foo.123 -all", 0, -1, NULL },
	{ "single label", "v=spf1 a:foo -all", 0, -1, NULL },
	{ "empty domain", "v=spf1 a: -all", 0, -1, NULL },
	{ "empty label", "v=spf1 a:foo..example.com -all", 0, -1, NULL },
	{ "trailing dot", "v=spf1 a:foo.example.com. -all", 0, 0,
	    "v=spf1 a:foo.example.com -all" },
	{ "include needs a domain", "v=spf1 include -all", 0, -1, NULL },
	{ "exists needs a domain", "v=spf1 exists -all", 0, -1, NULL },
	{ "cidr leading zero", "v=spf1 ip4:1.2.3.4/032 -all", 0, -1, NULL },
	{ "cidr too long", "v=spf1 ip4:1.2.3.4/33 -all", 0, -1, NULL },
	{ "ip4 /0", "v=spf1 ip4:1.2.3.4/0 -all", 0, 0,
	    "v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all" },
	{ "ip6 /0 keeps qualifier", "v=spf1 -ip6:::1/0", 1, 0,
	    "v=spf1 -ip6:::/1 -ip6:8000::/1" },
	{ "a/0 for an ipv4 client", "v=spf1 a/0 -all", 0, 0,
	    "v=spf1 a:%{d}" MF_SPF_CIDR0 " -all" },
	{ "a/0 for an ipv6 client", "v=spf1 a/0 -all", 1, 0, "v=spf1 a -all" },
	{ "mx //0 for an ipv6 client", "v=spf1 mx:example.com/24//0 -all", 1, 0,
	    "v=spf1 mx:example.com" MF_SPF_CIDR0 "/24 -all" },
	{ "a dual cidr kept", "v=spf1 a:example.com/24//64", 0, 0,
	    "v=spf1 a:example.com/24//64" },
	{ "ptr lower-cased", "v=spf1 ptr:Example.COM", 0, 0,
	    "v=spf1 ptr:example.com" },
	{ "ptr with macro kept", "v=spf1 ptr:%{D}.Example.com", 0, 0,
	    "v=spf1 ptr:%{D}.Example.com" },
	{ "exp-only macro letter", "v=spf1 exists:%{r}.example.com", 0, -1,
	    NULL },
	{ "exp= with r", "v=spf1 -all exp=%{r}.example.com", 0, -1, NULL },
	{ "macro ok", "v=spf1 exists:%{i}.%{l2r-}.example.com", 0, 0,
	    "v=spf1 exists:%{i}.%{l2r-}.example.com" },
	{ "macro at the end", "v=spf1 a:%{d}", 0, 0, "v=spf1 a:%{d}" },
	{ "bad macro letter", "v=spf1 a:%{x}.example.com", 0, -1, NULL },
	{ "lone percent", "v=spf1 a:foo%.example.com", 0, -1, NULL },
	{ "percent at the end", "v=spf1 a:foo.example.com%", 0, -1, NULL },
	{ "unclosed macro", "v=spf1 a:%{d.example.com", 0, -1, NULL },
	{ "escapes", "v=spf1 a:macro%%percent%_%-x.example.com", 0, 0,
	    "v=spf1 a:macro%%percent%_%-x.example.com" },
	{ "non-ASCII",
	    "v=spf1 \x80"
	    "a:example.net -all",
	    0, -1, NULL },
	{ "control char", "v=spf1 a:example.net\r -all", 0, -1, NULL },
	{ "tab", "v=spf1\tall", 0, -1, NULL },
	{ "no terms", "v=spf1", 0, 0, "v=spf1" },
};

/* test_lint - every record case: verdict and rewrite */
static void
test_lint(void **state)
{
	char out[1024];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof lint_cases / sizeof lint_cases[0]; i++) {
		const struct lint_case *c = &lint_cases[i];
		out[0] = '\0';
		r = mf_spflint_record(c->in, strlen(c->in), c->v6, out,
		    sizeof out);
		if (r != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, r,
			    c->want, out);
		if (r == 0 && strcmp(out, c->out) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, out,
			    c->out);
	}
}

/* test_lint_overflow - a rewrite that does not fit is an error */
static void
test_lint_overflow(void **state)
{
	char out[16];
	const char *rec = "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all";

	(void)state;
	assert_int_equal(mf_spflint_record(rec, strlen(rec), 0, out,
			     sizeof out),
	    -1);
}

struct dom_case {
	const char *name;
	const char *in;
	int want;
};

/* test_domain - check_host() domains (RFC 7208 4.3) */
static void
test_domain(void **state)
{
	static const struct dom_case cases[] = {
		{ "two labels", "example.com", 0 },
		{ "trailing dot", "example.com.", 0 },
		{ "one label", "com", -1 },
		{ "empty", "", -1 },
		{ "empty label", "a..example.com", -1 },
		{ "leading dot", ".example.com", -1 },
		{ "63-byte label",
		    "A12345678901234567890123456789012345678901"
		    "234567890123456789012.example.com",
		    0 },
		{ "64-byte label",
		    "A12345678901234567890123456789012345678901"
		    "2345678901234567890123.example.com",
		    -1 },
	};
	char longname[300];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = mf_spflint_domain(cases[i].in, strlen(cases[i].in));
		if (r != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].name, r,
			    cases[i].want);
	}
	memset(longname, 'a', sizeof longname);
	for (i = 10; i < sizeof longname; i += 11)
		longname[i] = '.';
	assert_int_equal(mf_spflint_domain(longname, 254), -1);
	assert_int_equal(mf_spflint_domain(longname, 252), 0);
}

struct rdata_case {
	const char *name;
	const char *rdata;
	int len;
	long want;
	const char *text;
};

/* test_txt - character-strings joined, malformed records refused */
static void
test_txt(void **state)
{
	static const struct rdata_case cases[] = {
		{ "one string", "\003abc", 4, 3, "abc" },
		{ "two strings", "\003abc\002de", 7, 5, "abcde" },
		{ "empty string", "\000", 1, 0, "" },
		{ "no strings", "", 0, 0, "" },
		{ "length past the end", "\005ab", 3, -1, NULL },
		{ "NUL inside", "\003a\000b", 4, 3, NULL },
	};
	struct mf_dns_reply r;
	const unsigned char *data[1];
	int len[1];
	char buf[64];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&r, 0, sizeof r);
		data[0] = (const unsigned char *)cases[i].rdata;
		len[0] = cases[i].len;
		r.n = 1;
		r.data = data;
		r.len = len;
		n = mf_dns_txt(&r, 0, buf, sizeof buf);
		if (n != cases[i].want)
			fail_msg("%s: got %ld, want %ld", cases[i].name, n,
			    cases[i].want);
		if (cases[i].text && strcmp(buf, cases[i].text) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    buf, cases[i].text);
	}
	assert_int_equal(mf_dns_txt(&r, 1, buf, sizeof buf), -1);
	data[0] = (const unsigned char *)"\010abcdefgh";
	len[0] = 9;
	assert_int_equal(mf_dns_txt(&r, 0, buf, 8), -1);
}

/* test_name - wire names decoded with bounds */
static void
test_name(void **state)
{
	static const struct rdata_case cases[] = {
		{ "www.example.com", "\003www\007example\003com\000", 17, 17,
		    "www.example.com" },
		{ "root", "\000", 1, 1, "" },
		{ "no terminator", "\003www", 4, -1, NULL },
		{ "label past the end", "\011www", 4, -1, NULL },
		{ "compression pointer", "\300\014", 2, -1, NULL },
		{ "empty", "", 0, -1, NULL },
	};
	char buf[300];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = mf_dns_name((const unsigned char *)cases[i].rdata,
		    (size_t)cases[i].len, 0, buf, sizeof buf);
		if (n != cases[i].want)
			fail_msg("%s: got %ld, want %ld", cases[i].name, n,
			    cases[i].want);
		if (cases[i].text && strcmp(buf, cases[i].text) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    buf, cases[i].text);
	}
	assert_int_equal(mf_dns_name((const unsigned char
					     *)"\003www\007example\003com\000",
			     17, 0, buf, 8),
	    -1);
}

/* test_names - result words, and out-of-range values */
static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(mf_spf_result_name(MF_SPF_NONE), "none");
	assert_string_equal(mf_spf_result_name(MF_SPF_NEUTRAL), "neutral");
	assert_string_equal(mf_spf_result_name(MF_SPF_PASS), "pass");
	assert_string_equal(mf_spf_result_name(MF_SPF_FAIL), "fail");
	assert_string_equal(mf_spf_result_name(MF_SPF_SOFTFAIL), "softfail");
	assert_string_equal(mf_spf_result_name(MF_SPF_TEMPERROR), "temperror");
	assert_string_equal(mf_spf_result_name(MF_SPF_PERMERROR), "permerror");
	assert_string_equal(mf_spf_result_name(-1), "permerror");
	assert_string_equal(mf_spf_result_name(99), "permerror");
	assert_string_equal(mf_dkim_result_name(MF_DKIM_POLICY), "policy");
	assert_string_equal(mf_dkim_result_name(MF_DKIM_NEUTRAL), "neutral");
	assert_string_equal(mf_dkim_result_name(77), "permerror");
}

/* test_check_offline - verdicts that need no lookup */
static void
test_check_offline(void **state)
{
	const char *ns[] = { "127.0.0.1@1" }; /* never asked */
	struct mf_dns *dns;
	struct mf_spf_ctx *ctx;
	struct mf_spf_verdict v;
	const char *why;

	(void)state;
	assert_non_null(dns = mf_dns_new(ns, 1, 100, &why));
	assert_non_null(ctx = mf_spf_new(dns, "mx.example.net", &why));
	assert_int_equal(mf_spf_check(ctx, NULL, "mx.example.org",
			     "a@example.org", 1, 0, &v),
	    0);
	assert_int_equal(v.result, MF_SPF_NONE);
	assert_string_equal(v.mail_from, "a@example.org");
	assert_string_equal(v.domain, "example.org");
	/* null sender and an address-literal HELO: nothing to check */
	assert_int_equal(mf_spf_check(ctx, "192.0.2.1", "[192.0.2.1]", "<>", 1,
			     0, &v),
	    0);
	assert_int_equal(v.result, MF_SPF_NONE);
	assert_string_equal(v.identity, "helo");
	assert_int_equal(v.helo_checked, 0);
	/* a client address that is not one */
	assert_int_equal(mf_spf_check(ctx, "not-an-ip", "mx.example.org",
			     "a@example.org", 0, 0, &v),
	    -1);
	assert_string_equal(v.reason, "bad client address");
	mf_spf_free(ctx);
	mf_dns_free(dns);
	assert_null(
	    mf_dns_new((const char *[]){ "no such address" }, 1, 100, &why));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint),
		cmocka_unit_test(test_lint_overflow),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_check_offline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
