/*
 * NAME
 *	pd_config 3 - mailtally-policyd configuration
 * SYNOPSIS
 *	#include "pd_config.h"
 *
 *	int	pd_config_load(struct pd_config *cfg, const char *path,
 *		    char *err, size_t errlen);
 *	int	pd_config_load_buf(struct pd_config *cfg, const char *name,
 *		    const char *buf, size_t len, char *err, size_t errlen);
 *	void	pd_config_print(const struct pd_config *cfg, FILE *fp);
 *	void	pd_config_free(struct pd_config *cfg);
 * DESCRIPTION
 *	One table declares every key of mailtally-policyd.conf(5) with its
 *	type, default and range; the log keys come from the core
 *	(cm_log_conf_defs, base &cfg->log). "limit NAME = ..." and
 *	"override IDENTITY LIMIT = MAX" are keyed entries parsed by
 *	pd_limits.c. After the file, check_config() checks what one key
 *	alone cannot: overrides name a limit, the store URL parses, the zone
 *	exists, exempt identities normalize.
 *
 *	The load functions start from a zeroed *cfg; after an error *cfg
 *	may hold part of a configuration: call pd_config_free() either way.
 * DIAGNOSTICS
 *	The load functions return 0, or -1 with "file:line: key: why" in
 *	err ("file: key: why" for the checks after the file).
 * SEE ALSO
 *	mailtally-policyd.conf(5), cm_conf(3h), pd_limits(3)
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_addr.h"
#include "cm_cidr.h"
#include "cm_conf.h"
#include "cm_log.h"
#include "pd_config.h"
#include "pd_limits.h"
#include "pd_quota.h"
#include "pd_store.h"
#include "pd_window.h"

static const char *const on_store_error_choices[] = { "dunno", "defer", NULL };
static const char *const mode_choices[] = { "enforce", "monitor", NULL };

static int limit_add(void *, const char *const *, size_t, const char *,
    const char **);
static void limit_print(const void *, FILE *);
static void limit_free(void *);
static int override_add(void *, const char *const *, size_t, const char *,
    const char **);
static void override_print(const void *, FILE *);
static void override_free(void *);

#define OFF(f) offsetof(struct pd_config, f)
#define MS_DAY (86400LL * 1000)

#define KEY(n, t, d, lo, hi, f)                                                \
	{                                                                      \
		.name = (n), .type = (t), .def = (d), .min = (lo),             \
		.max = (hi), .off = OFF(f)                                     \
	}
#define ENUMKEY(n, d, f, c)                                                    \
	{                                                                      \
		.name = (n), .type = CM_CONF_ENUM, .def = (d), .off = OFF(f),  \
		.choices = (c)                                                 \
	}
#define KEYED(n, fn, pr, fr, na)                                               \
	{                                                                      \
		.name = (n), .type = CM_CONF_KEYED, .keyed = (fn),             \
		.print = (pr), .free = (fr), .nargs = (na)                     \
	}

static const struct cm_conf_def pd_defs[] = {
	KEY("listen", CM_CONF_LIST, "inet:127.0.0.1:10031", 0, 0, listen),
	KEY("socket_mode", CM_CONF_INT, "0660", 0, 0777, socket_mode),
	KEY("user", CM_CONF_STR, NULL, 0, 0, user),
	KEY("pid_file", CM_CONF_STR, NULL, 0, 0, pid_file),
	KEY("max_connections", CM_CONF_INT, "1000", 1, 100000, max_connections),
	KEY("idle_timeout", CM_CONF_DURATION, "300s", 1000, MS_DAY,
	    idle_timeout_ms),
	KEY("store", CM_CONF_STR, "redis://127.0.0.1:6379/0", 0, 0, store),
	KEY("store_password_file", CM_CONF_STR, NULL, 0, 0,
	    store_password_file),
	KEY("store_timeout", CM_CONF_DURATION, "50ms", 1, 60000,
	    store_timeout_ms),
	KEY("store_reconnect_max", CM_CONF_DURATION, "5s", 10, 600000,
	    store_reconnect_max_ms),
	ENUMKEY("on_store_error", "dunno", on_store_error,
	    on_store_error_choices),
	KEY("key_prefix", CM_CONF_STR, "mt", 0, 0, key_prefix),
	ENUMKEY("mode", "enforce", mode, mode_choices),
	KEY("identity", CM_CONF_LIST, "sasl_username, sender", 0, 0, identity),
	KEY("timezone", CM_CONF_STR, "UTC", 0, 0, timezone),
	KEY("exempt_clients", CM_CONF_CIDR, NULL, 0, 0, exempt_clients),
	KEY("exempt_identities", CM_CONF_LIST, NULL, 0, 0, exempt_identities),
	KEY("defer_reply", CM_CONF_STR,
	    "4.7.1 Sending quota exceeded (%{limit}: %{used}/%{max} per "
	    "%{window})",
	    0, 0, defer_reply),
	KEY("reject_reply", CM_CONF_STR,
	    "5.7.1 Sending quota exceeded (%{limit}: %{used}/%{max} per "
	    "%{window})",
	    0, 0, reject_reply),
	KEYED("limit", limit_add, limit_print, limit_free, 1),
	KEYED("override", override_add, override_print, override_free, 2),
	{ .name = NULL },
};

/* limit_add - the keyed handler of "limit NAME = ..." */
static int
limit_add(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct pd_config *cfg = base;
	struct pd_limit lim, *nl;

	if (nargs != 1) {
		*why = "want limit NAME = WINDOW MAX UNIT [options]";
		return -1;
	}
	if (cfg->nlimits == PD_LIMITS_MAX) {
		*why = "too many limits (at most 16)";
		return -1;
	}
	if (pd_limit_parse(args[0], value, &lim, why) == -1)
		return -1;
	if ((nl = realloc(cfg->limits, (cfg->nlimits + 1) * sizeof *nl)) ==
	    NULL) {
		pd_limit_clear(&lim);
		*why = "out of memory";
		return -1;
	}
	cfg->limits = nl;
	cfg->limits[cfg->nlimits++] = lim;
	return 0;
}

