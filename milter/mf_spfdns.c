/*
 * NAME
 *	mf_spfdns 3 - libspf2's DNS layer on top of mf_dns
 * SYNOPSIS
 *	#include "mf_spf_int.h"
 *
 *	void mf_spfdns_init(SPF_dns_server_t *layer, struct mf_dns *dns);
 *	void mf_spfdns_begin(struct mf_spfdns_state *, long long budget_ms);
 *	void mf_spfdns_end(void);
 * DESCRIPTION
 *	libspf2 reads /etc/resolv.conf and has no way to name a server,
 *	so its lookups are routed here: a SPF_dns_server_t whose lookup()
 *	asks mf_dns and whose get_spf() selects and compiles the record
 *	itself (TXT only, RFC 7208 4.5; exactly one "v=spf1" record, else
 *	permerror; bytes outside printable ASCII are a permerror; see
 *	mf_spflint.c for the syntax checks libspf2 lacks).
 *
 *	A lookup's verdict maps to libspf2's h_errno words: OK to
 *	NETDB_SUCCESS, NXDOMAIN to HOST_NOT_FOUND, NODATA to NO_DATA and
 *	a timeout or SERVFAIL to TRY_AGAIN, which libspf2 turns into
 *	temperror.
 *
 *	Per-request state is thread-local: the SPF_server_t and this layer
 *	are shared by every thread, and libspf2 evaluates a request
 *	synchronously in the caller's thread. It counts what RFC 7208
 *	4.6.4 limits and libspf2 does not (across includes): void lookups
 *	(2), DNS terms (10: include/redirect fetches, MX and PTR lookups,
 *	other address lookups; the address lookups an MX or PTR answer
 *	owes are not terms), MX records (10). Going over is answered
 *	TRY_AGAIN, which stops the evaluation, and flags the request;
 *	mf_spf turns its result into permerror. Address lookups of PTR
 *	names that fail are skipped (5.5) and are not void lookups. The
 *	evaluation as a whole has a time budget; past it, lookups fail.
 *
 *	An a/mx name carrying the MF_SPF_CIDR0 marker (mf_spflint: prefix
 *	length 0) is looked up without it; an address answer becomes the
 *	client's own address, an MX answer passes the marker on.
 *	MX and PTR names are lower-cased; a null MX is no exchange. A PTR
 *	answer is cut to its first 10 names (4.6.4: the rest are ignored;
 *	libspf2 would make more of them an error).
 * DIAGNOSTICS
 *	lookup() returns NULL only when out of memory, as libspf2 allows.
 * SECURITY
 *	Records come from the network; they are decoded with bounds in
 *	mf_dns_txt() and mf_dns_name() and passed to libspf2 as strings.
 * SEE ALSO
 *	mf_spf(3), mf_dns(3)
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "cm_util.h"
#include "mf_checks.h"
#include "mf_spf_int.h"

#define MF_SPF_VOID_MAX 2
#define MF_SPF_TXT_MAX 4096
#define MF_SPF_TERMS_MAX 10
#define MF_SPF_MX_MAX 10
#define MF_SPF_PTR_MAX 10

static __thread struct mf_spfdns_state *mf_spfdns_cur;

/*
 * mf_spfdns_begin - attach per-request state to this thread. budget_ms
 * bounds the whole evaluation (RFC 7208 4.6.4: "SHOULD impose a limit
 * on the maximum amount of elapsed time"): a server that answers each
 * query just before the timeout could otherwise hold a check for 100
 * lookups. Past it, every lookup is a temporary failure.
 */
void
mf_spfdns_begin(struct mf_spfdns_state *st, long long budget_ms)
{
	memset(st, 0, sizeof *st);
	if (budget_ms > 0)
		st->deadline_ms = cm_mono_ms() + (uint64_t)budget_ms;
	mf_spfdns_cur = st;
}

/* mf_spfdns_late - the evaluation's time is up */
static int
mf_spfdns_late(void)
{
	struct mf_spfdns_state *st = mf_spfdns_cur;

	return st != NULL && st->deadline_ms != 0 &&
	    cm_mono_ms() >= st->deadline_ms;
}

/* mf_spfdns_end - detach it */
void
mf_spfdns_end(void)
{
	mf_spfdns_cur = NULL;
}

/* mf_spfdns_herrno - mf_dns status to libspf2's word */
static int
mf_spfdns_herrno(int status)
{
	switch (status) {
	case MF_DNS_OK:
		return NETDB_SUCCESS;
	case MF_DNS_NXDOMAIN:
		return HOST_NOT_FOUND;
	case MF_DNS_NODATA:
		return NO_DATA;
	default:
		return TRY_AGAIN;
	}
}

