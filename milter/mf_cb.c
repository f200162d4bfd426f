/*
 * NAME
 *	mf_cb 3 - the libmilter callbacks of mailtally-milter
 * SYNOPSIS
 *	#include "mf_cb.h"
 *
 *	int	mf_cb_register(const struct mf_env *env);
 * DESCRIPTION
 *	Each xxfi_* callback copies what libmilter gives (arguments and
 *	macros), calls the matching mf_stage function and maps its verdict
 *	to SMFIS_*: reject and tempfail go out with smfi_setreply() and an
 *	enhanced status code, quarantine with smfi_quarantine() at end of
 *	message. No verification logic lives here.
 *
 *	Negotiation asks for every step but unknown commands, for
 *	SMFIP_HDR_LEADSPC so that header values reach DKIM with their
 *	leading white space (the milter then supplies the space of the
 *	headers it adds), and for SMFIP_SKIP: once the body cannot change
 *	the verdict (unsigned mail), xxfi_body answers SMFIS_SKIP and the
 *	MTA sends no more of it. xxfi_data is registered even though it does
 *	little: without a reply to DATA, Postfix's next packet waits on a
 *	delayed ACK (about 90 ms per message over TCP).
 *
 *	Steps whose stage never decides anything (connect, HELO, each
 *	header, end of headers, body) are asked for without a reply
 *	(SMFIP_NR_CONN, _HELO, _HDR, _EOH, _BODY, each only if the MTA
 *	offers it): their callbacks answer SMFIS_NOREPLY, which saves one
 *	round trip each. Limits met in the headers (too many, too large)
 *	already end in a verdict at end of message, so nothing is lost.
 *	The flags are asked for only once the connection context exists,
 *	so a step that finds no context has a reply to give its internal
 *	error verdict in. With
 *	SMFIP_NR_BODY the body cannot be skipped (no reply to carry
 *	SMFIS_SKIP): a round trip per message is worth more than the body
 *	chunks after the first of an unsigned message. MAIL FROM (early
 *	SPF reject), RCPT TO, DATA and end of message keep their replies.
 *
 *	At end of message, forged Authentication-Results headers are deleted
 *	from the last to the first (smfi_chgheader() with a NULL value and
 *	the occurrence number), then Received-SPF and our header are
 *	inserted at index 0, so ours is the topmost.
 * SECURITY
 *	Everything here comes from the MTA and, through it, the SMTP client.
 * DIAGNOSTICS
 *	A failed allocation answers as on_internal_error says; a failed
 *	header edit is logged and the message accepted as decided.
 * SEE ALSO
 *	mf_stage(3), libmilter smfi_register(3)
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "cm_log.h"
#include "mf_authres.h"
#include "mf_cb.h"
#include "mf_stage.h"

static const struct mf_env *cb_env;

/* NR_WANT - the steps asked for without a reply, if the MTA offers */
#define NR_WANT                                                                \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH |         \
	    SMFIP_NR_BODY)

/* verdict - map an mf_stage verdict to a libmilter status */
static sfsistat
verdict(SMFICTX *ctx, int v, struct mf_reply *r)
{
	switch (v) {
	case MF_V_CONTINUE:
		return SMFIS_CONTINUE;
	case MF_V_REJECT:
	case MF_V_TEMPFAIL:
		if (r != NULL && r->rcode[0] != '\0' &&
		    smfi_setreply(ctx, r->rcode, r->xcode, r->text) !=
			MI_SUCCESS)
			cm_log_warnx("smfi_setreply failed");
		return v == MF_V_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	default:
		return SMFIS_ACCEPT;
	}
}

/*
 * quiet - the answer of a step that replies only without SMFIP_NR_*
 * (flag): the stage's verdict is always MF_V_CONTINUE there.
 */
static sfsistat
quiet(SMFICTX *ctx, const struct mf_conn *conn, unsigned long flag, int v)
{
	if (conn != NULL && (conn->noreply & flag) != 0)
		return SMFIS_NOREPLY;
	return verdict(ctx, v, NULL);
}

