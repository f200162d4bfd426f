/*
 * NAME
 *	test_pd_quota - quota decisions on the memory store
 * SYNOPSIS
 *	tests/unit/test_pd_quota
 * DESCRIPTION
 *	Drives pd_engine (memory store, injected clock) with sequences of
 *	policy requests and compares every reply line: caps are exact,
 *	nothing is counted at RCPT, a refused message is not counted, a
 *	retried instance counts once, monitor mode, exemptions, overrides,
 *	reply expansion, rolling and calendar windows. Also asserts on the
 *	quota log line, and compares one whole line in text and JSON byte
 *	for byte (hostile attribute values, monitor mode, over a limit).
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

#include <cmocka.h>
#include <event2/event.h>

#include "cm_log.h"
#include "pd_config.h"
#include "pd_engine.h"
#include "pd_quota.h"
#include "pd_request.h"
#include "pd_store.h"
#include "pd_test_req.h"

#define T0 1795435200LL /* 2026-11-23 12:00:00 UTC */

#define EOM(s, n)                                                              \
	"protocol_state=END-OF-MESSAGE\nsender=" s "\nrecipient_count=" #n
#define EOMI(s, n, i) EOM(s, n) "\ninstance=" i
#define RCPT(s) "protocol_state=RCPT\nsender=" s
#define A "alice@example.org"
#define DUNNO "action=DUNNO"
#define DEFER(lim, u, m, w)                                                    \
	"action=DEFER 4.7.1 Sending quota exceeded (" lim ": " #u "/" #m       \
	" per " w ")"
#define DEFERR(lim, u, m, w)                                                   \
	"action=DEFER_IF_PERMIT 4.7.1 Sending quota exceeded (" lim ": " #u    \
	"/" #m " per " w ")"

struct step {
	long long t; /* seconds after T0 */
	const char *req;
	const char *want;
};

struct qcase {
	const char *name;
	const char *conf;
	struct step steps[16];
};

