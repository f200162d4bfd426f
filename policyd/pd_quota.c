/*
 * NAME
 *	pd_quota 3 - quota decisions (pure: request + config + clock)
 * SYNOPSIS
 *	#include "pd_quota.h"
 *
 *	int	pd_quota_prepare(const struct pd_config *cfg,
 *		    const struct pd_request *req, long long now,
 *		    struct pd_quota *q);
 *	void	pd_quota_finish(const struct pd_config *cfg,
 *		    struct pd_quota *q, int status, const char *err);
 *	int	pd_quota_identity(const char *raw, size_t len, char *out,
 *		    size_t outlen);
 *	int	pd_quota_keys(const struct pd_config *cfg,
 *		    const struct pd_limit *lim, const char *subject,
 *		    long long now, struct pd_plan_item *it);
 *	int	pd_quota_expand(const char *tmpl, const char *limit,
 *		    long long used, long long max, const char *window,
 *		    const char *identity, char *out, size_t outlen);
 *	const char *pd_action_name(int action);
 * DESCRIPTION
 *	See pd_quota.h. Nothing here does I/O or reads a clock: the store
 *	runs the plan in between prepare and finish.
 *
 *	Redis keys: PREFIX:{SUBJECT}:LIMIT:WINDOWID for counters,
 *	PREFIX:{SUBJECT}:ovr for the override hash, PREFIX:{IDENTITY}:i:INST
 *	for the idempotency marker of one message. SUBJECT is the identity,
 *	or the sender's domain or the client address for limits with key=.
 *	The hash tag {..} keeps one identity's keys in one Redis Cluster
 *	slot.
 * DIAGNOSTICS
 *	None logged here; pd_quotalog.c writes the line.
 *
 *	The attributes read here are looked up in one pass over the
 *	request (struct known) instead of one search per name: policyd
 *	prepares every request.
 * SECURITY
 *	Every request attribute is untrusted: values are copied with
 *	bounds, identities are normalized or hashed before they become
 *	part of a key, and reply text is made of printable ASCII only.
 * SEE ALSO
 *	pd_engine(3), pd_store(3h), mailtally-policyd.conf(5)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cm_addr.h"
#include "cm_cidr.h"
#include "pd_config.h"
#include "pd_quota.h"
#include "pd_request.h"
#include "pd_window.h"

/* The attributes this file reads: struct known holds their values. */
enum {
	K_CLIENT_ADDRESS,
	K_INSTANCE,
	K_PROTOCOL_STATE,
	K_QUEUE_ID,
	K_RECIPIENT_COUNT,
	K_SASL_USERNAME,
	K_SENDER,
	K_SIZE,
	K_COUNT
};

struct known {
	const char *v[K_COUNT]; /* NULL: not sent */
};

/*
 * known_index - K_* of an attribute name, or -1. One candidate per
 * first (and second) byte, compared only when the third byte matches
 * too: most of the ~30 names Postfix sends cost a few compares.
 */
static int
known_index(const char *n)
{
	const char *c;
	int k;

	switch (n[0]) {
	case 'c':
		c = "client_address", k = K_CLIENT_ADDRESS;
		break;
	case 'i':
		c = "instance", k = K_INSTANCE;
		break;
	case 'p':
		c = "protocol_state", k = K_PROTOCOL_STATE;
		break;
	case 'q':
		c = "queue_id", k = K_QUEUE_ID;
		break;
	case 'r':
		c = "recipient_count", k = K_RECIPIENT_COUNT;
		break;
	case 's':
		if (n[1] == 'a')
			c = "sasl_username", k = K_SASL_USERNAME;
		else if (n[1] == 'e')
			c = "sender", k = K_SENDER;
		else
			c = "size", k = K_SIZE;
		break;
	default:
		return -1;
	}
	/* n[1] and n[2] exist: n[0] is not NUL, and a NUL in n[1] would
	 * differ from c[1] first. Every candidate has 4 bytes or more. */
	if (n[1] != c[1] || n[2] != c[2] || strcmp(n + 3, c + 3) != 0)
		return -1;
	return k;
}