/* mf_spfdns_fill - copy record i of r into rr->rr[cnt]; 0 when stored */
static int
mf_spfdns_fill(SPF_dns_rr_t *rr, int cnt, const struct mf_dns_reply *r,
    size_t i, ns_type type, const char *suffix)
{
	char buf[MF_SPF_TXT_MAX];
	const unsigned char *d = r->data[i];
	size_t len = (size_t)r->len[i], k;
	long n;

	switch (type) {
	case ns_t_a:
		if (len != 4 || SPF_dns_rr_buf_realloc(rr, cnt, 4) != 0)
			return -1;
		memcpy(&rr->rr[cnt]->a, d, 4);
		return 0;
	case ns_t_aaaa:
		if (len != 16 || SPF_dns_rr_buf_realloc(rr, cnt, 16) != 0)
			return -1;
		memcpy(&rr->rr[cnt]->aaaa, d, 16);
		return 0;
	case ns_t_mx:
	case ns_t_ptr:
		n = mf_dns_name(d, len, type == ns_t_mx ? 2 : 0, buf,
		    sizeof buf - strlen(suffix));
		if (n <= 0 || buf[0] == '\0')
			return -1; /* "." is a null MX (RFC 7505) */
		for (k = 0; buf[k] != '\0'; k++)
			buf[k] = (char)tolower((unsigned char)buf[k]);
		memcpy(buf + k, suffix, strlen(suffix) + 1);
		n = (long)strlen(buf);
		break;
	case ns_t_txt:
		n = mf_dns_txt(r, i, buf, sizeof buf);
		break;
	default:
		return -1;
	}
	if (n < 0)
		return -1;
	if (SPF_dns_rr_buf_realloc(rr, cnt, (size_t)n + 1) != 0)
		return -1;
	memcpy(rr->rr[cnt]->txt, buf, (size_t)n + 1);
	return 0;
}

/* mf_spfdns_count_void - RFC 7208 4.6.4; nonzero when over the limit */
static int
mf_spfdns_count_void(void)
{
	struct mf_spfdns_state *st = mf_spfdns_cur;

	if (st == NULL)
		return 0;
	if (++st->voids > MF_SPF_VOID_MAX) {
		st->void_exceeded = 1;
		return 1;
	}
	return 0;
}

/*
 * mf_spfdns_count_term - RFC 7208 4.6.4's 10 DNS terms, across includes
 * (libspf2 counts per record only). An MX or PTR lookup (ptr or %{p})
 * is a term that owes up to 10 address lookups; any other address
 * lookup is a term (a, exists). *ptr_follow tells an address lookup of
 * a PTR name: its failure is skipped (RFC 7208 5.5) and it is no void
 * lookup. Nonzero when over the limit.
 */
static int
mf_spfdns_count_term(ns_type type, int *ptr_follow)
{
	struct mf_spfdns_state *st = mf_spfdns_cur;

	*ptr_follow = 0;
	if (st == NULL || type == ns_t_txt)
		return 0;
	if ((type == ns_t_a || type == ns_t_aaaa) && st->follow > 0) {
		st->follow--;
		*ptr_follow = st->follow_ptr;
		return 0;
	}
	if (++st->terms > MF_SPF_TERMS_MAX) {
		st->limit_exceeded = 1;
		return 1;
	}
	return 0;
}

/* mf_spfdns_owe - an MX or PTR answer owes this many address lookups */
static void
mf_spfdns_owe(ns_type type, int n)
{
	if (mf_spfdns_cur && (type == ns_t_mx || type == ns_t_ptr)) {
		mf_spfdns_cur->follow = n > MF_SPF_MX_MAX ? MF_SPF_MX_MAX : n;
		mf_spfdns_cur->follow_ptr = type == ns_t_ptr;
	}
}

/*
 * mf_spfdns_cidr0 - a name carrying the MF_SPF_CIDR0 marker: an address
 * lookup answers the client's own address when the real name has any
 * address (prefix length 0 matches everything); an MX lookup passes
 * the marker on to the exchanges.
 */