static const struct qcase cases[] = {
	{ "cap exact", "limit daily = day 3 messages\n",
	    { { 0, EOM(A, 1), DUNNO }, { 1, EOM(A, 9), DUNNO },
		{ 2, EOM(A, 1), DUNNO },
		{ 3, EOM(A, 1), DEFER("daily", 3, 3, "day") },
		{ 4, EOM("bob@example.org", 1), DUNNO } } },
	{ "nothing counted at RCPT", "limit daily = day 2 messages\n",
	    { { 0, RCPT(A), DUNNO }, { 0, RCPT(A), DUNNO },
		{ 0, RCPT(A), DUNNO }, { 1, EOM(A, 1), DUNNO },
		{ 1, RCPT(A), DUNNO }, { 2, EOM(A, 1), DUNNO },
		{ 3, RCPT(A), DEFERR("daily", 2, 2, "day") },
		{ 3, EOM(A, 1), DEFER("daily", 2, 2, "day") } } },
	{ "refused message not counted", "limit r = day 5 recipients\n",
	    { { 0, EOM(A, 4), DUNNO },
		{ 1, EOM(A, 3), DEFER("r", 4, 5, "day") },
		{ 2, EOM(A, 1), DUNNO },
		{ 3, EOM(A, 1), DEFER("r", 5, 5, "day") } } },
	{ "refused by the second limit: the first not counted",
	    "limit m = day 3 messages\nlimit r = day 4 recipients\n",
	    { { 0, EOM(A, 3), DUNNO },
		{ 1, EOM(A, 2), DEFER("r", 3, 4, "day") },
		{ 2, EOM(A, 1), DUNNO },
		{ 3, EOM(A, 0), DEFER("r", 4, 4, "day") },
		/* m holds 2: one more fits if r allows (it does not) */
		{ 4, RCPT(A), DEFERR("r", 4, 4, "day") } } },
	{ "idempotent instance", "limit daily = day 2 messages\n",
	    { { 0, EOMI(A, 1, "1a.2b.3c"), DUNNO },
		{ 1, EOMI(A, 1, "1a.2b.3c"), DUNNO },
		{ 2, EOMI(A, 1, "1a.2b.3c"), DUNNO },
		{ 3, EOMI(A, 1, "1a.2b.3d"), DUNNO },
		{ 4, EOMI(A, 1, "1a.2b.3e"), DEFER("daily", 2, 2, "day") },
		{ 5, EOMI(A, 1, "1a.2b.3c"), DUNNO } } },
	{ "monitor mode always DUNNO",
	    "mode = monitor\nlimit daily = day 1 messages\n",
	    { { 0, EOM(A, 1), DUNNO }, { 1, EOM(A, 1), DUNNO },
		{ 2, RCPT(A), DUNNO } } },
	{ "other states DUNNO", "limit daily = day 0 messages\n",
	    { { 0, "protocol_state=CONNECT\nsender=" A, DUNNO },
		{ 0, "protocol_state=DATA\nsender=" A, DUNNO },
		{ 0, "sender=" A, DUNNO },
		{ 0, RCPT(A), DEFERR("daily", 0, 0, "day") } } },
	{ "exempt client",
	    "exempt_clients = 192.0.2.0/24, 2001:db8::/32\n"
	    "limit daily = day 0 messages\n",
	    { { 0, EOM(A, 1) "\nclient_address=192.0.2.9", DUNNO },
		{ 0, EOM(A, 1) "\nclient_address=2001:db8::1", DUNNO },
		{ 0, EOM(A, 1) "\nclient_address=198.51.100.1",
		    DEFER("daily", 0, 0, "day") } } },
	{ "exempt identity",
	    "exempt_identities = boss@Example.ORG, @trusted.example\n"
	    "limit daily = day 0 messages\n",
	    { { 0, EOM("<boss@EXAMPLE.org>", 1), DUNNO },
		{ 0, EOM("x@Trusted.Example", 1), DUNNO },
		{ 0, EOM(A, 1), DEFER("daily", 0, 0, "day") } } },
	{ "config override",
	    "limit daily = day 1 messages\noverride alice@EXAMPLE.org daily = 2\n",
	    { { 0, EOM(A, 1), DUNNO }, { 1, EOM(A, 1), DUNNO },
		{ 2, EOM(A, 1), DEFER("daily", 2, 2, "day") },
		{ 3, EOM("bob@example.org", 1), DUNNO },
		{ 4, EOM("bob@example.org", 1),
		    DEFER("daily", 1, 1, "day") } } },
	{ "identity: sasl_username first, sender normalized",
	    "limit daily = day 1 messages\n",
	    { { 0, EOM("<alice@EXAMPLE.ORG>", 1), DUNNO },
		{ 1, EOM(A, 1), DEFER("daily", 1, 1, "day") },
		{ 2, EOM(A, 1) "\nsasl_username=alice", DUNNO },
		{ 3, EOM("x@y.example", 1) "\nsasl_username=alice",
		    DEFER("daily", 1, 1, "day") },
		{ 4, EOM("", 1), DUNNO }, { 5, EOM("<>", 1), DUNNO } } },
	{ "reject limit and custom reply",
	    "limit big = day 100 bytes reject\n"
	    "limit m = day 4 messages reply=\"4.7.2 %{identity} over %{limit} "
	    "(%{used} of %{max}/%{window}) %{x}\"\n",
	    { { 0, EOM(A, 1) "\nsize=60", DUNNO },
		{ 1, EOM(A, 1) "\nsize=50",
		    "action=REJECT 5.7.1 Sending quota exceeded (big: 60/100 "
		    "per day)" },
		{ 2, EOM(A, 1) "\nsize=40", DUNNO },
		{ 3, EOM(A, 1) "\nsize=0", DUNNO },
		{ 4, RCPT(A),
		    "action=REJECT 5.7.1 Sending quota exceeded "
		    "(big: 100/100 per day)" },
		{ 5, EOM(A, 1) "\nsize=0", DUNNO },
		{ 6, EOM(A, 1) "\nsize=0",
		    "action=DEFER 4.7.2 alice@example.org over m (4 of 4/day) "
		    "%{x}" } } },
	{ "rolling window exact at one-second slots",
	    "limit burst = 1m 3 messages\n",
	    { { 0, EOM(A, 1), DUNNO }, { 10, EOM(A, 1), DUNNO },
		{ 20, EOM(A, 1), DUNNO },
		{ 59, EOM(A, 1), DEFER("burst", 3, 3, "1m") },
		{ 60, EOM(A, 1), DUNNO },
		{ 61, EOM(A, 1), DEFER("burst", 3, 3, "1m") },
		{ 69, EOM(A, 1), DEFER("burst", 3, 3, "1m") },
		{ 70, EOM(A, 1), DUNNO } } },
	{ "rolling hour in one-minute slots", "limit hourly = 1h 2 messages\n",
	    { { 0, EOM(A, 1), DUNNO }, { 59, EOM(A, 1), DUNNO },
		{ 3599, EOM(A, 1), DEFER("hourly", 2, 2, "1h") },
		/* t=0 left at 3600, but its slot (0..59) still counts:
		 * the error bound, less than one slot, never lenient */
		{ 3600, EOM(A, 1), DEFER("hourly", 2, 2, "1h") },
		{ 3658, EOM(A, 1), DEFER("hourly", 2, 2, "1h") },
		{ 3659, EOM(A, 1), DUNNO }, { 3660, EOM(A, 1), DUNNO },
		{ 3661, EOM(A, 1), DEFER("hourly", 2, 2, "1h") } } },
	{ "calendar day resets at midnight", "limit daily = day 1 messages\n",
	    { { 0, EOM(A, 1), DUNNO },
		{ 43199, EOM(A, 1), DEFER("daily", 1, 1, "day") },
		{ 43200, EOM(A, 1), DUNNO },
		{ 43201, EOM(A, 1), DEFER("daily", 1, 1, "day") } } },
	{ "key=sender_domain and key=client_address",
	    "limit dom = day 2 messages key=sender_domain\n"
	    "limit ip = day 3 messages key=client_address\n",
	    { { 0, EOM("a@d.example", 1) "\nclient_address=192.0.2.1", DUNNO },
		{ 1, EOM("b@d.example", 1) "\nclient_address=192.0.2.1",
		    DUNNO },
		{ 2, EOM("c@D.example", 1) "\nclient_address=192.0.2.2",
		    DEFER("dom", 2, 2, "day") },
		{ 3, EOM("c@e.example", 1) "\nclient_address=192.0.2.1",
		    DUNNO },
		{ 4, EOM("c@f.example", 1) "\nclient_address=192.0.2.1",
		    DEFER("ip", 3, 3, "day") } } },
};

