/*
 * NAME
 *	test_log - unit tests of the logger's diagnostics and sinks
 * SYNOPSIS
 *	tests/unit/test_log
 * DESCRIPTION
 *	Level filtering; diagnostics in JSON; the file sink and its reopen
 *	after a rename; concurrent writers; cm_log_setup() and the hash key
 *	file checks; cm_log_str(); cm_fatal() and cm_panic() in a child
 *	process; cm_log_conf_defs through the config parser (common/log.c,
 *	log_fmt.c, log_sink.c). Event rendering is in test_event.
 * DIAGNOSTICS
 *	TAP through cmocka.
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

#include "cm_conf.h"
#include "cm_log.h"
#include "cm_util.h"
#include "log_fix.h"

/* capture - log lines go to a memory stream */
static char *cap_buf;
static size_t cap_len;
static FILE *cap_fp;

/* capture_start - send log lines to a memory stream */
static void
capture_start(void)
{
	cap_fp = open_memstream(&cap_buf, &cap_len);
	assert_non_null(cap_fp);
	cm_log_set_stream(cap_fp);
}

/* capture_end - back to stderr; the captured text */
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
	{ "quote", "a\"b", 3, 100, 64, "a\\x22b" },
	{ "quote forges a field", "x\" y=\"1", 7, 100, 64, "x\\x22 y=\\x221" },
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

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_json_diag),
		cmocka_unit_test(test_file_sink),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_log_str),
		cmocka_unit_test(test_fatal_panic),
		cmocka_unit_test(test_conf_table),
	};

	return log_fix_run("/usr/sbin/test_log", tests, countof(tests));
}