/* known_fill - the K_* attributes of req; the first of a name wins */
static void
known_fill(const struct pd_request *req, struct known *kn)
{
	size_t i;
	int k;

	memset(kn, 0, sizeof *kn);
	for (i = 0; i < req->nattr; i++)
		if ((k = known_index(req->attr[i].name)) >= 0 &&
		    kn->v[k] == NULL)
			kn->v[k] = req->attr[i].value;
}

/* known_get - an attribute's value, through kn when it is a K_* name */
static const char *
known_get(const struct pd_request *req, const struct known *kn,
    const char *name)
{
	int k;

	if (name[0] != '\0' && (k = known_index(name)) >= 0)
		return kn->v[k];
	return pd_request_get(req, name);
}

/* copy_capped - copy an attribute for the log line (NULL -> "") */
static void
copy_capped(char *dst, size_t dstsize, const char *src)
{
	size_t n = src == NULL ? 0 : strlen(src);

	if (n >= dstsize)
		n = dstsize - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = 0;
}

/* parse_count - a non-negative decimal attribute; missing/bad -> def */
static long long
parse_count(const char *s, long long def)
{
	long long v = 0;

	if (s == NULL || *s == 0)
		return def;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > PD_LIMIT_MAX_VALUE)
			return def;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* key_safe - 1 when a string may appear inside a key's hash tag */
static int
key_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '{' || *s == '}')
			return 0;
	return 1;
}

/*
 * pd_quota_identity - normalize an identity, or hash it. The hash is of
 * the raw bytes, so one overlong or odd sender is still one identity.
 */
int
pd_quota_identity(const char *raw, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	char norm[CM_ADDR_MAX + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	const char *why;

	if (len == 0 || outlen < 35)
		return -1;
	if (len <= CM_ADDR_MAX && cm_addr_norm(raw, len, norm, &why) == 0 &&
	    norm[0] != 0 && key_safe(norm) && strlen(norm) < outlen) {
		memcpy(out, norm, strlen(norm) + 1);
		return 0;
	}
	if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 16)
		return -1;
	out[0] = 'h';
	out[1] = ':';
	for (i = 0; i < 16; i++) {
		out[2 + 2 * i] = hex[md[i] >> 4];
		out[3 + 2 * i] = hex[md[i] & 15];
	}
	out[34] = 0;
	return 1;
}

/* put - append s to buf at *o, within PD_KEY_MAX; -1 when it does not fit */
static int
put(char *buf, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (n >= PD_KEY_MAX - *o)
		return -1;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return 0;
}

/* fmt_key - "PREFIX:{SUBJECT}:REST" into a plan key */
static int
fmt_key(char *buf, const char *prefix, const char *subject, const char *a,
    const char *b)
{
	size_t o = 0;

	buf[0] = 0;
	if (put(buf, &o, prefix) == -1 || put(buf, &o, ":{") == -1 ||
	    put(buf, &o, subject) == -1 || put(buf, &o, "}:") == -1 ||
	    put(buf, &o, a) == -1)
		return -1;
	if (b != NULL && (put(buf, &o, ":") == -1 || put(buf, &o, b) == -1))
		return -1;
	return 0;
}

/* config_max - the limit's max after a config override of the subject */
static long long
config_max(const struct pd_config *cfg, const struct pd_limit *lim,
    const char *subject)
{
	size_t i;

	for (i = 0; i < cfg->noverrides; i++)
		if (strcmp(cfg->overrides[i].limit, lim->name) == 0 &&
		    strcmp(cfg->overrides[i].identity, subject) == 0)
			return cfg->overrides[i].max;
	return lim->max;
}

