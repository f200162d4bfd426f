/*
 * NAME
 *	mf_stage 3 - the milter's work per SMTP stage, without libmilter
 * SYNOPSIS
 *	#include "mf_stage.h"
 *
 *	int	mf_stage_connect(struct mf_conn *conn, const char *hostname,
 *		    const char *ip);
 *	int	mf_stage_helo(struct mf_conn *conn, const char *helo);
 *	int	mf_stage_envfrom(struct mf_conn *conn, const char *from,
 *		    const struct mf_macros *macros, struct mf_reply *reply);
 *	int	mf_stage_envrcpt(struct mf_conn *conn, const char *rcpt);
 *	int	mf_stage_data(struct mf_conn *conn, const char *queue_id);
 *	int	mf_stage_header(struct mf_conn *conn, const char *name,
 *		    const char *value);
 *	int	mf_stage_eoh(struct mf_conn *conn);
 *	int	mf_stage_body(struct mf_conn *conn,
 *		    const unsigned char *p, size_t len);
 *	int	mf_stage_eom(struct mf_conn *conn, const char *queue_id,
 *		    struct mf_edits *edits, struct mf_reply *reply);
 *	void	mf_stage_abort(struct mf_conn *conn);
 *	void	mf_stage_close(struct mf_conn *conn);
 *	int	mf_stage_internal(const struct mf_conf *conf,
 *		    struct mf_reply *reply);
 *	void	mf_edits_release(struct mf_edits *edits);
 * DESCRIPTION
 *	connect: client address and name, internal_hosts match. helo: the
 *	HELO name. envfrom: a new message; macros; SPF of MAIL FROM (the
 *	HELO identity for the null sender, and HELO itself when spf_helo);
 *	an SPF action of reject or tempfail answers right here. Messages
 *	from internal_hosts, and from SMTP AUTH clients when
 *	skip_authenticated, are not checked but are logged.
 *	header: DKIM is fed every field as received; the first From domain
 *	and Message-ID are kept; Authentication-Results headers with our
 *	authserv-id are remembered for deletion. eom: DKIM verdict, action,
 *	edits, log line.
 *
 *	Header bytes over max_header_bytes stop the DKIM feed: the message
 *	is then dkim=permerror when it had a DKIM-Signature, none otherwise.
 *	Forged-header detection goes on for every header.
 * SECURITY
 *	Every argument comes from the SMTP client through the MTA; each is
 *	copied with a bound and logged only through cm_log's escaping.
 * DIAGNOSTICS
 *	Out of memory and check-library failures set the message's
 *	internal_error, which on_internal_error turns into an action; the
 *	functions never exit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cm_addr.h"
#include "cm_cidr.h"
#include "cm_log.h"
#include "cm_util.h"
#include "mf_authres.h"
#include "mf_stage.h"

/* internal - record an internal error once */
static void
internal(struct mf_msg *msg, const char *why)
{
	if (!msg->internal_error) {
		msg->internal_error = 1;
		msg->error_why = why;
	}
}

/* finish - write the log line of a message and free it */
static void
finish(struct mf_conn *conn, const char *action)
{
	if (conn->msg == NULL)
		return;
	if (!conn->msg->logged)
		mf_authlog_emit(conn, conn->msg, action);
	conn->msg = mf_msg_free(conn->msg);
}

/* mf_stage_internal - the verdict of on_internal_error, outside a message */
int
mf_stage_internal(const struct mf_conf *conf, struct mf_reply *reply)
{
	switch (conf->on_internal_error) {
	case MF_ACT_REJECT:
		mf_conf_reply(conf, MF_ACT_REJECT, "on_internal_error", reply);
		return MF_V_REJECT;
	case MF_ACT_TEMPFAIL:
		mf_conf_reply(conf, MF_ACT_TEMPFAIL, "on_internal_error",
		    reply);
		return MF_V_TEMPFAIL;
	default:
		return MF_V_ACCEPT;
	}
}

/* mf_stage_connect - client address, name, internal_hosts */
int
mf_stage_connect(struct mf_conn *conn, const char *hostname, const char *ip)
{
	const struct mf_conf *conf = conn->env->conf;

	mf_copy(conn->client_name, sizeof(conn->client_name), hostname);
	mf_copy(conn->client_ip, sizeof(conn->client_ip), ip);
	conn->internal = ip != NULL && *ip != '\0' &&
	    conf->internal_hosts != NULL &&
	    cm_cidr_match_str(conf->internal_hosts, ip) == 1;
	return MF_V_CONTINUE;
}

