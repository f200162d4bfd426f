/*
 * NAME
 *	mf_spf 3 - SPF check of the MAIL FROM and HELO identities (libspf2)
 * SYNOPSIS
 *	#include "mf_checks.h"
 *
 *	struct mf_spf_ctx *mf_spf_new(struct mf_dns *, const char *rec_dom,
 *	    const char **why);
 *	int mf_spf_check(struct mf_spf_ctx *, const char *client_ip,
 *	    const char *helo, const char *mail_from, int check_helo,
 *	    int want_received_spf, struct mf_spf_verdict *out);
 *	void mf_spf_free(struct mf_spf_ctx *);
 * DESCRIPTION
 *	One SPF_server_t serves every thread (libspf2 keeps no per-request
 *	state in it once configured); each check makes its own
 *	SPF_request_t. DNS goes through mf_dns (mf_spfdns.c).
 *
 *	The MAIL FROM identity is checked; for the null sender it is
 *	postmaster@HELO (RFC 7208 2.4) and identity is "helo". With
 *	check_helo, a HELO that is a domain name (not an address literal)
 *	is checked too (RFC 7208 2.3) into helo_result.
 *
 *	Result mapping. libspf2 1.2.10 may leave SPF_RESULT_INVALID; a
 *	request is temperror when a lookup failed (timeout, SERVFAIL) or
 *	the error is SPF_E_DNS_ERROR, permerror when a record failed to
 *	compile, and none otherwise. More than two void lookups (RFC 7208
 *	4.6.4, which libspf2 does not count) make it permerror. One check
 *	may take MF_SPF_BUDGET (4) lookup timeouts in all; past that it is
 *	temperror.
 *
 *	Unlike libspf2's own entry points, a loopback client gets no free
 *	pass (mf_spf_query), and no local policy applies: results are
 *	RFC 7208's only.
 *
 *	libspf2 reports bugs through SPF_error(), whose default handler
 *	exits; mf_spf_new() installs handlers that log through cm_log
 *	(SPF_error still cannot return: it aborts after logging).
 * DIAGNOSTICS
 *	mf_spf_new() returns NULL with *why. mf_spf_check() returns 0 with
 *	a verdict, -1 on an internal error (out of memory) with reason.
 * SEE ALSO
 *	RFC 7208, mf_spfdns(3), mf_dns(3)
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "cm_addr.h"
#include "cm_log.h"
#include "cm_util.h"
#include "mf_checks.h"
#include "mf_spf_int.h"

struct mf_spf_ctx {
	SPF_server_t *srv;
	SPF_dns_server_t layer;
	char rec_dom[MF_DOMAIN_MAX + 1];
	long long timeout_ms; /* of one lookup */
};

/* One check_host() may take this many lookup timeouts in all. */
#define MF_SPF_BUDGET 4

/* mf_spf_log_error - SPF_error(): a libspf2 bug; log and abort */
static void __attribute__((__noreturn__))
mf_spf_log_error(const char *file, int line, const char *msg)
{
	cm_panic("libspf2: %s:%d: %s", file ? file : "?", line, msg ? msg : "");
}

/* mf_spf_log_warning - SPF_warning() */
static void
mf_spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	cm_log_debug("libspf2: %s", msg ? msg : "");
}

/* mf_spf_log_debug - SPF_info()/SPF_debug() */
static void
mf_spf_log_debug(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	cm_log_debug("libspf2: %s", msg ? msg : "");
}

