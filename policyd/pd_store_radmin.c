/*
 * NAME
 *	pd_store_radmin 3 - synchronous Redis handle for the admin operations
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	struct pd_store *pd_store_redis_admin_open(
 *		    const struct pd_config *cfg, const char **why);
 * DESCRIPTION
 *	mailtally-ctl's view of the store: one blocking hiredis connection
 *	(redisConnectWithTimeout or redisConnectUnixWithTimeout, 2 s, the
 *	same for each command), AUTH and SELECT as the daemon sends them,
 *	and the admin operations of pd_store.h on the daemon's keys:
 *
 *	usage: HGET of the override hash, then GET of the counter (a
 *	calendar count, or a rolling window's slots, summed as the script
 *	sums them; HGETALL when the key is a rolling hash of an earlier
 *	build).
 *	reset: DEL of the current counter.
 *	set_override: HSET, or HDEL when max < 0.
 *
 *	Commands are built with redisCommandArgv() and explicit lengths.
 * DIAGNOSTICS
 *	pd_store_redis_admin_open() returns NULL with *why when the store
 *	cannot be reached or refuses AUTH/SELECT. The operations return
 *	PD_STORE_OK, or PD_STORE_RETRY with *why (Redis's error text, or
 *	hiredis's; never the password).
 * SECURITY
 *	Replies are checked for type before use.
 * SEE ALSO
 *	pd_store(3h), mailtally-ctl(1)
 */
#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pd_config.h"
#include "pd_limits.h"
#include "pd_store.h"

#define ADMIN_TIMEOUT_S 2

struct radmin {
	struct pd_store st;
	redisContext *rc;
	char err[160];
};

/* run - one command; the reply (not an error), or NULL with *why */
static redisReply *
run(struct radmin *ra, int argc, const char **argv, const char **why)
{
	size_t len[4];
	redisReply *r;
	int i;

	for (i = 0; i < argc && i < 4; i++)
		len[i] = strlen(argv[i]);
	if ((r = redisCommandArgv(ra->rc, argc, argv, len)) == NULL) {
		snprintf(ra->err, sizeof ra->err, "%s",
		    ra->rc->errstr[0] ? ra->rc->errstr : "connection lost");
		*why = ra->err;
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(ra->err, sizeof ra->err, "%.150s",
		    r->str ? r->str : "error");
		freeReplyObject(r);
		*why = ra->err;
		return NULL;
	}
	return r;
}

/* le64 - the 8-byte little-endian integer at p (as struct.pack writes) */
static long long
le64(const unsigned char *p)
{
	unsigned long long v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (long long)v;
}

/* slot_add - one rolling slot's count into *u, when it is in the window */
static void
slot_add(const struct pd_plan_item *it, long long s, long long v,
    struct pd_usage *u)
{
	if (s <= it->slot - it->nslots || s > it->slot)
		return;
	u->used += v;
	if (u->oldest_slot == -1 || s < u->oldest_slot)
		u->oldest_slot = s;
}

/*
 * used_of - a counter reply into *u: GET of a calendar counter (decimal)
 * or of a rolling one (the sum, 8 bytes, then (slot, count) pairs of 16;
 * the pairs are summed), or HGETALL of a rolling hash written by an
 * earlier build (field: slot).
 */
