/*
 * NAME
 *	test_pd_config - the key table of mailtally-policyd.conf
 * SYNOPSIS
 *	tests/unit/test_pd_config
 * DESCRIPTION
 *	Defaults of every key; good files; a table of bad files, each
 *	failing with the key named in the message; -n output that loads
 *	back to the same configuration; the Redis URL grammar.
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

#include "pd_config.h"
#include "pd_limits.h"
#include "pd_store.h"

/* load - a config from text; returns the load result, err filled */
static int
load(struct pd_config *cfg, const char *text, char *err, size_t errlen)
{
	err[0] = 0;
	return pd_config_load_buf(cfg, "t.conf", text, strlen(text), err,
	    errlen);
}

/* test_defaults - every key's default */
static void
test_defaults(void **state)
{
	struct pd_config cfg;
	char err[512];

	if (load(&cfg, "", err, sizeof err) == -1)
		fail_msg("empty config: %s", err);
	assert_int_equal(cfg.listen.n, 1);
	assert_string_equal(cfg.listen.v[0], "inet:127.0.0.1:10031");
	assert_int_equal(cfg.socket_mode, 0660);
	assert_null(cfg.user);
	assert_null(cfg.pid_file);
	assert_int_equal(cfg.max_connections, 1000);
	assert_int_equal(cfg.idle_timeout_ms, 300000);
	assert_string_equal(cfg.store, "redis://127.0.0.1:6379/0");
	assert_null(cfg.store_password_file);
	assert_int_equal(cfg.store_timeout_ms, 50);
	assert_int_equal(cfg.store_reconnect_max_ms, 5000);
	assert_int_equal(cfg.on_store_error, PD_ON_STORE_ERROR_DUNNO);
	assert_string_equal(cfg.key_prefix, "mt");
	assert_int_equal(cfg.mode, PD_MODE_ENFORCE);
	assert_int_equal(cfg.identity.n, 2);
	assert_string_equal(cfg.identity.v[0], "sasl_username");
	assert_string_equal(cfg.identity.v[1], "sender");
	assert_string_equal(cfg.timezone, "UTC");
	assert_null(cfg.exempt_clients);
	assert_int_equal(cfg.exempt_identities.n, 0);
	assert_string_equal(cfg.defer_reply,
	    "4.7.1 Sending quota exceeded "
	    "(%{limit}: %{used}/%{max} per "
	    "%{window})");
	assert_string_equal(cfg.reject_reply,
	    "5.7.1 Sending quota exceeded "
	    "(%{limit}: %{used}/%{max} per "
	    "%{window})");
	assert_int_equal(cfg.nlimits, 0);
	assert_int_equal(cfg.noverrides, 0);
	pd_config_free(&cfg);
}

static const char good[] =
    "listen = unix:/run/mt.sock, inet:127.0.0.1:10032\n"
    "socket_mode = 0600\n"
    "store = redis+unix:///run/redis.sock?db=2\n"
    "store_timeout = 20ms\n"
    "on_store_error = defer\n"
    "mode = monitor\n"
    "identity = sender\n"
    "timezone = Europe/Berlin\n"
    "exempt_clients = 127.0.0.0/8, ::1\n"
    "exempt_identities = Boss@Example.ORG, @Trusted.Example\n"
    "key_prefix = mta.1\n"
    "limit burst = 1m 30 messages\n"
    "limit daily = day 1000 recipients reject\n"
    "limit dom = day 10G bytes key=sender_domain reply=\"4.7.1 %{limit}\"\n"
    "override alice@EXAMPLE.com daily = 5000\n"
    "override bob daily = 1\n";

/* test_good - a file that sets everything */
static void
test_good(void **state)
{
	struct pd_config cfg, again;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *fp;

	if (load(&cfg, good, err, sizeof err) == -1)
		fail_msg("good config: %s", err);
	assert_int_equal(cfg.socket_mode, 0600);
	assert_int_equal(cfg.store_timeout_ms, 20);
	assert_int_equal(cfg.on_store_error, PD_ON_STORE_ERROR_DEFER);
	assert_int_equal(cfg.mode, PD_MODE_MONITOR);
	assert_int_equal(cfg.nlimits, 3);
	assert_string_equal(cfg.limits[2].name, "dom");
	assert_int_equal(cfg.limits[2].max, 10LL << 30);
	assert_int_equal(cfg.noverrides, 2);
	assert_string_equal(cfg.overrides[0].identity, "alice@example.com");
	assert_int_equal(cfg.overrides[0].max, 5000);
	assert_string_equal(cfg.exempt_identities.v[0], "Boss@example.org");
	assert_string_equal(cfg.exempt_identities.v[1], "@trusted.example");
	/* -n prints a file that loads to the same limits */
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	pd_config_print(&cfg, fp);
	fclose(fp);
	if (strstr(text,
		"limit daily = day 1000 recipients reject "
		"key=identity") == NULL ||
	    strstr(text, "override alice@example.com daily = 5000") == NULL)
		fail_msg("print: got \"%s\"", text);
	if (load(&again, text, err, sizeof err) == -1)
		fail_msg("printed config: %s in \"%s\"", err, text);
	assert_int_equal(again.nlimits, 3);
	assert_int_equal(again.noverrides, 2);
	assert_int_equal(again.socket_mode, 0600);
	assert_string_equal(again.limits[2].reply, "4.7.1 %{limit}");
	free(text);
	pd_config_free(&again);
	pd_config_free(&cfg);
}