struct fx {
	struct pd_config cfg;
	struct pd_engine *eng;
	long long now;
	char reply[1024];
	int nreply;
};

/* fx_clock - the injected clock */
static long long
fx_clock(void *arg)
{
	return ((struct fx *)arg)->now;
}

/* fx_reply - the engine's answer */
static void
fx_reply(void *arg, const char *reply)
{
	struct fx *f = arg;

	f->nreply++;
	snprintf(f->reply, sizeof f->reply, "%s", reply);
}

/* fx_open - config "store = memory" plus conf, an engine on it */
static void
fx_open(struct fx *f, const char *conf)
{
	char buf[4096], err[512];
	const char *why = "";
	int n;

	memset(f, 0, sizeof *f);
	n = snprintf(buf, sizeof buf, "store = memory\n%s", conf);
	assert_true(n > 0 && (size_t)n < sizeof buf);
	if (pd_config_load_buf(&f->cfg, "test.conf", buf, (size_t)n, err,
		sizeof err) == -1)
		fail_msg("config: %s", err);
	f->eng = pd_engine_new(&f->cfg, NULL, &why);
	if (f->eng == NULL)
		fail_msg("engine: %s", why);
	pd_engine_set_clock(f->eng, fx_clock, f);
}

/* fx_close - free the engine and config */
static void
fx_close(struct fx *f)
{
	pd_engine_free(f->eng);
	pd_config_free(&f->cfg);
}

