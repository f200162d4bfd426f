/*
 * NAME
 *	mf_dns 3 - the one resolver of SPF and DKIM (libunbound)
 * SYNOPSIS
 *	#include "mf_checks.h"
 *
 *	struct mf_dns *mf_dns_new(const char *const *nameservers, size_t n,
 *	    long long timeout_ms, const char **why);
 *	void mf_dns_free(struct mf_dns *);
 *	int mf_dns_lookup(struct mf_dns *, const char *name, int rrtype,
 *	    struct mf_dns_reply *out);
 *	void mf_dns_reply_free(struct mf_dns_reply *);
 *	long long mf_dns_timeout_ms(const struct mf_dns *);
 * DESCRIPTION
 *	One libunbound context, shared by every thread, with its cache.
 *	Each name server is "IP" or "IP@PORT" and is used as a forwarder
 *	(ub_ctx_set_fwd); with none, /etc/resolv.conf is read.
 *
 *	libunbound has no per-query timeout: a forwarder that never
 *	answers keeps ub_resolve() busy for a long time. So every lookup
 *	is asynchronous (ub_resolve_async in libunbound's threaded mode),
 *	and the caller waits on its own condition variable until the
 *	answer or its deadline, whichever comes first. One dispatcher
 *	thread, started at the first lookup (so a daemon may fork after
 *	mf_dns_new()), polls ub_fd() and runs ub_process(), which calls
 *	the answer callback. A caller that gives up marks its query
 *	abandoned and cancels it; if the answer was already on its way,
 *	the callback frees the query instead (see mf_dns_gone()).
 *
 *	Results are tri-state and then some: MF_DNS_OK (records in out),
 *	MF_DNS_NXDOMAIN, MF_DNS_NODATA, or MF_DNS_TEMPFAIL for a timeout,
 *	SERVFAIL, REFUSED or any resolver trouble. A temporary failure is
 *	never reported as "no record". A name that cannot exist (over 253
 *	bytes, an empty or 64-byte label) is NXDOMAIN without a query.
 * DIAGNOSTICS
 *	mf_dns_new() returns NULL with *why. mf_dns_lookup() returns the
 *	status it also stores in out->status; out->why names the cause of
 *	a TEMPFAIL ("timeout", "servfail", ...).
 * SECURITY
 *	Answers come from the network. The records are handed out with
 *	their lengths; helpers in mf_dnsutil.c decode them with bounds.
 * SEE ALSO
 *	libunbound(3), mf_spf(3), mf_dkim(3)
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "mf_checks.h"

struct mf_dns {
	struct ub_ctx *ctx;
	long long timeout_ms;
	pthread_mutex_t lock; /* queries' state, started */
	int started;
	pthread_t thread;
	int wake[2]; /* tells the dispatcher to stop */
};

/* One outstanding lookup; lives on the heap, see mf_dns_gone(). */
struct mf_dns_query {
	struct mf_dns *dns;
	pthread_cond_t cond;
	int done;
	int abandoned;
	int err;
	struct ub_result *res;
};

/*
 * mf_dns_forward_all - with configured name servers, let them answer
 * everything. libunbound otherwise answers some names itself with
 * NXDOMAIN: the AS112 reverse zones of private networks (so a PTR of
 * 192.168.x.y never reaches the site's own resolver), the documentation
 * prefix 2001:db8::/32 and the special-use names test., invalid.,
 * home.arpa. localhost stays local.
 */
static int
mf_dns_forward_all(struct ub_ctx *ctx)
{
	static const char *const zones[] = { "test. nodefault",
		"invalid. nodefault", "home.arpa. nodefault",
		"8.b.d.0.1.0.0.2.ip6.arpa. nodefault" };
	size_t i;

	if (ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes") != 0 ||
	    ub_ctx_set_option(ctx, "insecure-lan-zones:", "yes") != 0)
		return -1;
	for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		if (ub_ctx_set_option(ctx, "local-zone:", zones[i]) != 0)
			return -1;
	}
	return 0;
}