/* mf_spf_new - the shared SPF server */
struct mf_spf_ctx *
mf_spf_new(struct mf_dns *dns, const char *rec_dom, const char **why)
{
	struct mf_spf_ctx *ctx;

	SPF_error_handler = mf_spf_log_error;
	SPF_warning_handler = mf_spf_log_warning;
	SPF_info_handler = mf_spf_log_debug;
	SPF_debug_handler = mf_spf_log_debug;
	if (dns == NULL) {
		*why = "no resolver";
		return NULL;
	}
	if ((ctx = calloc(1, sizeof *ctx)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	mf_spfdns_init(&ctx->layer, dns);
	ctx->timeout_ms = mf_dns_timeout_ms(dns);
	(void)cm_strlcpy(ctx->rec_dom, rec_dom ? rec_dom : "",
	    sizeof ctx->rec_dom);
	if ((ctx->srv = SPF_server_new_dns(&ctx->layer, 0)) == NULL) {
		*why = "SPF_server_new_dns failed";
		free(ctx);
		return NULL;
	}
	if (rec_dom != NULL && *rec_dom != '\0' &&
	    SPF_server_set_rec_dom(ctx->srv, rec_dom) != SPF_E_SUCCESS) {
		*why = "SPF_server_set_rec_dom failed";
		mf_spf_free(ctx);
		return NULL;
	}
	return ctx;
}

/* mf_spf_free - release the server; the DNS layer is ours */
void
mf_spf_free(struct mf_spf_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->srv)
		SPF_server_free(ctx->srv);
	free(ctx);
}

/* mf_spf_map - libspf2 result plus our request state to the vocabulary */
static int
mf_spf_map(SPF_response_t *resp, SPF_errcode_t err,
    const struct mf_spfdns_state *st, const char **reason)
{
	SPF_result_t r = SPF_response_result(resp);

	if ((st->void_exceeded || st->limit_exceeded) &&
	    (r == SPF_RESULT_TEMPERROR || r == SPF_RESULT_INVALID ||
		r == SPF_RESULT_PERMERROR)) {
		*reason = st->void_exceeded ? "too many void lookups"
					    : "too many DNS lookups";
		return MF_SPF_PERMERROR;
	}
	switch (r) {
	case SPF_RESULT_PASS:
		*reason = "matched";
		return MF_SPF_PASS;
	case SPF_RESULT_FAIL:
		*reason = "matched";
		return MF_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		*reason = "matched";
		return MF_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		*reason = "matched";
		return MF_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		*reason = "no record";
		return MF_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		*reason = "dns error";
		return MF_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		*reason = st->syntax ? "record error" : "evaluation error";
		return MF_SPF_PERMERROR;
	default:
		break;
	}
	if (st->temp || err == SPF_E_DNS_ERROR) {
		*reason = "dns error";
		return MF_SPF_TEMPERROR;
	}
	if (st->syntax || err != SPF_E_SUCCESS) {
		*reason = "record error";
		return err == SPF_E_NOT_SPF ? MF_SPF_NONE : MF_SPF_PERMERROR;
	}
	*reason = "no record";
	return MF_SPF_NONE;
}

/*
 * mf_spf_set_ip - IPv4 or IPv6 client address; an IPv4-mapped IPv6
 * address is the IPv4 client it stands for (RFC 7208 5).
 */
static int
mf_spf_set_ip(SPF_request_t *req, const char *ip, struct mf_spfdns_state *st)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strncasecmp(ip, "ipv6:", 5) == 0)
		ip += 5; /* Postfix's form of an IPv6 client */
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (!IN6_IS_ADDR_V4MAPPED(&a6)) {
			st->client_v6 = 1;
			memcpy(st->client, &a6, 16);
			return SPF_request_set_ipv6(req, a6);
		}
		memcpy(&a4, (const unsigned char *)&a6 + 12, 4);
	} else if (inet_pton(AF_INET, ip, &a4) != 1) {
		return -1;
	}
	st->client_v6 = 0;
	memcpy(st->client, &a4, 4);
	return SPF_request_set_ipv4(req, a4);
}

/*
 * mf_spf_query - SPF_request_query_mailfrom() without its shortcut:
 * libspf2 answers pass for any loopback client (127.0.0.0/8, ::1,
 * "localhost is always allowed") before it looks at the record, which
 * RFC 7208 knows nothing of (a domain without a record is none, one
 * with -all is fail, whoever the client). The rest is what libspf2
 * does: the current domain, the record, check_host(). The request's
 * local policy (whitelist, trusted-forwarder.org) stays off: this
 * server never sets one (SPF_server_set_localpolicy).
 */
