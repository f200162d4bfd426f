/*
 * NAME
 *	test_conf_print - unit tests of the configuration print (-n)
 * SYNOPSIS
 *	tests/unit/test_conf_print
 * DESCRIPTION
 *	cm_conf_print() (common/conf_print.c) over the conf_fix.c table:
 *	the print of a config that sets every type reloads to the same
 *	print, every line of it is as expected, and the golden files
 *	tests/unit/conf/NAME.in print (or fail) exactly as NAME.ref.
 * DIAGNOSTICS
 *	TAP through cmocka. A golden test without top_srcdir in the
 *	environment fails.
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

/* t_roundtrip - the rich config, an empty one, escapes */
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
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_print_all),
		cmocka_unit_test(t_golden),
	};

	return cmocka_run_group_tests(fixed, NULL, NULL);
}