/* conn_of - the connection context, created on first use */
static struct mf_conn *
conn_of(SMFICTX *ctx)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) != NULL)
		return conn;
	if ((conn = mf_conn_new(cb_env)) == NULL)
		return NULL;
	if (smfi_setpriv(ctx, conn) != MI_SUCCESS)
		return mf_conn_free(conn);
	return conn;
}

/* internal - answer as on_internal_error says */
static sfsistat
internal(SMFICTX *ctx, const char *where)
{
	struct mf_reply r;

	cm_log_error("%s: internal error, answering per on_internal_error",
	    where);
	return verdict(ctx, mf_stage_internal(cb_env->conf, &r), &r);
}

/* macro - a macro value by name, "x" or "{x}", or NULL */
static const char *
macro(SMFICTX *ctx, const char *name)
{
	char buf[64];
	const char *v;

	if ((v = smfi_getsymval(ctx, (char *)(uintptr_t)name)) != NULL)
		return v;
	if (strlen(name) == 1) {
		snprintf(buf, sizeof(buf), "{%s}", name);
		return smfi_getsymval(ctx, buf);
	}
	return NULL;
}

/* cb_negotiate - ask for the steps and actions we need */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	struct mf_conn *conn;

	if ((f0 & want) != want)
		cm_log_warnx("MTA offers milter actions 0x%lx, want 0x%lx: "
			     "header edits may fail",
		    f0, want);
	*pf0 = f0 & (want | SMFIF_SETSYMLIST);
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC | SMFIP_SKIP);
	*pf2 = 0;
	*pf3 = 0;
	if ((conn = conn_of(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	/* Only with a context: a step without one must be able to reply. */
	*pf1 |= f1 & NR_WANT;
	conn->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	conn->noreply = *pf1 & NR_WANT;
	conn->can_skip = (*pf1 & SMFIP_SKIP) != 0 &&
	    (*pf1 & SMFIP_NR_BODY) == 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM,
			"i {auth_authen} {tls_version} {cipher} {cipher_bits}") !=
			MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_DATA, "i") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_EOM, "i") != MI_SUCCESS)
			cm_log_warnx("smfi_setsymlist failed");
	}
	return SMFIS_CONTINUE;
}

/* cb_connect - client address and name */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct mf_conn *conn;
	char ip[INET6_ADDRSTRLEN];

	if ((conn = conn_of(ctx)) == NULL)
		return internal(ctx, "connect");
	ip[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
		    &((struct sockaddr_in *)(void *)sa)->sin_addr, ip,
		    sizeof(ip));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, ip,
		    sizeof(ip));
	return quiet(ctx, conn, SMFIP_NR_CONN,
	    mf_stage_connect(conn, hostname, ip));
}

/* cb_helo - the HELO name */
static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct mf_conn *conn;

	if ((conn = conn_of(ctx)) == NULL)
		return internal(ctx, "helo");
	return quiet(ctx, conn, SMFIP_NR_HELO, mf_stage_helo(conn, helo));
}

/* cb_envfrom - a new message */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct mf_conn *conn;
	struct mf_macros m;
	struct mf_reply r;

	if ((conn = conn_of(ctx)) == NULL)
		return internal(ctx, "envfrom");
	m.queue_id = macro(ctx, "i");
	m.auth_authen = macro(ctx, "{auth_authen}");
	m.tls_version = macro(ctx, "{tls_version}");
	m.cipher = macro(ctx, "{cipher}");
	m.cipher_bits = macro(ctx, "{cipher_bits}");
	memset(&r, 0, sizeof(r));
	return verdict(ctx,
	    mf_stage_envfrom(conn, argv != NULL ? argv[0] : NULL, &m, &r), &r);
}

/* cb_envrcpt - a recipient */
static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "envrcpt");
	return verdict(ctx,
	    mf_stage_envrcpt(conn, argv != NULL ? argv[0] : NULL), NULL);
}

/* cb_data - DATA: the queue id is known now */
static sfsistat
cb_data(SMFICTX *ctx)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "data");
	return verdict(ctx, mf_stage_data(conn, macro(ctx, "i")), NULL);
}

