/*
 * NAME
 *	mailtally-ctl 1 - show and change quota counters and overrides
 * SYNOPSIS
 *	mailtally-ctl [-c FILE] usage IDENTITY
 *	mailtally-ctl [-c FILE] reset IDENTITY [LIMIT]
 *	mailtally-ctl [-c FILE] override IDENTITY LIMIT MAX
 *	mailtally-ctl [-c FILE] override --remove IDENTITY LIMIT
 * DESCRIPTION
 *	Reads mailtally-policyd.conf(5) for the store, the key prefix, the
 *	time zone and the limits, and talks to Redis synchronously (hiredis
 *	redisCommandArgv), with the key scheme of pd_quota(3): the same
 *	keys the daemons use, so every MX sees a change at once.
 *
 *	usage prints one line per limit: name, window, used/max (and
 *	"override" when the store holds one), and when the counter resets
 *	(calendar windows) or when its oldest counted slot leaves the
 *	window (rolling windows).
 *
 *	-t EPOCH sets the clock (tests).
 * DIAGNOSTICS
 *	Exit 0 on success, 1 when the store cannot be reached or refuses,
 *	2 for a usage or configuration error. The password is never
 *	printed.
 * SEE ALSO
 *	mailtally-ctl(1), mailtally-policyd.conf(5), pd_store(3h)
 */
#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cm_log.h"
#include "pd_config.h"
#include "pd_limits.h"
#include "pd_quota.h"
#include "pd_store.h"
#include "pd_window.h"

#define CTL_DEFAULT_CONF SYSCONFDIR "/mailtally/mailtally-policyd.conf"

static struct pd_config cfg;
static long long now;

static void usage(void) __attribute__((__noreturn__));

/* usage - the synopsis, exit 2 */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: mailtally-ctl [-c FILE] usage IDENTITY\n"
	    "       mailtally-ctl [-c FILE] reset IDENTITY [LIMIT]\n"
	    "       mailtally-ctl [-c FILE] override IDENTITY LIMIT MAX\n"
	    "       mailtally-ctl [-c FILE] override --remove IDENTITY "
	    "LIMIT\n");
	exit(2);
}

