/*
 * NAME
 *	mf_stage 3h - the milter's work per SMTP stage, without libmilter
 * SYNOPSIS
 *	#include "mf_stage.h"
 * DESCRIPTION
 *	One function per milter stage. The libmilter callbacks (mf_cb.c)
 *	and the offline --test mode (mf_test.c) both call these, with the
 *	same contexts, so the offline mode verifies a message exactly as the
 *	daemon would. Every function returns an enum mf_verdict; for
 *	MF_V_REJECT and MF_V_TEMPFAIL the reply is in *reply.
 *
 *	mf_stage_body() answers MF_V_SKIP once the body cannot change the
 *	verdict (no DKIM check running, or unsigned mail: mf_dkim_need_body),
 *	so the caller may stop sending it (SMFIS_SKIP); the message size
 *	then counts only what was seen.
 *
 *	mf_stage_eom() fills struct mf_edits: the forged
 *	Authentication-Results headers to delete (occurrence numbers, to be
 *	deleted from the last to the first), our header value (empty when
 *	the message was not checked) and an optional Received-SPF value.
 *	The edits stay valid until the next mf_stage_envfrom(),
 *	mf_stage_abort() or mf_stage_close() on the connection;
 *	mf_edits_release() frees them.
 *
 *	mf_stage_abort() and mf_stage_close() write the log line of a
 *	message that did not reach mf_stage_eom() (action "abort") and free
 *	it.
 */
#ifndef MF_STAGE_H
#define MF_STAGE_H

#include <stddef.h>

#include "cm_buf.h"
#include "mf_conf.h"
#include "mf_ctx.h"

enum mf_verdict {
	MF_V_CONTINUE,
	MF_V_ACCEPT,
	MF_V_REJECT,
	MF_V_TEMPFAIL,
	MF_V_QUARANTINE,
	MF_V_SKIP, /* mf_stage_body(): the rest of the body is not needed */
};

struct mf_macros {
	const char *queue_id; /* {i} */
	const char *auth_authen; /* {auth_authen} */
	const char *tls_version; /* {tls_version} */
	const char *cipher; /* {cipher} */
	const char *cipher_bits; /* {cipher_bits} */
};

struct mf_edits {
	const size_t *del; /* AR occurrence numbers, ascending */
	size_t ndel;
	struct cm_buf ar; /* our AR value; len 0: add none */
	struct cm_buf received_spf; /* len 0: add none */
	char quarantine[128]; /* reason when MF_V_QUARANTINE */
};

int mf_stage_connect(struct mf_conn *, const char *hostname, const char *ip);
int mf_stage_helo(struct mf_conn *, const char *helo);
int mf_stage_envfrom(struct mf_conn *, const char *from,
    const struct mf_macros *, struct mf_reply *);
int mf_stage_envrcpt(struct mf_conn *, const char *rcpt);
int mf_stage_data(struct mf_conn *, const char *queue_id);
int mf_stage_header(struct mf_conn *, const char *name, const char *value);
int mf_stage_eoh(struct mf_conn *);
int mf_stage_body(struct mf_conn *, const unsigned char *, size_t);
int mf_stage_eom(struct mf_conn *, const char *queue_id, struct mf_edits *,
    struct mf_reply *);
void mf_stage_abort(struct mf_conn *);
void mf_stage_close(struct mf_conn *);
int mf_stage_internal(const struct mf_conf *, struct mf_reply *);
void mf_edits_release(struct mf_edits *);

/* mf_authlog.c */
struct cm_event;
struct cm_event *mf_authlog_event(const struct mf_conn *, const struct mf_msg *,
    const char *action);
void mf_authlog_emit(const struct mf_conn *, const struct mf_msg *,
    const char *action);
/* When set (the offline mode), events go here instead of the log. */
typedef void (*mf_authlog_fn)(struct cm_event *);
extern mf_authlog_fn mf_authlog_hook;
void mf_authlog_dkim_summary(const struct mf_dkim_verdict *, char *, size_t);
const char *mf_log_id(const struct mf_conn *);

#endif
