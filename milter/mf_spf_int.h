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

struct mf_dns;

/* Per-request state, thread-local while libspf2 evaluates. */
struct mf_spfdns_state {
	int voids;		/* NXDOMAIN/NODATA answers so far */
	int void_exceeded;	/* RFC 7208 4.6.4: more than 2 */
	int temp;		/* a lookup timed out or failed */
	int syntax;		/* a record failed our checks or compiling */
};

#ifdef SPF_VER_STR
void mf_spfdns_init(SPF_dns_server_t *, struct mf_dns *);
#endif
void mf_spfdns_begin(struct mf_spfdns_state *);
void mf_spfdns_end(void);

int mf_spflint_domain(const char *, size_t);
int mf_spflint_record(const char *, size_t);

#endif