/* pd_quota_keys - keys, window and TTL of one limit for one subject */
int
pd_quota_keys(const struct pd_config *cfg, const struct pd_limit *lim,
    const char *subject, long long now, struct pd_plan_item *it)
{
	const char *prefix = cfg->key_prefix ? cfg->key_prefix : "mt";
	struct pd_span sp;

	/* Not the two keys: 1 KB per item, and they are written below. */
	memset(&it->max, 0, sizeof *it - offsetof(struct pd_plan_item, max));
	it->limit = NULL;
	if (pd_window_span(lim, now, &sp) == -1 ||
	    fmt_key(it->key, prefix, subject, lim->name, sp.id) == -1 ||
	    fmt_key(it->ovr_key, prefix, subject, "ovr", NULL) == -1)
		return -1;
	it->limit = lim;
	it->max = config_max(cfg, lim, subject);
	it->ttl_s = sp.ttl_s;
	it->slot = sp.slot;
	it->nslots = sp.slot_s ? sp.nslots : 0;
	it->keep = sp.keep;
	it->resets_at = sp.slot_s ? 0 : sp.end;
	it->eff_max = it->max;
	return 0;
}

/* find_identity - the first non-empty configured attribute, normalized */
static int
find_identity(const struct pd_config *cfg, const struct pd_request *req,
    const struct known *kn, struct pd_quota *q)
{
	const char *v;
	size_t i;
	int r;

	for (i = 0; i < cfg->identity.n; i++) {
		v = known_get(req, kn, cfg->identity.v[i]);
		if (v == NULL || *v == 0 || strcmp(v, "<>") == 0)
			continue;
		r = pd_quota_identity(v, strlen(v), q->identity,
		    sizeof q->identity);
		if (r >= 0) {
			q->hashed = r;
			return 0;
		}
	}
	return -1;
}

/* exempt_identity - identity listed in exempt_identities (or @domain) */
static int
exempt_identity(const struct pd_config *cfg, const char *identity)
{
	const char *dom = cm_addr_domain(identity);
	const char *e;
	size_t i;

	for (i = 0; i < cfg->exempt_identities.n; i++) {
		e = cfg->exempt_identities.v[i];
		if (e[0] == '@' && dom != NULL && strcasecmp(e + 1, dom) == 0)
			return 1;
		if (strcmp(e, identity) == 0)
			return 1;
	}
	return 0;
}

/* limit_subject - what a limit counts for this request, or NULL: skip */
static const char *
limit_subject(const struct pd_limit *lim, const struct known *kn,
    const struct pd_quota *q, char *buf, size_t len)
{
	char norm[CM_ADDR_MAX + 1];
	const char *v, *why, *dom;

	if (lim->key == PD_KEY_IDENTITY)
		return q->identity;
	if (lim->key == PD_KEY_CLIENT) {
		v = kn->v[K_CLIENT_ADDRESS];
		if (v == NULL || *v == 0 || strlen(v) >= len ||
		    strspn(v, "0123456789abcdefABCDEF.:") != strlen(v))
			return NULL;
		memcpy(buf, v, strlen(v) + 1);
		return buf;
	}
	v = kn->v[K_SENDER];
	if (v == NULL || cm_addr_norm(v, strlen(v), norm, &why) == -1 ||
	    (dom = cm_addr_domain(norm)) == NULL || *dom == 0 ||
	    strlen(dom) >= len || !key_safe(dom))
		return NULL;
	memcpy(buf, dom, strlen(dom) + 1);
	return buf;
}

/* limit_cost - what one message costs a limit at END-OF-MESSAGE */
static long long
limit_cost(const struct pd_limit *lim, const struct pd_quota *q)
{
	if (lim->unit == PD_UNIT_RECIPIENTS)
		return q->rcpt_count;
	if (lim->unit == PD_UNIT_BYTES)
		return q->size;
	return 1;
}

/* build_plan - one plan item per limit that applies; 0 items: DUNNO */
static int
build_plan(const struct pd_config *cfg, const struct known *kn, long long now,
    struct pd_quota *q)
{
	const char *prefix = cfg->key_prefix ? cfg->key_prefix : "mt";
	struct pd_plan *p = &q->plan;
	char subj[CM_ADDR_MAX + 1];
	const char *s, *inst;
	size_t i;

