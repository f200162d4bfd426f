/*
 * NAME
 *	test_conf - unit tests of the configuration parser (common/conf.c)
 * SYNOPSIS
 *	tests/unit/test_conf
 * DESCRIPTION
 *	Table-driven: each row is a file's text and either the exact error
 *	("file:line: key: why") or one line the -n print must contain. The
 *	table used has every type, two sections and two keyed entries. Then
 *	the value parsers on their own, the print round trip, files, and
 *	the bounds (overlong lines) that are easier built in code.
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

#include "cm_cidr.h"
#include "cm_conf.h"

#define NLIMITS 32

struct tentry {
	char *key;
	char *value;
};

struct tcfg {
	char *name;
	int enabled;
	long long max_conn;
	long long mode_bits;
	long long timeout_ms;
	long long max_size;
	struct cm_list listen;
	struct cm_cidr_list *exempt;
	int mode;
	struct tentry limits[NLIMITS];
	size_t nlimits;
	struct tentry overrides[NLIMITS];
	size_t noverrides;
};

struct tlog {
	char *target;
	int level;
};

/* t_store - keyed handler: keep "args" -> value in order */
static int
t_store(struct tentry *v, size_t *n, const char *const *args, size_t nargs,
    const char *value, const char **why)
{
	char key[512];

	if (*value == '\0') {
		*why = "empty value";
		return -1;
	}
	if (*n == NLIMITS) {
		*why = "too many entries";
		return -1;
	}
	snprintf(key, sizeof key, "%s%s%s", args[0], nargs > 1 ? " " : "",
	    nargs > 1 ? args[1] : "");
	v[*n].key = strdup(key);
	v[*n].value = strdup(value);
	(*n)++;
	return 0;
}

static int
t_limit(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct tcfg *c = base;

	return t_store(c->limits, &c->nlimits, args, nargs, value, why);
}

static int
t_override(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct tcfg *c = base;

	return t_store(c->overrides, &c->noverrides, args, nargs, value, why);
}

static void
t_print_limits(const void *base, FILE *fp)
{
	const struct tcfg *c = base;
	size_t i;

	for (i = 0; i < c->nlimits; i++)
		fprintf(fp, "limit %s = %s\n", c->limits[i].key,
		    c->limits[i].value);
}

static void
t_print_overrides(const void *base, FILE *fp)
{
	const struct tcfg *c = base;
	size_t i;

	for (i = 0; i < c->noverrides; i++)
		fprintf(fp, "override %s = %s\n", c->overrides[i].key,
		    c->overrides[i].value);
}

static void
t_free_entries(struct tentry *v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	*n = 0;
}

static void
t_free_limits(void *base)
{
	struct tcfg *c = base;

	t_free_entries(c->limits, &c->nlimits);
}

static void
t_free_overrides(void *base)
{
	struct tcfg *c = base;

	t_free_entries(c->overrides, &c->noverrides);
}

static const char *const modes[] = { "enforce", "monitor", NULL };
static const char *const levels[] = { "error", "warning", "info", "debug",
	NULL };

#define DEF(n, t, d, lo, hi, field)                                            \
	{                                                                      \
		.name = n, .type = t, .def = d, .min = lo, .max = hi,          \
		.off = offsetof(struct tcfg, field)                            \
	}

static const struct cm_conf_def defs[] = {
	DEF("name", CM_CONF_STR, "mailtally", 0, 0, name),
	DEF("enabled", CM_CONF_BOOL, "yes", 0, 0, enabled),
	DEF("max_conn", CM_CONF_INT, "100", 1, 1000, max_conn),
	DEF("mode_bits", CM_CONF_INT, "0660", 0, 0, mode_bits),
	DEF("timeout", CM_CONF_DURATION, "5s", 1, 3600000, timeout_ms),
	DEF("max_size", CM_CONF_SIZE, "10M", 1024, 1LL << 30, max_size),
	DEF("listen", CM_CONF_LIST, "inet:127.0.0.1:10031", 0, 0, listen),
	DEF("exempt", CM_CONF_CIDR, "127.0.0.0/8, ::1", 0, 0, exempt),
	{ .name = "mode",
	    .type = CM_CONF_ENUM,
	    .def = "enforce",
	    .off = offsetof(struct tcfg, mode),
	    .choices = modes },
	{ .name = "limit",
	    .type = CM_CONF_KEYED,
	    .keyed = t_limit,
	    .print = t_print_limits,
	    .free = t_free_limits,
	    .nargs = 1 },
	{ .name = "override",
	    .type = CM_CONF_KEYED,
	    .keyed = t_override,
	    .print = t_print_overrides,
	    .free = t_free_overrides,
	    .nargs = 2 },
	{ .name = NULL },
};

