/*
 * NAME
 *	pd_store 3h - counter stores of mailtally-policyd (table of operations)
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	struct pd_store *pd_store_open(const struct pd_config *cfg,
 *		    struct event_base *base, const char **why);
 *	void	pd_store_run(struct pd_store *st, struct pd_plan *plan,
 *		    pd_store_fn done, void *arg);
 *	struct pd_store *pd_store_close(struct pd_store *st);
 *
 *	struct pd_store *pd_store_admin_open(const struct pd_config *cfg,
 *		    const char **why);
 *	int	pd_store_usage(struct pd_store *st,
 *		    const struct pd_plan_item *it, long long now,
 *		    struct pd_usage *u, const char **why);
 *	int	pd_store_reset(struct pd_store *st,
 *		    const struct pd_plan_item *it, const char **why);
 *	int	pd_store_override(struct pd_store *st,
 *		    const struct pd_plan_item *it, long long max,
 *		    const char **why);
 * DESCRIPTION
 *	A plan (built by pd_quota.c) names, for each limit that applies, its
 *	counter key, override hash key, max, cost and window. A store runs
 *	the whole plan atomically, as a check or (plan->commit) a commit:
 *
 *	check: read every counter (no write); a limit is over when
 *	used + cost > max (the caller passes cost 1 at RCPT: "is anything
 *	left?").
 *
 *	commit: the same check; then, only when no limit is over and the
 *	plan's instance marker does not exist yet, add each cost to its
 *	counter and set the marker: all in one atomic step. A marker that
 *	exists makes the plan a duplicate: nothing is added, the result is
 *	"not over".
 *
 *	The max of a limit is replaced by the value in its override hash
 *	(field = limit name) when there is one. Results are written into the
 *	plan (used, max, over, dup) before done is called with PD_STORE_OK;
 *	on PD_STORE_RETRY (store unreachable, timeout, bad reply) the plan's
 *	results mean nothing, so "Redis down" is never read as 0.
 *
 *	done is called exactly once: before the call returns (memory) or
 *	from the event loop (Redis).
 *
 *	Admin operations (mailtally-ctl and tests) are synchronous: usage
 *	(used count, oldest counted rolling slot, override), reset (delete
 *	the current counter), set_override (max < 0: remove). The memory
 *	store has both kinds; Redis has an asynchronous handle for decisions
 *	(pd_store_redis.c) and a synchronous one for admin
 *	(pd_store_radmin.c, pd_store_admin_open()).
 * DIAGNOSTICS
 *	pd_store_open() returns NULL with *why for a bad store setting;
 *	pd_store_admin_open() also when the store cannot be reached (and
 *	for store = memory, which lives inside each daemon).
 */
#ifndef PD_STORE_H
#define PD_STORE_H

#include <stddef.h>

#include "pd_limits.h"

#define PD_KEY_MAX 512
#define PD_INSTANCE_TTL_S 3600

enum pd_store_status { PD_STORE_OK, PD_STORE_NOTFOUND, PD_STORE_RETRY };

struct pd_plan_item {
	const struct pd_limit *limit;
	char key[PD_KEY_MAX]; /* counter: PREFIX:{subject}:NAME:ID */
	char ovr_key[PD_KEY_MAX]; /* override hash: PREFIX:{subject}:ovr */
	long long max; /* config max (after config override) */
	long long cost;
	long long ttl_s;
	long long slot, nslots, keep; /* rolling; nslots 0: calendar */
	long long resets_at; /* calendar: window end */
	/* results */
	long long used; /* before this request */
	long long eff_max; /* after the store's override */
};

struct pd_plan {
	long long now;
	int commit; /* 0: check only */
	char instance_key[PD_KEY_MAX]; /* "" : not idempotent */
	long long instance_ttl_s;
	size_t n;
	struct pd_plan_item item[PD_LIMITS_MAX];
	/* results */
	int dup; /* the instance was committed before */
	int over; /* index of the first limit over, or -1 */
	int committed;
};