/* limit_print - "limit NAME = ..." lines for -n */
static void
limit_print(const void *base, FILE *fp)
{
	const struct pd_config *cfg = base;
	char buf[PD_REPLY_MAX * 2 + 128];
	size_t i;

	for (i = 0; i < cfg->nlimits; i++)
		if (pd_limit_format(&cfg->limits[i], buf, sizeof buf) == 0)
			fprintf(fp, "limit %s = %s\n", cfg->limits[i].name,
			    buf);
}

/* limit_free - free every limit */
static void
limit_free(void *base)
{
	struct pd_config *cfg = base;
	size_t i;

	for (i = 0; i < cfg->nlimits; i++)
		pd_limit_clear(&cfg->limits[i]);
	free(cfg->limits);
	cfg->limits = NULL;
	cfg->nlimits = 0;
}

/* override_add - the keyed handler of "override IDENTITY LIMIT = MAX" */
static int
override_add(void *base, const char *const *args, size_t nargs,
    const char *value, const char **why)
{
	struct pd_config *cfg = base;
	struct pd_override o, *no;
	char id[PD_IDENTITY_MAX + 1];

	memset(&o, 0, sizeof o);
	if (nargs != 2 || !pd_limit_name_ok(args[1], strlen(args[1]))) {
		*why = "want override IDENTITY LIMIT = MAX";
		return -1;
	}
	if (pd_quota_identity(args[0], strlen(args[0]), id, sizeof id) < 0) {
		*why = "empty identity";
		return -1;
	}
	if (pd_override_parse_max(value, &o.max, why) == -1)
		return -1;
	memcpy(o.limit, args[1], strlen(args[1]) + 1);
	if ((o.identity = strdup(id)) == NULL ||
	    (no = realloc(cfg->overrides,
		 (cfg->noverrides + 1) * sizeof *no)) == NULL) {
		free(o.identity);
		*why = "out of memory";
		return -1;
	}
	cfg->overrides = no;
	cfg->overrides[cfg->noverrides++] = o;
	return 0;
}

/* override_print - "override ID LIMIT = MAX" lines for -n */
static void
override_print(const void *base, FILE *fp)
{
	const struct pd_config *cfg = base;
	size_t i;

	for (i = 0; i < cfg->noverrides; i++)
		fprintf(fp, "override %s %s = %lld\n",
		    cfg->overrides[i].identity, cfg->overrides[i].limit,
		    cfg->overrides[i].max);
}

/* override_free - free every override */
static void
override_free(void *base)
{
	struct pd_config *cfg = base;
	size_t i;

	for (i = 0; i < cfg->noverrides; i++)
		free(cfg->overrides[i].identity);
	free(cfg->overrides);
	cfg->overrides = NULL;
	cfg->noverrides = 0;
}

/* sections - the tables of this program, with their bases */
static void
sections(const struct pd_config *ccfg, struct cm_conf_section sec[3])
{
	struct pd_config *cfg;

	memcpy(&cfg, &ccfg, sizeof cfg); /* the tables want void * */
	sec[0].defs = pd_defs;
	sec[0].base = cfg;
	sec[1].defs = cm_log_conf_defs;
	sec[1].base = &cfg->log;
	sec[2].defs = NULL;
	sec[2].base = NULL;
}