static const struct cm_conf_def log_defs[] = {
	{ .name = "log_target",
	    .type = CM_CONF_STR,
	    .def = "syslog",
	    .off = offsetof(struct tlog, target) },
	{ .name = "log_level",
	    .type = CM_CONF_ENUM,
	    .def = "info",
	    .off = offsetof(struct tlog, level),
	    .choices = levels },
	{ .name = NULL },
};

/* A test fixture: both structs and the section list over them. */
struct tfix {
	struct tcfg cfg;
	struct tlog log;
	struct cm_conf_section secs[3];
};

static void
fix_init(struct tfix *f)
{
	memset(f, 0, sizeof *f);
	f->secs[0].defs = defs;
	f->secs[0].base = &f->cfg;
	f->secs[1].defs = log_defs;
	f->secs[1].base = &f->log;
}

/* print_str - cm_conf_print into a malloc'd string */
static char *
print_str(const struct cm_conf_section *secs)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	cm_conf_print(secs, fp);
	fclose(fp);
	return out;
}

/* has_line - does text contain the whole line 'line' */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

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

/* Value parsers on their own: {input, want value or -1 with why}. */
struct vrow {
	const char *in;
	long long want;
	const char *why; /* NULL: success */
};

static const struct vrow durations[] = {
	{ "0", 0, NULL },
	{ "1", 1000, NULL },
	{ "50ms", 50, NULL },
	{ "5s", 5000, NULL },
	{ "2m", 120000, NULL },
	{ "1h", 3600000, NULL },
	{ "1d", 86400000, NULL },
	{ "007s", 7000, NULL },
	{ "", 0, "empty value" },
	{ "-1s", 0, "negative" },
	{ "+1s", 0, "not a number" },
	{ " 1s", 0, "not a number" },
	{ "1s ", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1S", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1sec", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "1w", 0, "unknown unit (use ms, s, m, h, d)" },
	{ "9223372036854775807", 0, "number too large" },
	{ "9223372036854775807ms", 9223372036854775807LL, NULL },
	{ "9223372036854775808ms", 0, "number too large" },
	{ "106751991168d", 0, "number too large" },
	{ "106751991167d", 106751991167LL * 86400000, NULL },
};

static const struct vrow sizes[] = {
	{ "0", 0, NULL },
	{ "1", 1, NULL },
	{ "10k", 10240, NULL },
	{ "10K", 10240, NULL },
	{ "10M", 10485760, NULL },
	{ "2G", 2147483648LL, NULL },
	{ "", 0, "empty value" },
	{ "-1", 0, "negative" },
	{ "1kb", 0, "unknown unit (use k, M, G)" },
	{ "1T", 0, "unknown unit (use k, M, G)" },
	{ "8589934592G", 0, "number too large" },
	{ "99999999999999999999", 0, "number too large" },
};

static const struct vrow bools[] = {
	{ "yes", 1, NULL },
	{ "Yes", 1, NULL },
	{ "true", 1, NULL },
	{ "on", 1, NULL },
	{ "1", 1, NULL },
	{ "no", 0, NULL },
	{ "FALSE", 0, NULL },
	{ "off", 0, NULL },
	{ "0", 0, NULL },
	{ "", 0, "want yes or no" },
	{ "y", 0, "want yes or no" },
	{ "yes ", 0, "want yes or no" },
	{ "2", 0, "want yes or no" },
};

/* check_vrows - run one parser over a table */
static void
check_vrows(const char *what, const struct vrow *t, size_t n,
    int (*fn)(const char *, long long *, const char **))
{
	const char *why;
	long long v;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		why = NULL;
		v = -42;
		rc = fn(t[i].in, &v, &why);
		if (t[i].why == NULL && (rc != 0 || v != t[i].want))
			fail_msg(
			    "%s \"%s\": got rc %d value %lld (%s), want %lld",
			    what, t[i].in, rc, v, why ? why : "", t[i].want);
		if (t[i].why != NULL &&
		    (rc != -1 || why == NULL || strcmp(why, t[i].why) != 0))
			fail_msg("%s \"%s\": got rc %d why '%s', want '%s'",
			    what, t[i].in, rc, why ? why : "(null)", t[i].why);
	}
}