static void
used_of(const redisReply *r, const struct pd_plan_item *it, struct pd_usage *u)
{
	const unsigned char *p;
	size_t j;

	if (it->nslots == 0) {
		if (r->type == REDIS_REPLY_STRING)
			u->used = strtoll(r->str, NULL, 10);
		return;
	}
	if (r->type == REDIS_REPLY_STRING) {
		p = (const unsigned char *)r->str;
		for (j = 8; j + 16 <= r->len; j += 16)
			slot_add(it, le64(p + j), le64(p + j + 8), u);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (j = 0; j + 1 < r->elements; j += 2) {
		if (r->element[j]->type != REDIS_REPLY_STRING ||
		    r->element[j + 1]->type != REDIS_REPLY_STRING)
			continue;
		slot_add(it, strtoll(r->element[j]->str, NULL, 10),
		    strtoll(r->element[j + 1]->str, NULL, 10), u);
	}
}

/* radmin_usage - used count, oldest slot, override */
static int
radmin_usage(struct pd_store *st, const struct pd_plan_item *it, long long now,
    struct pd_usage *u, const char **why)
{
	struct radmin *ra = (struct radmin *)st;
	const char *argv[3] = { "HGET", it->ovr_key, it->limit->name };
	redisReply *r;

	u->used = 0;
	u->oldest_slot = u->override = -1;
	if ((r = run(ra, 3, argv, why)) == NULL)
		return PD_STORE_RETRY;
	if (r->type == REDIS_REPLY_STRING)
		u->override = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	argv[0] = "GET";
	argv[1] = it->key;
	r = run(ra, 2, argv, why);
	if (r == NULL && it->nslots && strncmp(*why, "WRONGTYPE", 9) == 0) {
		argv[0] = "HGETALL"; /* a rolling hash of an earlier build */
		r = run(ra, 2, argv, why);
	}
	if (r == NULL)
		return PD_STORE_RETRY;
	used_of(r, it, u);
	freeReplyObject(r);
	return PD_STORE_OK;
}

/* radmin_reset - DEL the current counter */
static int
radmin_reset(struct pd_store *st, const struct pd_plan_item *it,
    const char **why)
{
	const char *argv[2] = { "DEL", it->key };
	redisReply *r;

	if ((r = run((struct radmin *)st, 2, argv, why)) == NULL)
		return PD_STORE_RETRY;
	freeReplyObject(r);
	return PD_STORE_OK;
}

/* radmin_set_override - HSET, or HDEL for max < 0 */
static int
radmin_set_override(struct pd_store *st, const struct pd_plan_item *it,
    long long max, const char **why)
{
	const char *argv[4] = { max < 0 ? "HDEL" : "HSET", it->ovr_key,
		it->limit->name, NULL };
	char num[24];
	redisReply *r;

	snprintf(num, sizeof num, "%lld", max);
	argv[3] = num;
	if ((r = run((struct radmin *)st, max < 0 ? 3 : 4, argv, why)) == NULL)
		return PD_STORE_RETRY;
	freeReplyObject(r);
	return PD_STORE_OK;
}

/* radmin_close - free the connection */
static void
radmin_close(struct pd_store *st)
{
	struct radmin *ra = (struct radmin *)st;

	if (ra->rc != NULL)
		redisFree(ra->rc);
	free(ra);
}

static const struct pd_store_ops radmin_ops = {
	.name = "redis",
	.usage = radmin_usage,
	.reset = radmin_reset,
	.set_override = radmin_set_override,
	.close = radmin_close,
};

/* setup - AUTH and SELECT; 0 or -1 with *why */
static int
setup(struct radmin *ra, const struct pd_config *cfg,
    const struct pd_redis_url *url, const char **why)
{
	const char *argv[2];
	char pw[256], db[16];
	redisReply *r;

	if (cfg->store_password_file != NULL) {
		if (pd_redis_read_password(cfg->store_password_file, pw,
			sizeof pw, why) == -1)
			return -1;
		argv[0] = "AUTH";
		argv[1] = pw;
		r = run(ra, 2, argv, why);
		memset(pw, 0, sizeof pw);
		if (r == NULL)
			return -1;
		freeReplyObject(r);
	}
	if (url->db != 0) {
		snprintf(db, sizeof db, "%d", url->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if ((r = run(ra, 2, argv, why)) == NULL)
			return -1;
		freeReplyObject(r);
	}
	return 0;
}

/* pd_store_redis_admin_open - connect, AUTH, SELECT */
struct pd_store *
pd_store_redis_admin_open(const struct pd_config *cfg, const char **why)
{
	static char errbuf[160]; /* *why outlives the handle */
	struct timeval tv = { ADMIN_TIMEOUT_S, 0 };
	struct pd_redis_url url;
	struct radmin *ra;

	if (pd_redis_url_parse(cfg->store, &url, why) == -1)
		return NULL;
	if ((ra = calloc(1, sizeof *ra)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	ra->st.ops = &radmin_ops;
	ra->st.impl = ra;
	ra->rc = url.path[0] ? redisConnectUnixWithTimeout(url.path, tv)
			     : redisConnectWithTimeout(url.host, url.port, tv);
	if (ra->rc == NULL || ra->rc->err) {
		snprintf(ra->err, sizeof ra->err, "%s",
		    ra->rc ? ra->rc->errstr : "out of memory");
		*why = ra->err;
		goto fail;
	}
	if (redisSetTimeout(ra->rc, tv) != REDIS_OK) {
		*why = "cannot set the command timeout";
		goto fail;
	}
	if (setup(ra, cfg, &url, why) == -1)
		goto fail;
	return &ra->st;
fail:
	snprintf(errbuf, sizeof errbuf, "%s", *why);
	*why = errbuf;
	radmin_close(&ra->st);
	return NULL;
}