typedef void (*pd_store_fn)(void *arg, int status, const char *err);

struct event_base;
struct pd_config;
struct pd_store;

/* What the admin operation usage reads for one plan item. */
struct pd_usage {
	long long used; /* counted in the window now */
	long long oldest_slot; /* rolling: oldest counted slot, -1: none */
	long long override; /* the store's override, -1: none */
};

struct pd_store_ops {
	const char *name;
	/* Decisions: check, or commit when plan->commit; asynchronous (NULL
	 * in an admin handle). */
	void (*run)(struct pd_store *, struct pd_plan *, pd_store_fn, void *);
	/* Admin: synchronous, PD_STORE_OK or PD_STORE_RETRY with *why (NULL
	 * in the asynchronous Redis handle). */
	int (*usage)(struct pd_store *, const struct pd_plan_item *,
	    long long now, struct pd_usage *, const char **why);
	int (*reset)(struct pd_store *, const struct pd_plan_item *,
	    const char **why);
	/* max < 0 removes the override */
	int (*set_override)(struct pd_store *, const struct pd_plan_item *,
	    long long max, const char **why);
	void (*close)(struct pd_store *);
};

struct pd_store {
	const struct pd_store_ops *ops;
	void *impl;
};

struct pd_store *pd_store_open(const struct pd_config *, struct event_base *,
    const char **);
void pd_store_run(struct pd_store *, struct pd_plan *, pd_store_fn, void *);
struct pd_store *pd_store_close(struct pd_store *);
/* Admin (mailtally-ctl): a synchronous handle on the configured store. */
struct pd_store *pd_store_admin_open(const struct pd_config *, const char **);
int pd_store_usage(struct pd_store *, const struct pd_plan_item *,
    long long now, struct pd_usage *, const char **);
int pd_store_reset(struct pd_store *, const struct pd_plan_item *,
    const char **);
int pd_store_override(struct pd_store *, const struct pd_plan_item *,
    long long max, const char **);

/* The embedded store (pd_store_mem.c). */
struct pd_store *pd_store_mem_open(void);
/* Admin operations of the embedded store, for tests. */
int pd_store_mem_set(struct pd_store *, const char *key, const char *field,
    long long v, long long ttl_s, long long now);
int pd_store_mem_get(struct pd_store *, const char *key, const char *field,
    long long now, long long *v);
int pd_store_mem_del(struct pd_store *, const char *key, const char *field);
size_t pd_store_mem_count(struct pd_store *, long long now);

/* Redis (pd_store_redis.c). */
struct pd_redis_url {
	char host[256];
	int port;
	char path[256]; /* unix socket, "" for TCP */
	int db;
};
int pd_redis_url_parse(const char *, struct pd_redis_url *, const char **);
int pd_redis_read_password(const char *file, char *buf, size_t len,
    const char **why);
struct pd_store *pd_store_redis_open(const struct pd_config *,
    struct event_base *, const char **);
struct pd_store *pd_store_redis_admin_open(const struct pd_config *,
    const char **);
/* The Lua script (one decision per call) and its SHA-1, for mailtally-ctl. */
extern const char pd_redis_script[];
/* One decision as a RESP command (pd_redis_cmd.c); the largest plan fits
 * in PD_REDIS_CMD_MAX: EVAL's script, 1 + 2 * PD_LIMITS_MAX keys, the
 * PD_REDIS_NUMS 8-byte numbers and the limit names, each with its framing. */
#define PD_REDIS_NUMS(n) (4 + 7 * (n))
#define PD_REDIS_CMD_MAX                                                       \
	(8192 + (1 + 2 * PD_LIMITS_MAX) * (PD_KEY_MAX + 16) +                  \
	    8 * PD_REDIS_NUMS(PD_LIMITS_MAX) +                                 \
	    PD_LIMITS_MAX * (PD_LIMIT_NAME_MAX + 1) + 128)
size_t pd_redis_cmd(char *buf, size_t size, const struct pd_plan *,
    const char *sha);

#endif