/* test_bad - each bad file names its key */
static void
test_bad(void **state)
{
	static const struct {
		const char *text, *key;
	} t[] = {
		{ "no_such_key = 1\n", "no_such_key" },
		{ "socket_mode = 0999\n", "socket_mode" },
		{ "socket_mode = 660a\n", "socket_mode" },
		{ "socket_mode = 07777\n", "socket_mode" },
		{ "store = http://x\n", "store" },
		{ "store = redis://\n", "store" },
		{ "store = redis://h:0/0\n", "store" },
		{ "store = redis://h:65536\n", "store" },
		{ "store = redis://h:1/x\n", "store" },
		{ "store = redis+unix://rel/path\n", "store" },
		{ "store = redis+unix:///p?database=1\n", "store" },
		{ "store_timeout = 0ms\n", "store_timeout" },
		{ "store_timeout = 2m\n", "store_timeout" },
		{ "max_connections = 0\n", "max_connections" },
		{ "on_store_error = maybe\n", "on_store_error" },
		{ "mode = strict\n", "mode" },
		{ "key_prefix = a{b\n", "key_prefix" },
		{ "key_prefix = abcdefghijabcdefghijabcdefghijabc\n",
		    "key_prefix" },
		{ "timezone = Mars/Olympus\n", "timezone" },
		{ "timezone = ../../etc/passwd\n", "timezone" },
		{ "exempt_clients = 10.0.0.1/8\n", "exempt_clients" },
		{ "limit x = year 1 messages\n", "limit" },
		{ "limit X = day 1 messages\n", "limit" },
		{ "limit = day 1 messages\n", "limit" },
		{ "limit a b = day 1 messages\n", "limit" },
		{ "limit a = day 1 messages\nlimit a = day 2 messages\n",
		    "limit" },
		{ "limit a = day 1 messages\noverride x@y b = 5\n",
		    "override" },
		{ "limit a = day 1 messages\noverride x@y a = many\n",
		    "override" },
		{ "override x@y = 5\n", "override" },
	};
	struct pd_config cfg;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (load(&cfg, t[i].text, err, sizeof err) != -1)
			fail_msg("\"%s\": got success, want an error",
			    t[i].text);
		if (strstr(err, t[i].key) == NULL ||
		    strncmp(err, "t.conf", 6) != 0)
			fail_msg("\"%s\": got \"%s\", want t.conf...%s",
			    t[i].text, err, t[i].key);
		pd_config_free(&cfg);
	}
}

/* test_too_many_limits - at most PD_LIMITS_MAX */
static void
test_too_many_limits(void **state)
{
	struct pd_config cfg;
	char text[2048], err[512];
	size_t o = 0;
	int i;

	for (i = 0; i <= PD_LIMITS_MAX; i++)
		o += (size_t)snprintf(text + o, sizeof text - o,
		    "limit l%d = day 1 messages\n", i);
	assert_int_equal(load(&cfg, text, err, sizeof err), -1);
	assert_non_null(strstr(err, "too many limits"));
	pd_config_free(&cfg);
}

/* test_urls - the store URL grammar */
static void
test_urls(void **state)
{
	static const struct {
		const char *url, *host, *path;
		int port, db;
	} t[] = {
		{ "redis://127.0.0.1:6379/0", "127.0.0.1", "", 6379, 0 },
		{ "redis://redis.example", "redis.example", "", 6379, 0 },
		{ "redis://r:7000/15", "r", "", 7000, 15 },
		{ "redis://r/3", "r", "", 6379, 3 },
		{ "redis+unix:///run/r.sock", "", "/run/r.sock", 0, 0 },
		{ "redis+unix:///run/r.sock?db=9", "", "/run/r.sock", 0, 9 },
	};
	struct pd_redis_url u;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (pd_redis_url_parse(t[i].url, &u, &why) == -1)
			fail_msg("%s: got \"%s\", want success", t[i].url, why);
		if (strcmp(u.host, t[i].host) != 0 ||
		    strcmp(u.path, t[i].path) != 0 || u.port != t[i].port ||
		    u.db != t[i].db)
			fail_msg("%s: got %s %s %d %d", t[i].url, u.host,
			    u.path, u.port, u.db);
	}
}

/*
 * test_sample - conf/mailtally-policyd.conf with every "#key = value"
 * line uncommented loads, and sets what the defaults set; no line holds
 * an inline comment (which would become part of a value).
 */
static void
test_sample(void **state)
{
	struct pd_config cfg;
	char path[1024], line[1024], *text, *p, err[512];
	const char *top = getenv("top_srcdir");
	size_t o = 0, n;
	FILE *fp;

	snprintf(path, sizeof path, "%s/conf/mailtally-policyd.conf",
	    top ? top : ".");
	if ((fp = fopen(path, "r")) == NULL) {
		skip();
		return;
	}
	assert_non_null(text = calloc(1, 65536));
	while (fgets(line, sizeof line, fp) != NULL) {
		p = line;
		if (p[0] == '#' && p[1] >= 'a' && p[1] <= 'z' &&
		    strstr(p, " = ") != NULL)
			p++;
		else if (p[0] == '#')
			continue;
		if (strstr(p, " #") !=
		    NULL) /* the core has no inline comments */
			fail_msg("inline comment in the sample: %s", line);
		n = strcspn(p, "\n");
		assert_true(o + n + 2 < 65536);
		memcpy(text + o, p, n);
		o += n;
		text[o++] = '\n';
	}
	fclose(fp);
	if (load(&cfg, text, err, sizeof err) == -1)
		fail_msg("sample uncommented: %s", err);
	assert_int_equal(cfg.nlimits, 4);
	assert_int_equal(cfg.noverrides, 1);
	assert_int_equal(cfg.socket_mode, 0660);
	assert_int_equal(cfg.store_timeout_ms, 50);
	pd_config_free(&cfg);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_many_limits),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
