/*
 * NAME
 *	mf_ctx 3h - per-process, per-connection and per-message milter state
 * SYNOPSIS
 *	#include "mf_ctx.h"
 * DESCRIPTION
 *	struct mf_env is built once at start-up (configuration, resolver,
 *	SPF and DKIM handles) and shared read-only by every thread.
 *
 *	struct mf_conn lives from connect to close (libmilter keeps it with
 *	smfi_setpriv()); struct mf_msg from MAIL FROM to the end of the
 *	message or its abort. Every string copied from the SMTP session is
 *	bounded here: recipients (the first log_rcpt_max kept, all
 *	counted), header bytes (max_header_bytes), forged header indexes.
 *
 *	mf_env_open() makes the resolver and the SPF and DKIM handles the
 *	configuration asks for (none when both checks are off); it returns
 *	-1 with the reason in err ("dns: ...", "spf: ...", "dkim: ...") and
 *	leaves nothing allocated. mf_env_close() frees them.
 *
 *	mf_conn_new() and mf_msg_new() return NULL when memory ran out.
 *	mf_conn_free() and mf_msg_free() accept NULL and return NULL.
 */
#ifndef MF_CTX_H
#define MF_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "cm_addr.h"
#include "mf_checks.h"
#include "mf_conf.h"

struct mf_env {
	const struct mf_conf *conf;
	struct mf_dns *dns;
	struct mf_spf_ctx *spf;
	struct mf_dkim_lib *dkim;
};

#define MF_NAME_MAX 255 /* host names, HELO, Message-ID, macros */
#define MF_QID_MAX 63

struct mf_msg {
	uint64_t start_ms;
	char queue_id[MF_QID_MAX + 1];
	char sasl_user[MF_NAME_MAX + 1];
	char tls_version[32];
	char tls_cipher[64];
	char tls_bits[8];
	char mail_from[CM_ADDR_MAX + 1]; /* normalized; "" null sender */
	int mail_from_bad; /* did not normalize */
	char **rcpt; /* first log_rcpt_max */
	size_t nrcpt;
	size_t rcpt_count;
	char message_id[MF_NAME_MAX + 1];
	char from_domain[MF_DOMAIN_MAX + 1];
	size_t nheaders;
	size_t header_bytes;
	int header_overflow; /* over max_header_bytes */
	unsigned long long size; /* header and body bytes */
	size_t *forged; /* AR occurrence numbers, 1-based */
	size_t nforged, forged_cap;
	size_t ar_seen; /* AR headers seen */
	const char *skip; /* why not checked, or NULL */
	int spf_done;
	struct mf_spf_verdict spf;
	struct mf_dkim_msg *dkim;
	int dkim_done;
	int dkim_cut; /* headers over the limit */
	size_t sigs_seen; /* DKIM-Signature fields */
	struct mf_dkim_verdict dkim_v;
	int internal_error;
	const char *error_why;
	int action; /* enum mf_action */
	const char *rule;
	int finished; /* eom reached */
	int logged;
};

struct mf_conn {
	const struct mf_env *env;
	char conn_id[17]; /* hex, before a queue id */
	char client_ip[64];
	char client_name[MF_NAME_MAX + 1];
	char helo[MF_NAME_MAX + 1];
	int internal;
	int leadspc; /* SMFIP_HDR_LEADSPC negotiated */
	int can_skip; /* SMFIP_SKIP negotiated: SMFIS_SKIP in xxfi_body */
	unsigned long noreply; /* SMFIP_NR_* negotiated: answer NOREPLY */
	struct mf_msg *msg;
};

int mf_env_open(const struct mf_conf *, struct mf_env *, char *err, size_t);
void mf_env_close(struct mf_env *);
struct mf_conn *mf_conn_new(const struct mf_env *);
struct mf_conn *mf_conn_free(struct mf_conn *);
struct mf_msg *mf_msg_new(const struct mf_conf *);
struct mf_msg *mf_msg_free(struct mf_msg *);
int mf_msg_add_rcpt(struct mf_msg *, const struct mf_conf *, const char *);
int mf_msg_add_forged(struct mf_msg *, size_t index);
int mf_msg_count_header(struct mf_msg *, const struct mf_conf *, size_t n);
void mf_copy(char *dst, size_t size, const char *src);

#endif