/* mf_dns_new - make the shared resolver */
struct mf_dns *
mf_dns_new(const char *const *nameservers, size_t n, long long timeout_ms,
    const char **why)
{
	struct mf_dns *dns;
	size_t i;
	int r;

	if ((dns = calloc(1, sizeof *dns)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	dns->wake[0] = dns->wake[1] = -1;
	dns->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	if ((dns->ctx = ub_ctx_create()) == NULL) {
		*why = "cannot create the libunbound context";
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((r = ub_ctx_set_fwd(dns->ctx, nameservers[i])) != 0) {
			*why = "bad name server address (IP or IP@PORT)";
			goto fail;
		}
	}
	if (n > 0 && mf_dns_forward_all(dns->ctx) != 0) {
		*why = "cannot set libunbound options";
		goto fail;
	}
	if (n == 0 && (r = ub_ctx_resolvconf(dns->ctx, NULL)) != 0) {
		*why = "cannot read /etc/resolv.conf";
		goto fail;
	}
	/*
	 * Records in the order the server gave them: libunbound rotates
	 * RRsets by default, which makes an SPF verdict that depends on
	 * the order of PTR names (only the first 10 count, RFC 7208 4.6.4)
	 * change from one lookup to the next.
	 */
	if (ub_ctx_set_option(dns->ctx, "rrset-roundrobin:", "no") != 0) {
		*why = "cannot set libunbound options";
		goto fail;
	}
	/* Threads, not a forked worker: the milter is multi-threaded. */
	if (ub_ctx_async(dns->ctx, 1) != 0) {
		*why = "cannot set libunbound's threaded mode";
		goto fail;
	}
	if (pipe(dns->wake) != 0) {
		*why = "pipe failed";
		goto fail;
	}
	if (pthread_mutex_init(&dns->lock, NULL) != 0) {
		*why = "mutex init failed";
		goto fail;
	}
	return dns;
fail:
	if (dns->wake[0] >= 0) {
		close(dns->wake[0]);
		close(dns->wake[1]);
	}
	if (dns->ctx)
		ub_ctx_delete(dns->ctx);
	free(dns);
	return NULL;
}

/* mf_dns_free - stop the dispatcher, drop the context */
void
mf_dns_free(struct mf_dns *dns)
{
	char c = 'q';

	if (dns == NULL)
		return;
	if (dns->started) {
		while (write(dns->wake[1], &c, 1) < 0 && errno == EINTR)
			;
		pthread_join(dns->thread, NULL);
	}
	close(dns->wake[0]);
	close(dns->wake[1]);
	ub_ctx_delete(dns->ctx);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

/* mf_dns_timeout_ms - the deadline of one lookup */
long long
mf_dns_timeout_ms(const struct mf_dns *dns)
{
	return dns->timeout_ms;
}

/* mf_dns_dispatch - the thread that runs libunbound's callbacks */
static void *
mf_dns_dispatch(void *arg)
{
	struct mf_dns *dns = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(dns->ctx);
	pfd[0].events = POLLIN;
	pfd[1].fd = dns->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents && ub_process(dns->ctx) != 0)
			usleep(1000); /* pipe trouble: do not spin */
	}
	return NULL;
}

/* mf_dns_start - start the dispatcher once, after any fork */
static int
mf_dns_start(struct mf_dns *dns)
{
	int r = 0;

	pthread_mutex_lock(&dns->lock);
	if (!dns->started) {
		/* ub_fd() is valid only after async mode is final. */
		if (ub_fd(dns->ctx) < 0 ||
		    pthread_create(&dns->thread, NULL, mf_dns_dispatch, dns) !=
			0)
			r = -1;
		else
			dns->started = 1;
	}
	pthread_mutex_unlock(&dns->lock);
	return r;
}

/* mf_dns_query_free - release a query and its result */
static void
mf_dns_query_free(struct mf_dns_query *q)
{
	pthread_cond_destroy(&q->cond);
	if (q->res)
		ub_resolve_free(q->res);
	free(q);
}

/*
 * mf_dns_gone - libunbound's answer callback. If the waiter gave up
 * (abandoned), nobody else will free the query, so do it here.
 */
static void
mf_dns_gone(void *arg, int err, struct ub_result *res)
{
	struct mf_dns_query *q = arg;
	struct mf_dns *dns = q->dns;

	pthread_mutex_lock(&dns->lock);
	q->err = err;
	q->res = res;
	q->done = 1;
	if (q->abandoned) {
		pthread_mutex_unlock(&dns->lock);
		mf_dns_query_free(q);
		return;
	}
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&dns->lock);
}