/* prefix_ok - a key prefix: 1-32 of [A-Za-z0-9_.-] */
static int
prefix_ok(const char *s)
{
	size_t n = s == NULL ? 0 : strlen(s);

	return n >= 1 && n <= 32 &&
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_.-") == n;
}

/* norm_exempt - normalize exempt_identities in place ("@dom" kept) */
static int
norm_exempt(struct pd_config *cfg, const char **why)
{
	char id[PD_IDENTITY_MAX + 1], *p, *s;
	size_t i;

	for (i = 0; i < cfg->exempt_identities.n; i++) {
		s = cfg->exempt_identities.v[i];
		if (s[0] == '@') {
			for (p = s; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			continue;
		}
		if (pd_quota_identity(s, strlen(s), id, sizeof id) != 0) {
			*why = "an entry is not an address or login name";
			return -1;
		}
		if ((p = strdup(id)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		free(s);
		cfg->exempt_identities.v[i] = p;
	}
	return 0;
}

/* check_overrides - every override names a limit */
static int
check_overrides(const struct pd_config *cfg, const char **why)
{
	size_t i, j;

	for (i = 0; i < cfg->noverrides; i++) {
		for (j = 0; j < cfg->nlimits; j++)
			if (strcmp(cfg->limits[j].name,
				cfg->overrides[i].limit) == 0)
				break;
		if (j == cfg->nlimits) {
			*why = "names a limit that is not defined";
			return -1;
		}
	}
	return 0;
}

/* check_config - what no single key can check; returns the bad key */
static const char *
check_config(struct pd_config *cfg, const char **why)
{
	struct pd_redis_url url;

	if (cfg->store == NULL) {
		*why =
		    "want redis://HOST:PORT/DB, redis+unix:///PATH or memory";
		return "store";
	}
	if (strcmp(cfg->store, "memory") != 0 &&
	    pd_redis_url_parse(cfg->store, &url, why) == -1)
		return "store";
	if (!prefix_ok(cfg->key_prefix)) {
		*why = "want 1-32 of A-Z a-z 0-9 _ . -";
		return "key_prefix";
	}
	if (cfg->identity.n == 0) {
		*why = "want at least one attribute name";
		return "identity";
	}
	if (pd_window_tz(cfg->timezone, 0, why) == -1)
		return "timezone";
	if ((cfg->defer_reply && strlen(cfg->defer_reply) > PD_REPLY_MAX) ||
	    (cfg->reject_reply && strlen(cfg->reject_reply) > PD_REPLY_MAX)) {
		*why = "reply text too long";
		return "defer_reply";
	}
	if (norm_exempt(cfg, why) == -1)
		return "exempt_identities";
	if (check_overrides(cfg, why) == -1)
		return "override";
	return NULL;
}

/* finish_load - run the checks after a file or buffer loaded */
static int
finish_load(struct pd_config *cfg, const char *name, char *err, size_t errlen)
{
	const char *key, *why = "";

	if ((cfg->path = strdup(name)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if ((key = check_config(cfg, &why)) == NULL)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", name, key, why);
	return -1;
}

/* pd_config_load - the file over the defaults, then the checks */
int
pd_config_load(struct pd_config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct cm_conf_section sec[3];

	memset(cfg, 0, sizeof *cfg);
	sections(cfg, sec);
	if (cm_conf_load_file(sec, path, err, errlen) == -1)
		return -1;
	return finish_load(cfg, path, err, errlen);
}

/* pd_config_load_buf - the same from memory (tests, fuzzing) */
int
pd_config_load_buf(struct pd_config *cfg, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct cm_conf_section sec[3];

	memset(cfg, 0, sizeof *cfg);
	sections(cfg, sec);
	if (cm_conf_load_buf(sec, name, buf, len, err, errlen) == -1)
		return -1;
	return finish_load(cfg, name, err, errlen);
}

/* pd_config_print - the effective configuration, every key (-n) */
void
pd_config_print(const struct pd_config *cfg, FILE *fp)
{
	struct cm_conf_section sec[3];

	sections(cfg, sec);
	cm_conf_print(sec, fp);
}

/* pd_config_free - free everything a load stored; cfg is zeroed */
void
pd_config_free(struct pd_config *cfg)
{
	struct cm_conf_section sec[3];

	if (cfg == NULL)
		return;
	sections(cfg, sec);
	cm_conf_free(sec);
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}
