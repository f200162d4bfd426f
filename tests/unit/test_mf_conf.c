/*
 * NAME
 *	test_mf_conf - mailtally-milter configuration and action rules
 * SYNOPSIS
 *	tests/unit/test_mf_conf
 * DESCRIPTION
 *	Table-driven: defaults, accepted and rejected configuration texts
 *	(the error names the key), reply texts, and the result-to-action
 *	table (which rule decides, the most severe action wins, which
 *	reply goes out).
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_cidr.h"
#include "mf_checks.h"
#include "mf_conf.h"

static int
load(struct mf_conf *c, const char *text, char *err, size_t errlen)
{
	return mf_conf_load_buf(c, "test.conf", text, strlen(text), err,
	    errlen);
}

static void
test_defaults(void **state)
{
	struct mf_conf c;
	char err[512], host[256];

	(void)state;
	if (load(&c, "", err, sizeof(err)) != 0)
		fail_msg("defaults: %s", err);
	assert_string_equal(c.listen, "inet:127.0.0.1:8891");
	assert_int_equal(c.socket_mode, 0660);
	assert_null(c.user);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	assert_string_equal(c.authserv_id, host);
	assert_int_equal(cm_cidr_match_str(c.internal_hosts, "127.0.0.1"), 1);
	assert_int_equal(cm_cidr_match_str(c.internal_hosts, "::1"), 1);
	assert_int_equal(cm_cidr_match_str(c.internal_hosts, "192.0.2.1"), 0);
	assert_true(c.skip_authenticated);
	assert_int_equal(c.dns_nameservers.n, 0);
	assert_int_equal(c.dns_timeout_ms, 5000);
	assert_true(c.spf && c.spf_helo && c.dkim);
	assert_false(c.add_received_spf);
	assert_int_equal(c.dkim_min_key_bits, 1024);
	assert_int_equal(c.dkim_max_signatures, 5);
	assert_int_equal(c.max_header_bytes, 65536);
	assert_int_equal(c.log_rcpt_max, 5);
	assert_int_equal(c.on_spf_fail, MF_ACT_ACCEPT);
	assert_int_equal(c.on_internal_error, MF_ACT_ACCEPT);
	mf_conf_free(&c);
}

static void
test_good(void **state)
{
	struct mf_conf c;
	char err[512];

	(void)state;
	if (load(&c,
		"listen = unix:/run/mailtally/milter.sock\n"
		"socket_mode = 0600\n"
		"user = nobody\n"
		"authserv_id = MX.example.net\n"
		"internal_hosts = 10.0.0.0/8 2001:db8::/32\n"
		"dns_nameservers = 127.0.0.1@5353, 127.0.0.2\n"
		"dns_timeout = 250ms\n"
		"on_spf_fail = reject\n"
		"on_spf_softfail = quarantine\n"
		"on_dns_error = tempfail\n"
		"spf_reject_reply = 5.7.23 SPF says no\n"
		"max_header_bytes = 32k\n",
		err, sizeof(err)) != 0)
		fail_msg("good config: %s", err);
	assert_string_equal(c.listen, "unix:/run/mailtally/milter.sock");
	assert_int_equal(c.socket_mode, 0600);
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.authserv_id, "MX.example.net");
	assert_int_equal(cm_cidr_match_str(c.internal_hosts, "10.1.2.3"), 1);
	assert_int_equal(cm_cidr_match_str(c.internal_hosts, "127.0.0.1"), 0);
	assert_int_equal(c.dns_nameservers.n, 2);
	assert_string_equal(c.dns_nameservers.v[0], "127.0.0.1@5353");
	assert_int_equal(c.dns_timeout_ms, 250);
	assert_int_equal(c.on_spf_fail, MF_ACT_REJECT);
	assert_int_equal(c.on_spf_softfail, MF_ACT_QUARANTINE);
	assert_int_equal(c.on_dns_error, MF_ACT_TEMPFAIL);
	assert_int_equal(c.max_header_bytes, 32768);
	mf_conf_free(&c);
}

static void
test_bad(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the error */
	} t[] = {
		{ "no_such_key = 1\n", "no_such_key" },
		{ "on_spf_fail = bounce\n", "on_spf_fail" },
		{ "on_dkim_fail = \n", "on_dkim_fail" },
		{ "spf = maybe\n", "spf" },
		{ "socket_mode = 0999\n", "socket_mode" },
		{ "socket_mode = rw\n", "socket_mode" },
		{ "socket_mode = 01777\n", "socket_mode" },
		{ "listen = tcp:1.2.3.4\n", "listen" },
		{ "listen = unix:relative.sock\n", "listen" },
		{ "listen = inet:8891\n", "listen" },
		{ "authserv_id = mx example\n", "authserv_id" },
		{ "authserv_id = mx;example\n", "authserv_id" },
		{ "dkim_max_signatures = 0\n", "dkim_max_signatures" },
		{ "dkim_max_signatures = 17\n", "dkim_max_signatures" },
		{ "max_header_bytes = 10\n", "max_header_bytes" },
		{ "max_header_bytes = 65537\n", "max_header_bytes" },
		{ "dns_timeout = 2h\n", "dns_timeout" },
		{ "internal_hosts = 10.0.0.1/8\n", "internal_hosts" },
		{ "log_rcpt_max = -1\n", "log_rcpt_max" },
		{ "spf_reject_reply = go away\n", "spf_reject_reply" },
		{ "spf_reject_reply = 4.7.23 SPF\n", "spf_reject_reply" },
		{ "tempfail_reply = 5.7.0 later\n", "tempfail_reply" },
		{ "reject_reply = 550 5.7.1 100%\n", "reject_reply" },
		{ "log_format = xml\n", "log_format" },
		{ "spf = yes\nspf = no\n", "spf" },
	};
	struct mf_conf c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (load(&c, t[i].text, err, sizeof(err)) == 0) {
			mf_conf_free(&c);
			fail_msg("[%s]: got success, want an error", t[i].text);
		}
		if (strstr(err, t[i].want) == NULL ||
		    strstr(err, "test.conf") == NULL)
			fail_msg("[%s]: got \"%s\", want test.conf and %s",
			    t[i].text, err, t[i].want);
		mf_conf_free(&c);
	}
}

