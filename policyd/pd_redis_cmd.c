/*
 * NAME
 *	pd_redis_cmd 3 - one quota decision as a Redis command
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	size_t	pd_redis_cmd(char *buf, size_t size,
 *		    const struct pd_plan *plan, const char *sha);
 * DESCRIPTION
 *	pd_redis_cmd() writes the EVALSHA of pd_redis_script for one plan
 *	(EVAL with the script's text when sha is NULL), a check or
 *	(plan->commit) a commit, into buf, already
 *	in the Redis protocol (RESP: "*N" then "$LEN" and the bytes of each
 *	argument), for redisAsyncFormattedCommand(). KEYS and ARGV are laid
 *	out as pd_redis_script(3) describes.
 *
 *	This replaces redisAsyncCommandArgv(), whose per-argument
 *	sdscatfmt() and our snprintf() of every number cost about 26,000
 *	instructions per decision (callgrind), a third of the daemon's
 *	whole cost of a request; here numbers and lengths are written
 *	digit by digit into one buffer, with no allocation.
 * DIAGNOSTICS
 *	The length of the command, or 0 when it does not fit in size bytes
 *	(PD_REDIS_CMD_MAX always holds the largest plan).
 * SEE ALSO
 *	pd_redis_script(3), pd_store_redis(3)
 */
#include "config.h"

#include <string.h>

#include "pd_store.h"

struct resp {
	char *p, *end;
	int full;
};

/* put - append n bytes */
static void
put(struct resp *r, const char *s, size_t n)
{
	if (r->full || (size_t)(r->end - r->p) < n) {
		r->full = 1;
		return;
	}
	memcpy(r->p, s, n);
	r->p += n;
}

/* digits - v in decimal, ending just before end; returns its start */
static char *
digits(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

/* put_line - append a type byte, a decimal number and CRLF */
static void
put_line(struct resp *r, char type, unsigned long long v)
{
	char tmp[24], *q;

	tmp[22] = '\r';
	tmp[23] = '\n';
	q = digits(tmp + 22, v);
	*--q = type;
	put(r, q, (size_t)(tmp + sizeof tmp - q));
}

/* bulk - one argument of n bytes */
static void
bulk(struct resp *r, const char *s, size_t n)
{
	put_line(r, '$', n);
	put(r, s, n);
	put(r, "\r\n", 2);
}

/* bulk_str - one argument from a C string */
static void
bulk_str(struct resp *r, const char *s)
{
	bulk(r, s, strlen(s));
}

/* bulk_num - one argument from a number */
static void
bulk_num(struct resp *r, size_t v)
{
	char tmp[24], *q;

	q = digits(tmp + sizeof tmp, v);
	bulk(r, q, (size_t)(tmp + sizeof tmp - q));
}

/* le64 - v as 8 bytes, least significant first (struct's "<i8") */
static char *
le64(char *q, long long v)
{
	unsigned long long u = (unsigned long long)v;
	int i;

	for (i = 0; i < 8; i++, u >>= 8)
		*q++ = (char)(u & 0xff);
	return q;
}

/* pd_redis_cmd - EVALSHA SHA NKEYS KEYS... NUMBERS NAMES (or EVAL SCRIPT ...) */
size_t
pd_redis_cmd(char *buf, size_t size, const struct pd_plan *p, const char *sha)
{
	const struct pd_plan_item *it;
	struct resp r = { buf, buf + size, 0 };
	char nums[8 * PD_REDIS_NUMS(PD_LIMITS_MAX)], *q = nums;
	long long oi[PD_LIMITS_MAX];
	size_t i, k, m = 0, names = 0;

	if (p->n == 0 || p->n > PD_LIMITS_MAX)
		return 0;
	/* oi[i]: 1-based index of item i's override hash among the distinct
	 * ones, numbered in order of first use (items of one subject share
	 * theirs: one key, one HGETALL) */
	for (i = 0; i < p->n; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(p->item[k].ovr_key, p->item[i].ovr_key) == 0)
				break;
		oi[i] = k < i ? oi[k] : (long long)++m;
		names += strlen(p->item[i].limit->name) + (i > 0);
	}
	put_line(&r, '*', 3 + (1 + p->n + m) + 2);
	if (sha != NULL) {
		bulk(&r, "EVALSHA", 7);
		bulk_str(&r, sha);
	} else {
		bulk(&r, "EVAL", 4);
		bulk_str(&r, pd_redis_script);
	}
	bulk_num(&r, 1 + p->n + m);
	bulk_str(&r, p->instance_key[0] ? p->instance_key : p->item[0].key);
	for (i = 0; i < p->n; i++)
		bulk_str(&r, p->item[i].key);
	for (i = 0, k = 0; i < p->n; i++)
		if (oi[i] > (long long)k) {
			bulk_str(&r, p->item[i].ovr_key);
			k++;
		}
	q = le64(q, (long long)p->n);
	q = le64(q, p->commit != 0);
	q = le64(q, p->instance_key[0] != '\0');
	q = le64(q, p->instance_ttl_s > 0 ? p->instance_ttl_s : 1);
	for (i = 0; i < p->n; i++) {
		it = &p->item[i];
		q = le64(q, it->max);
		q = le64(q, it->cost);
		q = le64(q, it->ttl_s > 0 ? it->ttl_s : 1);
		q = le64(q, it->slot);
		q = le64(q, it->nslots);
		q = le64(q, it->keep);
		q = le64(q, oi[i]);
	}
	bulk(&r, nums, (size_t)(q - nums));
	put_line(&r, '$', names);
	for (i = 0; i < p->n; i++) {
		if (i > 0)
			put(&r, " ", 1);
		put(&r, p->item[i].limit->name, strlen(p->item[i].limit->name));
	}
	put(&r, "\r\n", 2);
	return r.full ? 0 : (size_t)(r.p - buf);
}