/* mf_stage_helo - the HELO/EHLO name; a later one replaces it */
int
mf_stage_helo(struct mf_conn *conn, const char *helo)
{
	mf_copy(conn->helo, sizeof(conn->helo), helo);
	return MF_V_CONTINUE;
}

/*
 * run_spf - SPF of the message's sender; 0 or -1. A MAIL FROM that
 * cm_addr_norm() refused ("@example.net", a space in the local part) is
 * passed as received: it is still a mailfrom identity (RFC 7208 4.3,
 * local part "postmaster" when empty), not the null sender, and
 * mf_spf_check() makes of it what it can.
 */
static int
run_spf(struct mf_conn *conn, struct mf_msg *msg)
{
	const struct mf_conf *conf = conn->env->conf;

	if (!conf->spf || conn->env->spf == NULL || conn->client_ip[0] == '\0')
		return 0;
	if (mf_spf_check(conn->env->spf, conn->client_ip,
		conn->helo[0] != '\0' ? conn->helo : NULL, msg->mail_from,
		conf->spf_helo, conf->add_received_spf, &msg->spf) < 0) {
		internal(msg,
		    msg->spf.reason[0] != '\0' ? "spf check"
					       : "spf check failed");
		return -1;
	}
	msg->spf_done = 1;
	return 0;
}

/* early_action - an SPF verdict that answers at MAIL FROM */
static int
early_action(struct mf_conn *conn, struct mf_msg *msg, struct mf_reply *reply)
{
	const struct mf_conf *conf = conn->env->conf;
	const char *rule;
	int action;

	action = mf_conf_action(conf, msg->spf_done ? &msg->spf : NULL, NULL,
	    msg->internal_error, &rule);
	if (action != MF_ACT_REJECT && action != MF_ACT_TEMPFAIL)
		return MF_V_CONTINUE;
	msg->action = action;
	msg->rule = rule;
	if (mf_conf_reply(conf, action, rule, reply) < 0)
		cm_panic("mf_stage: reply text for %s does not parse", rule);
	mf_authlog_emit(conn, msg, mf_action_names[action]);
	msg->logged = 1;
	return action == MF_ACT_REJECT ? MF_V_REJECT : MF_V_TEMPFAIL;
}

/* mf_stage_envfrom - a new message: macros, sender, SPF */
int
mf_stage_envfrom(struct mf_conn *conn, const char *from,
    const struct mf_macros *m, struct mf_reply *reply)
{
	const struct mf_conf *conf = conn->env->conf;
	struct mf_msg *msg;
	const char *why;

	finish(conn, "abort");
	if ((conn->msg = msg = mf_msg_new(conf)) == NULL)
		return mf_stage_internal(conf, reply);
	mf_copy(msg->queue_id, sizeof(msg->queue_id), m->queue_id);
	mf_copy(msg->sasl_user, sizeof(msg->sasl_user), m->auth_authen);
	mf_copy(msg->tls_version, sizeof(msg->tls_version), m->tls_version);
	mf_copy(msg->tls_cipher, sizeof(msg->tls_cipher), m->cipher);
	mf_copy(msg->tls_bits, sizeof(msg->tls_bits), m->cipher_bits);
	if (from == NULL)
		from = "";
	if (cm_addr_norm(from, strlen(from), msg->mail_from, &why) < 0) {
		msg->mail_from_bad = 1;
		mf_copy(msg->mail_from, sizeof(msg->mail_from), from);
	}
	if (conn->internal)
		msg->skip = "internal";
	else if (conf->skip_authenticated && msg->sasl_user[0] != '\0')
		msg->skip = "authenticated";
	if (msg->skip != NULL)
		return MF_V_CONTINUE;
	(void)run_spf(conn, msg);
	if (conf->dkim && conn->env->dkim != NULL &&
	    (msg->dkim = mf_dkim_msg_new(conn->env->dkim, &why)) == NULL)
		internal(msg, "dkim start");
	return early_action(conn, msg, reply);
}

/* mf_stage_envrcpt - count and keep a recipient */
int
mf_stage_envrcpt(struct mf_conn *conn, const char *rcpt)
{
	if (conn->msg == NULL)
		return MF_V_CONTINUE;
	if (mf_msg_add_rcpt(conn->msg, conn->env->conf,
		rcpt != NULL ? rcpt : "") < 0)
		internal(conn->msg, "out of memory");
	return MF_V_CONTINUE;
}