/* fx_ask - one request; returns the reply (the memory store is sync) */
static const char *
fx_ask(struct fx *f, long long t, const char *text)
{
	static struct pd_request req;
	int before = f->nreply;

	pd_test_req(&req, text);
	f->now = T0 + t;
	pd_engine_decide(f->eng, &req, fx_reply, f);
	assert_int_equal(f->nreply, before + 1);
	return f->reply;
}

/* test_cases - every table case, every step */
static void
test_cases(void **state)
{
	const struct qcase *c;
	const struct step *s;
	const char *got;
	struct fx f;
	size_t i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		fx_open(&f, c->conf);
		for (j = 0; j < 16 && c->steps[j].req != NULL; j++) {
			s = &c->steps[j];
			got = fx_ask(&f, s->t, s->req);
			if (strcmp(got, s->want) != 0)
				fail_msg(
				    "%s: step %zu: got \"%s\", want \"%s\"",
				    c->name, j, got, s->want);
		}
		fx_close(&f);
	}
}

/* log_capture - send log lines to a temporary file */
static FILE *
log_capture(void)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	cm_log_set_stream(fp);
	return fp;
}

/* log_read - everything logged since log_capture */
static char *
log_read(FILE *fp)
{
	static char buf[16384];
	size_t n;

	fflush(fp);
	rewind(fp);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = 0;
	return buf;
}

/* test_log_line - the quota line carries the decision's fields */
static void
test_log_line(void **state)
{
	struct fx f;
	FILE *fp = log_capture(), *fp2;
	const char *log;

	fx_open(&f,
	    "mode = monitor\nlimit daily = day 1 messages\n"
	    "limit hourly = 1h 10 recipients\n");
	fx_ask(&f, 0,
	    EOM(A, 2) "\nqueue_id=4XyZ1p2\nclient_address=192.0.2.7"
		      "\nsize=1234");
	fx_ask(&f, 1, EOM(A, 3) "\nqueue_id=4XyZ1p3");
	log = log_read(fp);
	cm_log_set_stream(stderr);
	if ((fp2 = fopen("/dev/null", "w")) != NULL)
		cm_log_set_stream(fp2);
	fclose(fp);
	if (strstr(log, "4XyZ1p2: quota") == NULL ||
	    strstr(log, "protocol_state=END-OF-MESSAGE") == NULL ||
	    strstr(log, "client_ip=192.0.2.7") == NULL ||
	    strstr(log, "identity=<alice@example.org>") == NULL ||
	    strstr(log, "limits=daily:1/1,hourly:2/10") == NULL ||
	    strstr(log, "rcpt_count=2") == NULL ||
	    strstr(log, "size=1234") == NULL ||
	    strstr(log, "reason=counted") == NULL ||
	    strstr(log, "store=memory") == NULL ||
	    strstr(log, "elapsed_us=") == NULL)
		fail_msg("first line: got \"%s\"", log);
	if (strstr(log, "4XyZ1p3: quota") == NULL ||
	    strstr(log, "mode=monitor would=DEFER") == NULL ||
	    strstr(log, "reason=over-limit") == NULL ||
	    strstr(log, "limits=daily:1/1,hourly:2/10") == NULL)
		fail_msg("second line: got \"%s\"", log);
	fx_close(&f);
}

/* blank - replace the string value of "key": in line by "X" */
static void
blank(char *line, const char *key)
{
	char *v = strstr(line, key), *end;

	if (v == NULL)
		return;
	v += strlen(key);
	if (*v != '"' || (end = strchr(v + 1, '"')) == NULL)
		return;
	v[1] = 'X';
	memmove(v + 2, end, strlen(end) + 1);
}

