/*
 * NAME
 *	mf_spf_int 3h - what mf_spf.c, mf_spfdns.c and mf_spflint.c share
 * SYNOPSIS
 *	#include "mf_spf_int.h"
 * DESCRIPTION
 *	Private to the SPF check. Include <spf2/spf.h> first for the
 *	libspf2 prototypes.
 */
#ifndef MF_SPF_INT_H
#define MF_SPF_INT_H

#include <stddef.h>
#include <stdint.h>

struct mf_dns;

/* Per-request state, thread-local while libspf2 evaluates. */
struct mf_spfdns_state {
	int voids; /* NXDOMAIN/NODATA answers so far */
	int void_exceeded; /* RFC 7208 4.6.4: more than 2 */
	int temp; /* a lookup timed out or failed */
	int syntax; /* a record failed our checks or compiling */
	int terms; /* DNS terms so far (RFC 7208 4.6.4) */
	int follow; /* A/AAAA lookups still owed to an mx/ptr */
	int follow_ptr; /* ... and they are owed to a PTR lookup */
	int limit_exceeded; /* more than 10 terms or 10 MX records */
	int started; /* get_spf calls: the first is the top */
	uint64_t deadline_ms; /* whole evaluation (cm_mono_ms), 0: none */
	int client_v6;
	unsigned char client[16]; /* 4 or 16 bytes */
};

#ifdef SPF_VER_STR
void mf_spfdns_init(SPF_dns_server_t *, struct mf_dns *);
#endif
void mf_spfdns_begin(struct mf_spfdns_state *, long long budget_ms);
void mf_spfdns_end(void);

/* Appended to a/mx domains whose prefix length for the client is 0. */
#define MF_SPF_CIDR0 ".mf-cidr0"

int mf_spflint_domain(const char *, size_t);
int mf_spflint_record(const char *, size_t, int client_v6, char *out,
    size_t outsize);

#endif
