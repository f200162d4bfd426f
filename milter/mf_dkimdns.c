/*
 * NAME
 *	mf_dkimdns 3 - libopendkim's key lookups through mf_dns
 * SYNOPSIS
 *	#include <opendkim/dkim.h>
 *	#include "mf_dkim_int.h"
 *
 *	void mf_dkimdns_init(struct mf_dkim_lib *);
 *	void mf_dkimdns_fini(struct mf_dkim_lib *);
 * DESCRIPTION
 *	libopendkim takes a resolver as four hooks (dkim_dns_set_query_*):
 *	start, wait for the reply, cancel. mf_dns is synchronous with its
 *	own deadline, so start does the whole lookup and keeps its verdict;
 *	waitreply hands it over: the raw answer packet (libopendkim parses
 *	it), or DKIM_DNS_ERROR for a timeout or SERVFAIL, which libopendkim
 *	reports as DKIM_SIGERROR_KEYFAIL, our temperror. (Handing it a
 *	SERVFAIL packet would read as "no key", a permerror.) NXDOMAIN and
 *	NODATA packets are passed on; should libunbound give no packet, a
 *	minimal one with the right RCODE is made here.
 *
 *	Key answers (status OK) are also kept here, for the TTL libunbound
 *	reports (what is left of the record's TTL; 0 keeps nothing), in a
 *	small direct-mapped table shared by every thread. libunbound has the
 *	same answer in its cache, but reaching it from a worker thread costs
 *	three thread hand-offs (its background thread and our dispatcher);
 *	a hit here costs one mutex. No minimum TTL is applied.
 * DIAGNOSTICS
 *	start returns -1 when out of memory or the name is too long.
 * SECURITY
 *	The answer is untrusted and parsed by libopendkim, which bounds it
 *	by the length given; an answer longer than its buffer is an error.
 */
#include "config.h"

#include <sys/time.h>
#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "mf_checks.h"
#include "mf_dkim_int.h"

struct mf_dkimdns_q {
	int status; /* DKIM_DNS_* for waitreply */
	size_t bytes;
};

#define MF_DKIMDNS_SLOTS 256
#define MF_DKIMDNS_PKT_MAX 4096 /* larger answers are not kept */

struct mf_dkimdns_ent {
	char name[256]; /* "" when free */
	int type;
	time_t expires; /* CLOCK_MONOTONIC seconds */
	size_t len;
	unsigned char *pkt;
};

struct mf_dkimdns_cache {
	pthread_mutex_t lock;
	struct mf_dkimdns_ent ent[MF_DKIMDNS_SLOTS];
};

/* mf_dkimdns_now - monotonic seconds */
static time_t
mf_dkimdns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* mf_dkimdns_slot - the table entry of (name, type): FNV-1a */
static struct mf_dkimdns_ent *
mf_dkimdns_slot(struct mf_dkimdns_cache *c, const char *name, int type)
{
	unsigned h = 2166136261u ^ (unsigned)type;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return &c->ent[h % MF_DKIMDNS_SLOTS];
}

