/*
 * NAME
 *	pd_engine 3 - from a parsed policy request to a reply
 * SYNOPSIS
 *	#include "pd_engine.h"
 *
 *	struct pd_engine *pd_engine_new(const struct pd_config *cfg,
 *		    struct event_base *base, const char **why);
 *	void	pd_engine_decide(struct pd_engine *eng,
 *		    const struct pd_request *req, pd_reply_fn reply,
 *		    void *arg);
 *	void	pd_engine_free(struct pd_engine *eng);
 *	void	pd_engine_set_clock(struct pd_engine *eng, pd_clock_fn fn,
 *		    void *arg);
 *	struct pd_store *pd_engine_store(struct pd_engine *eng);
 *
 *	#include "pd_store.h"
 *
 *	struct pd_store *pd_store_open(const struct pd_config *cfg,
 *		    struct event_base *base, const char **why);
 *	void	pd_store_run(struct pd_store *st, struct pd_plan *plan,
 *		    pd_store_fn done, void *arg);
 *	struct pd_store *pd_store_close(struct pd_store *st);
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
 *	pd_engine_new() sets the process time zone from "timezone" (once,
 *	at start-up) and opens the store. pd_engine_decide() runs
 *	pd_quota_prepare(), the store when the plan needs it, then
 *	pd_quota_finish(), writes the quota log line and calls "reply"
 *	exactly once (see pd_engine.h). The records of finished decisions
 *	(some 20 KB each, mostly plan keys) are kept for reuse, up to
 *	POOL_MAX.
 *
 *	The pd_store_* wrappers pick the store named by "store" (memory, or
 *	a redis URL) and dispatch through its table of operations; an admin
 *	operation missing from a handle answers PD_STORE_RETRY.
 * DIAGNOSTICS
 *	pd_engine_new() returns NULL with *why. pd_engine_decide() never
 *	fails: out of memory is answered like a store error
 *	(on_store_error).
 * SEE ALSO
 *	pd_quota(3), pd_store(3h), pd_quotalog(3)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_util.h"
#include "pd_config.h"
#include "pd_engine.h"
#include "pd_quota.h"
#include "pd_request.h"
#include "pd_store.h"
#include "pd_window.h"

#define POOL_MAX 64 /* spare decision records kept */

struct pending;

struct pd_engine {
	const struct pd_config *cfg;
	struct pd_store *store;
	pd_clock_fn clock;
	void *clock_arg;
	struct pending *spare; /* records of finished decisions, reused */
	size_t nspare;
};

struct pending {
	struct pending *next; /* in eng->spare */
	struct pd_engine *eng;
	pd_reply_fn reply;
	void *arg;
	uint64_t start_us;
	struct pd_quota q;
};

/* pd_store_open - the store named by cfg->store */
struct pd_store *
pd_store_open(const struct pd_config *cfg, struct event_base *base,
    const char **why)
{
	struct pd_store *st;

	if (cfg->store != NULL && strcmp(cfg->store, "memory") == 0) {
		if ((st = pd_store_mem_open()) == NULL)
			*why = "out of memory";
		return st;
	}
	return pd_store_redis_open(cfg, base, why);
}

/* pd_store_run - dispatch: check, or commit when plan->commit */
void
pd_store_run(struct pd_store *st, struct pd_plan *plan, pd_store_fn done,
    void *arg)
{
	st->ops->run(st, plan, done, arg);
}

/* pd_store_close - close and free; returns NULL */
struct pd_store *
pd_store_close(struct pd_store *st)
{
	if (st != NULL)
		st->ops->close(st);
	return NULL;
}

/* admin_missing - an admin operation the handle lacks */
static int
admin_missing(const char **why)
{
	*why = "this store handle has no admin operations";
	return PD_STORE_RETRY;
}

/* pd_store_admin_open - a synchronous handle for mailtally-ctl */
struct pd_store *
pd_store_admin_open(const struct pd_config *cfg, const char **why)
{
	if (cfg->store != NULL && strcmp(cfg->store, "memory") == 0) {
		*why = "store = memory lives inside each mailtally-policyd "
		       "process; cannot reach an embedded store";
		return NULL;
	}
	return pd_store_redis_admin_open(cfg, why);
}

