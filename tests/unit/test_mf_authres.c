/*
 * NAME
 *	test_mf_authres - Authentication-Results builder and forged-header matcher
 * SYNOPSIS
 *	tests/unit/test_mf_authres
 * DESCRIPTION
 *	Table-driven: header values built from verdicts (folding, quoting of
 *	reason and hostile values, several signatures), and the RFC 8601
 *	authserv-id matcher on forged headers (case, comments, version,
 *	quoted ids, near misses).
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

#include "cm_buf.h"
#include "mf_authres.h"
#include "mf_checks.h"

#define ID "mx.example.net"

static void
set(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void
spf_fill(struct mf_spf_verdict *v, int result, const char *from,
    const char *helo, const char *reason)
{
	memset(v, 0, sizeof(*v));
	v->result = result;
	set(v->mail_from, sizeof(v->mail_from), from);
	set(v->helo, sizeof(v->helo), helo);
	set(v->reason, sizeof(v->reason), reason);
}

static void
sig_fill(struct mf_dkim_sig *s, int result, const char *d, const char *sel,
    const char *a, unsigned bits, const char *b, const char *reason)
{
	memset(s, 0, sizeof(*s));
	s->result = result;
	set(s->d, sizeof(s->d), d);
	set(s->s, sizeof(s->s), sel);
	set(s->a, sizeof(s->a), a);
	set(s->b, sizeof(s->b), b);
	set(s->reason, sizeof(s->reason), reason);
	s->bits = bits;
}

static void
check_build(const char *name, const struct mf_spf_verdict *spf,
    const struct mf_dkim_verdict *dkim, int leadspc, const char *want)
{
	struct cm_buf out;

	cm_buf_init(&out, 8192);
	if (mf_authres_build(&out, ID, spf, dkim, leadspc) != 0)
		fail_msg("%s: build failed", name);
	if (strcmp(cm_buf_str(&out), want) != 0)
		fail_msg("%s: got\n[%s]\nwant\n[%s]", name, cm_buf_str(&out),
		    want);
	cm_buf_release(&out);
}

static void
test_build_none(void **state)
{
	(void)state;
	check_build("nothing checked", NULL, NULL, 0, ID "; none");
	check_build("leading space", NULL, NULL, 1, " " ID "; none");
}

static void
test_build_design_example(void **state)
{
	struct mf_spf_verdict spf;
	struct mf_dkim_verdict dkim;

	(void)state;
	spf_fill(&spf, MF_SPF_PASS, "alice@example.org", "mail.example.org",
	    "");
	memset(&dkim, 0, sizeof(dkim));
	dkim.result = MF_DKIM_PASS;
	dkim.nsigs = 1;
	sig_fill(&dkim.sig[0], MF_DKIM_PASS, "example.org", "sel1",
	    "rsa-sha256", 2048, "AbCdEf12", "");
	check_build("pass/pass", &spf, &dkim, 0,
	    ID
	    ";\n"
	    "\tdkim=pass (2048-bit rsa key) header.d=example.org header.s=sel1\n"
	    "\theader.a=rsa-sha256 header.b=AbCdEf12;\n"
	    "\tspf=pass smtp.mailfrom=alice@example.org smtp.helo=mail.example.org");
}

static void
test_build_spf_only(void **state)
{
	static const struct {
		const char *name;
		int result;
		const char *from, *helo, *reason;
		const char *want;
	} t[] = {
		{ "null sender", MF_SPF_PASS, "", "mx.example.org", "",
		    ID ";\n\tspf=pass smtp.helo=mx.example.org" },
		{ "softfail", MF_SPF_SOFTFAIL, "a@b.example", "", "",
		    ID ";\n\tspf=softfail smtp.mailfrom=a@b.example" },
		{ "reason quoted", MF_SPF_TEMPERROR, "a@b.example", "h.example",
		    "dns timeout",
		    ID ";\n\tspf=temperror reason=\"dns timeout\" "
		       "smtp.mailfrom=a@b.example\n\tsmtp.helo=h.example" },
		{ "no reason for a verdict", MF_SPF_FAIL, "a@b.example", "",
		    "matched -all",
		    ID ";\n\tspf=fail smtp.mailfrom=a@b.example" },
		{ "reason escapes", MF_SPF_PERMERROR, "", "h.example",
		    "bad \"x\" \\ ;",
		    ID ";\n\tspf=permerror reason=\"bad \\\"x\\\" \\\\ ;\" "
		       "smtp.helo=h.example" },
		{ "hostile local part quoted", MF_SPF_FAIL,
		    "\"a;spf=pass\"@evil.example", "", "",
		    ID ";\n\tspf=fail "
		       "smtp.mailfrom=\"\\\"a;spf=pass\\\"@evil.example\"" },
		{ "control bytes replaced", MF_SPF_NONE, "", "h\r\n.example",
		    "", ID ";\n\tspf=none smtp.helo=\"h??.example\"" },
	};
	struct mf_spf_verdict spf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		spf_fill(&spf, t[i].result, t[i].from, t[i].helo, t[i].reason);
		check_build(t[i].name, &spf, NULL, 0, t[i].want);
	}
}

/* test_value - bare only where RFC 8601's pvalue allows it */
static void
test_value(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} t[] = {
		{ "token", "AbCdEf12", "AbCdEf12" },
		{ "token with plus", "ab+cd-12", "ab+cd-12" },
		{ "slash is a tspecial", "ab/cd+12", "\"ab/cd+12\"" },
		{ "equals is a tspecial", "abcdef==", "\"abcdef==\"" },
		{ "address", "alice@example.org", "alice@example.org" },
		{ "address, atext local part", "a/b=c+d@example.org",
		    "a/b=c+d@example.org" },
		{ "no local part", "@example.org", "\"@example.org\"" },
		{ "upper-case domain", "a@Example.ORG", "a@Example.ORG" },
		{ "address literal", "a@[192.0.2.1]", "\"a@[192.0.2.1]\"" },
		{ "quoted local part", "\"a b\"@example.org",
		    "\"\\\"a b\\\"@example.org\"" },
		{ "dotted domain", "mx.example.org", "mx.example.org" },
		{ "space in local part", "Macro Error@example.com",
		    "\"Macro Error@example.com\"" },
		{ "double dot local part", "a..b@example.org",
		    "\"a..b@example.org\"" },
		{ "leading dot local part", ".a@example.org",
		    "\".a@example.org\"" },
		{ "empty domain", "a@", "\"a@\"" },
		{ "bad domain char", "a@ex%ample.org", "\"a@ex%ample.org\"" },
		{ "two at signs", "a@b@example.org", "\"a@b@example.org\"" },
		{ "semicolon", "a;spf=pass", "\"a;spf=pass\"" },
		{ "empty", "", "\"\"" },
		{ "quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "control and 8-bit bytes", "a\r\n\xc3\xa9", "\"a????\"" },
	};
	struct cm_buf out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cm_buf_init(&out, 256);
		assert_int_equal(mf_authres_value(&out, t[i].in), 0);
		if (strcmp(cm_buf_str(&out), t[i].want) != 0)
			fail_msg("%s: got [%s], want [%s]", t[i].name,
			    cm_buf_str(&out), t[i].want);
		cm_buf_release(&out);
	}
}

