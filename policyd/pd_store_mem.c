/*
 * NAME
 *	pd_store_mem 3 - the embedded counter store
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	struct pd_store *pd_store_mem_open(void);
 *	int	pd_store_mem_set(struct pd_store *st, const char *key,
 *		    const char *field, long long v, long long ttl_s,
 *		    long long now);
 *	int	pd_store_mem_get(struct pd_store *st, const char *key,
 *		    const char *field, long long now, long long *v);
 *	int	pd_store_mem_del(struct pd_store *st, const char *key,
 *		    const char *field);
 *	size_t	pd_store_mem_count(struct pd_store *st, long long now);
 * DESCRIPTION
 *	The same semantics as the Redis script (pd_store_redis.c), in
 *	process memory: for one host, for store = memory, and for the unit
 *	tests. Every key is a small hash of named 64-bit counters with an
 *	expiry time; a calendar counter is the field "", a rolling window
 *	one field per slot, an override hash one field per limit name.
 *
 *	Expired keys are dropped when touched, and a few buckets are swept
 *	on every operation, so memory follows the live keys (message
 *	instance markers too: they expire after PD_INSTANCE_TTL_S). When
 *	the table doubles, its entries move to the new bucket array a few
 *	buckets per lookup while both arrays are searched, so no request
 *	pays for a whole rehash. The clock is
 *	the plan's "now" (injected by the tests).
 *
 *	check and commit call "done" before they return.
 * DIAGNOSTICS
 *	Out of memory during a commit answers PD_STORE_RETRY. The admin
 *	functions return 0, or -1 (out of memory, or NOTFOUND for _get).
 * SEE ALSO
 *	pd_store(3h), pd_store_redis(3)
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_store.h"

#define MEM_BUCKETS_MIN 1024
#define MEM_SWEEP 4
#define MEM_MOVE 16 /* old buckets moved per lookup while growing */

struct mem_field {
	char *name;
	long long v;
	long long slot; /* the name as a number: a rolling slot's */
};

struct mem_entry {
	struct mem_entry *next;
	size_t h; /* hash(key) */
	char *key;
	long long expires; /* 0: never */
	struct mem_field *f;
	size_t nf;
};

struct mem_store {
	struct mem_entry **bucket;
	size_t nbucket;
	struct mem_entry **old; /* while growing: the table being emptied */
	size_t nold;
	size_t moved; /* old[0..moved) are empty */
	size_t nentry;
	size_t sweep; /* next bucket to sweep */
};

/* hash - FNV-1a of a key */
static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* entry_free - free one entry */
static void
entry_free(struct mem_entry *e)
{
	size_t i;

	for (i = 0; i < e->nf; i++)
		free(e->f[i].name);
	free(e->f);
	free(e->key);
	free(e);
}

/* sweep - drop expired entries from a few buckets */
static void
sweep(struct mem_store *ms, long long now)
{
	struct mem_entry **pp, *e;
	size_t i;

	for (i = 0; i < MEM_SWEEP; i++) {
		pp = &ms->bucket[ms->sweep];
		while ((e = *pp) != NULL) {
			if (e->expires != 0 && e->expires <= now) {
				*pp = e->next;
				entry_free(e);
				ms->nentry--;
			} else
				pp = &e->next;
		}
		ms->sweep = (ms->sweep + 1) % ms->nbucket;
	}
}

/* move_some - move up to n buckets of the old table into the new one */
static void
move_some(struct mem_store *ms, size_t n)
{
	struct mem_entry *e, *next;
	size_t h;

	for (; n > 0 && ms->moved < ms->nold; n--, ms->moved++)
		for (e = ms->old[ms->moved]; e != NULL; e = next) {
			next = e->next;
			h = e->h % ms->nbucket;
			e->next = ms->bucket[h];
			ms->bucket[h] = e;
		}
	if (ms->old != NULL && ms->moved == ms->nold) {
		free(ms->old);
		ms->old = NULL;
		ms->nold = ms->moved = 0;
	}
}

/*
 * grow - double the bucket array when the table is full. The entries
 * move over a little at every lookup (move_some), not all at once, so
 * no request waits for a whole rehash.
 */
static void
grow(struct mem_store *ms)
{
	struct mem_entry **nb;
	size_t n = ms->nbucket * 2;

	if (ms->old != NULL)
		move_some(ms, ms->nold); /* the last growth is not done yet */
	if ((nb = calloc(n, sizeof *nb)) == NULL)
		return; /* keep the old size: still correct */
	ms->old = ms->bucket;
	ms->nold = ms->nbucket;
	ms->moved = 0;
	ms->bucket = nb;
	ms->nbucket = n;
	ms->sweep = 0;
}

