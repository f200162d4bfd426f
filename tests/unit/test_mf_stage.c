/*
 * NAME
 *	test_mf_stage - the stage functions, hermetic (no DNS answers)
 * SYNOPSIS
 *	tests/unit/test_mf_stage
 * DESCRIPTION
 *	Drives mf_stage_* as the libmilter callbacks do and checks the
 *	header edits and the auth log line: forged Authentication-Results
 *	removal, internal and authenticated clients skipped but logged,
 *	bounded recipients, hostile header counts, an aborted message still
 *	logged; the --test message splitter; the SPF identity of a
 *	MAIL FROM that does not normalize (a closed loopback port as name
 *	server: no answers needed); the body skipped when it cannot change
 *	the verdict.
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

#include "cm_buf.h"
#include "cm_log.h"
#include "mf_conf.h"
#include "mf_ctx.h"
#include "mf_stage.h"
#include "mf_test.h"

static struct cm_buf logbuf;

static void
hook(struct cm_event *ev)
{
	struct cm_buf line;

	cm_buf_init(&line, 0);
	assert_int_equal(cm_event_render(ev, CM_LOG_TEXT, 0, &line), 0);
	cm_buf_printf(&logbuf, "%s\n", cm_buf_str(&line));
	cm_buf_release(&line);
	cm_event_free(ev);
}

struct fixture {
	struct mf_conf conf;
	struct mf_env env;
	struct mf_conn *conn;
};

static int
setup(void **state)
{
	static struct fixture f;
	static const char text[] = "authserv_id = mx.example.net\n"
				   "spf = no\ndkim = no\n"
				   "internal_hosts = 10.0.0.0/8\n";
	char err[512];

	memset(&f, 0, sizeof(f));
	if (mf_conf_load_buf(&f.conf, "t", text, strlen(text), err,
		sizeof(err)) != 0)
		fail_msg("config: %s", err);
	f.env.conf = &f.conf;
	f.conn = mf_conn_new(&f.env);
	assert_non_null(f.conn);
	cm_buf_init(&logbuf, 0);
	mf_authlog_hook = hook;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mf_conn_free(f->conn);
	mf_conf_free(&f->conf);
	cm_buf_release(&logbuf);
	mf_authlog_hook = NULL;
	return 0;
}

/* load_env - a configuration from text, and its env as the daemon's */
static void
load_env(struct mf_conf *conf, struct mf_env *env, const char *text)
{
	char err[512];

	if (mf_conf_load_buf(conf, "t", text, strlen(text), err, sizeof(err)) !=
		0 ||
	    mf_env_open(conf, env, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
}

/* free_env - what load_env made */
static void
free_env(struct mf_conf *conf, struct mf_env *env)
{
	mf_env_close(env);
	mf_conf_free(conf);
}

/*
 * test_spf_identity - the SPF identity of each MAIL FROM. The name
 * server is a closed loopback port: the verdict is temperror, but the
 * identity and domain are decided before any lookup.
 */
static void
test_spf_identity(void **state)
{
	static const struct {
		const char *name, *from, *identity, *domain;
	} t[] = {
		{ "plain", "<Alice@Example.ORG>", "mailfrom", "example.org" },
		{ "no local part", "<@example.net>", "mailfrom",
		    "example.net" },
		{ "space in local part", "<Macro Error@example.com>",
		    "mailfrom", "example.com" },
		{ "null sender", "<>", "helo", "helo.example" },
	};
	static const char text[] = "spf = yes\ndkim = no\n"
				   "dns_nameservers = 127.0.0.1@1\n"
				   "dns_timeout = 100ms\n";
	struct mf_macros m = { NULL, NULL, NULL, NULL, NULL };
	struct mf_conf conf;
	struct mf_env env;
	struct mf_conn *conn;
	struct mf_reply r;
	size_t i;

	(void)state;
	load_env(&conf, &env, text);
	assert_non_null(conn = mf_conn_new(&env));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mf_stage_connect(conn, "client.example", "192.0.2.7");
		mf_stage_helo(conn, "helo.example");
		mf_stage_envfrom(conn, t[i].from, &m, &r);
		assert_non_null(conn->msg);
		if (!conn->msg->spf_done ||
		    strcmp(conn->msg->spf.identity, t[i].identity) != 0 ||
		    strcmp(conn->msg->spf.domain, t[i].domain) != 0)
			fail_msg("%s: got %s %s, want %s %s", t[i].name,
			    conn->msg->spf.identity, conn->msg->spf.domain,
			    t[i].identity, t[i].domain);
		mf_stage_close(conn);
	}
	mf_conn_free(conn);
	free_env(&conf, &env);
}

static int
start(struct mf_conn *conn, const char *ip, const char *auth)
{
	struct mf_macros m = { NULL, auth, "TLSv1.3", "AES", "256" };
	struct mf_reply r;

	assert_int_equal(mf_stage_connect(conn, "client.example", ip),
	    MF_V_CONTINUE);
	assert_int_equal(mf_stage_helo(conn, "helo.example"), MF_V_CONTINUE);
	return mf_stage_envfrom(conn, "<Alice@Example.ORG>", &m, &r);
}

static int
eom(struct mf_conn *conn, struct mf_edits *e)
{
	struct mf_reply r;

	return mf_stage_eom(conn, "4XyZ1p2", e, &r);
}

static void
expect_log(const char *want)
{
	if (strstr(cm_buf_str(&logbuf), want) == NULL)
		fail_msg("log: got [%s], want [%s]", cm_buf_str(&logbuf), want);
}

static void
test_forged(void **state)
{
	struct fixture *f = *state;
	struct mf_edits e;

	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	mf_stage_envrcpt(f->conn, "<bob@example.net>");
	mf_stage_data(f->conn, "4XyZ1p2");
	mf_stage_header(f->conn, "Authentication-Results",
	    " mx.example.net; spf=pass");
	mf_stage_header(f->conn, "authentication-results",
	    " other.example; spf=pass");
	mf_stage_header(f->conn, "From", " Alice <alice@Example.ORG>");
	mf_stage_header(f->conn, "Message-ID", " <1@example.org> ");
	mf_stage_header(f->conn, "AUTHENTICATION-RESULTS",
	    " (x) MX.EXAMPLE.NET 1; dkim=pass");
	mf_stage_header(f->conn, "Authentication-Results",
	    " mx.example.net.evil; dkim=pass");
	mf_stage_eoh(f->conn);
	mf_stage_body(f->conn, (const unsigned char *)"hi\r\n", 4);
	assert_int_equal(eom(f->conn, &e), MF_V_ACCEPT);
	assert_int_equal(e.ndel, 2);
	assert_int_equal(e.del[0], 1);
	assert_int_equal(e.del[1], 3);
	assert_string_equal(cm_buf_str(&e.ar), "mx.example.net; none");
	assert_int_equal(e.received_spf.len, 0);
	mf_edits_release(&e);
	expect_log("4XyZ1p2: auth ");
	expect_log("action=accept");
	expect_log("mail_from=<Alice@example.org>");
	expect_log("from_domain=example.org");
	expect_log("message_id=\"<1@example.org>\"");
	expect_log("forged_ar=2");
	expect_log("rcpt_count=1");
	expect_log("tls.version=TLSv1.3");
	mf_stage_close(f->conn);
}

static void
test_skip(void **state)
{
	static const struct {
		const char *name, *ip, *auth, *want;
	} t[] = {
		{ "internal", "10.1.2.3", NULL, "skip=internal" },
		{ "authenticated", "192.0.2.7", "alice", "skip=authenticated" },
	};
	struct fixture *f = *state;
	struct mf_edits e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cm_buf_reset(&logbuf);
		assert_int_equal(start(f->conn, t[i].ip, t[i].auth),
		    MF_V_CONTINUE);
		mf_stage_header(f->conn, "Authentication-Results",
		    " mx.example.net; spf=pass");
		mf_stage_eoh(f->conn);
		assert_int_equal(eom(f->conn, &e), MF_V_ACCEPT);
		if (e.ar.len != 0 || e.ndel != 1)
			fail_msg("%s: got ar=[%s] ndel=%zu, want none and 1",
			    t[i].name, cm_buf_str(&e.ar), e.ndel);
		mf_edits_release(&e);
		expect_log(t[i].want);
		expect_log("spf=skipped");
	}
	expect_log("sasl_user=alice");
}

