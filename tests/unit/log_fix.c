/*
 * NAME
 *	log_fix - helpers shared by the logger unit tests
 * SYNOPSIS
 *	#include "log_fix.h"
 * DESCRIPTION
 *	The definitions behind log_fix.h, used by test_log and test_event.
 * DIAGNOSTICS
 *	See log_fix.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fuzz/json_check.h"
#include "cm_buf.h"
#include "cm_log.h"
#include "log_fix.h"

char host[256];
char tmpdir[] = "/tmp/test_log.XXXXXX";

/* render - render ev in format into a static string */
const char *
render(const struct cm_event *ev, int format)
{
	static struct cm_buf b;

	cm_buf_release(&b);
	assert_int_equal(cm_event_render(ev, format, TS, &b), 0);
	return cm_buf_str(&b);
}

/* assert_json - fail with the reason when s is not valid JSON */
void
assert_json(const char *s)
{
	const char *why = NULL;

	if (json_check(s, strlen(s), &why) != 0)
		fail_msg("invalid JSON (%s at %zu): %.300s", why,
		    json_check_off, s);
}

/* conf - a log config with defaults */
struct cm_log_conf
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

/* write_key - a key file with mode */
void
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

/* log_fix_run - set up the program name and tmpdir, run, clean up */
int
log_fix_run(const char *prog, const struct CMUnitTest *tests, size_t n)
{
	const char *base = strrchr(prog, '/');
	char cmd[64];
	int rc;

	cm_log_init(prog);
	gethostname(host, sizeof host);
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = _cmocka_run_group_tests(base != NULL ? base + 1 : prog, tests, n,
	    NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