/* mf_dkimdns_get - a kept answer into buf; its length, or 0 */
static size_t
mf_dkimdns_get(struct mf_dkimdns_cache *c, const char *name, int type,
    unsigned char *buf, size_t buflen)
{
	struct mf_dkimdns_ent *e;
	size_t n = 0;

	if (c == NULL || strlen(name) >= sizeof(e->name))
		return 0;
	pthread_mutex_lock(&c->lock);
	e = mf_dkimdns_slot(c, name, type);
	if (e->type == type && strcmp(e->name, name) == 0 &&
	    e->expires > mf_dkimdns_now() && e->len <= buflen) {
		memcpy(buf, e->pkt, e->len);
		n = e->len;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* mf_dkimdns_put - keep an answer for ttl seconds (replaces its slot) */
static void
mf_dkimdns_put(struct mf_dkimdns_cache *c, const char *name, int type,
    const void *pkt, size_t len, int ttl)
{
	struct mf_dkimdns_ent *e;
	unsigned char *copy;

	if (c == NULL || ttl <= 0 || len == 0 || len > MF_DKIMDNS_PKT_MAX ||
	    strlen(name) >= sizeof(e->name) || (copy = malloc(len)) == NULL)
		return;
	memcpy(copy, pkt, len);
	pthread_mutex_lock(&c->lock);
	e = mf_dkimdns_slot(c, name, type);
	free(e->pkt);
	memcpy(e->name, name, strlen(name) + 1); /* length checked above */
	e->type = type;
	e->expires = mf_dkimdns_now() + ttl;
	e->pkt = copy;
	e->len = len;
	pthread_mutex_unlock(&c->lock);
}

/*
 * mf_dkimdns_packet - a minimal reply (header + question) for a lookup
 * that ended without one: rcode 3 for NXDOMAIN, 0 for NODATA.
 */
static long
mf_dkimdns_packet(const char *name, int type, int rcode, unsigned char *buf,
    size_t size)
{
	size_t o = 12, l;
	const char *p = name, *dot;

	if (size < 12 + 1 + 4)
		return -1;
	memset(buf, 0, 12);
	buf[2] = 0x81; /* QR, RD */
	buf[3] = 0x80 | (rcode & 0x0f); /* RA, RCODE */
	buf[5] = 1; /* QDCOUNT */
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || o + 1 + l + 5 > size) {
			o = 12; /* a name that cannot be: the root */
			break;
		}
		buf[o++] = (unsigned char)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	buf[o++] = (unsigned char)(type >> 8);
	buf[o++] = (unsigned char)type;
	buf[o++] = 0;
	buf[o++] = 1; /* IN */
	return (long)o;
}

/* mf_dkimdns_start - do the lookup now; keep the verdict in *qh */
static int
mf_dkimdns_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct mf_dkim_lib *lib = srv;
	struct mf_dkimdns_q *q;
	struct mf_dns_reply r;
	long n;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return -1;
	q->status = DKIM_DNS_SUCCESS;
	q->bytes = mf_dkimdns_get(lib->cache, (const char *)query, type, buf,
	    buflen);
	if (q->bytes > 0) {
		*qh = q;
		return 0;
	}
	mf_dns_lookup(lib->dns, (const char *)query, type, &r);
	if (r.status == MF_DNS_OK && r.packet != NULL)
		mf_dkimdns_put(lib->cache, (const char *)query, type, r.packet,
		    r.packet_len, r.ttl);
	if (r.status == MF_DNS_TEMPFAIL) {
		q->status = DKIM_DNS_ERROR;
	} else if (r.packet != NULL && r.packet_len > 0) {
		if (r.packet_len > buflen)
			q->status = DKIM_DNS_ERROR;
		else {
			memcpy(buf, r.packet, r.packet_len);
			q->bytes = r.packet_len;
		}
	} else if (r.status == MF_DNS_OK) {
		q->status = DKIM_DNS_ERROR;
	} else {
		n = mf_dkimdns_packet((const char *)query, type,
		    r.status == MF_DNS_NXDOMAIN ? 3 : 0, buf, buflen);
		if (n < 0)
			q->status = DKIM_DNS_ERROR;
		else
			q->bytes = (size_t)n;
	}
	mf_dns_reply_free(&r);
	*qh = q;
	return 0;
}

/* mf_dkimdns_wait - hand over the verdict kept by start */
static int
mf_dkimdns_wait(void *srv, void *qh, struct timeval *to, size_t *bytes,
    int *error, int *dnssec)
{
	struct mf_dkimdns_q *q = qh;

	(void)srv;
	(void)to;
	if (error)
		*error = 0;
	if (dnssec)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (bytes)
		*bytes = q->bytes;
	return q->status;
}

/* mf_dkimdns_cancel - release the query */
static int
mf_dkimdns_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return 0;
}

/* mf_dkimdns_close - the service is ours: libopendkim must not res_nclose it */
static void
mf_dkimdns_close(void *srv)
{
	(void)srv;
}

/* mf_dkimdns_conf - nslist/config/trustanchor: mf_dns is configured already */
static int
mf_dkimdns_conf(void *srv, const char *arg)
{
	(void)srv;
	(void)arg;
	return 0;
}

/* mf_dkimdns_init - route libopendkim's lookups to lib->dns */
void
mf_dkimdns_init(struct mf_dkim_lib *lib)
{
	/* Without the table (out of memory) every lookup goes to mf_dns. */
	if ((lib->cache = calloc(1, sizeof *lib->cache)) != NULL &&
	    pthread_mutex_init(&lib->cache->lock, NULL) != 0) {
		free(lib->cache);
		lib->cache = NULL;
	}
	dkim_dns_set_close(lib->lib, mf_dkimdns_close);
	dkim_dns_set_nslist(lib->lib, mf_dkimdns_conf);
	dkim_dns_set_config(lib->lib, mf_dkimdns_conf);
	dkim_dns_set_trustanchor(lib->lib, mf_dkimdns_conf);
	dkim_dns_set_query_service(lib->lib, lib);
	dkim_dns_set_query_start(lib->lib, mf_dkimdns_start);
	dkim_dns_set_query_waitreply(lib->lib, mf_dkimdns_wait);
	dkim_dns_set_query_cancel(lib->lib, mf_dkimdns_cancel);
}

/* mf_dkimdns_fini - free the kept answers */
void
mf_dkimdns_fini(struct mf_dkim_lib *lib)
{
	size_t i;

	if (lib->cache == NULL)
		return;
	for (i = 0; i < MF_DKIMDNS_SLOTS; i++)
		free(lib->cache->ent[i].pkt);
	pthread_mutex_destroy(&lib->cache->lock);
	free(lib->cache);
	lib->cache = NULL;
}
