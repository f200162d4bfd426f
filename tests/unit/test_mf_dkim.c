/*
 * NAME
 *	test_mf_dkim - unit tests of the DKIM check
 * SYNOPSIS
 *	tests/unit/test_mf_dkim
 * DESCRIPTION
 *	Hermetic: keys come from a libopendkim key file written at start
 *	(DKIM_QUERY_FILE), no DNS. The message is RFC 8463 A.3 (an
 *	Ed25519 and an RSA signature, RFC code components, Simplified BSD),
 *	fed the way the milter feeds it; each case changes the message or
 *	the settings and wants a list of per-signature results and a reason.
 *	RFC 6376 Appendix C (c=simple/simple) checks that folded values
 *	given with bare LF still verify.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_checks.h"

static const char *const rfc8463_headers[][2] = {
	{ "DKIM-Signature",
	    " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	    " d=football.example.com; i=@football.example.com;\r\n"
	    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	    " subject : date : message-id : from : subject : date;\r\n"
	    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
	    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==" },
	{ "DKIM-Signature",
	    " v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	    " d=football.example.com; i=@football.example.com;\r\n"
	    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
	    " date : message-id : from : subject : date;\r\n"
	    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
	    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
	    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=" },
	{ "From", " Joe SixPack <joe@football.example.com>" },
	{ "To", " Suzie Q <suzie@shopping.example.net>" },
	{ "Subject", " Is dinner ready?" },
	{ "Date", " Fri, 11 Jul 2003 21:00:37 -0700 (PDT)" },
	{ "Message-ID", " <20030712040037.46341.5F8J@football.example.com>" },
};

static const char rfc8463_body[] = "Hi.\r\n\r\nWe lost the game.  "
				   "Are you hungry yet?\r\n\r\nJoe.\r\n\r\n";

static const char keys[] =
    "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "test._domainkey.football.example.com v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
    "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+"
    "yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K"
    "4w3QIDAQAB\n";

static const char keys_ed_only[] =
    "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n";

/* RFC 6376 Appendix C (errata corrected): c=simple/simple, folded fields. */
static const char *const appc_headers[][2] = {
	{ "DKIM-Signature",
	    " v=1; a=rsa-sha256; s=brisbane; d=example.com;\r\n"
	    "      c=simple/simple; q=dns/txt; i=joe@football.example.com;\r\n"
	    "      h=Received : From : To : Subject : Date : Message-ID;\r\n"
	    "      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	    "      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n"
	    "      4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut\r\n"
	    "      KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV\r\n"
	    "      4bmp/YzhwvcubU4=;" },
	{ "Received",
	    " from client1.football.example.com  [192.0.2.1]\r\n"
	    "      by submitserver.example.com with SUBMISSION;\r\n"
	    "      Fri, 11 Jul 2003 21:01:54 -0700 (PDT)" },
	{ "From", " Joe SixPack <joe@football.example.com>" },
	{ "To", " Suzie Q <suzie@shopping.example.net>" },
	{ "Subject", " Is dinner ready?" },
	{ "Date", " Fri, 11 Jul 2003 21:00:37 -0700 (PDT)" },
	{ "Message-ID", " <20030712040037.46341.5F8J@football.example.com>" },
};

static const char appc_body[] = "Hi.\r\n\r\nWe lost the game. Are you "
				"hungry yet?\r\n\r\nJoe.\r\n";

static const char appc_key[] =
    "brisbane._domainkey.example.com v=DKIM1; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg"
    "1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR"
    "+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB\n";

static char keyfile[64], keyfile_ed[64], keyfile_appc[64];

enum {
	X_NONE,
	X_BODY, /* a body changed after signing */
	X_SUBJECT, /* a signed header changed */
	X_UNSIGNED, /* no DKIM-Signature fields */
	X_GARBAGE, /* a malformed DKIM-Signature first */
	X_HUGE, /* 70 KiB of header fields */
	X_NUL, /* a value cut by NUL, as a C string would be */
	X_NOBODY, /* headers, no body */
	X_LF, /* folded values with bare LF, as some MTAs give them */
};

struct dkim_case {
	const char *name;
	int change;
	unsigned min_bits, max_sigs;
	int ed_only; /* key file without the RSA key */
	const char *want; /* per-signature results, comma-separated */
	const char *reason; /* reason of the last signature, or NULL */
	int result; /* message-level */
};