static void
mf_spfdns_cidr0(SPF_dns_rr_t *rr, ns_type type)
{
	struct mf_spfdns_state *st = mf_spfdns_cur;
	size_t n = type == ns_t_a ? 4 : 16;

	if (st == NULL || rr->herrno != NETDB_SUCCESS || rr->num_rr == 0 ||
	    (type != ns_t_a && type != ns_t_aaaa) ||
	    (type == ns_t_aaaa) != st->client_v6)
		return;
	memcpy(type == ns_t_a ? (void *)&rr->rr[0]->a
			      : (void *)&rr->rr[0]->aaaa,
	    st->client, n);
	rr->num_rr = 1;
}

/*
 * mf_spfdns_lookup - libspf2's lookup(): ask mf_dns, build the rr set.
 * should_cache is ignored: libunbound caches. A name that cannot exist
 * (too long, empty label) is NXDOMAIN (mf_dns_lookup).
 */
static SPF_dns_rr_t *
mf_spfdns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct mf_dns_reply r;
	SPF_dns_rr_t *rr;
	char name[MF_SPF_TXT_MAX];
	size_t i, len = strlen(domain), ml = strlen(MF_SPF_CIDR0);
	int cnt = 0, herrno, mark = 0, ptr_follow;

	(void)should_cache;
	if (len < sizeof name && len > ml &&
	    strcasecmp(domain + len - ml, MF_SPF_CIDR0) == 0) {
		len -= ml;
		mark = 1;
	}
	memcpy(name, domain, len < sizeof name ? len : 0);
	name[len < sizeof name ? len : 0] = '\0';
	if (mf_spfdns_count_term(type, &ptr_follow) || mf_spfdns_late()) {
		memset(&r, 0, sizeof r);
		r.status = MF_DNS_TEMPFAIL;
	} else {
		mf_dns_lookup(layer->hook, name, (int)type, &r);
	}
	if (r.status == MF_DNS_OK && type == ns_t_mx && r.n > MF_SPF_MX_MAX &&
	    mf_spfdns_cur) {
		mf_spfdns_cur->limit_exceeded = 1;
		mf_dns_reply_free(&r);
		r.status = MF_DNS_TEMPFAIL;
	}
	/* RFC 7208 5.5: a failed address lookup of a PTR name is skipped */
	if (ptr_follow && r.status == MF_DNS_TEMPFAIL) {
		mf_dns_reply_free(&r);
		r.status = MF_DNS_NXDOMAIN;
	}
	herrno = mf_spfdns_herrno(r.status);
	if (r.status == MF_DNS_TEMPFAIL && mf_spfdns_cur)
		mf_spfdns_cur->temp = 1;
	if ((rr = SPF_dns_rr_new_init(layer, domain, type, 0, herrno)) ==
	    NULL) {
		mf_dns_reply_free(&r);
		return NULL;
	}
	/* RFC 7208 4.6.4: PTR names past the tenth are ignored */
	for (i = 0; r.status == MF_DNS_OK && i < r.n &&
	     !(type == ns_t_ptr && cnt >= MF_SPF_PTR_MAX);
	     i++) {
		if (mf_spfdns_fill(rr, cnt, &r, i, type,
			mark && type == ns_t_mx ? MF_SPF_CIDR0 : "") == 0)
			cnt++;
	}
	rr->num_rr = cnt;
	if (r.status == MF_DNS_OK && cnt == 0)
		rr->herrno = NO_DATA;
	mf_spfdns_owe(type, cnt);
	if ((rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA) &&
	    !ptr_follow && mf_spfdns_count_void())
		rr->herrno = TRY_AGAIN;
	if (mark)
		mf_spfdns_cidr0(rr, type);
	mf_dns_reply_free(&r);
	return rr;
}

/* mf_spfdns_done - set the response's result and return err */
static SPF_errcode_t
mf_spfdns_done(SPF_response_t *resp, SPF_result_t result, SPF_errcode_t err,
    const char *fmt, const char *domain)
{
	resp->result = result;
	resp->reason = SPF_REASON_FAILURE;
	return SPF_response_add_error(resp, err, fmt, domain);
}

/* mf_spfdns_is_spf - "v=spf1" then a space or the end */
static int
mf_spfdns_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

/* mf_spfdns_select - the one SPF record of r into buf; count returned */
static int
mf_spfdns_select(const struct mf_dns_reply *r, char *buf, size_t size,
    long *lenp)
{
	char tmp[MF_SPF_TXT_MAX];
	size_t i;
	long n;
	int found = 0;

	for (i = 0; i < r->n; i++) {
		if ((n = mf_dns_txt(r, i, tmp, sizeof tmp)) < 0)
			continue;
		if (!mf_spfdns_is_spf(tmp, (size_t)n))
			continue;
		if (found++ == 0) {
			memcpy(buf, tmp,
			    (size_t)n + 1 <= size ? (size_t)n + 1 : 0);
			*lenp = (size_t)n + 1 <= size ? n : -1;
		}
	}
	return found;
}

