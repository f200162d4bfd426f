/*
 * NAME
 *	test_conf - unit tests of the configuration parser (common/conf.c)
 * SYNOPSIS
 *	tests/unit/test_conf
 * DESCRIPTION
 *	Table-driven: each row is a file's text and either the exact error
 *	("file:line: key: why") or one line the -n print must contain. The
 *	table used (conf_fix.c) has every type, two sections and two keyed
 *	entries. Then reloading, files, bad defaults, and the bounds
 *	(overlong lines) that are easier built in code. The value parsers
 *	are in test_conf_value, the -n print and golden files in
 *	test_conf_print.
 * DIAGNOSTICS
 *	TAP through cmocka, one test per row.
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

#include "conf_fix.h"

/*
 * A row: the file text (len 0: strlen), and 'want': "ERR:" and the exact
 * error, or a line that the print of the loaded config must contain.
 */
struct row {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define L(s) s, sizeof(s) - 1 /* a literal with NUL bytes inside */

static const struct row rows[] = {
	/* structure */
	{ "empty file", "", 0, "timeout = 5s" },
	{ "only comments and blanks", "# hello\n\n   \n\t\n  # indented\n", 0,
	    "name = mailtally" },
	{ "defaults print", "", 0, "exempt = 127.0.0.0/8, ::1" },
	{ "default octal int", "", 0, "mode_bits = 0660" },
	{ "no trailing newline", "timeout = 7s", 0, "timeout = 7s" },
	{ "tabs around =", "timeout\t=\t7s\t", 0, "timeout = 7s" },
	{ "no spaces around =", "timeout=7s", 0, "timeout = 7s" },
	{ "value with =", "name = a=b", 0, "name = a=b" },
	{ "missing =", "timeout 5s\n", 0,
	    "ERR:t.conf:1: \"timeout 5s\": missing \"=\" (want key = value)" },
	{ "empty key", "\n= 5\n", 0, "ERR:t.conf:2: empty key before \"=\"" },
	{ "unknown key", "timeout = 1s\nbogus = 1\n", 0,
	    "ERR:t.conf:2: bogus: unknown key" },
	{ "unknown key escaped", "cl\xc3\xa9 = 1\n", 0,
	    "ERR:t.conf:1: cl\\xc3\\xa9: unknown key" },
	{ "unknown key capped",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1",
	    0,
	    "ERR:t.conf:1: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: unknown key" },
	{ "duplicate key", "timeout = 1s\n\ntimeout = 2s\n", 0,
	    "ERR:t.conf:3: timeout: duplicate key (first set at line 1)" },
	{ "duplicate in second section", "log_level = info\nlog_level = debug",
	    0, "ERR:t.conf:2: log_level: duplicate key (first set at line 1)" },
	{ "words before = on a plain key", "timeout x = 5s\n", 0,
	    "ERR:t.conf:1: timeout: unexpected words before \"=\"" },
	{ "continuation at file start", "  timeout = 5s\n", 0,
	    "ERR:t.conf:1: continuation line without a key line before it" },
	{ "continuation after comment only", "# c\n\ttimeout = 5s\n", 0,
	    "ERR:t.conf:2: continuation line without a key line before it" },
	{ "continuation joins", "listen = a,\n  b,\n\t c\n", 0,
	    "listen = a, b, c" },
	{ "continuation across comment", "listen = a\n# c\n\n  b\n", 0,
	    "listen = a, b" },
	{ "continuation string", "name = hello   \n   world\n", 0,
	    "name = hello world" },
	{ "error line of continued line",
	    "timeout = 1s\nname = a\n  b\nmode = x\n", 0,
	    "ERR:t.conf:4: mode: \"x\": want one of: enforce, monitor" },
	{ "CRLF", "timeout = 2s\r\nmode = monitor\r\n", 0, "timeout = 2s" },
	{ "CRLF last", "timeout = 2s\r\nmode = monitor\r\n", 0,
	    "mode = monitor" },
	{ "CR mid line", "name = a\rb\n", 0,
	    "ERR:t.conf:1: control character \\x0d" },
	{ "control byte", "name = a\x01z\n", 0,
	    "ERR:t.conf:1: control character \\x01" },
	{ "DEL byte", "name = a\x7fz\n", 0,
	    "ERR:t.conf:1: control character \\x7f" },
	{ "NUL byte", L("timeout = 1s\nna\0me = x\n"),
	    "ERR:t.conf:2: NUL byte" },
	{ "NUL in comment", L("# a\0b\n"), "ERR:t.conf:1: NUL byte" },
	{ "NUL at end", L("timeout = 1s\n\0"), "ERR:t.conf:2: NUL byte" },
	{ "UTF-8 value", "name = caf\xc3\xa9\n", 0, "name = caf\xc3\xa9" },
	{ "UTF-8 4 bytes", "name = \xf0\x9f\x93\xab\n", 0,
	    "name = \xf0\x9f\x93\xab" },
	{ "invalid UTF-8 byte", "name = \xff\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 overlong", "name = \xc0\xaf\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 overlong 3", "name = \xe0\x80\xaf\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 surrogate", "name = \xed\xa0\x80\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 too high", "name = \xf4\x90\x80\x80\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 truncated", "name = \xe2\x82\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 continuation", "name = \x80\n", 0,
	    "ERR:t.conf:1: invalid UTF-8" },
	{ "invalid UTF-8 in comment ok", "# caf\xe9\n", 0, "timeout = 5s" },
	/* STR */
	{ "str", "name = hello world\n", 0, "name = hello world" },
	{ "str quoted", "name = \"  padded  \"\n", 0, "name = \"  padded  \"" },
	{ "str escapes", "name = \"a\\\"b\\\\c\"\n", 0, "name = a\"b\\c" },
	{ "str quote inside bare", "name = say \"hi\"\n", 0,
	    "name = say \"hi\"" },
	{ "str quoted leading quote", "name = \"\\\"x\"\n", 0,
	    "name = \"\\\"x\"" },
	{ "str empty quotes", "name = \"\"\n", 0, "name =" },
	{ "str empty", "name =\n", 0, "name =" },
	{ "str unterminated", "name = \"abc\n", 0,
	    "ERR:t.conf:1: name: \"\\x22abc\": unterminated quote" },
	{ "str escape at end", "name = \"abc\\\"\n", 0,
	    "ERR:t.conf:1: name: \"\\x22abc\\x5c\\x22\": unterminated quote" },
	{ "str text after quote", "name = \"a\"b\n", 0,
	    "ERR:t.conf:1: name: \"\\x22a\\x22b\": text after closing quote" },
	{ "str bad escape", "name = \"a\\nb\"\n", 0,
	    "ERR:t.conf:1: name: \"\\x22a\\x5cnb\\x22\": bad escape in quotes "
	    "(use \\\" or \\\\)" },
	/* BOOL */
	{ "bool yes", "enabled = yes", 0, "enabled = yes" },
	{ "bool no", "enabled = no", 0, "enabled = no" },
	{ "bool TRUE", "enabled = TRUE", 0, "enabled = yes" },
	{ "bool off", "enabled = off", 0, "enabled = no" },
	{ "bool 0", "enabled = 0", 0, "enabled = no" },
	{ "bool 1", "enabled = 1", 0, "enabled = yes" },
	{ "bool bad", "enabled = maybe", 0,
	    "ERR:t.conf:1: enabled: \"maybe\": want yes or no" },
	{ "bool empty", "enabled =", 0,
	    "ERR:t.conf:1: enabled: \"\": want yes or no" },
	/* INT */
	{ "int", "max_conn = 5", 0, "max_conn = 5" },
	{ "int max", "max_conn = 1000", 0, "max_conn = 1000" },
	{ "int below", "max_conn = 0", 0,
	    "ERR:t.conf:1: max_conn: \"0\": out of range (1..1000)" },
	{ "int above", "max_conn = 1001", 0,
	    "ERR:t.conf:1: max_conn: \"1001\": out of range (1..1000)" },
	{ "int negative", "max_conn = -1", 0,
	    "ERR:t.conf:1: max_conn: \"-1\": out of range (1..1000)" },
	{ "int garbage", "max_conn = abc", 0,
	    "ERR:t.conf:1: max_conn: \"abc\": not a number" },
	{ "int trailing", "max_conn = 12abc", 0,
	    "ERR:t.conf:1: max_conn: \"12abc\": not a number" },
	{ "int plus", "max_conn = +5", 0,
	    "ERR:t.conf:1: max_conn: \"+5\": not a number" },
	{ "int huge", "max_conn = 99999999999999999999", 0,
	    "ERR:t.conf:1: max_conn: \"99999999999999999999\": number too large" },
	{ "int huge negative", "mode_bits = -99999999999999999999", 0,
	    "ERR:t.conf:1: mode_bits: \"-99999999999999999999\": number too large" },
	{ "int empty", "max_conn =", 0,
	    "ERR:t.conf:1: max_conn: \"\": empty value" },
	{ "int hex refused", "mode_bits = 0x10", 0,
	    "ERR:t.conf:1: mode_bits: \"0x10\": not a number" },
	{ "int octal", "mode_bits = 0600", 0, "mode_bits = 0600" },
	{ "int bad octal", "mode_bits = 09", 0,
	    "ERR:t.conf:1: mode_bits: \"09\": not a number" },
	{ "int zero no range", "mode_bits = 0", 0, "mode_bits = 0" },
	{ "int decimal prints octal", "mode_bits = 384", 0,
	    "mode_bits = 0600" },
	{ "int negative prints decimal", "mode_bits = -8", 0,
	    "mode_bits = -8" },
	{ "int llong max", "mode_bits = 9223372036854775807", 0,
	    "mode_bits = 0777777777777777777777" },
	/* DURATION */
	{ "duration ms", "timeout = 50ms", 0, "timeout = 50ms" },
	{ "duration bare seconds", "timeout = 5", 0, "timeout = 5s" },
	{ "duration 60s", "timeout = 60s", 0, "timeout = 1m" },
	{ "duration 90s", "timeout = 90s", 0, "timeout = 90s" },
	{ "duration 1500ms", "timeout = 1500ms", 0, "timeout = 1500ms" },
	{ "duration 1h", "timeout = 1h", 0, "timeout = 1h" },
	{ "duration 2m", "timeout = 2m", 0, "timeout = 2m" },
	{ "duration above", "timeout = 2h", 0,
	    "ERR:t.conf:1: timeout: \"2h\": out of range (1ms..1h)" },
	{ "duration zero below", "timeout = 0", 0,
	    "ERR:t.conf:1: timeout: \"0\": out of range (1ms..1h)" },
	{ "duration day above", "timeout = 1d", 0,
	    "ERR:t.conf:1: timeout: \"1d\": out of range (1ms..1h)" },
	{ "duration negative", "timeout = -5s", 0,
	    "ERR:t.conf:1: timeout: \"-5s\": negative" },
	{ "duration unknown unit", "timeout = 5q", 0,
	    "ERR:t.conf:1: timeout: \"5q\": unknown unit (use ms, s, m, h, d)" },
	{ "duration space unit", "timeout = 5 s", 0,
	    "ERR:t.conf:1: timeout: \"5 s\": unknown unit (use ms, s, m, h, d)" },
	{ "duration fraction", "timeout = 1.5s", 0,
	    "ERR:t.conf:1: timeout: \"1.5s\": unknown unit (use ms, s, m, h, d)" },
	{ "duration empty", "timeout =", 0,
	    "ERR:t.conf:1: timeout: \"\": empty value" },
	{ "duration garbage", "timeout = s", 0,
	    "ERR:t.conf:1: timeout: \"s\": not a number" },
	{ "duration huge", "timeout = 99999999999999999999s", 0,
	    "ERR:t.conf:1: timeout: \"99999999999999999999s\": number too large" },
	{ "duration unit overflow", "timeout = 9223372036854775807d", 0,
	    "ERR:t.conf:1: timeout: \"9223372036854775807d\": number too large" },
	/* SIZE */
	{ "size k", "max_size = 10k", 0, "max_size = 10k" },
	{ "size K", "max_size = 10K", 0, "max_size = 10k" },
	{ "size 1024", "max_size = 1024", 0, "max_size = 1k" },
	{ "size 1025", "max_size = 1025", 0, "max_size = 1025" },
	{ "size M", "max_size = 3M", 0, "max_size = 3M" },
	{ "size G", "max_size = 1G", 0, "max_size = 1G" },
	{ "size 2048k", "max_size = 2048k", 0, "max_size = 2M" },
	{ "size above", "max_size = 2G", 0,
	    "ERR:t.conf:1: max_size: \"2G\": out of range (1k..1G)" },
	{ "size below", "max_size = 1000", 0,
	    "ERR:t.conf:1: max_size: \"1000\": out of range (1k..1G)" },
	{ "size unknown unit", "max_size = 10x", 0,
	    "ERR:t.conf:1: max_size: \"10x\": unknown unit (use k, M, G)" },
	{ "size lower m", "max_size = 10m", 0,
	    "ERR:t.conf:1: max_size: \"10m\": unknown unit (use k, M, G)" },
	{ "size negative", "max_size = -1k", 0,
	    "ERR:t.conf:1: max_size: \"-1k\": negative" },
	{ "size overflow", "max_size = 9223372036854775807G", 0,
	    "ERR:t.conf:1: max_size: \"9223372036854775807G\": number too large" },
	/* LIST */
	{ "list", "listen = a, b  c,,d", 0, "listen = a, b, c, d" },
	{ "list one", "listen = unix:/run/x", 0, "listen = unix:/run/x" },
	{ "list empty", "listen =", 0, "listen =" },
	{ "list only commas", "listen = , ,", 0, "listen =" },
	/* CIDR */
	{ "cidr", "exempt = 10.0.0.0/8 ::1", 0, "exempt = 10.0.0.0/8, ::1" },
	{ "cidr empty", "exempt =", 0, "exempt =" },
	{ "cidr host bits", "exempt = 10.0.0.1/8", 0,
	    "ERR:t.conf:1: exempt: \"10.0.0.1/8\": host bits set under the mask "
	    "(did you mean 10.0.0.0/8?)" },
	{ "cidr garbage", "exempt = 127.0.0.1, bogus", 0,
	    "ERR:t.conf:1: exempt: \"bogus\": not an IPv4 or IPv6 address" },
	/* ENUM */
	{ "enum", "mode = monitor", 0, "mode = monitor" },
	{ "enum case", "mode = MONITOR", 0, "mode = monitor" },
	{ "enum bad", "mode = x", 0,
	    "ERR:t.conf:1: mode: \"x\": want one of: enforce, monitor" },
	{ "enum empty", "mode =", 0,
	    "ERR:t.conf:1: mode: \"\": want one of: enforce, monitor" },
	{ "enum second section", "log_level = debug", 0, "log_level = debug" },
	{ "str second section", "log_target = stderr", 0,
	    "log_target = stderr" },
	/* KEYED */
	{ "keyed", "limit daily = day 1000 recipients\n", 0,
	    "limit daily = day 1000 recipients" },
	{ "keyed two", "limit a = 1\nlimit b = 2\n", 0, "limit b = 2" },
	{ "keyed two args", "override a@example.org daily = 5\n", 0,
	    "override a@example.org daily = 5" },
	{ "keyed too few words", "limit = 100\n", 0,
	    "ERR:t.conf:1: limit: want 1 word between \"limit\" and \"=\", got 0" },
	{ "keyed too many words", "limit a b = 100\n", 0,
	    "ERR:t.conf:1: limit a b: want 1 word between \"limit\" and \"=\", "
	    "got 2" },
	{ "keyed 2 with 1", "override a = 5\n", 0,
	    "ERR:t.conf:1: override a: want 2 words between \"override\" and "
	    "\"=\", got 1" },
	{ "keyed far too many words", "limit a b c d e f g h i j k = 1\n", 0,
	    "ERR:t.conf:1: limit: too many words before \"=\"" },
	{ "keyed duplicate", "limit a = 1\nlimit b = 1\nlimit a = 2\n", 0,
	    "ERR:t.conf:3: limit a: duplicate entry" },
	{ "keyed duplicate two args",
	    "override x y = 1\noverride x z = 1\noverride x y = 1\n", 0,
	    "ERR:t.conf:3: override x y: duplicate entry" },
	{ "keyed handler error", "limit a =\n", 0,
	    "ERR:t.conf:1: limit a: \"\": empty value" },
	{ "keyed escaped arg", "limit \xc3\xa9 = 1\nlimit \xc3\xa9 = 1\n", 0,
	    "ERR:t.conf:2: limit \\xc3\\xa9: duplicate entry" },
};

/* t_row - load one row's text and check the error or the print */
static void
t_row(void **state)
{
	const struct row *r = *state;
	struct tfix f;
	char err[1024], *out;
	int rc;

	fix_init(&f);
	rc = cm_conf_load_buf(f.secs, "t.conf", r->in,
	    r->len ? r->len : strlen(r->in), err, sizeof err);
	if (strncmp(r->want, "ERR:", 4) == 0) {
		if (rc != -1)
			fail_msg("%s: got success, want %s", r->name,
			    r->want + 4);
		if (strcmp(err, r->want + 4) != 0)
			fail_msg("%s: got '%s', want '%s'", r->name, err,
			    r->want + 4);
	} else {
		if (rc != 0)
			fail_msg("%s: got '%s', want success", r->name, err);
		out = print_str(f.secs);
		if (!has_line(out, r->want))
			fail_msg("%s: got\n%s\nwant line '%s'", r->name, out,
			    r->want);
		free(out);
	}
	cm_conf_free(f.secs);
}

/* t_reload - loading twice into the same struct frees the first load */
static void
t_reload(void **state)
{
	struct tfix f;
	char err[256];

	fix_init(&f);
	assert_int_equal(cm_conf_load_buf(f.secs, "a", rich, strlen(rich), err,
			     sizeof err),
	    0);
	assert_int_equal(cm_conf_load_buf(f.secs, "b", "limit x = 1", 11, err,
			     sizeof err),
	    0);
	assert_int_equal(f.cfg.nlimits, 1);
	assert_string_equal(f.cfg.name, "mailtally");
	assert_int_equal(f.cfg.timeout_ms, 5000);
	/* a failed load leaves a struct that cm_conf_free() handles */
	assert_int_equal(cm_conf_load_buf(f.secs, "c", "name = x\nbad", 12, err,
			     sizeof err),
	    -1);
	assert_string_equal(err,
	    "c:2: \"bad\": missing \"=\" (want key = value)");
	cm_conf_free(f.secs);
}

/* make_line - "name = " then 'n' bytes of 'x' (a logical line of n+7) */
static char *
make_line(size_t n, const char *suffix)
{
	size_t s = strlen(suffix);
	char *b = malloc(n + 8 + s);

	assert_non_null(b);
	memcpy(b, "name = ", 7);
	memset(b + 7, 'x', n);
	memcpy(b + 7 + n, suffix, s + 1);
	return b;
}

/* t_long_lines - lines at, past and far past the line bound */
static void
t_long_lines(void **state)
{
	struct tfix f;
	char err[256], want[256], *b;

	fix_init(&f);
	/* exactly CM_CONF_LINE_MAX bytes: accepted */
	b = make_line(CM_CONF_LINE_MAX - 7, "\n");
	assert_int_equal(cm_conf_load_buf(f.secs, "t", b, strlen(b), err,
			     sizeof err),
	    0);
	assert_int_equal(strlen(f.cfg.name), CM_CONF_LINE_MAX - 7);
	free(b);
	/* one more: refused */
	b = make_line(CM_CONF_LINE_MAX - 6, "\n");
	assert_int_equal(cm_conf_load_buf(f.secs, "t", b, strlen(b), err,
			     sizeof err),
	    -1);
	assert_string_equal(err, "t:1: line longer than 4096 bytes");
	free(b);
	/* overlong through continuation lines */
	b = make_line(CM_CONF_LINE_MAX - 100,
	    "\n  yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyy\n");
	assert_int_equal(cm_conf_load_buf(f.secs, "t", b, strlen(b), err,
			     sizeof err),
	    -1);
	assert_string_equal(err, "t:1: logical line longer than 4096 bytes");
	free(b);
	/* a long value in an error is capped: 64 bytes, then "..." */
	b = make_line(1000, "\n");
	b[7] = '"';
	assert_int_equal(cm_conf_load_buf(f.secs, "t", b, strlen(b), err,
			     sizeof err),
	    -1);
	memset(want, 'x', sizeof want);
	memcpy(want, "t:1: name: \"\\x22", 16);
	memcpy(want + 16 + 63, "...\": unterminated quote", 25);
	assert_string_equal(err, want);
	free(b);
	cm_conf_free(f.secs);
}

/* t_err_small - a tiny or absent err buffer is never overrun */
static void
t_err_small(void **state)
{
	struct tfix f;
	char err[8];

	fix_init(&f);
	assert_int_equal(cm_conf_load_buf(f.secs, "t.conf", "bogus = 1", 9, err,
			     sizeof err),
	    -1);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(cm_conf_load_buf(f.secs, "t.conf", "bogus = 1", 9,
			     NULL, 0),
	    -1);
	cm_conf_free(f.secs);
}

/* t_file - cm_conf_load_file: a real file, a missing one */
static void
t_file(void **state)
{
	char path[] = "/tmp/test_conf.XXXXXX", err[512], want[600];
	struct tfix f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rich, strlen(rich)), (ssize_t)strlen(rich));
	assert_int_equal(write(fd, "store_timeout = 5q\n", 19), 19);
	close(fd);
	fix_init(&f);
	assert_int_equal(cm_conf_load_file(f.secs, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:17: store_timeout: unknown key", path);
	assert_string_equal(err, want);
	assert_int_equal(truncate(path, (off_t)strlen(rich)), 0);
	assert_int_equal(cm_conf_load_file(f.secs, path, err, sizeof err), 0);
	assert_int_equal(f.cfg.timeout_ms, 1500);
	unlink(path);
	assert_int_equal(cm_conf_load_file(f.secs, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(cm_conf_load_file(f.secs, "/", err, sizeof err), -1);
	assert_string_equal(err, "/: Is a directory");
	/* the failed open still applied the defaults (and freed the load) */
	assert_int_equal(f.cfg.timeout_ms, 5000);
	assert_int_equal(f.cfg.nlimits, 0);
	cm_conf_free(f.secs);
}

/* t_bad_default - a bad default in a table is reported */
static void
t_bad_default(void **state)
{
	static const struct cm_conf_def bad[] = {
		{ .name = "store_timeout",
		    .type = CM_CONF_DURATION,
		    .def = "5q" },
		{ .name = NULL },
	};
	static const struct cm_conf_def range[] = {
		{ .name = "n",
		    .type = CM_CONF_INT,
		    .def = "0",
		    .min = 1,
		    .max = 5 },
		{ .name = NULL },
	};
	long long v;
	struct cm_conf_section s[2] = { { bad, &v }, { NULL, NULL } };
	char err[256];

	assert_int_equal(cm_conf_defaults(s, err, sizeof err), -1);
	assert_string_equal(err,
	    "(default): store_timeout: \"5q\": unknown unit (use ms, s, m, h, d)");
	s[0].defs = range;
	assert_int_equal(cm_conf_load_buf(s, "x", "", 0, err, sizeof err), -1);
	assert_string_equal(err, "(default): n: \"0\": out of range (1..5)");
}

/* t_policyd_example - the example message, verbatim */
static void
t_policyd_example(void **state)
{
	static const struct cm_conf_def d[] = {
		{ .name = "store_timeout",
		    .type = CM_CONF_DURATION,
		    .def = "1s" },
		{ .name = NULL },
	};
	static const char text[] = "# policyd\n\n\n\n\n\n\n\n\n\n\n"
				   "store_timeout = 5q\n";
	long long v = 0;
	struct cm_conf_section s[2] = { { d, &v }, { NULL, NULL } };
	char err[256];

	assert_int_equal(cm_conf_load_buf(s, "policyd.conf", text, strlen(text),
			     err, sizeof err),
	    -1);
	assert_string_equal(err,
	    "policyd.conf:12: store_timeout: \"5q\": "
	    "unknown unit (use ms, s, m, h, d)");
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(t_reload),
		cmocka_unit_test(t_long_lines),
		cmocka_unit_test(t_err_small),
		cmocka_unit_test(t_file),
		cmocka_unit_test(t_bad_default),
		cmocka_unit_test(t_policyd_example),
	};
	size_t nrows = sizeof rows / sizeof *rows, nfixed, i;
	struct CMUnitTest *t;
	int rc;

	nfixed = sizeof fixed / sizeof *fixed;
	t = calloc(nrows + nfixed, sizeof *t);
	if (t == NULL)
		return 1;
	for (i = 0; i < nrows; i++) {
		t[i].name = rows[i].name;
		t[i].test_func = t_row;
		t[i].initial_state = (void *)(uintptr_t)&rows[i];
	}
	memcpy(t + nrows, fixed, sizeof fixed);
	rc = _cmocka_run_group_tests("conf", t, nrows + nfixed, NULL, NULL);
	free(t);
	return rc;
}