static void
test_reply(void **state)
{
	static const struct {
		const char *in;
		int klass, ok;
		const char *rcode, *xcode, *text;
	} t[] = {
		{ "5.7.23 SPF fail", 5, 1, "550", "5.7.23", "SPF fail" },
		{ "554 5.7.20 no DKIM", 5, 1, "554", "5.7.20", "no DKIM" },
		{ "4.7.0 later", 4, 1, "451", "4.7.0", "later" },
		{ "421 4.7.0  later", 4, 1, "421", "4.7.0", "later" },
		{ "450 5.7.0 mixed", 5, 0, "", "", "" },
		{ "5.7 short", 5, 0, "", "", "" },
		{ "5.7.1.2 long", 5, 0, "", "", "" },
		{ "5.7.1", 5, 0, "", "", "" },
		{ "5.7.1 ", 5, 0, "", "", "" },
		{ "5.7.1 a\r\nb", 5, 0, "", "", "" },
		{ "", 5, 0, "", "", "" },
	};
	struct mf_reply r;
	const char *why;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = mf_conf_parse_reply(t[i].in, &r, t[i].klass, &why);
		if ((rc == 0) != t[i].ok)
			fail_msg("[%s]: got %d, want ok=%d", t[i].in, rc,
			    t[i].ok);
		if (rc == 0 &&
		    (strcmp(r.rcode, t[i].rcode) != 0 ||
			strcmp(r.xcode, t[i].xcode) != 0 ||
			strcmp(r.text, t[i].text) != 0))
			fail_msg("[%s]: got %s|%s|%s, want %s|%s|%s", t[i].in,
			    r.rcode, r.xcode, r.text, t[i].rcode, t[i].xcode,
			    t[i].text);
	}
}

#define NOSPF (-1)
#define NODKIM (-1)