static void
test_many_rcpt(void **state)
{
	struct fixture *f = *state;
	struct mf_edits e;
	char rcpt[64];
	int i;

	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	for (i = 0; i < 100; i++) {
		snprintf(rcpt, sizeof(rcpt), "<user%d@example.net>", i);
		mf_stage_envrcpt(f->conn, rcpt);
	}
	assert_int_equal(f->conn->msg->nrcpt, 5);
	assert_int_equal(eom(f->conn, &e), MF_V_ACCEPT);
	mf_edits_release(&e);
	expect_log("rcpt_count=100");
	expect_log("user4@example.net");
	if (strstr(cm_buf_str(&logbuf), "user5@") != NULL)
		fail_msg("log: got user5, want only the first 5");
}

static void
test_hostile_headers(void **state)
{
	struct fixture *f = *state;
	struct mf_edits e;
	static char big[1024 * 1024];
	int i;

	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	for (i = 0; i < 10000; i++)
		mf_stage_header(f->conn, "X-Junk", " some junk value");
	memset(big, 'a', sizeof(big) - 1);
	mf_stage_header(f->conn, "X-Big", big);
	/* Forgeries after the byte limit are still found. */
	mf_stage_header(f->conn, "Authentication-Results", " mx.example.net;");
	mf_stage_header(f->conn, "", "");
	mf_stage_eoh(f->conn);
	assert_true(f->conn->msg->header_overflow);
	assert_int_equal(eom(f->conn, &e), MF_V_ACCEPT);
	assert_int_equal(e.ndel, 1);
	mf_edits_release(&e);
	expect_log("action=accept");
}

