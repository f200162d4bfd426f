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
 *	the system's /etc/resolv.conf); with name servers, they are asked
 *	for everything (libunbound's local answers for private reverse
 *	zones, 2001:db8::/32, test., invalid. are turned off). timeout_ms
 *	bounds every lookup (default 5000). A timeout or SERVFAIL is a
 *	temporary error, never "no record". mf_dns_new() starts nothing:
 *	its dispatcher thread starts at the first lookup, so a daemon may
 *	fork after it. mf_dns_lookup() is there for other callers too.
 *
 *	mf_spf: libspf2 on top of mf_dns (a custom SPF_dns_server_t layer
 *	that also enforces RFC 7208's lookup limits and the record rules
 *	libspf2 lacks: doc/conformance.md). One mf_spf_ctx serves every
 *	thread. mf_spf_check() evaluates the MAIL FROM identity (the HELO
 *	identity for the null sender, identity "helo") and, when check_helo
 *	is set and the HELO is a domain name, the HELO identity too
 *	(helo_result, helo_checked). mail_from may come with or without
 *	angle brackets. With want_received_spf, received_spf holds the
 *	Received-SPF header value (RFC 7208 9.1; receiver= is the rec_dom
 *	given to mf_spf_new(), "localhost" if none).
 *
 *	mf_dkim: libopendkim on top of mf_dns. One mf_dkim_lib for the
 *	process, one mf_dkim_msg per message; headers one field at a time
 *	(name and value as received: the value starts after the colon,
 *	leading space and folding CRLFs kept, no final CRLF), then
 *	mf_dkim_eoh() (key lookups happen here), then the body in chunks
 *	with CRLF line ends, then mf_dkim_eom(). After eoh,
 *	mf_dkim_need_body() says whether the body can still change the
 *	verdict (not for unsigned mail: the milter may skip it). Every
 *	signature up to max_signatures (at most MF_DKIM_SIGS_MAX) is
 *	reported, with d, s, a, i, the first 8 characters of b= and the key
 *	size (256 for Ed25519). pass needs header signature and body hash;
 *	a signature that verifies with rsa-sha1 or an RSA key under
 *	min_key_bits is "policy" (RFC 8301); a failed key lookup is
 *	temperror; no key, a bad key, a malformed or expired signature are
 *	permerror; a signature that does not verify is fail. result is the
 *	best of them (pass, policy, temperror, fail, permerror, neutral,
 *	none); none when unsigned. A NULL mf_dns makes libopendkim use its
 *	own resolver (tests use mf_dkim_lib_set_keyfile() instead).
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
	int ttl; /* seconds the answer may be kept (0 when not given) */
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
