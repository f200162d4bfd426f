/*
 * NAME
 *	test_log - unit tests of the structured logger (common/log.c)
 * SYNOPSIS
 *	tests/unit/test_log
 * DESCRIPTION
 *	Golden text and JSON renderings of a sample auth and quota event at
 *	a fixed time; tables of hostile values (NUL, invalid UTF-8, control
 *	bytes, 1 MiB) whose JSON rendering must parse (json_check.h) and
 *	whose text rendering must stay on one printable line; nesting past
 *	the depth bound; the line cap; level filtering; the file sink and
 *	its reopen after a rename; concurrent writers; address privacy
 *	modes and the hash key file checks; cm_log_str(); cm_fatal() and
 *	cm_panic() in a child process.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fuzz/json_check.h"
#include "cm_addr.h"
#include "cm_buf.h"
#include "cm_conf.h"
#include "cm_log.h"
#include "cm_util.h"

#define TS 1795451606123ULL /* 2026-11-23T16:33:26.123Z */

static char host[256];
static char tmpdir[] = "/tmp/test_log.XXXXXX";

/* render - render ev in format into a static string */
static const char *
render(const struct cm_event *ev, int format)
{
	static struct cm_buf b;

	cm_buf_release(&b);
	assert_int_equal(cm_event_render(ev, format, TS, &b), 0);
	return cm_buf_str(&b);
}

/* assert_json - fail with the reason when s is not valid JSON */
static void
assert_json(const char *s)
{
	const char *why = NULL;

	if (json_check(s, strlen(s), &why) != 0)
		fail_msg("invalid JSON (%s at %zu): %.300s", why,
		    json_check_off, s);
}

/* assert_one_line - text output: printable ASCII only, no newline */
static void
assert_one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			fail_msg("byte 0x%02x in text line", (unsigned char)*s);
}

