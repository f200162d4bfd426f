/*
 * NAME
 *	mf_checks 3h - SPF and DKIM verification, one shared resolver
 * SYNOPSIS
 *	#include "mf_checks.h"
 * DESCRIPTION
 *	The checks know nothing of libmilter: the milter callbacks and the
 *	offline --test mode call the same functions, and so do the tests.
 *
 *	mf_dns: one libunbound context (thread-safe, with its cache) for
 *	SPF and DKIM. nameservers is a list of "IP" or "IP@PORT" (empty:
 *	the system's /etc/resolv.conf); timeout_ms bounds every lookup. A
 *	timeout or SERVFAIL is a temporary error, never "no record".
 *
 *	mf_spf: libspf2 on top of mf_dns (a custom SPF_dns_server_t layer
 *	that also enforces RFC 7208's limit of 2 void lookups). One
 *	mf_spf_ctx serves every thread. mf_spf_check() evaluates the
 *	MAIL FROM identity (the HELO identity for the null sender) and,
 *	when helo is given and check_helo is set, the HELO identity too.
 *
 *	mf_dkim: libopendkim on top of mf_dns. One mf_dkim_lib for the
 *	process, one mf_dkim_msg per message; headers one field at a time
 *	(name and value as received, folding kept), then the body in
 *	chunks, then mf_dkim_eom(). Every signature up to max_signatures is
 *	reported; rsa-sha1 and RSA keys under min_key_bits are "policy"
 *	(RFC 8301); body hash and header signature must both verify.
 * DIAGNOSTICS
 *	Constructors return NULL with *why. The check functions return 0
 *	when a verdict was reached (whatever it is) and -1 on an internal
 *	error (out of memory, library failure), with reason filled in.
 */
#ifndef MF_CHECKS_H
#define MF_CHECKS_H

#include <stddef.h>

#include "cm_addr.h"

#define MF_DOMAIN_MAX 255
#define MF_REASON_MAX 128
#define MF_DKIM_SIGS_MAX 16

/* RFC 8601 / RFC 7208 words, in this order: mf_spf_result_name(). */
enum mf_spf_result {
	MF_SPF_NONE,
	MF_SPF_NEUTRAL,
	MF_SPF_PASS,
	MF_SPF_FAIL,
	MF_SPF_SOFTFAIL,
	MF_SPF_TEMPERROR,
	MF_SPF_PERMERROR,
};

/* RFC 8601 / RFC 6376 words: mf_dkim_result_name(). */
enum mf_dkim_result {
	MF_DKIM_NONE,
	MF_DKIM_PASS,
	MF_DKIM_FAIL,
	MF_DKIM_NEUTRAL,
	MF_DKIM_POLICY,
	MF_DKIM_TEMPERROR,
	MF_DKIM_PERMERROR,
};

struct mf_spf_verdict {
	int result; /* enum mf_spf_result, MAIL FROM identity */
	int helo_result; /* enum mf_spf_result, HELO identity; NONE if not checked */
	int helo_checked;
	char identity[16]; /* "mailfrom" or "helo": which one result is */
	char domain[MF_DOMAIN_MAX + 1]; /* domain checked for result */
	char mail_from[CM_ADDR_MAX + 1]; /* normalized, "" for null sender */
	char helo[MF_DOMAIN_MAX + 1];
	char reason
	    [MF_REASON_MAX]; /* short: "record error", "dns timeout", mechanism */
	char received_spf[1024]; /* Received-SPF header value, when asked */
};

struct mf_dkim_sig {
	int result; /* enum mf_dkim_result */
	char d[MF_DOMAIN_MAX + 1];
	char s[64];
	char a[32]; /* "rsa-sha256", "ed25519-sha256", ... */
	char b[16]; /* first 8 characters of b= (RFC 6008) */
	char i[CM_ADDR_MAX + 1]; /* i= if present */
	unsigned bits; /* key size; 256 for ed25519 */
	char reason
	    [MF_REASON_MAX]; /* "bad signature", "body hash mismatch", ... */
};

struct mf_dkim_verdict {
	int result; /* best over signatures; NONE when unsigned */
	size_t nsigs;
	struct mf_dkim_sig sig[MF_DKIM_SIGS_MAX];
};

const char *mf_spf_result_name(int);
const char *mf_dkim_result_name(int);

/* DNS */
struct mf_dns;
struct mf_dns *mf_dns_new(const char *const *nameservers, size_t n,
    long long timeout_ms, const char **why);
void mf_dns_free(struct mf_dns *);

/*
 * One lookup (used by mf_spf and mf_dkim; the milter may use it for the
 * client's PTR name). status is the return value; on MF_DNS_OK the
 * records are data[0..n-1] with len[], in wire format (names
 * uncompressed); packet is the whole answer (wire format). Release
 * with mf_dns_reply_free() whatever the status.
 */
enum mf_dns_status {
	MF_DNS_OK,
	MF_DNS_NXDOMAIN,
	MF_DNS_NODATA,
	MF_DNS_TEMPFAIL, /* timeout, SERVFAIL, REFUSED, resolver trouble */
};

struct mf_dns_reply {
	int status; /* enum mf_dns_status */
	int rcode;
	const char *why; /* cause of a TEMPFAIL */
	size_t n;
	const unsigned char *const *data;
	const int *len;
	const void *packet;
	size_t packet_len;
	void *res; /* private */
};

#define MF_DNS_A 1
#define MF_DNS_PTR 12
#define MF_DNS_MX 15
#define MF_DNS_TXT 16
#define MF_DNS_AAAA 28

int mf_dns_lookup(struct mf_dns *, const char *name, int rrtype,
    struct mf_dns_reply *out);
void mf_dns_reply_free(struct mf_dns_reply *);
long long mf_dns_timeout_ms(const struct mf_dns *);
long mf_dns_txt(const struct mf_dns_reply *, size_t i, char *buf, size_t size);
long mf_dns_name(const unsigned char *rdata, size_t len, size_t off, char *buf,
    size_t size);

/* SPF */
struct mf_spf_ctx;
struct mf_spf_ctx *mf_spf_new(struct mf_dns *, const char *rec_dom,
    const char **why);
int mf_spf_check(struct mf_spf_ctx *, const char *client_ip, const char *helo,
    const char *mail_from, int check_helo, int want_received_spf,
    struct mf_spf_verdict *out);
void mf_spf_free(struct mf_spf_ctx *);

/* DKIM */
struct mf_dkim_lib;
struct mf_dkim_msg;
struct mf_dkim_lib *mf_dkim_lib_new(struct mf_dns *, unsigned min_key_bits,
    unsigned max_signatures, const char **why);
void mf_dkim_lib_free(struct mf_dkim_lib *);
/* Tests: keys from a libopendkim key file ("name value" lines), no DNS. */
int mf_dkim_lib_set_keyfile(struct mf_dkim_lib *, const char *path);
struct mf_dkim_msg *mf_dkim_msg_new(struct mf_dkim_lib *, const char **why);
int mf_dkim_header(struct mf_dkim_msg *, const char *name, const char *value);
int mf_dkim_eoh(struct mf_dkim_msg *);
/* After eoh: 0 when the body cannot change the verdict (unsigned mail). */
int mf_dkim_need_body(const struct mf_dkim_msg *);
int mf_dkim_body(struct mf_dkim_msg *, const unsigned char *, size_t);
int mf_dkim_eom(struct mf_dkim_msg *, struct mf_dkim_verdict *out);
void mf_dkim_msg_free(struct mf_dkim_msg *);

#endif