/* find - a key in one chain; an expired one is dropped (NULL) */
static struct mem_entry *
find(struct mem_store *ms, struct mem_entry **pp, size_t h, const char *key,
    long long now)
{
	struct mem_entry *e;

	for (; (e = *pp) != NULL; pp = &e->next) {
		if (e->h != h || strcmp(e->key, key) != 0)
			continue;
		if (e->expires != 0 && e->expires <= now) {
			*pp = e->next;
			entry_free(e);
			ms->nentry--;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* lookup - find a live entry; create it when asked */
static struct mem_entry *
lookup(struct mem_store *ms, const char *key, long long now, int create)
{
	struct mem_entry *e;
	size_t h = hash(key), i;

	if (ms->old != NULL)
		move_some(ms, MEM_MOVE);
	if ((e = find(ms, &ms->bucket[h % ms->nbucket], h, key, now)) != NULL)
		return e;
	if (ms->old != NULL && (i = h % ms->nold) >= ms->moved &&
	    (e = find(ms, &ms->old[i], h, key, now)) != NULL)
		return e;
	if (!create)
		return NULL;
	if ((e = calloc(1, sizeof *e)) == NULL ||
	    (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	e->h = h;
	e->next = ms->bucket[h % ms->nbucket];
	ms->bucket[h % ms->nbucket] = e;
	if (++ms->nentry > ms->nbucket)
		grow(ms);
	return e;
}

/* field_find - a field of an entry, or NULL */
static struct mem_field *
field_find(struct mem_entry *e, const char *name)
{
	size_t i;

	for (i = 0; e != NULL && i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return &e->f[i];
	return NULL;
}

/* field_add - add v to a field (created at 0) */
static int
field_add(struct mem_entry *e, const char *name, long long v)
{
	struct mem_field *f, *nf;

	if ((f = field_find(e, name)) == NULL) {
		if ((nf = realloc(e->f, (e->nf + 1) * sizeof *nf)) == NULL)
			return -1;
		e->f = nf;
		f = &e->f[e->nf];
		if ((f->name = strdup(name)) == NULL)
			return -1;
		f->v = 0;
		f->slot = strtoll(name, NULL, 10);
		e->nf++;
	}
	f->v += v;
	return 0;
}

/* field_drop - remove field i */
static void
field_drop(struct mem_entry *e, size_t i)
{
	free(e->f[i].name);
	e->f[i] = e->f[--e->nf];
}

/* item_used - the used count of one plan item, and its effective max */
static void
item_used(struct mem_store *ms, struct pd_plan *plan, struct pd_plan_item *it)
{
	struct mem_entry *e;
	struct mem_field *f;
	long long slot;
	size_t i;

	e = lookup(ms, it->ovr_key, plan->now, 0);
	f = field_find(e, it->limit->name);
	it->eff_max = f != NULL ? f->v : it->max;
	it->used = 0;
	if ((e = lookup(ms, it->key, plan->now, 0)) == NULL)
		return;
	if (it->nslots == 0) {
		f = field_find(e, "");
		it->used = f != NULL ? f->v : 0;
		return;
	}
	for (i = 0; i < e->nf; i++) {
		slot = e->f[i].slot;
		if (slot > it->slot - it->nslots && slot <= it->slot)
			it->used += e->f[i].v;
	}
}

/* item_add - add the cost of one item; drop slots out of the window */
static int
item_add(struct mem_store *ms, struct pd_plan *plan, struct pd_plan_item *it)
{
	struct mem_entry *e;
	char name[24];
	size_t i;

	if ((e = lookup(ms, it->key, plan->now, 1)) == NULL)
		return -1;
	if (it->nslots == 0) {
		if (field_add(e, "", it->cost) == -1)
			return -1;
	} else {
		for (i = e->nf; i-- > 0;)
			if (e->f[i].slot <= it->slot - it->keep)
				field_drop(e, i);
		snprintf(name, sizeof name, "%lld", it->slot);
		if (field_add(e, name, it->cost) == -1)
			return -1;
	}
	e->expires = plan->now + it->ttl_s;
	return 0;
}

/* mem_run - check, then commit when asked (see pd_store.h) */
static void
mem_run(struct pd_store *st, struct pd_plan *plan, pd_store_fn done, void *arg)
{
	struct mem_store *ms = st->impl;
	struct mem_entry *e;
	size_t i;

	sweep(ms, plan->now);
	plan->over = -1;
	plan->dup = plan->committed = 0;
	for (i = 0; i < plan->n; i++) {
		item_used(ms, plan, &plan->item[i]);
		if (plan->over == -1 &&
		    plan->item[i].used + plan->item[i].cost >
			plan->item[i].eff_max)
			plan->over = (int)i;
	}
	if (plan->commit && plan->instance_key[0] &&
	    lookup(ms, plan->instance_key, plan->now, 0) != NULL) {
		plan->dup = 1;
		plan->over = -1;
	} else if (plan->commit && plan->over == -1) {
		for (i = 0; i < plan->n; i++)
			if (item_add(ms, plan, &plan->item[i]) == -1) {
				done(arg, PD_STORE_RETRY, "out of memory");
				return;
			}
		if (plan->instance_key[0]) {
			if ((e = lookup(ms, plan->instance_key, plan->now,
				 1)) == NULL) {
				done(arg, PD_STORE_RETRY, "out of memory");
				return;
			}
			e->expires = plan->now + plan->instance_ttl_s;
		}
		plan->committed = 1;
	}
	done(arg, PD_STORE_OK, NULL);
}

/* mem_close - free every entry */
static void
mem_close(struct pd_store *st)
{
	struct mem_store *ms = st->impl;
	struct mem_entry *e, *next;
	size_t i;

	move_some(ms, ms->nold);
	for (i = 0; i < ms->nbucket; i++)
		for (e = ms->bucket[i]; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	free(ms->bucket);
	free(ms);
	free(st);
}

/* mem_usage - admin: the used count, oldest slot and override */
static int
mem_usage(struct pd_store *st, const struct pd_plan_item *it, long long now,
    struct pd_usage *u, const char **why)
{
	struct mem_entry *e;
	struct mem_field *f;
	long long slot;
	size_t i;

	u->used = 0;
	u->oldest_slot = u->override = -1;
	f = field_find(lookup(st->impl, it->ovr_key, now, 0), it->limit->name);
	if (f != NULL)
		u->override = f->v;
	if ((e = lookup(st->impl, it->key, now, 0)) == NULL)
		return PD_STORE_OK;
	for (i = 0; i < e->nf; i++) {
		if (it->nslots == 0) {
			if (e->f[i].name[0] == 0)
				u->used = e->f[i].v;
			continue;
		}
		slot = e->f[i].slot;
		if (slot <= it->slot - it->nslots || slot > it->slot)
			continue;
		u->used += e->f[i].v;
		if (u->oldest_slot == -1 || slot < u->oldest_slot)
			u->oldest_slot = slot;
	}
	return PD_STORE_OK;
}

/* mem_reset - admin: drop the current counter */
static int
mem_reset(struct pd_store *st, const struct pd_plan_item *it, const char **why)
{
	(void)pd_store_mem_del(st, it->key, NULL);
	return PD_STORE_OK;
}

/* mem_set_override - admin: set (max >= 0) or remove an override */
static int
mem_set_override(struct pd_store *st, const struct pd_plan_item *it,
    long long max, const char **why)
{
	if (max < 0) {
		(void)pd_store_mem_del(st, it->ovr_key, it->limit->name);
		return PD_STORE_OK;
	}
	if (pd_store_mem_set(st, it->ovr_key, it->limit->name, max, 0, 0) ==
	    -1) {
		*why = "out of memory";
		return PD_STORE_RETRY;
	}
	return PD_STORE_OK;
}

static const struct pd_store_ops mem_ops = {
	.name = "memory",
	.run = mem_run,
	.usage = mem_usage,
	.reset = mem_reset,
	.set_override = mem_set_override,
	.close = mem_close,
};

/* pd_store_mem_open - an empty embedded store */
struct pd_store *
pd_store_mem_open(void)
{
	struct pd_store *st;
	struct mem_store *ms;

	if ((st = calloc(1, sizeof *st)) == NULL)
		return NULL;
	if ((ms = calloc(1, sizeof *ms)) == NULL ||
	    (ms->bucket = calloc(MEM_BUCKETS_MIN, sizeof *ms->bucket)) ==
		NULL) {
		free(ms);
		free(st);
		return NULL;
	}
	ms->nbucket = MEM_BUCKETS_MIN;
	st->ops = &mem_ops;
	st->impl = ms;
	return st;
}

/* pd_store_mem_set - set a field (ttl_s 0: keep the key forever) */
int
pd_store_mem_set(struct pd_store *st, const char *key, const char *field,
    long long v, long long ttl_s, long long now)
{
	struct mem_entry *e;
	struct mem_field *f;

	if ((e = lookup(st->impl, key, now, 1)) == NULL)
		return -1;
	if ((f = field_find(e, field)) != NULL)
		f->v = 0;
	if (field_add(e, field, v) == -1)
		return -1;
	e->expires = ttl_s > 0 ? now + ttl_s : 0;
	return 0;
}

/* pd_store_mem_get - read a field */
int
pd_store_mem_get(struct pd_store *st, const char *key, const char *field,
    long long now, long long *v)
{
	struct mem_field *f;

	if ((f = field_find(lookup(st->impl, key, now, 0), field)) == NULL)
		return -1;
	*v = f->v;
	return 0;
}

/* pd_store_mem_del - remove a field, or the whole key (field NULL) */
int
pd_store_mem_del(struct pd_store *st, const char *key, const char *field)
{
	struct mem_entry *e;
	size_t i;

	if ((e = lookup(st->impl, key, 0, 0)) == NULL)
		return -1;
	if (field == NULL) {
		e->expires = 1; /* dropped on the next touch */
		return 0;
	}
	for (i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, field) == 0) {
			field_drop(e, i);
			return 0;
		}
	return -1;
}

/* pd_store_mem_count - live keys (tests: memory follows the live keys) */
size_t
pd_store_mem_count(struct pd_store *st, long long now)
{
	struct mem_store *ms = st->impl;
	struct mem_entry *e;
	size_t i, n = 0;

	move_some(ms, ms->nold);
	for (i = 0; i < ms->nbucket; i++)
		for (e = ms->bucket[i]; e != NULL; e = e->next)
			if (e->expires == 0 || e->expires > now)
				n++;
	return n;
}