/*
 * mf_spfdns_fetch - the TXT records of dom: how many are SPF records
 * (the one found in txt, its length in *len), or -1 on a temporary
 * failure (also past the check's time budget).
 */
static int
mf_spfdns_fetch(SPF_server_t *srv, const char *dom, char *txt, size_t size,
    long *len)
{
	struct mf_dns_reply r;
	int found;

	if (mf_spfdns_late()) {
		memset(&r, 0, sizeof r);
		r.status = MF_DNS_TEMPFAIL;
	} else {
		mf_dns_lookup(srv->resolver->hook, dom, ns_t_txt, &r);
	}
	if (r.status == MF_DNS_TEMPFAIL) {
		mf_dns_reply_free(&r);
		if (mf_spfdns_cur)
			mf_spfdns_cur->temp = 1;
		return -1;
	}
	found = r.status == MF_DNS_OK ? mf_spfdns_select(&r, txt, size, len)
				      : 0;
	mf_dns_reply_free(&r);
	return found;
}

/*
 * mf_spfdns_get_spf - libspf2's get_spf(): find, check and compile the
 * SPF record of spf_request->cur_dom. At the top, the result set here
 * is the final one; under include/redirect, SPF_E_DNS_ERROR means
 * temperror and any other error permerror.
 */
static SPF_errcode_t
mf_spfdns_get_spf(SPF_server_t *srv, SPF_request_t *req, SPF_response_t *resp,
    SPF_record_t **recp)
{
	char txt[MF_SPF_TXT_MAX], rec[2 * MF_SPF_TXT_MAX];
	const char *dom = req->cur_dom;
	long len = -1;
	int found;
	SPF_errcode_t err;

	*recp = NULL;
	if (dom == NULL || mf_spflint_domain(dom, strlen(dom)) != 0)
		return mf_spfdns_done(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF,
		    "Bad domain '%s'", dom ? dom : "");
	if (mf_spfdns_cur && mf_spfdns_cur->started++ > 0 &&
	    ++mf_spfdns_cur->terms > MF_SPF_TERMS_MAX) {
		mf_spfdns_cur->limit_exceeded = 1;
		return mf_spfdns_done(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS,
		    "Too many DNS terms at '%s'", dom);
	}
	if ((found = mf_spfdns_fetch(srv, dom, txt, sizeof txt, &len)) < 0)
		return mf_spfdns_done(resp, SPF_RESULT_TEMPERROR,
		    SPF_E_DNS_ERROR, "Temporary DNS failure for '%s'", dom);
	if (found == 0)
		return mf_spfdns_done(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF,
		    "No SPF record for '%s'", dom);
	if (found > 1)
		return mf_spfdns_done(resp, SPF_RESULT_PERMERROR,
		    SPF_E_MULTIPLE_RECORDS, "Multiple SPF records for '%s'",
		    dom);
	if (len < 0 ||
	    mf_spflint_record(txt, (size_t)len, req->client_ver == AF_INET6,
		rec, sizeof rec) != 0) {
		if (mf_spfdns_cur)
			mf_spfdns_cur->syntax = 1;
		return mf_spfdns_done(resp, SPF_RESULT_PERMERROR, SPF_E_SYNTAX,
		    "Bad SPF record for '%s'", dom);
	}
	err = SPF_record_compile(srv, resp, recp, rec);
	if (err != SPF_E_SUCCESS) {
		if (*recp) {
			SPF_record_free(*recp);
			*recp = NULL;
		}
		if (mf_spfdns_cur)
			mf_spfdns_cur->syntax = 1;
		return mf_spfdns_done(resp, SPF_RESULT_PERMERROR, err,
		    "Failed to compile SPF record for '%s'", dom);
	}
	return SPF_E_SUCCESS;
}

/* mf_spfdns_init - fill a DNS layer that routes to dns */
void
mf_spfdns_init(SPF_dns_server_t *layer, struct mf_dns *dns)
{
	memset(layer, 0, sizeof *layer);
	layer->destroy = NULL; /* ours: SPF_server_free leaves it */
	layer->lookup = mf_spfdns_lookup;
	layer->get_spf = mf_spfdns_get_spf;
	layer->get_exp = NULL;
	layer->add_cache = NULL;
	layer->layer_below = NULL;
	layer->name = "mailtally";
	layer->hook = dns;
}