/*
 * golden_line - one decision written by pd_quotalog() in format: over
 * the second limit, in monitor mode, fixed counters and elapsed time;
 * the JSON time stamp and host name are replaced by "X". Returns the
 * line.
 */
static const char *
golden_line(int format)
{
	static struct pd_request req;
	static struct pd_quota q;
	static char line[16384 + 16];
	struct fx f;
	FILE *fp, *null;
	const char *log, *why = "";

	fx_open(&f,
	    "mode = monitor\nlog_target = stderr\n"
	    "limit daily = day 100 recipients\nlimit burst = 1m 3 messages\n");
	f.cfg.log.format = format;
	assert_int_equal(cm_log_setup(&f.cfg.log, &why), 0);
	fp = log_capture();
	pd_test_req(&req,
	    EOM("<Al\"ice Q@Example.ORG>",
		4) "\nqueue_id=4XyZ1p2\n"
		   "client_address=192.0.2.7\n"
		   "sasl_username=al\\ice bob\x01\xc3\xa9\n"
		   "size=1234\ninstance=1a.2b");
	assert_int_equal(pd_quota_prepare(&f.cfg, &req, T0, &q), 1);
	q.plan.item[0].used = 12;
	q.plan.item[1].used = 3;
	q.plan.over = 1;
	pd_quota_finish(&f.cfg, &q, PD_STORE_OK, NULL);
	pd_quotalog(&f.cfg, &q, "redis", 412);
	log = log_read(fp);
	fclose(fp);
	snprintf(line, sizeof line, "%s", log);
	blank(line, "{\"ts\":");
	blank(line, ",\"host\":");
	f.cfg.log.format = 0;
	assert_int_equal(cm_log_setup(&f.cfg.log, &why), 0);
	if ((null = fopen("/dev/null", "w")) != NULL)
		cm_log_set_stream(null);
	fx_close(&f);
	return line;
}

/* test_log_golden - the whole quota line, byte for byte, both formats */
static void
test_log_golden(void **state)
{
	static const char text[] =
	    "4XyZ1p2: quota protocol_state=END-OF-MESSAGE client_ip=192.0.2.7 "
	    "sasl_user=\"al\\\\ice bob\\x01\\xc3\\xa9\" "
	    "sender=<\\x3cAl\"ice Q@Example.ORG\\x3e> "
	    "identity=<h:005824e35451b923fb2d40f808b3161a> "
	    "rcpt_count=4 size=1234 limits=daily:12/100,burst:3/3 "
	    "action=DUNNO mode=monitor would=DEFER reason=over-limit "
	    "store=redis elapsed_us=412\n";
	static const char json[] =
	    "{\"ts\":\"X\",\"host\":\"X\",\"program\":\"test_pd_quota\","
	    "\"event\":\"quota\",\"queue_id\":\"4XyZ1p2\","
	    "\"protocol_state\":\"END-OF-MESSAGE\",\"client_ip\":\"192.0.2.7\","
	    "\"sasl_user\":\"al\\\\ice bob\\u0001\xc3\xa9\","
	    "\"sender\":\"<Al\\\"ice Q@Example.ORG>\","
	    "\"identity\":\"h:005824e35451b923fb2d40f808b3161a\","
	    "\"rcpt_count\":4,\"size\":1234,\"limits\":[{\"name\":\"daily\","
	    "\"window\":\"day\",\"used\":12,\"max\":100,\"cost\":4},"
	    "{\"name\":\"burst\",\"window\":\"1m\",\"used\":3,\"max\":3,"
	    "\"cost\":1}],\"action\":\"DUNNO\",\"mode\":\"monitor\","
	    "\"would\":\"DEFER\",\"reason\":\"over-limit\",\"store\":\"redis\","
	    "\"elapsed_us\":412}\n";
	const char *got;

	got = golden_line(CM_LOG_TEXT);
	if (strcmp(got, text) != 0)
		fail_msg("text: got \"%s\", want \"%s\"", got, text);
	got = golden_line(CM_LOG_JSON);
	if (strcmp(got, json) != 0)
		fail_msg("json: got \"%s\", want \"%s\"", got, json);
}