static const struct dkim_case cases[] = {
	{ "rfc8463 a.3", X_NONE, 1024, 5, 0, "pass,pass", "verified",
	    MF_DKIM_PASS },
	{ "rsa under min_key_bits", X_NONE, 2048, 5, 0, "pass,policy",
	    "key too small (RFC 8301)", MF_DKIM_PASS },
	{ "max_signatures 1", X_NONE, 1024, 1, 0, "pass", "verified",
	    MF_DKIM_PASS },
	{ "no rsa key", X_NONE, 1024, 5, 1, "pass,permerror", "no key",
	    MF_DKIM_PASS },
	{ "body changed", X_BODY, 1024, 5, 0, "fail,fail", "body hash mismatch",
	    MF_DKIM_FAIL },
	{ "subject changed", X_SUBJECT, 1024, 5, 0, "fail,fail",
	    "bad signature", MF_DKIM_FAIL },
	{ "unsigned", X_UNSIGNED, 1024, 5, 0, "", NULL, MF_DKIM_NONE },
	{ "garbage signature", X_GARBAGE, 1024, 5, 0, "permerror,pass,pass",
	    "verified", MF_DKIM_PASS },
	{ "huge header", X_HUGE, 1024, 5, 0, "", NULL, MF_DKIM_PERMERROR },
	{ "NUL in a value", X_NUL, 1024, 5, 0, "fail,fail", NULL,
	    MF_DKIM_FAIL },
	{ "no body", X_NOBODY, 1024, 5, 0, "fail,fail", "body hash mismatch",
	    MF_DKIM_FAIL },
	{ "LF folding", X_LF, 1024, 5, 0, "pass,pass", "verified",
	    MF_DKIM_PASS },
};

/* feed - one message into m, changed as asked */
static void
feed(struct mf_dkim_msg *m, int change)
{
	char filler[1001];
	size_t i;

	if (change == X_GARBAGE)
		assert_int_equal(mf_dkim_header(m, "DKIM-Signature",
				     " v=1; a=rsa-sha256; d=; s=;; b=\x01"),
		    0);
	if (change == X_HUGE) {
		memset(filler, 'x', sizeof filler - 1);
		filler[sizeof filler - 1] = '\0';
		for (i = 0; i < 70; i++)
			assert_int_equal(mf_dkim_header(m, "X-Filler", filler),
			    0);
	}
	for (i = 0; i < sizeof rfc8463_headers / sizeof rfc8463_headers[0];
	     i++) {
		const char *name = rfc8463_headers[i][0];
		const char *value = rfc8463_headers[i][1];
		if (change == X_UNSIGNED && i < 2)
			continue;
		if (change == X_SUBJECT && strcmp(name, "Subject") == 0)
			value = " Is dinner ready?!";
		if (change == X_NUL && strcmp(name, "Subject") == 0)
			value = " Is din";
		if (change == X_LF) {
			char lf[1024];
			size_t o = 0, k;
			for (k = 0; value[k] != '\0' && o + 1 < sizeof lf;
			     k++) {
				if (value[k] != '\r')
					lf[o++] = value[k];
			}
			lf[o] = '\0';
			assert_int_equal(mf_dkim_header(m, name, lf), 0);
			continue;
		}
		assert_int_equal(mf_dkim_header(m, name, value), 0);
	}
	assert_int_equal(mf_dkim_eoh(m), 0);
	if (change == X_NOBODY)
		return;
	if (change == X_BODY) {
		assert_int_equal(mf_dkim_body(m,
				     (const unsigned char *)"Hi!\r\n", 5),
		    0);
		return;
	}
	/* in two chunks, split inside a CRLF */
	assert_int_equal(mf_dkim_body(m, (const unsigned char *)rfc8463_body,
			     4),
	    0);
	assert_int_equal(mf_dkim_body(m,
			     (const unsigned char *)rfc8463_body + 4,
			     sizeof rfc8463_body - 1 - 4),
	    0);
}

/* run_case - verify and compare */
static void
run_case(const struct dkim_case *c)
{
	struct mf_dkim_lib *lib;
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;
	char got[256] = "";
	size_t i, o;

	assert_non_null(
	    lib = mf_dkim_lib_new(NULL, c->min_bits, c->max_sigs, &why));
	assert_int_equal(mf_dkim_lib_set_keyfile(lib,
			     c->ed_only ? keyfile_ed : keyfile),
	    0);
	assert_non_null(m = mf_dkim_msg_new(lib, &why));
	feed(m, c->change);
	assert_int_equal(mf_dkim_eom(m, &v), 0);
	for (i = 0, o = 0; i < v.nsigs && o < sizeof got; i++)
		o += (size_t)snprintf(got + o, sizeof got - o, "%s%s",
		    i > 0 ? "," : "", mf_dkim_result_name(v.sig[i].result));
	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
	if (c->reason && strcmp(v.sig[v.nsigs - 1].reason, c->reason) != 0)
		fail_msg("%s: reason \"%s\", want \"%s\"", c->name,
		    v.sig[v.nsigs - 1].reason, c->reason);
	if (v.result != c->result)
		fail_msg("%s: result %s, want %s", c->name,
		    mf_dkim_result_name(v.result),
		    mf_dkim_result_name(c->result));
	mf_dkim_msg_free(m);
	mf_dkim_lib_free(lib);
}

/* test_cases - the table */
static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

