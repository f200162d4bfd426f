/*
 * mf_session.h - one Postfix-like SMTP session as seen by a milter
 */
#ifndef MF_SESSION_H
#define MF_SESSION_H

#include <stdint.h>

#include "mf_corpus.h"
#include "mf_wire.h"

#define MF_NMACRO_STAGES 7 /* SMFIM_CONNECT .. SMFIM_EOH */
#define MF_AR_MAX 2048

struct mf_session {
	struct mf_conn conn;
	uint32_t version, actions, pflags; /* what the milter negotiated */
	char *symlist[MF_NMACRO_STAGES]; /* SMFIR_SETSYMLIST overrides */
	unsigned client_no;
	int conn_final; /* connection-level decision, no more events */
	int need_abort; /* a transaction ran: SMFIC_ABORT before the next */
	int skip_body; /* SMFIR_SKIP during this message's body */
	const struct mf_msg *msg;
	const char *qid;
};

struct mf_verdict {
	int final; /* final reply ('a', 'c', 'r', 't', ...), 0 if none */
	int stage; /* command that got the final reply */
	int quarantined;
	char ar[MF_AR_MAX]; /* our Authentication-Results value(s) */
	size_t ar_len;
};

int mf_session_open(struct mf_session *, const struct mf_addr *, unsigned,
    const char **);
int mf_session_message(struct mf_session *, const struct mf_msg *, const char *,
    const char *, struct mf_verdict *);
void mf_session_close(struct mf_session *);
int mf_verdict_header(struct mf_verdict *, const char *, int,
    const unsigned char *, size_t);
int mf_verdict_check(const struct mf_verdict *, const struct mf_msg *,
    const char **);

#endif