/* mf_stage_data - the queue id is known from DATA on */
int
mf_stage_data(struct mf_conn *conn, const char *queue_id)
{
	if (conn->msg != NULL && queue_id != NULL && *queue_id != '\0')
		mf_copy(conn->msg->queue_id, sizeof(conn->msg->queue_id),
		    queue_id);
	return MF_V_CONTINUE;
}

/*
 * from_domain - the domain of the first address in a From value, as the
 * core's address helper normalizes it (lower case); nothing when the
 * address does not normalize.
 */
static void
from_domain(const char *v, char *out, size_t size)
{
	char norm[CM_ADDR_MAX + 1];
	const char *p, *end, *d, *why;

	if ((p = strchr(v, '<')) != NULL)
		end = strchr(++p, '>');
	else {
		for (p = v; *p == ' ' || *p == '\t' || *p == '\n'; p++)
			;
		end = p + strcspn(p, ",;(\r\n");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	if (end == NULL || cm_addr_norm(p, (size_t)(end - p), norm, &why) < 0 ||
	    (d = cm_addr_domain(norm)) == NULL || strlen(d) >= size)
		return;
	mf_copy(out, size, d);
}

/* trimmed_copy - copy a header value without surrounding white space */
static void
trimmed_copy(char *dst, size_t size, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	mf_copy(dst, size, v);
	n = strlen(dst);
	while (n > 0 && strchr(" \t\r\n", dst[n - 1]) != NULL)
		dst[--n] = '\0';
}

/* mf_stage_header - one header field, name and value as received */
int
mf_stage_header(struct mf_conn *conn, const char *name, const char *value)
{
	struct mf_msg *msg = conn->msg;
	const char *id = conn->env->conf->authserv_id;
	int is_sig;

	if (msg == NULL || name == NULL || value == NULL)
		return MF_V_CONTINUE;
	is_sig = strcasecmp(name, "DKIM-Signature") == 0;
	if (strcasecmp(name, MF_AUTHRES_NAME) == 0) {
		msg->ar_seen++;
		if (mf_authres_is_ours(value, strlen(value), id) &&
		    mf_msg_add_forged(msg, msg->ar_seen) < 0)
			internal(msg, "out of memory");
	} else if (strcasecmp(name, "From") == 0 && msg->from_domain[0] == '\0')
		from_domain(value, msg->from_domain, sizeof(msg->from_domain));
	else if (strcasecmp(name, "Message-ID") == 0 &&
	    msg->message_id[0] == '\0')
		trimmed_copy(msg->message_id, sizeof(msg->message_id), value);
	if (is_sig)
		msg->sigs_seen++;
	if (mf_msg_count_header(msg, conn->env->conf,
		strlen(name) + strlen(value) + 3)) {
		/* Too much to verify: stop DKIM, keep looking for forgeries. */
		if (msg->dkim != NULL) {
			mf_dkim_msg_free(msg->dkim);
			msg->dkim = NULL;
			msg->dkim_cut = 1;
		}
		return MF_V_CONTINUE;
	}
	/* mf_dkim_header() restores the CRLF of folded lines (Postfix
	 * joins them with a bare LF; "simple" canonicalization needs it). */
	if (msg->dkim != NULL && mf_dkim_header(msg->dkim, name, value) < 0)
		internal(msg, "dkim header");
	return MF_V_CONTINUE;
}

/* mf_stage_eoh - end of headers: DKIM looks up keys here */
int
mf_stage_eoh(struct mf_conn *conn)
{
	struct mf_msg *msg = conn->msg;

	if (msg != NULL && msg->dkim != NULL && mf_dkim_eoh(msg->dkim) < 0)
		internal(msg, "dkim eoh");
	return MF_V_CONTINUE;
}

/*
 * mf_stage_body - a body chunk (CRLF line ends). MF_V_SKIP when the rest
 * of the body cannot change the verdict: no DKIM check runs (dkim = no,
 * a skipped client, headers over the limit) or the mail is unsigned.
 */
int
mf_stage_body(struct mf_conn *conn, const unsigned char *p, size_t len)
{
	struct mf_msg *msg = conn->msg;

	if (msg == NULL)
		return MF_V_SKIP;
	msg->size += len;
	if (msg->dkim == NULL || !mf_dkim_need_body(msg->dkim))
		return MF_V_SKIP;
	if (mf_dkim_body(msg->dkim, p, len) < 0)
		internal(msg, "dkim body");
	return MF_V_CONTINUE;
}

/* received_spf_value - the value, without a "Received-SPF:" label */
static const char *
received_spf_value(const char *v)
{
	static const char label[] = "Received-SPF:";

	if (strncasecmp(v, label, sizeof(label) - 1) == 0)
		v += sizeof(label) - 1;
	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

/* build_edits - forged headers to delete, our header, Received-SPF */
static void
build_edits(struct mf_conn *conn, struct mf_msg *msg, struct mf_edits *e)
{
	const struct mf_conf *conf = conn->env->conf;

	e->del = msg->forged;
	e->ndel = msg->nforged;
	if (msg->skip != NULL)
		return;
	if (mf_authres_build(&e->ar, conf->authserv_id,
		msg->spf_done ? &msg->spf : NULL,
		msg->dkim_done ? &msg->dkim_v : NULL, conn->leadspc) < 0) {
		cm_buf_reset(&e->ar);
		internal(msg, "authentication-results too long");
	}
	if (conf->add_received_spf && msg->spf_done &&
	    msg->spf.received_spf[0] != '\0' &&
	    cm_buf_printf(&e->received_spf, "%s%s", conn->leadspc ? " " : "",
		received_spf_value(msg->spf.received_spf)) < 0)
		cm_buf_reset(&e->received_spf);
}

/* mf_stage_eom - DKIM verdict, action, edits and the log line */
int
mf_stage_eom(struct mf_conn *conn, const char *queue_id, struct mf_edits *e,
    struct mf_reply *reply)
{
	const struct mf_conf *conf = conn->env->conf;
	struct mf_msg *msg = conn->msg;
	int action, v;

	memset(e, 0, sizeof(*e));
	cm_buf_init(&e->ar, 8192);
	cm_buf_init(&e->received_spf, 2048);
	if (msg == NULL)
		return MF_V_ACCEPT;
	mf_stage_data(conn, queue_id);
	if (msg->dkim != NULL) {
		if (mf_dkim_eom(msg->dkim, &msg->dkim_v) < 0)
			internal(msg, "dkim eom");
		else
			msg->dkim_done = 1;
		mf_dkim_msg_free(msg->dkim);
		msg->dkim = NULL;
	} else if (msg->dkim_cut) {
		memset(&msg->dkim_v, 0, sizeof(msg->dkim_v));
		msg->dkim_v.result = msg->sigs_seen > 0 ? MF_DKIM_PERMERROR
							: MF_DKIM_NONE;
		msg->dkim_done = 1;
	}
	build_edits(conn, msg, e);
	action = msg->skip != NULL
	    ? MF_ACT_ACCEPT
	    : mf_conf_action(conf, msg->spf_done ? &msg->spf : NULL,
		  msg->dkim_done ? &msg->dkim_v : NULL, msg->internal_error,
		  &msg->rule);
	msg->action = action;
	msg->finished = 1;
	switch (action) {
	case MF_ACT_REJECT:
	case MF_ACT_TEMPFAIL:
		if (mf_conf_reply(conf, action, msg->rule, reply) < 0)
			cm_panic("mf_stage: reply text for %s does not parse",
			    msg->rule);
		v = action == MF_ACT_REJECT ? MF_V_REJECT : MF_V_TEMPFAIL;
		break;
	case MF_ACT_QUARANTINE:
		snprintf(e->quarantine, sizeof(e->quarantine),
		    "mailtally-milter: %s", msg->rule);
		v = MF_V_QUARANTINE;
		break;
	default:
		v = MF_V_ACCEPT;
	}
	mf_authlog_emit(conn, msg, mf_action_names[action]);
	msg->logged = 1;
	return v;
}

/* mf_stage_abort - the MTA dropped the message: log what was known */
void
mf_stage_abort(struct mf_conn *conn)
{
	finish(conn, "abort");
}

/* mf_stage_close - end of connection */
void
mf_stage_close(struct mf_conn *conn)
{
	finish(conn, "abort");
}

/* mf_edits_release - free the buffers of the edits */
void
mf_edits_release(struct mf_edits *e)
{
	cm_buf_release(&e->ar);
	cm_buf_release(&e->received_spf);
	e->del = NULL;
	e->ndel = 0;
}