	p->now = now;
	p->commit = q->state == PD_STATE_EOM;
	p->over = -1;
	for (i = 0; i < cfg->nlimits && p->n < PD_LIMITS_MAX; i++) {
		s = limit_subject(&cfg->limits[i], kn, q, subj, sizeof subj);
		if (s == NULL ||
		    pd_quota_keys(cfg, &cfg->limits[i], s, now,
			&p->item[p->n]) == -1)
			continue;
		p->item[p->n].cost = p->commit ? limit_cost(&cfg->limits[i], q)
					       : 1;
		p->n++;
	}
	inst = kn->v[K_INSTANCE];
	if (p->commit && inst != NULL && *inst != 0 && strlen(inst) <= 64 &&
	    key_safe(inst) &&
	    fmt_key(p->instance_key, prefix, q->identity, "i", inst) == 0)
		p->instance_ttl_s = PD_INSTANCE_TTL_S;
	else
		p->instance_key[0] = 0;
	return p->n > 0;
}

/* decided - a decision without the store */
static int
decided(struct pd_quota *q, const char *reason)
{
	q->reason = reason;
	q->action = q->would = PD_ACTION_DUNNO;
	copy_capped(q->reply, sizeof q->reply, "action=DUNNO");
	return 0;
}

/* pd_quota_prepare - read the request and build the plan (see .h) */
int
pd_quota_prepare(const struct pd_config *cfg, const struct pd_request *req,
    long long now, struct pd_quota *q)
{
	struct known kn;
	const char *st, *ip;

	/* All but the plan items (kilobytes of keys): build_plan() fills
	 * the first plan.n of them. */
	memset(q, 0, offsetof(struct pd_quota, plan.item));
	memset(&q->plan.dup, 0,
	    sizeof *q - offsetof(struct pd_quota, plan.dup));
	q->plan.over = -1;
	known_fill(req, &kn);
	st = kn.v[K_PROTOCOL_STATE];
	copy_capped(q->state_name, sizeof q->state_name, st);
	copy_capped(q->queue_id, sizeof q->queue_id, kn.v[K_QUEUE_ID]);
	ip = kn.v[K_CLIENT_ADDRESS];
	copy_capped(q->client_ip, sizeof q->client_ip, ip);
	copy_capped(q->sasl_user, sizeof q->sasl_user, kn.v[K_SASL_USERNAME]);
	copy_capped(q->sender, sizeof q->sender, kn.v[K_SENDER]);
	q->rcpt_count = parse_count(kn.v[K_RECIPIENT_COUNT], 1);
	if (q->rcpt_count < 1)
		q->rcpt_count = 1;
	q->size = parse_count(kn.v[K_SIZE], 0);
	if (st != NULL && strcasecmp(st, "RCPT") == 0)
		q->state = PD_STATE_RCPT;
	else if (st != NULL && strcasecmp(st, "END-OF-MESSAGE") == 0)
		q->state = PD_STATE_EOM;
	else
		return decided(q, "state");
	if (cfg->exempt_clients != NULL && ip != NULL && *ip != 0 &&
	    cm_cidr_match_str(cfg->exempt_clients, ip) == 1)
		return decided(q, "exempt-client");
	if (find_identity(cfg, req, &kn, q) == -1)
		return decided(q, "no-identity");
	if (exempt_identity(cfg, q->identity))
		return decided(q, "exempt-identity");
	if (!build_plan(cfg, &kn, now, q))
		return decided(q, "no-limits");
	return 1;
}

/* pd_action_name - the reply word of an action */
const char *
pd_action_name(int action)
{
	switch (action) {
	case PD_ACTION_DEFER_IF_PERMIT:
		return "DEFER_IF_PERMIT";
	case PD_ACTION_DEFER:
		return "DEFER";
	case PD_ACTION_REJECT:
		return "REJECT";
	default:
		return "DUNNO";
	}
}

/* put_str - append printable ASCII of s; 0, or -1 when full */
static int
put_str(char *out, size_t outlen, size_t *o, const char *s)
{
	for (; *s; s++) {
		if (*o + 1 >= outlen)
			return -1;
		out[(*o)++] = (unsigned char)*s < 0x20 ||
			(unsigned char)*s >= 0x7f
		    ? '?'
		    : *s;
	}
	return 0;
}

/*
 * pd_quota_expand - expand %{limit} %{used} %{max} %{window} %{identity}
 * in a reply template. Anything else is copied (an unknown %{x} too);
 * bytes outside printable ASCII become '?', so the reply stays one line.
 */