/* test_fields - what a signature reports */
static void
test_fields(void **state)
{
	struct mf_dkim_lib *lib;
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;

	(void)state;
	assert_non_null(lib = mf_dkim_lib_new(NULL, 1024, 5, &why));
	assert_int_equal(mf_dkim_lib_set_keyfile(lib, keyfile), 0);
	assert_non_null(m = mf_dkim_msg_new(lib, &why));
	feed(m, X_NONE);
	assert_int_equal(mf_dkim_need_body(m), 1);
	assert_int_equal(mf_dkim_eom(m, &v), 0);
	assert_int_equal(v.nsigs, 2);
	assert_string_equal(v.sig[0].d, "football.example.com");
	assert_string_equal(v.sig[0].s, "brisbane");
	assert_string_equal(v.sig[0].a, "ed25519-sha256");
	assert_string_equal(v.sig[0].b, "/gCrinpc");
	assert_string_equal(v.sig[0].i, "@football.example.com");
	assert_int_equal(v.sig[0].bits, 256);
	assert_string_equal(v.sig[1].a, "rsa-sha256");
	assert_string_equal(v.sig[1].b, "F45dVWDf");
	assert_int_equal(v.sig[1].bits, 1024);
	mf_dkim_msg_free(m);
	/* unsigned mail: the body is not wanted */
	assert_non_null(m = mf_dkim_msg_new(lib, &why));
	assert_int_equal(mf_dkim_header(m, "From", " a@example.org"), 0);
	assert_int_equal(mf_dkim_eoh(m), 0);
	assert_int_equal(mf_dkim_need_body(m), 0);
	assert_int_equal(mf_dkim_eom(m, &v), 0);
	assert_int_equal(v.result, MF_DKIM_NONE);
	mf_dkim_msg_free(m);
	/* eom straight after the headers, no eoh */
	assert_non_null(m = mf_dkim_msg_new(lib, &why));
	assert_int_equal(mf_dkim_eom(m, &v), 0);
	assert_int_equal(v.result, MF_DKIM_NONE);
	mf_dkim_msg_free(m);
	mf_dkim_msg_free(NULL);
	mf_dkim_lib_free(lib);
	mf_dkim_lib_free(NULL);
}

/*
 * test_simple_lf - "simple" canonicalization sees every byte: folded
 * values handed over with bare LF must still verify (mf_dkim_header
 * restores the CRLF), and a changed space must not.
 */
static void
test_simple_lf(void **state)
{
	static const int modes[] = { 0, 1, 2 }; /* CRLF, LF, changed */
	static const char *const want[] = { "pass", "pass", "fail" };
	struct mf_dkim_lib *lib;
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;
	char val[1024];
	size_t i, k, o, j;

	(void)state;
	assert_non_null(lib = mf_dkim_lib_new(NULL, 1024, 5, &why));
	assert_int_equal(mf_dkim_lib_set_keyfile(lib, keyfile_appc), 0);
	for (j = 0; j < sizeof modes / sizeof modes[0]; j++) {
		assert_non_null(m = mf_dkim_msg_new(lib, &why));
		for (i = 0; i < sizeof appc_headers / sizeof appc_headers[0];
		     i++) {
			const char *value = appc_headers[i][1];
			for (k = 0, o = 0;
			     value[k] != '\0' && o + 2 < sizeof val; k++) {
				if (modes[j] >= 1 && value[k] == '\r')
					continue;
				val[o++] = value[k];
			}
			if (modes[j] == 2 && i == 1)
				val[o++] = ' ';
			val[o] = '\0';
			assert_int_equal(mf_dkim_header(m, appc_headers[i][0],
					     val),
			    0);
		}
		assert_int_equal(mf_dkim_eoh(m), 0);
		assert_int_equal(mf_dkim_body(m,
				     (const unsigned char *)appc_body,
				     sizeof appc_body - 1),
		    0);
		assert_int_equal(mf_dkim_eom(m, &v), 0);
		assert_int_equal(v.nsigs, 1);
		if (strcmp(mf_dkim_result_name(v.sig[0].result), want[j]) != 0)
			fail_msg("mode %d: got %s (%s), want %s", modes[j],
			    mf_dkim_result_name(v.sig[0].result),
			    v.sig[0].reason, want[j]);
		mf_dkim_msg_free(m);
	}
	mf_dkim_lib_free(lib);
}

/* write_keys - a key file in the temporary directory */
static void
write_keys(char *path, size_t size, const char *text)
{
	int fd;

	snprintf(path, size, "/tmp/test_mf_dkim.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	write_keys(keyfile, sizeof keyfile, keys);
	write_keys(keyfile_ed, sizeof keyfile_ed, keys_ed_only);
	write_keys(keyfile_appc, sizeof keyfile_appc, appc_key);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(keyfile);
	unlink(keyfile_ed);
	unlink(keyfile_appc);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_simple_lf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