/* pd_store_usage - dispatch */
int
pd_store_usage(struct pd_store *st, const struct pd_plan_item *it,
    long long now, struct pd_usage *u, const char **why)
{
	if (st->ops->usage == NULL)
		return admin_missing(why);
	return st->ops->usage(st, it, now, u, why);
}

/* pd_store_reset - dispatch */
int
pd_store_reset(struct pd_store *st, const struct pd_plan_item *it,
    const char **why)
{
	if (st->ops->reset == NULL)
		return admin_missing(why);
	return st->ops->reset(st, it, why);
}

/* pd_store_override - dispatch; max < 0 removes */
int
pd_store_override(struct pd_store *st, const struct pd_plan_item *it,
    long long max, const char **why)
{
	if (st->ops->set_override == NULL)
		return admin_missing(why);
	return st->ops->set_override(st, it, max, why);
}

/* pd_engine_new - set the zone, open the store */
struct pd_engine *
pd_engine_new(const struct pd_config *cfg, struct event_base *base,
    const char **why)
{
	struct pd_engine *eng;

	if (pd_window_tz(cfg->timezone, 1, why) == -1)
		return NULL;
	if ((eng = calloc(1, sizeof *eng)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	eng->cfg = cfg;
	if ((eng->store = pd_store_open(cfg, base, why)) == NULL) {
		free(eng);
		return NULL;
	}
	return eng;
}

/* pd_engine_set_clock - inject a clock (tests) */
void
pd_engine_set_clock(struct pd_engine *eng, pd_clock_fn fn, void *arg)
{
	eng->clock = fn;
	eng->clock_arg = arg;
}

/* pd_engine_store - the engine's store (tests) */
struct pd_store *
pd_engine_store(struct pd_engine *eng)
{
	return eng->store;
}

/* finish - log, answer, free */
static void
finish(struct pending *p)
{
	struct pd_engine *eng = p->eng;

	pd_quotalog(eng->cfg, &p->q, eng->store->ops->name,
	    (long long)(cm_mono_us() - p->start_us));
	p->reply(p->arg, p->q.reply);
	if (eng->nspare < POOL_MAX) {
		p->next = eng->spare;
		eng->spare = p;
		eng->nspare++;
	} else
		free(p);
}

/* store_done - the store answered a plan */
static void
store_done(void *arg, int status, const char *err)
{
	struct pending *p = arg;

	pd_quota_finish(p->eng->cfg, &p->q, status, err);
	finish(p);
}

/* pd_engine_decide - see pd_engine.h */
void
pd_engine_decide(struct pd_engine *eng, const struct pd_request *req,
    pd_reply_fn reply, void *arg)
{
	static struct pd_quota oom;
	struct pending *p;
	long long now;

	now = eng->clock ? eng->clock(eng->clock_arg) : (long long)time(NULL);
	if ((p = eng->spare) != NULL) {
		eng->spare = p->next;
		eng->nspare--;
	} else if ((p = malloc(sizeof *p)) == NULL) {
		memset(&oom, 0, sizeof oom);
		pd_quota_finish(eng->cfg, &oom, PD_STORE_RETRY,
		    "out of memory");
		reply(arg, oom.reply);
		return;
	}
	p->eng = eng;
	p->reply = reply;
	p->arg = arg;
	p->start_us = cm_mono_us();
	if (pd_quota_prepare(eng->cfg, req, now, &p->q) == 0) {
		finish(p);
		return;
	}
	pd_store_run(eng->store, &p->q.plan, store_done, p);
}

/* pd_engine_free - close the store (pending Redis requests are answered) */
void
pd_engine_free(struct pd_engine *eng)
{
	struct pending *p;

	if (eng == NULL)
		return;
	eng->store = pd_store_close(eng->store);
	while ((p = eng->spare) != NULL) {
		eng->spare = p->next;
		free(p);
	}
	free(eng);
}