int
pd_quota_expand(const char *tmpl, const char *limit, long long used,
    long long max, const char *window, const char *identity, char *out,
    size_t outlen)
{
	static const char *const names[] = { "limit", "used", "max", "window",
		"identity" };
	char num[24], one[2] = { 0, 0 };
	const char *val, *end;
	size_t o = 0, i, n;

	if (outlen == 0)
		return -1;
	while (*tmpl) {
		val = NULL;
		if (tmpl[0] == '%' && tmpl[1] == '{' &&
		    (end = strchr(tmpl + 2, '}')) != NULL) {
			n = (size_t)(end - tmpl - 2);
			for (i = 0; i < 5; i++)
				if (strlen(names[i]) == n &&
				    memcmp(tmpl + 2, names[i], n) == 0)
					break;
			if (i < 5) {
				if (i == 1 || i == 2)
					snprintf(num, sizeof num, "%lld",
					    i == 1 ? used : max);
				val = i == 0 ? limit
				    : i == 3 ? window
				    : i == 4 ? identity
					     : num;
				tmpl = end + 1;
			}
		}
		if (val == NULL) {
			one[0] = *tmpl++;
			val = one;
		}
		if (put_str(out, outlen, &o, val) == -1) {
			out[o] = 0;
			return -1;
		}
	}
	out[o] = 0;
	return 0;
}

/* over_reply - the action and reply line of a refused request */
static void
over_reply(const struct pd_config *cfg, struct pd_quota *q)
{
	const struct pd_plan_item *it = &q->plan.item[q->plan.over];
	const struct pd_limit *lim = it->limit;
	const char *tmpl;
	char win[32], text[PD_REPLY_MAX + 1];
	int n;

	if (lim->action == PD_LIMIT_REJECT) {
		q->would = PD_ACTION_REJECT;
		tmpl = lim->reply ? lim->reply : cfg->reject_reply;
	} else {
		q->would = q->state == PD_STATE_RCPT ? PD_ACTION_DEFER_IF_PERMIT
						     : PD_ACTION_DEFER;
		tmpl = lim->reply ? lim->reply : cfg->defer_reply;
	}
	if (pd_window_format(lim, win, sizeof win) == -1)
		win[0] = 0;
	/* A reply cut at its bound is still a valid reply. */
	(void)pd_quota_expand(tmpl ? tmpl : "", lim->name, it->used,
	    it->eff_max, win, q->identity, text, sizeof text);
	n = snprintf(q->reply, sizeof q->reply, "action=%s%s%s",
	    pd_action_name(q->would), text[0] ? " " : "", text);
	if (n < 0)
		q->reply[0] = 0;
}

/* pd_quota_finish - the store answered: action, reply, reason */
void
pd_quota_finish(const struct pd_config *cfg, struct pd_quota *q, int status,
    const char *err)
{
	q->store_used = 1;
	q->would = PD_ACTION_DUNNO;
	copy_capped(q->reply, sizeof q->reply, "action=DUNNO");
	if (status != PD_STORE_OK) {
		copy_capped(q->store_error, sizeof q->store_error,
		    err ? err : "store error");
		q->reason = "store-error";
		if (cfg->on_store_error == PD_ON_STORE_ERROR_DEFER) {
			q->would = PD_ACTION_DEFER_IF_PERMIT;
			copy_capped(q->reply, sizeof q->reply,
			    "action=DEFER_IF_PERMIT 4.3.0 Quota service "
			    "temporarily unavailable");
		}
	} else if (q->plan.dup) {
		q->reason = "duplicate";
	} else if (q->plan.over >= 0 && (size_t)q->plan.over < q->plan.n) {
		q->reason = "over-limit";
		over_reply(cfg, q);
	} else
		q->reason = q->plan.committed ? "counted" : "within";
	q->action = q->would;
	if (cfg->mode == PD_MODE_MONITOR) {
		q->action = PD_ACTION_DUNNO;
		copy_capped(q->reply, sizeof q->reply, "action=DUNNO");
	}
}