static SPF_errcode_t
mf_spf_query(SPF_server_t *srv, SPF_request_t *req, SPF_response_t **respp)
{
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if ((*respp = SPF_response_new(req)) == NULL)
		return SPF_E_NO_MEMORY;
	req->use_local_policy = 0;
	req->cur_dom = req->use_helo ? req->helo_dom : req->env_from_dp;
	err = SPF_server_get_record(srv, req, *respp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		return err;
	}
	(*respp)->spf_record_exp = rec;
	err = SPF_record_interpret(rec, req, *respp, 0);
	(*respp)->spf_record_exp = NULL;
	SPF_record_free(rec);
	return err;
}

/*
 * mf_spf_eval - one check_host(): 'from' empty means the HELO identity.
 * Returns the result, -1 on internal error; *reason is filled.
 */
static int
mf_spf_eval(struct mf_spf_ctx *ctx, const char *ip, const char *helo,
    const char *from, const char **reason)
{
	struct mf_spfdns_state st;
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;
	int result = -1;

	*reason = "internal error";
	if ((req = SPF_request_new(ctx->srv)) == NULL)
		return -1;
	mf_spfdns_begin(&st, MF_SPF_BUDGET * ctx->timeout_ms);
	if (mf_spf_set_ip(req, ip, &st) != SPF_E_SUCCESS) {
		*reason = "bad client address";
		goto out;
	}
	if ((helo[0] && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    (from[0] && SPF_request_set_env_from(req, from) != 0))
		goto out;
	err = mf_spf_query(ctx->srv, req, &resp);
	mf_spfdns_end();
	if (resp == NULL)
		goto out;
	result = mf_spf_map(resp, err, &st, reason);
out:
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	return result;
}

/* mf_spf_clean - copy s for a header: printable ASCII, no quotes */
static void
mf_spf_clean(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < size; s++) {
		if (*s > ' ' && *s < 0x7f && *s != '"' && *s != '\\' &&
		    *s != '(' && *s != ')' && *s != ';')
			dst[o++] = *s;
	}
	dst[o] = '\0';
}

/*
 * mf_spf_received - the Received-SPF value (RFC 7208 9.1) of the
 * verdict, built here rather than by libspf2 so that it shows the
 * result after our own mapping (void lookups, limits, errors).
 */
static void
mf_spf_received(const struct mf_spf_ctx *ctx, const char *ip,
    struct mf_spf_verdict *v)
{
	char dom[MF_DOMAIN_MAX + 1], from[CM_ADDR_MAX + 1];
	char helo[MF_DOMAIN_MAX + 1], addr[64], why[MF_DOMAIN_MAX + 128];
	const char *rd = ctx->rec_dom[0] ? ctx->rec_dom : "localhost";
	int n;

	mf_spf_clean(dom, sizeof dom, v->domain);
	mf_spf_clean(from, sizeof from, v->mail_from);
	mf_spf_clean(helo, sizeof helo, v->helo);
	mf_spf_clean(addr, sizeof addr, ip);
	switch (v->result) {
	case MF_SPF_PASS:
		n = snprintf(why, sizeof why,
		    "domain of %s designates %s as "
		    "permitted sender",
		    dom, addr);
		break;
	case MF_SPF_FAIL:
	case MF_SPF_SOFTFAIL:
		n = snprintf(why, sizeof why,
		    "%sdomain of %s does not "
		    "designate %s as permitted sender",
		    v->result == MF_SPF_SOFTFAIL ? "transitioning " : "", dom,
		    addr);
		break;
	case MF_SPF_NEUTRAL:
		n = snprintf(why, sizeof why,
		    "%s is neither permitted nor "
		    "denied by domain of %s",
		    addr, dom);
		break;
	case MF_SPF_NONE:
		n = snprintf(why, sizeof why,
		    "domain of %s does not provide "
		    "an SPF record",
		    dom);
		break;
	default:
		n = snprintf(why, sizeof why,
		    "error in processing during "
		    "lookup of %s: %s",
		    dom, v->reason);
		break;
	}
	if (n < 0 || (size_t)n >= sizeof why)
		why[0] = '\0';
	n = snprintf(v->received_spf, sizeof v->received_spf,
	    "%s (%s: %s) client-ip=%s; envelope-from=\"%s\"; helo=%s; "
	    "receiver=%s; identity=%s;",
	    mf_spf_result_name(v->result), rd, why, addr, from,
	    helo[0] ? helo : "unknown", rd, v->identity);
	if (n < 0 || (size_t)n >= sizeof v->received_spf)
		v->received_spf[0] = '\0';
}

