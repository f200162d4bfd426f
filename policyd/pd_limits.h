/*
 * NAME
 *	pd_limits 3h - the limit grammar of mailtally-policyd.conf(5)
 * SYNOPSIS
 *	#include "pd_limits.h"
 *
 *	int	pd_limit_parse(const char *name, const char *value,
 *		    struct pd_limit *out, const char **why);
 *	int	pd_override_parse(const char *identity, const char *limit,
 *		    const char *value, struct pd_override *out,
 *		    const char **why);
 *	int	pd_limit_format(const struct pd_limit *lim, char *buf,
 *		    size_t len);
 *	void	pd_limit_clear(struct pd_limit *lim);
 * DESCRIPTION
 *	A limit is one keyed configuration entry:
 *
 *	    limit NAME = WINDOW MAX UNIT [defer|reject]
 *		[key=identity|sender_domain|client_address] [reply="TEXT"]
 *
 *	NAME is 1-32 of [a-z0-9_-]. WINDOW is a calendar window (day, week,
 *	month) or a rolling one (a duration 1s..31d: 30s, 1m, 1h, 24h, 7d).
 *	MAX is 0..10^15 (bytes may carry a k, M or G suffix, powers of
 *	1024). UNIT is messages, recipients or bytes (singular forms too).
 *
 *	An override is "override IDENTITY LIMIT = MAX".
 * DIAGNOSTICS
 *	The parsers return 0, or -1 with *why (a static string).
 */
#ifndef PD_LIMITS_H
#define PD_LIMITS_H

#include <stddef.h>

#define PD_LIMIT_NAME_MAX 32
#define PD_LIMITS_MAX 16
#define PD_LIMIT_MAX_VALUE 1000000000000000LL /* 10^15 */
#define PD_WINDOW_MAX_S (31LL * 86400)
#define PD_REPLY_MAX 512

enum pd_window_kind { PD_WIN_ROLLING, PD_WIN_DAY, PD_WIN_WEEK, PD_WIN_MONTH };
enum pd_unit { PD_UNIT_MESSAGES, PD_UNIT_RECIPIENTS, PD_UNIT_BYTES };
enum pd_limit_action { PD_LIMIT_DEFER, PD_LIMIT_REJECT };
enum pd_limit_key { PD_KEY_IDENTITY, PD_KEY_SENDER_DOMAIN, PD_KEY_CLIENT };

struct pd_limit {
	char name[PD_LIMIT_NAME_MAX + 1];
	int window; /* enum pd_window_kind */
	long long window_s; /* rolling windows: length in seconds */
	long long max;
	int unit; /* enum pd_unit */
	int action; /* enum pd_limit_action */
	int key; /* enum pd_limit_key */
	char *reply; /* NULL: defer_reply or reject_reply */
};

struct pd_override {
	char *identity; /* normalized */
	char limit[PD_LIMIT_NAME_MAX + 1];
	long long max;
};

int pd_limit_name_ok(const char *name, size_t len);
int pd_limit_parse(const char *, const char *, struct pd_limit *,
    const char **);
int pd_override_parse_max(const char *, long long *, const char **);
int pd_limit_format(const struct pd_limit *, char *, size_t);
int pd_window_format(const struct pd_limit *, char *, size_t);
const char *pd_unit_name(int unit);
const char *pd_limit_key_name(int key);
void pd_limit_clear(struct pd_limit *);

#endif