static void
test_abort(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	mf_stage_envrcpt(f->conn, "<bob@example.net>");
	mf_stage_abort(f->conn);
	assert_null(f->conn->msg);
	expect_log("action=abort");
	expect_log("mail_from=<Alice@example.org>");
	/* A new MAIL FROM after an unfinished one logs the old one, too. */
	cm_buf_reset(&logbuf);
	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	assert_int_equal(start(f->conn, "192.0.2.7", NULL), MF_V_CONTINUE);
	expect_log("action=abort");
	mf_stage_close(f->conn);
}

struct collect {
	struct cm_buf out;
};

static int
collect(void *arg, const char *name, const char *value)
{
	struct collect *c = arg;

	cm_buf_printf(&c->out, "[%s|%s]", name, value);
	return 0;
}

static void
test_parse(void **state)
{
	static const struct {
		const char *name, *in, *want;
		size_t body;
	} t[] = {
		{ "lf", "A: 1\nB:2\n\nbody\n", "[A| 1][B|2]", 10 },
		{ "crlf", "A: 1\r\nB: 2\r\n\r\nbody", "[A| 1][B| 2]", 14 },
		{ "folded", "A: 1\r\n\t2\r\n  3\r\nB: x\r\n\r\n",
		    "[A| 1\n\t2\n  3][B| x]", 23 },
		{ "no body", "A: 1\n", "[A| 1]", 5 },
		{ "space before colon", "A : 1\n\n", "[A| 1]", 7 },
		{ "not a field ends headers", "A: 1\nnot a field\n", "[A| 1]",
		    5 },
		{ "leading continuation", " x: 1\n", "", 0 },
		{ "empty", "", "", 0 },
	};
	struct collect c;
	size_t i, body;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cm_buf_init(&c.out, 0);
		assert_int_equal(mf_test_parse(t[i].in, strlen(t[i].in),
				     collect, &c, &body),
		    0);
		if (strcmp(cm_buf_str(&c.out), t[i].want) != 0 ||
		    body != t[i].body)
			fail_msg("%s: got %s at %zu, want %s at %zu", t[i].name,
			    cm_buf_str(&c.out), body, t[i].want, t[i].body);
		cm_buf_release(&c.out);
	}
}