/* conf - a log config with defaults */
static struct cm_log_conf
conf(const char *target, int addresses, const char *keyfile)
{
	struct cm_log_conf c;

	memset(&c, 0, sizeof c);
	c.format = CM_LOG_TEXT;
	c.target = (char *)(uintptr_t)target;
	c.facility = (char *)(uintptr_t) "mail";
	c.level = CM_LOG_INFO;
	c.addresses = addresses;
	c.hash_key_file = (char *)(uintptr_t)keyfile;
	return c;
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
	    "\"program\":\"test_log\",\"event\":\"auth\",\"queue_id\":"
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
	    "\"program\":\"test_log\",\"event\":\"quota\",\"queue_id\":null,"
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

/* capture - log lines go to a memory stream */
static char *cap_buf;
static size_t cap_len;
static FILE *cap_fp;

static void
capture_start(void)
{
	cap_fp = open_memstream(&cap_buf, &cap_len);
	assert_non_null(cap_fp);
	cm_log_set_stream(cap_fp);
}

static char *
capture_end(void)
{
	cm_log_set_stream(NULL);
	fclose(cap_fp);
	return cap_buf;
}

/* test_levels - filtering of diagnostics and events */
static void
test_levels(void **state)
{
	struct cm_event *ev;
	char *got, sb[64];

	capture_start();
	cm_log_set_level(CM_LOG_WARNING);
	assert_int_equal(cm_log_get_level(), CM_LOG_WARNING);
	cm_log_info("hidden info");
	cm_log_debug("hidden debug");
	cm_log_warnx("shown %d", 1);
	cm_log_error("shown %s", "2");
	ev = cm_event_new("e", "Q");
	cm_event_emit(ev, CM_LOG_INFO);
	ev = cm_event_new("e", "W");
	cm_event_emit(ev, CM_LOG_WARNING);
	cm_log_set_level(CM_LOG_DEBUG);
	cm_log_debug("debug\nline");
	errno = ENOENT;
	cm_log_warn("open %s", "x");
	cm_log_info("helo=%s", cm_log_str(sb, sizeof sb, "a\nb\\", 4, 100));
	cm_log_set_level(99); /* ignored */
	assert_int_equal(cm_log_get_level(), CM_LOG_DEBUG);
	cm_log_set_level(CM_LOG_INFO);
	got = capture_end();
	assert_string_equal(got,
	    "warning: shown 1\nerror: shown 2\nW: e\n"
	    "debug: debug\\x0aline\n"
	    "warning: open x: No such file or directory\n"
	    "helo=a\\x0ab\\x5c\n");
	free(got);
}

/* test_json_diag - diagnostics in JSON format are valid JSON */
static void
test_json_diag(void **state)
{
	struct cm_log_conf c = conf("stderr", CM_LOG_ADDR_FULL, NULL);
	const char *why;
	char *got, *nl, want[512], *big;

	c.format = CM_LOG_JSON;
	assert_int_equal(cm_log_setup(&c, &why), 0);
	capture_start();
	cm_log_warnx("bad \"value\" \x01\xff");
	big = malloc(20000);
	assert_non_null(big);
	memset(big, '\x01', 19999);
	big[19999] = '\0';
	cm_log_info("%s", big);
	free(big);
	got = capture_end();
	nl = strchr(got, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_json(got);
	snprintf(want, sizeof want,
	    "\"host\":\"%s\",\"program\":\"test_log\",\"level\":\"warning\","
	    "\"msg\":\"bad \\\"value\\\" \\u0001\\u00ff\"}",
	    host);
	assert_non_null(strstr(got, want));
	assert_non_null(strchr(nl + 1, '\n'));
	*strchr(nl + 1, '\n') = '\0';
	assert_json(nl + 1);
	assert_true(strlen(nl + 1) <= CM_LOG_LINE_MAX);
	free(got);
	c.format = CM_LOG_TEXT;
	assert_int_equal(cm_log_setup(&c, &why), 0);
}

/* read_file - a whole small file, or "" */
static char *
read_file(const char *path)
{
	static char buf[1 << 20];
	FILE *fp;
	size_t n;

	buf[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* test_file_sink - Postfix maillog_file lines, reopen after a rename */
static void
test_file_sink(void **state)
{
	char target[320], path[300], old[300], want[300];
	struct cm_log_conf c;
	const char *why, *got;

	snprintf(path, sizeof path, "%s/mail.log", tmpdir);
	snprintf(old, sizeof old, "%s/mail.log.1", tmpdir);
	snprintf(target, sizeof target, "file:%s", path);
	c = conf(target, CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	cm_log_info("first");
	assert_int_equal(rename(path, old), 0);
	cm_log_info("second"); /* still the old file */
	assert_false(cm_log_reopen_pending());
	cm_log_reopen_signal();
	assert_true(cm_log_reopen_pending());
	assert_int_equal(cm_log_reopen(), 0);
	assert_false(cm_log_reopen_pending());
	cm_log_info("third");
	snprintf(want, sizeof want, " %s test_log[%ld]: first\n", host,
	    (long)getpid());
	got = read_file(old);
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, "]: second\n"));
	assert_null(strstr(got, "third"));
	/* "Mon DD HH:MM:SS " */
	assert_true(strlen(got) > 16 && got[3] == ' ' && got[6] == ' ' &&
	    got[9] == ':' && got[12] == ':' && got[15] == ' ');
	got = read_file(path);
	assert_non_null(strstr(got, "]: third\n"));
	assert_null(strstr(got, "first"));
	unlink(old);
	unlink(path);

	/* the new file cannot be opened: keep writing to the old one */
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/sub/mail.log", tmpdir);
	snprintf(target, sizeof target, "file:%s", path);
	c = conf(target, CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	assert_int_equal(rename(path, old), 0);
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(cm_log_reopen(), -1);
	cm_log_info("kept");
	got = read_file(old);
	assert_non_null(strstr(got, "]: warning: cannot reopen log file "));
	assert_non_null(strstr(got, "No such file or directory\n"));
	assert_non_null(strstr(got, "]: kept\n"));
	unlink(old);

	c = conf("stderr", CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	assert_int_equal(cm_log_reopen(), 0); /* not a file: nothing */
}

#define NTHREADS 4
#define NLINES 300

/* writer - one thread's lines */
static void *
writer(void *arg)
{
	struct cm_event *ev;
	char val[200];
	int i;

	memset(val, 'a' + (int)(intptr_t)arg, sizeof val - 1);
	val[sizeof val - 1] = '\0';
	for (i = 0; i < NLINES; i++) {
		ev = cm_event_new("t", "Q");
		cm_event_str(ev, "v", val);
		cm_event_emit(ev, CM_LOG_INFO);
	}
	return NULL;
}

/* test_threads - concurrent lines never interleave in a file */
static void
test_threads(void **state)
{
	char target[320], path[300];
	pthread_t t[NTHREADS];
	struct cm_log_conf c;
	const char *why;
	char *got, *line, *save;
	int i, n = 0;

	snprintf(path, sizeof path, "%s/threads.log", tmpdir);
	snprintf(target, sizeof target, "file:%s", path);
	c = conf(target, CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	got = read_file(path);
	for (line = strtok_r(got, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		const char *v = strstr(line, ": Q: t v=");

		assert_non_null(v);
		v += 9;
		assert_int_equal(strlen(v), 199);
		assert_int_equal(strspn(v, (char[]){ v[0], 0 }), 199);
	}
	assert_int_equal(n, NTHREADS * NLINES);
	unlink(path);
	c = conf("stderr", CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
}

struct setup_case {
	const char *name;
	const char *target;
	const char *facility;
	int addresses;
	const char *keyfile; /* relative to tmpdir, NULL: none */
	int ok;
};

static const struct setup_case setup_cases[] = {
	{ "stderr", "stderr", "mail", CM_LOG_ADDR_FULL, NULL, 1 },
	{ "syslog", "syslog", "mail", CM_LOG_ADDR_FULL, NULL, 1 },
	{ "local7", "stderr", "local7", CM_LOG_ADDR_FULL, NULL, 1 },
	{ "daemon", "stderr", "daemon", CM_LOG_ADDR_FULL, NULL, 1 },
	{ "unknown facility", "stderr", "kern", CM_LOG_ADDR_FULL, NULL, 0 },
	{ "empty facility", "stderr", "", CM_LOG_ADDR_FULL, NULL, 0 },
	{ "local8", "stderr", "local8", CM_LOG_ADDR_FULL, NULL, 0 },
	{ "bad target", "journald", "mail", CM_LOG_ADDR_FULL, NULL, 0 },
	{ "relative file", "file:mail.log", "mail", CM_LOG_ADDR_FULL, NULL, 0 },
	{ "file in missing dir", "file:/nonexistent/dir/x.log", "mail",
	    CM_LOG_ADDR_FULL, NULL, 0 },
	{ "hash without key", "stderr", "mail", CM_LOG_ADDR_HASH, NULL, 0 },
	{ "hash missing key", "stderr", "mail", CM_LOG_ADDR_HASH, "nokey", 0 },
	{ "hash empty key", "stderr", "mail", CM_LOG_ADDR_HASH, "empty", 0 },
	{ "hash newline key", "stderr", "mail", CM_LOG_ADDR_HASH, "nl", 0 },
	{ "hash world key", "stderr", "mail", CM_LOG_ADDR_HASH, "world", 0 },
	{ "hash dir key", "stderr", "mail", CM_LOG_ADDR_HASH, ".", 0 },
	{ "hash good key", "stderr", "mail", CM_LOG_ADDR_HASH, "key", 1 },
	{ "domain", "stderr", "mail", CM_LOG_ADDR_DOMAIN, NULL, 1 },
};

/* write_key - a key file with mode */
static void
write_key(const char *name, const char *content, mode_t mode)
{
	char path[300];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(content, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* test_setup - cm_log_setup() accepts and refuses */
static void
test_setup(void **state)
{
	struct cm_log_conf c;
	const char *why;
	char key[300];
	size_t i;
	int r;

	write_key("empty", "", 0600);
	write_key("nl", "\n\n", 0600);
	write_key("world", "secret\n", 0644);
	write_key("key", "secret\n", 0640);
	for (i = 0; i < countof(setup_cases); i++) {
		const struct setup_case *t = &setup_cases[i];

		snprintf(key, sizeof key, "%s/%s", tmpdir,
		    t->keyfile ? t->keyfile : "");
		c = conf(t->target, t->addresses, t->keyfile ? key : NULL);
		c.facility = (char *)(uintptr_t)t->facility;
		why = NULL;
		r = cm_log_setup(&c, &why);
		if ((r == 0) != t->ok)
			fail_msg("%s: got %d (%s), want %s", t->name, r,
			    why ? why : "", t->ok ? "ok" : "error");
		if (r == -1)
			assert_non_null(why);
	}
	c = conf("stderr", CM_LOG_ADDR_FULL, NULL);
	assert_int_equal(cm_log_setup(&c, &why), 0);
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

struct str_case {
	const char *name;
	const char *in;
	size_t len, max, bufsize;
	const char *want;
};

static const struct str_case str_cases[] = {
	{ "plain", "hello", 5, 100, 64, "hello" },
	{ "null", NULL, 0, 100, 64, "(null)" },
	{ "controls", "a\r\n\tb", 5, 100, 64, "a\\x0d\\x0a\\x09b" },
	{ "nul inside", "a\0b", 3, 100, 64, "a\\x00b" },
	{ "backslash", "a\\b", 3, 100, 64, "a\\x5cb" },
	{ "high", "\xc3\xa9", 2, 100, 64, "\\xc3\\xa9" },
	{ "capped by max", "abcdef", 6, 3, 64, "abc..." },
	{ "capped by buf", "abcdefghij", 10, 100, 8, "abcd..." },
	{ "escape at cap", "ab\n", 3, 100, 6, "ab..." },
	{ "fits exactly", "abcdefg", 7, 100, 8, "abcdefg" },
	{ "tiny buf", "abcdef", 6, 100, 3, "ab" },
	{ "one byte buf", "abc", 3, 100, 1, "" },
	{ "empty", "", 0, 100, 8, "" },
};

/* test_log_str - cm_log_str() escapes and caps */
static void
test_log_str(void **state)
{
	char buf[64];
	size_t i;

	for (i = 0; i < countof(str_cases); i++) {
		const struct str_case *t = &str_cases[i];
		const char *got;

		memset(buf, 'Z', sizeof buf);
		got = cm_log_str(buf, t->bufsize, t->in, t->len, t->max);
		if (strcmp(got, t->want) != 0)
			fail_msg("%s: got %s, want %s", t->name, got, t->want);
		assert_true(strlen(got) < t->bufsize);
	}
	assert_ptr_equal(cm_log_str(buf, 0, "x", 1, 1), buf);
}

/* quiet - a child's stderr goes to /dev/null */
static void
quiet(void)
{
	int fd = open("/dev/null", O_WRONLY);

	if (fd != -1)
		dup2(fd, STDERR_FILENO);
}

/* test_fatal_panic - exit status 78, abort */
static void
test_fatal_panic(void **state)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		quiet();
		cm_fatal("config: %s", "broken");
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 78);
	if ((pid = fork()) == 0) {
		quiet();
		signal(SIGABRT, SIG_DFL);
		cm_panic("bug %d", 1);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	if ((pid = fork()) == 0) { /* a bad key name is a bug */
		quiet();
		signal(SIGABRT, SIG_DFL);
		cm_event_int(cm_event_new("e", NULL), "Bad-Key", 1);
		_exit(0);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_true(WIFSIGNALED(status));
}

/* test_conf_table - cm_log_conf_defs through the real config parser */
static void
test_conf_table(void **state)
{
	static const char text[] = "log_format = json\n"
				   "log_target = stderr\n"
				   "syslog_facility = local3\n"
				   "log_level = debug\n"
				   "log_addresses = domain\n";
	struct cm_log_conf c;
	const struct cm_conf_section sec[] = {
		{ cm_log_conf_defs, &c },
		{ NULL, NULL },
	};
	char err[256];
	const char *why;

	memset(&c, 0, sizeof c);
	assert_int_equal(cm_conf_defaults(sec, err, sizeof err), 0);
	assert_int_equal(c.format, CM_LOG_TEXT);
	assert_string_equal(c.target, "syslog");
	assert_string_equal(c.facility, "mail");
	assert_int_equal(c.level, CM_LOG_INFO);
	assert_int_equal(c.addresses, CM_LOG_ADDR_FULL);
	assert_null(c.hash_key_file);
	if (cm_conf_load_buf(sec, "t.conf", text, sizeof text - 1, err,
		sizeof err) != 0)
		fail_msg("load: %s", err);
	assert_int_equal(c.format, CM_LOG_JSON);
	assert_int_equal(c.level, CM_LOG_DEBUG);
	assert_int_equal(c.addresses, CM_LOG_ADDR_DOMAIN);
	assert_int_equal(cm_log_setup(&c, &why), 0);
	assert_int_equal(cm_log_get_level(), CM_LOG_DEBUG);
	assert_int_not_equal(cm_conf_load_buf(sec, "t.conf",
				 "log_format = xml\n", 17, err, sizeof err),
	    0);
	cm_conf_free(sec);
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
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_json_diag),
		cmocka_unit_test(test_file_sink),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_addr_modes),
		cmocka_unit_test(test_log_str),
		cmocka_unit_test(test_fatal_panic),
		cmocka_unit_test(test_conf_table),
		cmocka_unit_test(test_null_event),
	};
	char cmd[64];
	int rc;

	cm_log_init("/usr/sbin/test_log");
	gethostname(host, sizeof host);
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