static void
test_build_several_sigs(void **state)
{
	struct mf_dkim_verdict dkim;

	(void)state;
	memset(&dkim, 0, sizeof(dkim));
	dkim.result = MF_DKIM_PASS;
	dkim.nsigs = 3;
	sig_fill(&dkim.sig[0], MF_DKIM_PASS, "example.org", "s1",
	    "ed25519-sha256", 256, "abc+/123", "");
	sig_fill(&dkim.sig[1], MF_DKIM_FAIL, "other.example", "s2",
	    "rsa-sha256", 1024, "ZZZZZZZZ", "body hash mismatch");
	sig_fill(&dkim.sig[2], MF_DKIM_POLICY, "old.example", "s3", "rsa-sha1",
	    0, "", "rsa-sha1");
	check_build("three signatures", NULL, &dkim, 0,
	    ID
	    ";\n"
	    "\tdkim=pass (256-bit ed25519 key) header.d=example.org header.s=s1\n"
	    "\theader.a=ed25519-sha256 header.b=\"abc+/123\";\n"
	    "\tdkim=fail reason=\"body hash mismatch\" (1024-bit rsa key)\n"
	    "\theader.d=other.example header.s=s2 header.a=rsa-sha256\n"
	    "\theader.b=ZZZZZZZZ;\n"
	    "\tdkim=policy reason=\"rsa-sha1\" header.d=old.example header.s=s3\n"
	    "\theader.a=rsa-sha1");
	dkim.nsigs = 0;
	dkim.result = MF_DKIM_NONE;
	check_build("unsigned", NULL, &dkim, 0, ID ";\n\tdkim=none");
	dkim.result = MF_DKIM_PERMERROR;
	check_build("headers too large", NULL, &dkim, 0,
	    ID ";\n\tdkim=permerror");
}