/* mf_dns_deadline - now + ms on CLOCK_MONOTONIC */
static void
mf_dns_deadline(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* mf_dns_classify - fill out from a finished query */
static int
mf_dns_classify(int err, struct ub_result *res, struct mf_dns_reply *out)
{
	if (err != 0 || res == NULL) {
		out->why = "resolver error";
		return out->status = MF_DNS_TEMPFAIL;
	}
	out->rcode = res->rcode;
	out->why = NULL;
	if (res->rcode == 3) {
		out->status = MF_DNS_NXDOMAIN;
	} else if (res->rcode != 0) {
		out->why = res->rcode == 2 ? "servfail" : "refused";
		out->status = MF_DNS_TEMPFAIL;
	} else if (!res->havedata) {
		out->status = MF_DNS_NODATA;
	} else {
		out->status = MF_DNS_OK;
		for (out->n = 0; res->data[out->n] != NULL; out->n++)
			;
		out->data = (const unsigned char *const *)res->data;
		out->len = res->len;
	}
	out->packet = res->answer_packet;
	out->packet_len = res->answer_len > 0 ? (size_t)res->answer_len : 0;
	out->ttl = res->ttl > 0 ? res->ttl : 0;
	out->res = res;
	return out->status;
}

/* mf_dns_wait - wait for q until the deadline; 0 when answered */
static int
mf_dns_wait(struct mf_dns *dns, struct mf_dns_query *q, int id)
{
	struct timespec ts;
	int answered;

	mf_dns_deadline(&ts, dns->timeout_ms);
	pthread_mutex_lock(&dns->lock);
	while (!q->done) {
		if (pthread_cond_timedwait(&q->cond, &dns->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	answered = q->done;
	if (!answered)
		q->abandoned = 1;
	pthread_mutex_unlock(&dns->lock);
	if (answered)
		return 0;
	/*
	 * A successful cancel means the callback will never run: the query
	 * is ours to free. Otherwise the callback is running or about to,
	 * and it frees the query because it is marked abandoned.
	 */
	if (ub_cancel(dns->ctx, id) == UB_NOERROR)
		mf_dns_query_free(q);
	return -1;
}

/*
 * mf_dns_name_ok - can 'name' exist at all? (253 bytes, labels of 1 to
 * 63; a final dot allowed). libunbound refuses the others with an
 * error, which must not read as a temporary failure: a DKIM d= or an
 * SPF macro made of garbage is "no such name".
 */
static int
mf_dns_name_ok(const char *name)
{
	size_t len = strlen(name), i, lab = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (lab == 0 || lab > 63)
				return 0;
			lab = 0;
		} else {
			lab++;
		}
	}
	return 1;
}

/*
 * mf_dns_lookup - one lookup of 'name' (text form), 'rrtype' (1 A,
 * 12 PTR, 15 MX, 16 TXT, 28 AAAA, ...) class IN, bounded by the
 * resolver's timeout. The caller releases out with mf_dns_reply_free()
 * whatever the status.
 */
int
mf_dns_lookup(struct mf_dns *dns, const char *name, int rrtype,
    struct mf_dns_reply *out)
{
	struct mf_dns_query *q;
	pthread_condattr_t ca;
	int id, err;

	memset(out, 0, sizeof *out);
	if (!mf_dns_name_ok(name)) {
		out->rcode = 3;
		return out->status = MF_DNS_NXDOMAIN;
	}
	out->status = MF_DNS_TEMPFAIL;
	out->why = "resolver error";
	if (mf_dns_start(dns) != 0)
		return out->status;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return out->status;
	q->dns = dns;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	err = pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (err != 0) {
		free(q);
		return out->status;
	}
	if (ub_resolve_async(dns->ctx, name, rrtype, 1, q, mf_dns_gone, &id) !=
	    0) {
		mf_dns_query_free(q);
		return out->status;
	}
	if (mf_dns_wait(dns, q, id) != 0) {
		out->why = "timeout";
		return out->status;
	}
	err = q->err;
	mf_dns_classify(err, q->res, out);
	q->res = NULL; /* now owned by out */
	mf_dns_query_free(q);
	return out->status;
}

/* mf_dns_reply_free - release what mf_dns_lookup() stored */
void
mf_dns_reply_free(struct mf_dns_reply *r)
{
	if (r == NULL)
		return;
	if (r->res)
		ub_resolve_free(r->res);
	memset(r, 0, sizeof *r);
}

/*
 * mf_dns_txt - join the character-strings of TXT record i into buf
 * (RFC 7208 3.3, RFC 6376 3.6.2.2: no separator). Returns the length,
 * which may include NUL bytes, or -1 when the record is malformed or
 * does not fit; buf is NUL-terminated either way.
 */
long
mf_dns_txt(const struct mf_dns_reply *r, size_t i, char *buf, size_t size)
{
	const unsigned char *p, *end;
	size_t o = 0, l;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (i >= r->n || r->len[i] < 0)
		return -1;
	p = r->data[i];
	end = p + r->len[i];
	while (p < end) {
		l = *p++;
		if (l > (size_t)(end - p) || o + l >= size)
			return -1;
		memcpy(buf + o, p, l);
		o += l;
		p += l;
	}
	buf[o] = '\0';
	return (long)o;
}

/*
 * mf_dns_name - decode an uncompressed wire-format name at rdata[off]
 * into dotted text without the final dot. libunbound hands rdata out
 * decompressed. Returns the offset after the name, or -1.
 */
long
mf_dns_name(const unsigned char *rdata, size_t len, size_t off, char *buf,
    size_t size)
{
	size_t o = 0, l;

	if (size == 0)
		return -1;
	for (;;) {
		if (off >= len)
			return -1;
		l = rdata[off++];
		if (l == 0)
			break;
		if (l > 63 || l > len - off || o + l + 2 > size)
			return -1;
		if (o > 0)
			buf[o++] = '.';
		memcpy(buf + o, rdata + off, l);
		o += l;
		off += l;
	}
	buf[o] = '\0';
	return (long)off;
}
