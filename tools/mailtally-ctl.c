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
 *	time zone and the limits, opens a synchronous admin handle on the
 *	store (pd_store_admin_open(): Redis through blocking hiredis) and
 *	runs the admin operations of pd_store(3h) on the keys pd_quota(3)
 *	builds: the keys the daemons use, so every MX sees a change at once.
 *
 *	usage prints one line per limit: name, window, used/max, the unit,
 *	"override" when the store holds one, and when the counter resets
 *	(calendar windows) or when its oldest counted slot leaves the window
 *	(rolling windows; "-" when nothing is counted).
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* find_limit - a configured limit by name, or NULL after a message */
static const struct pd_limit *
find_limit(const char *name)
{
	size_t i;

	for (i = 0; i < cfg.nlimits; i++)
		if (strcmp(cfg.limits[i].name, name) == 0)
			return &cfg.limits[i];
	fprintf(stderr, "mailtally-ctl: no limit named \"%s\" in %s\n", name,
	    cfg.path);
	return NULL;
}

/* store_err - report a failed operation; returns the exit status 1 */
static int
store_err(const char *why)
{
	fprintf(stderr, "mailtally-ctl: store: %s\n", why);
	return 1;
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
cmd_usage(struct pd_store *st, const char *id)
{
	const struct pd_limit *lim;
	struct pd_plan_item it;
	struct pd_usage u;
	char win[32], when[64];
	const char *why;
	size_t i;

	for (i = 0; i < cfg.nlimits; i++) {
		lim = &cfg.limits[i];
		if (pd_quota_keys(&cfg, lim, id, now, &it) == -1)
			return store_err("cannot build keys");
		if (pd_store_usage(st, &it, now, &u, &why) != PD_STORE_OK)
			return store_err(why);
		if (pd_window_format(lim, win, sizeof win) == -1)
			win[0] = 0;
		if (it.nslots == 0)
			fmt_time(it.resets_at, when, sizeof when);
		else if (u.oldest_slot >= 0)
			fmt_time(rolling_free(lim, u.oldest_slot), when,
			    sizeof when);
		else
			snprintf(when, sizeof when, "-");
		printf("%s %s %lld/%lld %s%s %s\n", lim->name, win, u.used,
		    u.override >= 0 ? u.override : it.max,
		    pd_unit_name(lim->unit), u.override >= 0 ? " override" : "",
		    when);
	}
	return 0;
}

/* cmd_reset - delete the current counter of one or every limit */
static int
cmd_reset(struct pd_store *st, const char *id, const char *limit)
{
	struct pd_plan_item it;
	const char *why;
	size_t i;

	if (limit != NULL && find_limit(limit) == NULL)
		return 2;
	for (i = 0; i < cfg.nlimits; i++) {
		if (limit != NULL && strcmp(cfg.limits[i].name, limit) != 0)
			continue;
		if (pd_quota_keys(&cfg, &cfg.limits[i], id, now, &it) == -1)
			return store_err("cannot build keys");
		if (pd_store_reset(st, &it, &why) != PD_STORE_OK)
			return store_err(why);
	}
	return 0;
}

/* cmd_override - set (max != NULL) or remove a store override */
static int
cmd_override(struct pd_store *st, const char *id, const char *limit,
    const char *max)
{
	const struct pd_limit *lim;
	struct pd_plan_item it;
	long long v = -1;
	const char *why;

	if ((lim = find_limit(limit)) == NULL)
		return 2;
	if (max != NULL && pd_override_parse_max(max, &v, &why) == -1) {
		fprintf(stderr, "mailtally-ctl: %s\n", why);
		return 2;
	}
	if (pd_quota_keys(&cfg, lim, id, now, &it) == -1)
		return store_err("cannot build keys");
	if (pd_store_override(st, &it, v, &why) != PD_STORE_OK)
		return store_err(why);
	return 0;
}

/* run - dispatch the command line (argv[0] is the command) */
static int
run(struct pd_store *st, int argc, char **argv, int rm, const char *id)
{
	if (strcmp(argv[0], "usage") == 0 && argc == 2)
		return cmd_usage(st, id);
	if (strcmp(argv[0], "reset") == 0 && (argc == 2 || argc == 3))
		return cmd_reset(st, id, argc == 3 ? argv[2] : NULL);
	if (strcmp(argv[0], "override") == 0 && rm && argc == 3)
		return cmd_override(st, id, argv[2], NULL);
	if (strcmp(argv[0], "override") == 0 && !rm && argc == 4)
		return cmd_override(st, id, argv[2], argv[3]);
	usage();
}

int
main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_CONF, *why;
	char err[512], id[PD_IDENTITY_MAX + 1];
	struct pd_store *st;
	int c, rm = 0, ret;

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
	if (argc < 2 ||
	    pd_quota_identity(argv[1], strlen(argv[1]), id, sizeof id) < 0)
		usage();
	if (pd_config_load(&cfg, path, err, sizeof err) == -1) {
		fprintf(stderr, "mailtally-ctl: %s\n", err);
		pd_config_free(&cfg);
		return 2;
	}
	if (pd_window_tz(cfg.timezone, 1, &why) == -1) {
		fprintf(stderr, "mailtally-ctl: timezone: %s\n", why);
		pd_config_free(&cfg);
		return 2;
	}
	if ((st = pd_store_admin_open(&cfg, &why)) == NULL) {
		fprintf(stderr, "mailtally-ctl: %s\n", why);
		pd_config_free(&cfg);
		return 1;
	}
	ret = run(st, argc, argv, rm, id);
	pd_store_close(st);
	pd_config_free(&cfg);
	return ret;
}