/* command - run one command; the reply, or NULL after printing why */
static redisReply *
command(redisContext *rc, int argc, const char **argv)
{
	size_t len[8];
	redisReply *r;
	int i;

	for (i = 0; i < argc && i < 8; i++)
		len[i] = strlen(argv[i]);
	r = redisCommandArgv(rc, argc, argv, len);
	if (r == NULL) {
		fprintf(stderr, "mailtally-ctl: store: %s\n",
		    rc->errstr[0] ? rc->errstr : "connection lost");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "mailtally-ctl: store: %.200s\n",
		    r->str ? r->str : "error");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* connect_store - connect, AUTH, SELECT; exits 1 on failure */
static redisContext *
connect_store(void)
{
	struct timeval tv = { 2, 0 };
	struct pd_redis_url url;
	char pw[256], db[16];
	const char *why, *argv[2];
	redisContext *rc;
	redisReply *r;

	if (strcmp(cfg.store, "memory") == 0) {
		fprintf(stderr,
		    "mailtally-ctl: store = memory lives inside "
		    "each mailtally-policyd process; mailtally-ctl "
		    "cannot reach an embedded store\n");
		exit(1);
	}
	if (pd_redis_url_parse(cfg.store, &url, &why) == -1) {
		fprintf(stderr, "mailtally-ctl: store: %s\n", why);
		exit(2);
	}
	rc = url.path[0] ? redisConnectUnixWithTimeout(url.path, tv)
			 : redisConnectWithTimeout(url.host, url.port, tv);
	if (rc == NULL || rc->err) {
		fprintf(stderr, "mailtally-ctl: store: %s\n",
		    rc ? rc->errstr : "out of memory");
		if (rc != NULL)
			redisFree(rc);
		exit(1);
	}
	redisSetTimeout(rc, tv);
	if (cfg.store_password_file != NULL) {
		if (pd_redis_read_password(cfg.store_password_file, pw,
			sizeof pw, &why) == -1) {
			fprintf(stderr, "mailtally-ctl: %s\n", why);
			exit(2);
		}
		argv[0] = "AUTH";
		argv[1] = pw;
		r = command(rc, 2, argv);
		memset(pw, 0, sizeof pw);
		if (r == NULL)
			exit(1);
		freeReplyObject(r);
	}
	if (url.db != 0) {
		snprintf(db, sizeof db, "%d", url.db);
		argv[0] = "SELECT";
		argv[1] = db;
		if ((r = command(rc, 2, argv)) == NULL)
			exit(1);
		freeReplyObject(r);
	}
	return rc;
}

/* find_limit - a configured limit by name, or exit 2 */
static const struct pd_limit *
find_limit(const char *name)
{
	size_t i;

	for (i = 0; i < cfg.nlimits; i++)
		if (strcmp(cfg.limits[i].name, name) == 0)
			return &cfg.limits[i];
	fprintf(stderr, "mailtally-ctl: no limit named \"%s\" in %s\n", name,
	    cfg.path);
	exit(2);
}

/* plan_item - the keys of one limit for an identity, or exit 2 */
static void
plan_item(const struct pd_limit *lim, const char *id, struct pd_plan_item *it)
{
	if (pd_quota_keys(&cfg, lim, id, now, it) == -1) {
		fprintf(stderr, "mailtally-ctl: cannot build keys\n");
		exit(2);
	}
}

/* read_used - the used count of a limit, and its oldest counted slot */
static int
read_used(redisContext *rc, const struct pd_plan_item *it, long long *used,
    long long *oldest)
{
	const char *argv[2] = { it->nslots ? "HGETALL" : "GET", it->key };
	redisReply *r;
	long long s;
	size_t j;

	*used = 0;
	*oldest = -1;
	if ((r = command(rc, 2, argv)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		*used = strtoll(r->str, NULL, 10);
	else if (r->type == REDIS_REPLY_ARRAY)
		for (j = 0; j + 1 < r->elements; j += 2) {
			if (r->element[j]->type != REDIS_REPLY_STRING ||
			    r->element[j + 1]->type != REDIS_REPLY_STRING)
				continue;
			s = strtoll(r->element[j]->str, NULL, 10);
			if (s <= it->slot - it->nslots || s > it->slot)
				continue;
			*used += strtoll(r->element[j + 1]->str, NULL, 10);
			if (*oldest == -1 || s < *oldest)
				*oldest = s;
		}
	freeReplyObject(r);
	return 0;
}

/* fmt_time - local time of the configured zone */
static const char *
fmt_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%lld", t);
	return buf;
}

/* rolling_free - when the oldest counted slot has left the window */
static long long
rolling_free(const struct pd_limit *lim, long long oldest)
{
	long long g = (lim->window_s + PD_ROLLING_SLOTS - 1) / PD_ROLLING_SLOTS;

	return (oldest + 1) * g - 1 + lim->window_s;
}

/* cmd_usage - one line per limit */
static int
cmd_usage(redisContext *rc, const char *id)
{
	const char *argv[3] = { "HGET", NULL, NULL };
	struct pd_plan_item it;
	char win[32], when[64];
	long long used, oldest, max;
	redisReply *r;
	size_t i;
	int ovr;

	for (i = 0; i < cfg.nlimits; i++) {
		plan_item(&cfg.limits[i], id, &it);
		argv[1] = it.ovr_key;
		argv[2] = cfg.limits[i].name;
		if ((r = command(rc, 3, argv)) == NULL ||
		    read_used(rc, &it, &used, &oldest) == -1)
			return 1;
		ovr = r->type == REDIS_REPLY_STRING;
		max = ovr ? strtoll(r->str, NULL, 10) : it.max;
		freeReplyObject(r);
		pd_window_format(&cfg.limits[i], win, sizeof win);
		if (it.nslots == 0)
			fmt_time(it.resets_at, when, sizeof when);
		else if (oldest >= 0)
			fmt_time(rolling_free(&cfg.limits[i], oldest), when,
			    sizeof when);
		else
			snprintf(when, sizeof when, "-");
		printf("%s %s %lld/%lld %s%s %s\n", cfg.limits[i].name, win,
		    used, max, pd_unit_name(cfg.limits[i].unit),
		    ovr ? " override" : "", when);
	}
	return 0;
}

/* cmd_reset - delete the current counter of one or every limit */
static int
cmd_reset(redisContext *rc, const char *id, const char *limit)
{
	const char *argv[2] = { "DEL", NULL };
	struct pd_plan_item it;
	redisReply *r;
	size_t i;

	if (limit != NULL)
		(void)find_limit(limit);
	for (i = 0; i < cfg.nlimits; i++) {
		if (limit != NULL && strcmp(cfg.limits[i].name, limit) != 0)
			continue;
		plan_item(&cfg.limits[i], id, &it);
		argv[1] = it.key;
		if ((r = command(rc, 2, argv)) == NULL)
			return 1;
		freeReplyObject(r);
	}
	return 0;
}

/* cmd_override - set or remove a store override */
static int
cmd_override(redisContext *rc, const char *id, const char *limit,
    const char *max)
{
	const char *argv[4] = { max ? "HSET" : "HDEL", NULL, limit, max };
	struct pd_plan_item it;
	long long v;
	const char *why;
	char num[24];
	redisReply *r;

	plan_item(find_limit(limit), id, &it);
	argv[1] = it.ovr_key;
	if (max != NULL) {
		if (pd_override_parse_max(max, &v, &why) == -1) {
			fprintf(stderr, "mailtally-ctl: %s\n", why);
			return 2;
		}
		snprintf(num, sizeof num, "%lld", v);
		argv[3] = num;
	}
	if ((r = command(rc, max ? 4 : 3, argv)) == NULL)
		return 1;
	freeReplyObject(r);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_CONF, *why;
	char err[512], id[PD_IDENTITY_MAX + 1];
	redisContext *rc = NULL;
	int c, rm = 0, ret = 2;

	cm_log_init("mailtally-ctl");
	now = (long long)time(NULL);
	/* "+": options end at the command ("override --remove ..."). */
	while ((c = getopt(argc, argv, "+c:t:")) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 't')
			now = atoll(optarg);
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc >= 2 && strcmp(argv[0], "override") == 0 &&
	    strcmp(argv[1], "--remove") == 0) {
		rm = 1;
		argv[1] = argv[0]; /* drop "--remove" */
		argc--;
		argv++;
	}
	if (argc < 2)
		usage();
	if (pd_config_load(&cfg, path, err, sizeof err) == -1) {
		fprintf(stderr, "mailtally-ctl: %s\n", err);
		return 2;
	}
	if (pd_window_tz(cfg.timezone, 1, &why) == -1) {
		fprintf(stderr, "mailtally-ctl: timezone: %s\n", why);
		return 2;
	}
	if (pd_quota_identity(argv[1], strlen(argv[1]), id, sizeof id) < 0)
		usage();
	if (strcmp(argv[0], "usage") == 0 && argc == 2)
		ret = cmd_usage(rc = connect_store(), id);
	else if (strcmp(argv[0], "reset") == 0 && (argc == 2 || argc == 3))
		ret = cmd_reset(rc = connect_store(), id,
		    argc == 3 ? argv[2] : NULL);
	else if (strcmp(argv[0], "override") == 0 && rm && argc == 3)
		ret = cmd_override(rc = connect_store(), id, argv[2], NULL);
	else if (strcmp(argv[0], "override") == 0 && !rm && argc == 4)
		ret = cmd_override(rc = connect_store(), id, argv[2], argv[3]);
	else
		usage();
	redisFree(rc);
	pd_config_free(&cfg);
	return ret;
}