/*
 * test_body_skip - the body is skipped once it cannot change the
 * verdict: DKIM off, or unsigned mail (no lookup needed for either);
 * signed mail wants its body (a verifying signature: milter_lua.sh,
 * t-dkim).
 */
static void
test_body_skip(void **state)
{
	static const struct {
		const char *name, *conf, *sig;
		int want;
	} t[] = {
		{ "dkim off", "dkim = no\nspf = no\n", NULL, MF_V_SKIP },
		{ "unsigned", "dkim = yes\nspf = no\n", NULL, MF_V_SKIP },
		/* signed, however badly: the body is fed as libopendkim asks */
		{ "malformed signature", "dkim = yes\nspf = no\n",
		    " v=1; a=", MF_V_CONTINUE },
	};
	const unsigned char body[] = "hi\r\n";
	struct fixture *f = *state;
	struct mf_conf conf;
	struct mf_env env;
	struct mf_conn *conn;
	struct mf_edits e;
	size_t i;
	int v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		load_env(&conf, &env, t[i].conf);
		assert_non_null(conn = mf_conn_new(&env));
		assert_int_equal(start(conn, "192.0.2.7", NULL), MF_V_CONTINUE);
		if (t[i].sig != NULL)
			mf_stage_header(conn, "DKIM-Signature", t[i].sig);
		mf_stage_header(conn, "From", " a@example.org");
		mf_stage_eoh(conn);
		v = mf_stage_body(conn, body, sizeof(body) - 1);
		if (v != t[i].want)
			fail_msg("%s: got %d, want %d", t[i].name, v,
			    t[i].want);
		assert_int_equal(eom(conn, &e), MF_V_ACCEPT);
		mf_edits_release(&e);
		mf_stage_close(conn);
		mf_conn_free(conn);
		free_env(&conf, &env);
	}
	/* no message at all: nothing to feed */
	assert_int_equal(mf_stage_body(f->conn, body, 4), MF_V_SKIP);
}

/* test_from_domain - the From domain kept for the log line */
static void
test_from_domain(void **state)
{
	static const struct {
		const char *name, *value, *want;
	} t[] = {
		{ "display name", " Alice <alice@Example.ORG>", "example.org" },
		{ "bare", " bob@Example.COM (Bob)", "example.com" },
		{ "list", " a@one.example, b@two.example", "one.example" },
		{ "folded", "\n\tc@Three.Example", "three.example" },
		{ "quoted local part", " \"x y\"@four.example",
		    "four.example" },
		{ "space inside", " a b@four.example", "" },
		{ "two at signs", " <a@b@five.example>", "" },
		{ "no domain", " <alice>", "" },
		{ "unclosed bracket", " Alice <alice@six.example", "" },
		{ "empty", "", "" },
	};
	struct fixture *f = *state;
	struct mf_edits e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(start(f->conn, "192.0.2.7", NULL),
		    MF_V_CONTINUE);
		mf_stage_header(f->conn, "From", t[i].value);
		if (strcmp(f->conn->msg->from_domain, t[i].want) != 0)
			fail_msg("%s: got [%s], want [%s]", t[i].name,
			    f->conn->msg->from_domain, t[i].want);
		assert_int_equal(eom(f->conn, &e), MF_V_ACCEPT);
		mf_edits_release(&e);
	}
	mf_stage_close(f->conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rcpt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_headers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_spf_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_skip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_from_domain, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("mf_stage", tests, NULL, NULL);
}