/* mf_spf_is_domain - a HELO that can be checked: has a dot, no literal */
static int
mf_spf_is_domain(const char *helo)
{
	return helo[0] != '\0' && helo[0] != '[' && strchr(helo, '.') != NULL &&
	    strchr(helo, ':') == NULL;
}

/* mf_spf_domain_of - the domain part of from, or helo */
static const char *
mf_spf_domain_of(const char *from, const char *helo)
{
	const char *at = strrchr(from, '@');

	return at ? at + 1 : (from[0] ? from : helo);
}

/*
 * mf_spf_check - check MAIL FROM (or the HELO for the null sender) from
 * client_ip, and with check_helo the HELO identity too. helo and
 * mail_from may be NULL or "".
 */
int
mf_spf_check(struct mf_spf_ctx *ctx, const char *client_ip, const char *helo,
    const char *mail_from, int check_helo, int want_received_spf,
    struct mf_spf_verdict *out)
{
	const char *why, *reason;
	size_t flen;
	int r;

	memset(out, 0, sizeof *out);
	helo = helo ? helo : "";
	mail_from = mail_from ? mail_from : "";
	snprintf(out->helo, sizeof out->helo, "%s", helo);
	flen = strlen(mail_from);
	if (flen >= 2 && mail_from[0] == '<' && mail_from[flen - 1] == '>') {
		mail_from++;
		flen -= 2;
	}
	if (cm_addr_norm(mail_from, flen, out->mail_from, &why) != 0)
		snprintf(out->mail_from, sizeof out->mail_from, "%.*s",
		    (int)flen, mail_from);
	snprintf(out->identity, sizeof out->identity, "%s",
	    out->mail_from[0] ? "mailfrom" : "helo");
	(void)cm_strlcpy(out->domain, mf_spf_domain_of(out->mail_from, helo),
	    sizeof out->domain);
	if (client_ip == NULL || *client_ip == '\0') {
		snprintf(out->reason, sizeof out->reason, "no client address");
		out->result = out->helo_result = MF_SPF_NONE;
		return 0;
	}
	if (out->mail_from[0] == '\0' && !mf_spf_is_domain(helo)) {
		out->result = MF_SPF_NONE;
		reason = "no identity";
	} else if ((r = mf_spf_eval(ctx, client_ip, helo, out->mail_from,
			&reason)) < 0) {
		snprintf(out->reason, sizeof out->reason, "%s", reason);
		return -1;
	} else {
		out->result = r;
	}
	snprintf(out->reason, sizeof out->reason, "%s", reason);
	out->helo_result = MF_SPF_NONE;
	if (check_helo && mf_spf_is_domain(helo)) {
		if (out->mail_from[0] == '\0')
			out->helo_result = out->result;
		else if ((r = mf_spf_eval(ctx, client_ip, helo, "", &reason)) >=
		    0)
			out->helo_result = r;
		out->helo_checked = 1;
	}
	if (want_received_spf)
		mf_spf_received(ctx, client_ip, out);
	return 0;
}