static int
bool_ll(const char *s, long long *v, const char **why)
{
	int b = -1, rc;

	rc = cm_conf_parse_bool(s, &b, why);
	*v = b;
	return rc;
}

static void
t_duration(void **state)
{
	check_vrows("duration", durations, sizeof durations / sizeof *durations,
	    cm_conf_parse_duration);
}

static void
t_size(void **state)
{
	check_vrows("size", sizes, sizeof sizes / sizeof *sizes,
	    cm_conf_parse_size);
}

static void
t_bool(void **state)
{
	check_vrows("bool", bools, sizeof bools / sizeof *bools, bool_ll);
}

/* t_list - split, join with '|' and compare */
static void
t_list(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "" },
		{ " , ,\t", "" },
		{ "a", "a" },
		{ "a,b", "a|b" },
		{ " a ,  b\tc,,d ", "a|b|c|d" },
		{ "sasl_username, sender", "sasl_username|sender" },
	};
	struct cm_list l;
	const char *why;
	char got[256];
	size_t i, j, o;

	for (i = 0; i < sizeof t / sizeof *t; i++) {
		assert_int_equal(cm_conf_parse_list(t[i].in, &l, &why), 0);
		for (j = 0, o = 0, got[0] = '\0'; j < l.n; j++)
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s",
			    j ? "|" : "", l.v[j]);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("list \"%s\": got '%s', want '%s'", t[i].in,
			    got, t[i].want);
		if (l.n > 0)
			assert_null(l.v[l.n]);
		else
			assert_null(l.v);
		cm_list_free(&l);
		assert_int_equal(l.n, 0);
	}
	assert_int_equal(cm_conf_parse_list(NULL, &l, &why), 0);
	assert_int_equal(l.n, 0);
	cm_list_free(NULL);
}

static const char rich[] =
    "# every type set away from its default\n"
    "name = \"  spaced \\\"quoted\\\" \\\\ name \"\n"
    "enabled = off\n"
    "max_conn = 7\n"
    "mode_bits = 0600\n"
    "timeout = 1500ms\n"
    "max_size = 3M\n"
    "listen = inet:127.0.0.1:1, unix:/run/a.sock\n"
    "    inet:[::1]:2\n"
    "exempt = 10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::ffff:1.2.3.4\n"
    "mode = monitor\n"
    "limit daily = day 1000 recipients\n"
    "limit hourly = hour 100 messages\n"
    "override a@example.org daily = 5000\n"
    "log_target = file:/var/log/x.log\n"
    "log_level = debug\n";

/* roundtrip - load text, print, load the print, print: same text */
static void
roundtrip(const char *text)
{
	struct tfix a, b;
	char err[1024], *p1, *p2;

	fix_init(&a);
	if (cm_conf_load_buf(a.secs, "a.conf", text, strlen(text), err,
		sizeof err) != 0)
		fail_msg("load: %s", err);
	p1 = print_str(a.secs);
	fix_init(&b);
	if (cm_conf_load_buf(b.secs, "print", p1, strlen(p1), err,
		sizeof err) != 0)
		fail_msg("reload of\n%s\ngot %s", p1, err);
	p2 = print_str(b.secs);
	if (strcmp(p1, p2) != 0)
		fail_msg("round trip: got\n%s\nwant\n%s", p2, p1);
	free(p1);
	free(p2);
	cm_conf_free(a.secs);
	cm_conf_free(b.secs);
}

static void
t_roundtrip(void **state)
{
	roundtrip(rich);
	roundtrip("");
	roundtrip("name = \"\\\"\"\nexempt =\nlisten =\ntimeout = 1\n");
}