/* test_log_json - the same record as JSON: limits as an array */
static void
test_log_json(void **state)
{
	struct fx f;
	FILE *fp, *null;
	const char *log, *why = "";

	fx_open(&f,
	    "log_format = json\nlog_target = stderr\n"
	    "limit daily = day 1 messages\nlimit burst = 1m 5 recipients\n");
	assert_int_equal(cm_log_setup(&f.cfg.log, &why), 0);
	fp = log_capture();
	fx_ask(&f, 0, EOM(A, 2) "\nqueue_id=4XyZ1p2\nsasl_username=al\\\"ice");
	log = log_read(fp);
	if (strstr(log, "\"event\":\"quota\",\"queue_id\":\"4XyZ1p2\"") ==
		NULL ||
	    strstr(log,
		"\"limits\":[{\"name\":\"daily\",\"window\":"
		"\"day\",\"used\":1,\"max\":1,\"cost\":1},{\"name\":"
		"\"burst\",\"window\":\"1m\",\"used\":2,\"max\":5,"
		"\"cost\":2}]") == NULL ||
	    strstr(log, "\"sasl_user\":\"al\\\\\\\"ice\"") == NULL ||
	    strstr(log, "\"reason\":\"counted\"") == NULL ||
	    strstr(log, "limits=") != NULL)
		fail_msg("got \"%s\"", log);
	fclose(fp);
	f.cfg.log.format = 0;
	assert_int_equal(cm_log_setup(&f.cfg.log, &why), 0);
	if ((null = fopen("/dev/null", "w")) != NULL)
		cm_log_set_stream(null);
	fx_close(&f);
}

/* test_not_counted - a refused message leaves every counter alone */
static void
test_not_counted(void **state)
{
	struct pd_plan_item it;
	struct fx f;
	long long v = -1;

	fx_open(&f, "limit m = day 10 messages\nlimit r = day 4 recipients\n");
	assert_string_equal(fx_ask(&f, 0, EOM(A, 3)), DUNNO);
	assert_string_equal(fx_ask(&f, 1, EOM(A, 2)), DEFER("r", 3, 4, "day"));
	assert_int_equal(pd_quota_keys(&f.cfg, &f.cfg.limits[0], A, T0 + 1,
			     &it),
	    0);
	assert_int_equal(pd_store_mem_get(pd_engine_store(f.eng), it.key, "",
			     T0 + 1, &v),
	    0);
	assert_int_equal(v, 1);
	fx_close(&f);
}

/* test_store_override - an override in the store beats the config */
static void
test_store_override(void **state)
{
	struct pd_plan_item it;
	struct fx f;

	fx_open(&f,
	    "limit daily = day 5 messages\n"
	    "override alice@example.org daily = 1\n");
	assert_int_equal(pd_quota_keys(&f.cfg, &f.cfg.limits[0], A, T0, &it),
	    0);
	assert_string_equal(it.key, "mt:{alice@example.org}:daily:d20261123");
	assert_string_equal(it.ovr_key, "mt:{alice@example.org}:ovr");
	assert_int_equal(it.max, 1);
	assert_int_equal(pd_store_mem_set(pd_engine_store(f.eng), it.ovr_key,
			     "daily", 3, 0, T0),
	    0);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 1)), DUNNO);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 1)), DUNNO);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 1)), DUNNO);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 1)),
	    DEFER("daily", 3, 3, "day"));
	assert_int_equal(pd_store_mem_del(pd_engine_store(f.eng), it.ovr_key,
			     "daily"),
	    0);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 1)),
	    DEFER("daily", 3, 1, "day"));
	fx_close(&f);
}