/* Every line but one holding a single over-long word fits 78 columns. */
static void
test_build_folding(void **state)
{
	struct mf_dkim_verdict dkim;
	struct cm_buf out;
	const char *p, *nl;
	size_t i, col, first = 1;
	char d[200];

	(void)state;
	memset(&dkim, 0, sizeof(dkim));
	dkim.nsigs = MF_DKIM_SIGS_MAX;
	for (i = 0; i < dkim.nsigs; i++) {
		snprintf(d, sizeof(d), "%zu.%s", i,
		    i % 2 ? "a.very.long.subdomain.name.of.an.example.org"
			  : "x.example");
		sig_fill(&dkim.sig[i], MF_DKIM_FAIL, d, "selector2026",
		    "rsa-sha256", 4096, "AbCdEf12",
		    "signature verification "
		    "failed because the key was revoked");
	}
	cm_buf_init(&out, 65536);
	assert_int_equal(mf_authres_build(&out, ID, NULL, &dkim, 0), 0);
	for (p = cm_buf_str(&out); *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		col = (first ? strlen(MF_AUTHRES_NAME ": ") : 0);
		col += (size_t)(nl - p) + (*p == '\t' ? 7 : 0);
		if (col > MF_AUTHRES_FOLD && memchr(p + 1, ' ', nl - p - 1))
			fail_msg("line of %zu columns: %.*s", col,
			    (int)(nl - p), p);
		first = 0;
		if (*nl == '\0')
			break;
	}
	cm_buf_release(&out);
}

static void
test_build_bounded(void **state)
{
	struct mf_dkim_verdict dkim;
	struct cm_buf out;
	size_t i;

	(void)state;
	memset(&dkim, 0, sizeof(dkim));
	dkim.nsigs = MF_DKIM_SIGS_MAX;
	for (i = 0; i < dkim.nsigs; i++)
		sig_fill(&dkim.sig[i], MF_DKIM_PASS, "example.org", "s",
		    "rsa-sha256", 2048, "AAAA", "");
	cm_buf_init(&out, 100);
	assert_int_equal(mf_authres_build(&out, ID, NULL, &dkim, 0), -1);
	cm_buf_release(&out);
}

static void
test_is_ours(void **state)
{
	static const struct {
		const char *in;
		int want;
	} t[] = {
		{ "mx.example.net; spf=pass smtp.mailfrom=a@b", 1 },
		{ " mx.example.net;", 1 },
		{ "MX.Example.NET; none", 1 },
		{ "mx.example.net", 1 },
		{ "mx.example.net 1; dkim=pass", 1 },
		{ "mx.example.net 1 ; dkim=pass", 1 },
		{ "(comment) mx.example.net (another (nested) one) 1 (x);", 1 },
		{ "(a \\) b) mx.example.net;", 1 },
		{ "\r\n\tmx.example.net\r\n\t;\r\n\tspf=pass", 1 },
		{ "\"mx.example.net\"; none", 1 },
		{ "\"MX.example.net\" 1; none", 1 },
		{ "mx.example.net.evil; spf=pass", 0 },
		{ "mx.example; spf=pass", 0 },
		{ "x.mx.example.net; spf=pass", 0 },
		{ "mx.example.netx; spf=pass", 0 },
		{ "other.example; spf=pass", 0 },
		{ "mx.example.net/evil; spf=pass", 0 },
		{ "mx.example.net 1 2; spf=pass", 0 },
		{ "mx.example.net spf=pass", 0 },
		{ "(unterminated mx.example.net;", 0 },
		{ "\"mx.example.net; none", 0 },
		{ "", 0 },
		{ "   ", 0 },
		{ ";", 0 },
		{ "(mx.example.net); none", 0 },
	};
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = mf_authres_is_ours(t[i].in, strlen(t[i].in), ID);
		if (got != t[i].want)
			fail_msg("[%s]: got %d, want %d", t[i].in, got,
			    t[i].want);
	}
}

static void
test_is_ours_length(void **state)
{
	static const char nul[] = "mx.example.net\0; spf=pass";
	char big[70000];

	(void)state;
	/* The length is honoured: no read past it, NUL is just a byte. */
	assert_int_equal(mf_authres_is_ours("mx.example.net;xxx", 14, ID), 1);
	assert_int_equal(mf_authres_is_ours("mx.example.ne", 13, ID), 0);
	assert_int_equal(mf_authres_is_ours(nul, sizeof(nul) - 1, ID), 0);
	memset(big, '(', sizeof(big));
	assert_int_equal(mf_authres_is_ours(big, sizeof(big), ID), 0);
	memset(big, 'a', sizeof(big));
	assert_int_equal(mf_authres_is_ours(big, sizeof(big), ID), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_none),
		cmocka_unit_test(test_build_design_example),
		cmocka_unit_test(test_build_spf_only),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_build_several_sigs),
		cmocka_unit_test(test_build_folding),
		cmocka_unit_test(test_build_bounded),
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_is_ours_length),
	};

	return cmocka_run_group_tests_name("mf_authres", tests, NULL, NULL);
}