/* t_print_all - the print of the rich config, every line of it */
static void
t_print_all(void **state)
{
	static const char want[] =
	    "name = \"  spaced \\\"quoted\\\" \\\\ name \"\n"
	    "enabled = no\n"
	    "max_conn = 7\n"
	    "mode_bits = 0600\n"
	    "timeout = 1500ms\n"
	    "max_size = 3M\n"
	    "listen = inet:127.0.0.1:1, unix:/run/a.sock, inet:[::1]:2\n"
	    "exempt = 10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::ffff:1.2.3.4\n"
	    "mode = monitor\n"
	    "limit daily = day 1000 recipients\n"
	    "limit hourly = hour 100 messages\n"
	    "override a@example.org daily = 5000\n"
	    "log_target = file:/var/log/x.log\n"
	    "log_level = debug\n";
	struct tfix f;
	char err[256], *out;

	fix_init(&f);
	assert_int_equal(cm_conf_load_buf(f.secs, "a", rich, strlen(rich), err,
			     sizeof err),
	    0);
	assert_string_equal(f.cfg.name, "  spaced \"quoted\" \\ name ");
	assert_int_equal(f.cfg.timeout_ms, 1500);
	assert_int_equal(f.cfg.max_size, 3 << 20);
	assert_int_equal(f.cfg.mode_bits, 0600);
	assert_int_equal(cm_cidr_count(f.cfg.exempt), 4);
	assert_int_equal(cm_cidr_match_str(f.cfg.exempt, "10.9.8.7"), 1);
	assert_int_equal(f.cfg.nlimits, 2);
	out = print_str(f.secs);
	if (strcmp(out, want) != 0)
		fail_msg("got\n%s\nwant\n%s", out, want);
	free(out);
	cm_conf_free(f.secs);
	/* free resets, so a second free and a reload are safe */
	cm_conf_free(f.secs);
	assert_null(f.cfg.name);
	assert_null(f.cfg.exempt);
	assert_int_equal(f.cfg.listen.n, 0);
	assert_int_equal(f.cfg.nlimits, 0);
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

/* read_all - a whole file into a malloc'd string, NULL when absent */
static char *
read_all(const char *path, size_t *len)
{
	char *b = NULL;
	FILE *fp, *mem;
	size_t n;
	char chunk[4096];

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	mem = open_memstream(&b, len);
	assert_non_null(mem);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	fclose(fp);
	return b;
}

/*
 * t_golden - tests/unit/conf/NAME.in loaded as "NAME.in": the -n print,
 * or "error: ..." then a newline, must equal NAME.ref byte for byte.
 * With CONF_GOLDEN_UPDATE set in the environment, .ref files are written.
 */
static void
t_golden(void **state)
{
	static const char *const names[] = { "full", "keyed", "crlf",
		"comment-midline", "dup-keyed" };
	const char *top = getenv("top_srcdir");
	char path[4096], err[1024], inname[64], *in, *ref, *got;
	size_t i, len, rlen, glen;
	struct tfix f;
	FILE *fp;

	for (i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/tests/unit/conf/%s.in",
		    top ? top : ".", names[i]);
		if ((in = read_all(path, &len)) == NULL)
			fail_msg("%s: cannot read", path);
		snprintf(inname, sizeof inname, "%s.in", names[i]);
		fix_init(&f);
		got = NULL;
		fp = open_memstream(&got, &glen);
		assert_non_null(fp);
		if (cm_conf_load_buf(f.secs, inname, in, len, err,
			sizeof err) == 0)
			cm_conf_print(f.secs, fp);
		else
			fprintf(fp, "error: %s\n", err);
		fclose(fp);
		cm_conf_free(f.secs);
		free(in);
		snprintf(path, sizeof path, "%s/tests/unit/conf/%s.ref",
		    top ? top : ".", names[i]);
		if (getenv("CONF_GOLDEN_UPDATE") != NULL &&
		    (fp = fopen(path, "w")) != NULL) {
			fputs(got, fp);
			fclose(fp);
		}
		if ((ref = read_all(path, &rlen)) == NULL)
			fail_msg("%s: cannot read", path);
		if (strcmp(got, ref) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", names[i], got, ref);
		free(got);
		free(ref);
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(t_duration),
		cmocka_unit_test(t_size),
		cmocka_unit_test(t_bool),
		cmocka_unit_test(t_list),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_print_all),
		cmocka_unit_test(t_reload),
		cmocka_unit_test(t_long_lines),
		cmocka_unit_test(t_err_small),
		cmocka_unit_test(t_file),
		cmocka_unit_test(t_bad_default),
		cmocka_unit_test(t_policyd_example),
		cmocka_unit_test(t_golden),
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