static void
test_action(void **state)
{
	static const struct {
		const char *name;
		const char *conf;
		int spf, dkim, internal;
		int want;
		const char *rule; /* NULL: none */
		const char *xcode; /* reply for reject/tempfail */
	} t[] = {
		{ "defaults accept spf fail", "", MF_SPF_FAIL, MF_DKIM_FAIL, 1,
		    MF_ACT_ACCEPT, NULL, NULL },
		{ "spf fail reject", "on_spf_fail = reject", MF_SPF_FAIL,
		    NODKIM, 0, MF_ACT_REJECT, "on_spf_fail", "5.7.23" },
		{ "spf pass not rejected", "on_spf_fail = reject", MF_SPF_PASS,
		    NODKIM, 0, MF_ACT_ACCEPT, NULL, NULL },
		{ "spf softfail quarantine", "on_spf_softfail = quarantine",
		    MF_SPF_SOFTFAIL, MF_DKIM_PASS, 0, MF_ACT_QUARANTINE,
		    "on_spf_softfail", NULL },
		{ "spf softfail reject uses spf reply",
		    "on_spf_softfail = reject", MF_SPF_SOFTFAIL, NODKIM, 0,
		    MF_ACT_REJECT, "on_spf_softfail", "5.7.23" },
		{ "spf temperror tempfail", "on_spf_temperror = tempfail",
		    MF_SPF_TEMPERROR, NODKIM, 0, MF_ACT_TEMPFAIL,
		    "on_spf_temperror", "4.7.0" },
		{ "spf temperror reject uses generic reply",
		    "on_spf_temperror = reject", MF_SPF_TEMPERROR, NODKIM, 0,
		    MF_ACT_REJECT, "on_spf_temperror", "5.7.1" },
		{ "spf permerror decides nothing", "on_spf_fail = reject",
		    MF_SPF_PERMERROR, NODKIM, 0, MF_ACT_ACCEPT, NULL, NULL },
		{ "dkim fail reject", "on_dkim_fail = reject", NOSPF,
		    MF_DKIM_FAIL, 0, MF_ACT_REJECT, "on_dkim_fail", "5.7.20" },
		{ "dkim policy is a failure", "on_dkim_fail = reject", NOSPF,
		    MF_DKIM_POLICY, 0, MF_ACT_REJECT, "on_dkim_fail",
		    "5.7.20" },
		{ "dkim permerror is a failure", "on_dkim_fail = quarantine",
		    NOSPF, MF_DKIM_PERMERROR, 0, MF_ACT_QUARANTINE,
		    "on_dkim_fail", NULL },
		{ "dkim none decides nothing", "on_dkim_fail = reject", NOSPF,
		    MF_DKIM_NONE, 0, MF_ACT_ACCEPT, NULL, NULL },
		{ "dkim pass decides nothing", "on_dkim_fail = reject", NOSPF,
		    MF_DKIM_PASS, 0, MF_ACT_ACCEPT, NULL, NULL },
		{ "dkim temperror is a dns error",
		    "on_dkim_fail = reject\non_dns_error = tempfail", NOSPF,
		    MF_DKIM_TEMPERROR, 0, MF_ACT_TEMPFAIL, "on_dns_error",
		    "4.7.0" },
		{ "internal error tempfail", "on_internal_error = tempfail",
		    MF_SPF_PASS, MF_DKIM_PASS, 1, MF_ACT_TEMPFAIL,
		    "on_internal_error", "4.7.0" },
		{ "reject beats tempfail",
		    "on_spf_fail = reject\non_dns_error = tempfail",
		    MF_SPF_FAIL, MF_DKIM_TEMPERROR, 0, MF_ACT_REJECT,
		    "on_spf_fail", "5.7.23" },
		{ "tempfail beats quarantine",
		    "on_spf_softfail = quarantine\non_dkim_fail = tempfail",
		    MF_SPF_SOFTFAIL, MF_DKIM_FAIL, 0, MF_ACT_TEMPFAIL,
		    "on_dkim_fail", "4.7.0" },
		{ "first of equals wins",
		    "on_spf_fail = reject\non_dkim_fail = reject", MF_SPF_FAIL,
		    MF_DKIM_FAIL, 0, MF_ACT_REJECT, "on_spf_fail", "5.7.23" },
	};
	struct mf_spf_verdict spf;
	struct mf_dkim_verdict dkim;
	struct mf_conf c;
	struct mf_reply r;
	const char *rule;
	char err[512];
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (load(&c, t[i].conf, err, sizeof(err)) != 0)
			fail_msg("%s: config: %s", t[i].name, err);
		memset(&spf, 0, sizeof(spf));
		memset(&dkim, 0, sizeof(dkim));
		spf.result = t[i].spf;
		dkim.result = t[i].dkim;
		got = mf_conf_action(&c, t[i].spf == NOSPF ? NULL : &spf,
		    t[i].dkim == NODKIM ? NULL : &dkim, t[i].internal, &rule);
		if (got != t[i].want)
			fail_msg("%s: got %s, want %s", t[i].name,
			    mf_action_names[got], mf_action_names[t[i].want]);
		if ((rule == NULL) != (t[i].rule == NULL) ||
		    (rule != NULL && strcmp(rule, t[i].rule) != 0))
			fail_msg("%s: got rule %s, want %s", t[i].name,
			    rule ? rule : "(none)",
			    t[i].rule ? t[i].rule : "(none)");
		if (t[i].xcode != NULL) {
			assert_int_equal(mf_conf_reply(&c, got, rule, &r), 0);
			if (strcmp(r.xcode, t[i].xcode) != 0)
				fail_msg("%s: got reply %s, want %s", t[i].name,
				    r.xcode, t[i].xcode);
		}
		mf_conf_free(&c);
	}
}

/* The sample config sets every key to its default. */
static void
test_sample(void **state)
{
	struct mf_conf a, b;
	char err[512], path[4096], *pa = NULL, *pb = NULL;
	size_t la = 0, lb = 0;
	const char *top = getenv("top_srcdir");
	FILE *fa, *fb;

	(void)state;
	snprintf(path, sizeof(path), "%s/conf/mailtally-milter.conf",
	    top != NULL ? top : ".");
	if (mf_conf_load(&a, path, err, sizeof(err)) != 0)
		fail_msg("sample: %s", err);
	if (load(&b, "", err, sizeof(err)) != 0)
		fail_msg("defaults: %s", err);
	fa = open_memstream(&pa, &la);
	fb = open_memstream(&pb, &lb);
	mf_conf_print(&a, fa);
	mf_conf_print(&b, fb);
	fclose(fa);
	fclose(fb);
	assert_string_equal(pa, pb);
	free(pa);
	free(pb);
	mf_conf_free(&a);
	mf_conf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("mf_conf", tests, NULL, NULL);
}