/* cb_header - one header field */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "header");
	return quiet(ctx, conn, SMFIP_NR_HDR,
	    mf_stage_header(conn, name, value));
}

/* cb_eoh - end of headers */
static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "eoh");
	return quiet(ctx, conn, SMFIP_NR_EOH, mf_stage_eoh(conn));
}

/* cb_body - a body chunk; SMFIS_SKIP once the rest is not needed */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	struct mf_conn *conn;
	int v;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "body");
	if ((v = mf_stage_body(conn, p, len)) == MF_V_SKIP) {
		if (conn->can_skip)
			return SMFIS_SKIP;
		v = MF_V_CONTINUE;
	}
	return quiet(ctx, conn, SMFIP_NR_BODY, v);
}

/* apply_edits - delete forged headers, insert ours */
static void
apply_edits(SMFICTX *ctx, struct mf_conn *conn, struct mf_edits *e)
{
	const char *id = mf_log_id(conn);
	size_t i;

	for (i = e->ndel; i > 0; i--)
		if (smfi_chgheader(ctx, MF_AUTHRES_NAME, (int)e->del[i - 1],
			NULL) != MI_SUCCESS)
			cm_log_warnx(
			    "%s: cannot delete a forged " MF_AUTHRES_NAME
			    " header",
			    id);
	if (e->received_spf.len > 0 &&
	    smfi_insheader(ctx, 0, "Received-SPF", e->received_spf.data) !=
		MI_SUCCESS)
		cm_log_warnx("%s: cannot add Received-SPF", id);
	if (e->ar.len > 0 &&
	    smfi_insheader(ctx, 0, MF_AUTHRES_NAME, e->ar.data) != MI_SUCCESS)
		cm_log_warnx("%s: cannot add " MF_AUTHRES_NAME, id);
}

/* cb_eom - end of message: verdict, edits, reply */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct mf_conn *conn;
	struct mf_edits e;
	struct mf_reply r;
	sfsistat rc;
	int v;

	if ((conn = smfi_getpriv(ctx)) == NULL)
		return internal(ctx, "eom");
	memset(&r, 0, sizeof(r));
	v = mf_stage_eom(conn, macro(ctx, "i"), &e, &r);
	if (v != MF_V_REJECT && v != MF_V_TEMPFAIL)
		apply_edits(ctx, conn, &e);
	if (v == MF_V_QUARANTINE &&
	    smfi_quarantine(ctx, e.quarantine) != MI_SUCCESS)
		cm_log_warnx("%s: smfi_quarantine failed", mf_log_id(conn));
	rc = verdict(ctx, v, &r);
	mf_edits_release(&e);
	return rc;
}

/* cb_abort - the message was aborted by the MTA */
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) != NULL)
		mf_stage_abort(conn);
	return SMFIS_CONTINUE;
}

/* cb_close - the connection ended */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct mf_conn *conn;

	if ((conn = smfi_getpriv(ctx)) != NULL) {
		mf_stage_close(conn);
		smfi_setpriv(ctx, NULL);
		mf_conn_free(conn);
	}
	return SMFIS_CONTINUE;
}

/* mf_cb_register - register the callbacks with libmilter */
int
mf_cb_register(const struct mf_env *env)
{
	struct smfiDesc desc;

	cb_env = env;
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)(uintptr_t) "mailtally-milter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST;
	desc.xxfi_connect = cb_connect;
	desc.xxfi_helo = cb_helo;
	desc.xxfi_envfrom = cb_envfrom;
	desc.xxfi_envrcpt = cb_envrcpt;
	desc.xxfi_header = cb_header;
	desc.xxfi_eoh = cb_eoh;
	desc.xxfi_body = cb_body;
	desc.xxfi_eom = cb_eom;
	desc.xxfi_abort = cb_abort;
	desc.xxfi_close = cb_close;
	desc.xxfi_data = cb_data;
	desc.xxfi_negotiate = cb_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
