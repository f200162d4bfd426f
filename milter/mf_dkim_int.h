/*
 * NAME
 *	mf_dkim_int 3h - what the DKIM files share
 * SYNOPSIS
 *	#include <opendkim/dkim.h>
 *	#include "mf_dkim_int.h"
 * DESCRIPTION
 *	Private to mf_dkim.c, mf_dkimsig.c and mf_dkimdns.c.
 */
#ifndef MF_DKIM_INT_H
#define MF_DKIM_INT_H

struct mf_dkim_lib {
	DKIM_LIB *lib;
	struct mf_dns *dns;
	unsigned min_key_bits;
	unsigned max_signatures;
	struct mf_dkimdns_cache *cache; /* key answers, by their TTL */
};

void mf_dkimdns_init(struct mf_dkim_lib *);
void mf_dkimdns_fini(struct mf_dkim_lib *);
void mf_dkimsig_fill(DKIM_SIGINFO *, unsigned min_key_bits,
    struct mf_dkim_sig *out);
int mf_dkimsig_rank(int result);

#endif