/* test_identity - normalization and hashing */
static void
test_identity(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: hashed */
		int r;
	} t[] = {
		{ "<Alice@Example.ORG>", "Alice@example.org", 0 },
		{ "alice", "alice", 0 },
		{ "a{b}@example.org", NULL, 1 },
		{ "a b@example.org", NULL, 1 },
		{ "bad\r\n@example.org", NULL, 1 },
		{ "", "", -1 },
	};
	char out[PD_IDENTITY_MAX + 1], big[600];
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		r = pd_quota_identity(t[i].in, strlen(t[i].in), out,
		    sizeof out);
		if (r != t[i].r)
			fail_msg("%s: got %d, want %d", t[i].in, r, t[i].r);
		if (r == 0 && strcmp(out, t[i].want) != 0)
			fail_msg("%s: got %s, want %s", t[i].in, out,
			    t[i].want);
		if (r == 1 && (strncmp(out, "h:", 2) != 0 || strlen(out) != 34))
			fail_msg("%s: got %s, want h: + 32 hex", t[i].in, out);
	}
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	big[100] = '@';
	assert_int_equal(pd_quota_identity(big, strlen(big), out, sizeof out),
	    1);
}

/* test_expand - reply templates, hostile identities */
static void
test_expand(void **state)
{
	static const struct {
		const char *tmpl, *identity, *want;
	} t[] = {
		{ "%{limit} %{used}/%{max} per %{window}", "a@b",
		    "daily 7/9 per day" },
		{ "%{identity}", "a\r\nb\x01", "a??b?" },
		{ "%{nope} %{ %", "x", "%{nope} %{ %" },
		{ "100%", "x", "100%" },
		{ "", "x", "" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(pd_quota_expand(t[i].tmpl, "daily", 7, 9,
				     "day", t[i].identity, out, sizeof out),
		    0);
		if (strcmp(out, t[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].tmpl, out,
			    t[i].want);
	}
	assert_int_equal(pd_quota_expand("%{identity}%{identity}", "l", 0, 0,
			     "w", "0123456789012345678901234567890123456789",
			     out, sizeof out),
	    -1);
	assert_true(strlen(out) < sizeof out);
}

/* test_memory_follows_keys - expired keys go away */
static void
test_memory_follows_keys(void **state)
{
	struct fx f;
	char req[128];
	int i;

	fx_open(&f, "limit burst = 30s 5 messages\n");
	for (i = 0; i < 200; i++) {
		snprintf(req, sizeof req, EOM("u%d@example.org", 1), i);
		assert_string_equal(fx_ask(&f, 0, req), DUNNO);
	}
	assert_int_equal(pd_store_mem_count(pd_engine_store(f.eng), T0), 200);
	assert_int_equal(pd_store_mem_count(pd_engine_store(f.eng), T0 + 3600),
	    0);
	fx_close(&f);
}

/* test_admin - usage, override, reset on the memory store */
static void
test_admin(void **state)
{
	struct pd_plan_item day, burst;
	struct pd_usage u;
	struct pd_store *st;
	const char *why = "";
	struct fx f;

	fx_open(&f,
	    "limit daily = day 10 messages\n"
	    "limit burst = 1m 100 recipients\n");
	st = pd_engine_store(f.eng);
	assert_string_equal(fx_ask(&f, 0, EOM(A, 2)), DUNNO);
	assert_string_equal(fx_ask(&f, 5, EOM(A, 3)), DUNNO);
	assert_string_equal(fx_ask(&f, 6, EOM(A, 1)), DUNNO);
	assert_int_equal(pd_quota_keys(&f.cfg, &f.cfg.limits[0], A, T0 + 6,
			     &day),
	    0);
	assert_int_equal(pd_quota_keys(&f.cfg, &f.cfg.limits[1], A, T0 + 6,
			     &burst),
	    0);
	assert_int_equal(pd_store_usage(st, &day, T0 + 6, &u, &why),
	    PD_STORE_OK);
	assert_int_equal(u.used, 3);
	assert_int_equal(u.override, -1);
	assert_int_equal(pd_store_usage(st, &burst, T0 + 6, &u, &why),
	    PD_STORE_OK);
	assert_int_equal(u.used, 6);
	assert_int_equal(u.oldest_slot, T0); /* one-second slots */
	assert_int_equal(pd_store_override(st, &day, 3, &why), PD_STORE_OK);
	assert_string_equal(fx_ask(&f, 7, EOM(A, 1)),
	    DEFER("daily", 3, 3, "day"));
	assert_int_equal(pd_store_usage(st, &day, T0 + 7, &u, &why),
	    PD_STORE_OK);
	assert_int_equal(u.override, 3);
	assert_int_equal(pd_store_override(st, &day, -1, &why), PD_STORE_OK);
	assert_string_equal(fx_ask(&f, 8, EOM(A, 1)), DUNNO);
	assert_int_equal(pd_store_reset(st, &day, &why), PD_STORE_OK);
	assert_int_equal(pd_store_usage(st, &day, T0 + 9, &u, &why),
	    PD_STORE_OK);
	assert_int_equal(u.used, 0);
	assert_int_equal(u.override, -1);
	fx_close(&f);
}

/*
 * test_store_down - a Redis store that cannot connect: every decision
 * that needs it is answered by on_store_error, never as "count is 0";
 * states that need no store still answer DUNNO.
 */
static void
test_store_down(void **state)
{
	static const struct {
		const char *conf, *req, *want;
	} t[] = {
		{ "on_store_error = dunno\n", EOM(A, 1), DUNNO },
		{ "on_store_error = defer\n", EOM(A, 1),
		    "action=DEFER_IF_PERMIT 4.3.0 Quota service temporarily "
		    "unavailable" },
		{ "on_store_error = defer\n", RCPT(A),
		    "action=DEFER_IF_PERMIT 4.3.0 Quota service temporarily "
		    "unavailable" },
		{ "on_store_error = defer\n", "protocol_state=DATA", DUNNO },
		{ "on_store_error = defer\nmode = monitor\n", EOM(A, 1),
		    DUNNO },
	};
	static struct pd_request req;
	struct pd_config cfg;
	struct pd_engine *eng;
	struct event_base *base;
	struct fx f;
	char conf[512], err[512];
	const char *why = "";
	size_t i;
	int n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = snprintf(conf, sizeof conf,
		    "store = redis+unix:///nonexistent/redis.sock\n"
		    "store_reconnect_max = 10s\n"
		    "limit daily = day 0 messages\n%s",
		    t[i].conf);
		if (pd_config_load_buf(&cfg, "t.conf", conf, (size_t)n, err,
			sizeof err) == -1)
			fail_msg("config: %s", err);
		assert_non_null(base = event_base_new());
		if ((eng = pd_engine_new(&cfg, base, &why)) == NULL)
			fail_msg("engine: %s", why);
		memset(&f, 0, sizeof f);
		pd_test_req(&req, t[i].req);
		pd_engine_decide(eng, &req, fx_reply, &f);
		while (f.nreply == 0)
			event_base_loop(base, EVLOOP_ONCE);
		if (strcmp(f.reply, t[i].want) != 0)
			fail_msg("%s%s: got \"%s\", want \"%s\"", t[i].conf,
			    t[i].req, f.reply, t[i].want);
		pd_engine_free(eng);
		event_base_free(base);
		pd_config_free(&cfg);
	}
}

int
main(void)
{
	FILE *quiet;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_log_json),
		cmocka_unit_test(test_log_golden),
		cmocka_unit_test(test_not_counted),
		cmocka_unit_test(test_store_override),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_memory_follows_keys),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_store_down),
	};

	cm_log_init("test_pd_quota");
	/* Decisions log a line each; only test_log_line reads them. */
	if ((quiet = fopen("/dev/null", "w")) != NULL)
		cm_log_set_stream(quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
