/*
 * NAME
 *	mf_authlog 3 - the one "auth" log line per message
 * SYNOPSIS
 *	#include "mf_stage.h"
 *
 *	struct cm_event *mf_authlog_event(const struct mf_conn *conn,
 *		    const struct mf_msg *msg, const char *action);
 *	void	mf_authlog_emit(const struct mf_conn *conn,
 *		    const struct mf_msg *msg, const char *action);
 *	void	mf_authlog_dkim_summary(const struct mf_dkim_verdict *v,
 *		    char *buf, size_t size);
 *	const char *mf_log_id(const struct mf_conn *conn);
 * DESCRIPTION
 *	Builds the event record of DESIGN section 4 (event=auth) from the
 *	connection and message state: queue_id (or the connection's hex id
 *	before one is known), client, helo, tls, sasl_user, mail_from,
 *	recipients (the first log_rcpt_max and the count), message_id,
 *	from_domain, size, spf, dkim, action, elapsed_ms. The text form
 *	gets compact summaries (spf=pass dkim=pass:example.org,fail:other)
 *	and the JSON form the full objects.
 *
 *	Never logged: bodies, header values other than Message-ID and the
 *	From domain, credentials (only the SASL login name).
 * SECURITY
 *	Every value here came from the network; cm_event escapes and caps
 *	each one. Addresses go through cm_event_addr() and log_addresses.
 * DIAGNOSTICS
 *	mf_authlog_event() returns NULL when memory ran out; emit then
 *	writes a diagnostic instead.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cm_log.h"
#include "cm_util.h"
#include "mf_stage.h"

mf_authlog_fn mf_authlog_hook;

/* mf_log_id - queue id, or the connection id before one is known */
const char *
mf_log_id(const struct mf_conn *conn)
{
	if (conn->msg != NULL && conn->msg->queue_id[0] != '\0')
		return conn->msg->queue_id;
	return conn->conn_id;
}

/* mf_authlog_dkim_summary - "pass:example.org,fail:other.example" */
void
mf_authlog_dkim_summary(const struct mf_dkim_verdict *v, char *buf, size_t size)
{
	size_t i, len = 0;
	int n;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (v->nsigs == 0) {
		mf_copy(buf, size, mf_dkim_result_name(v->result));
		return;
	}
	for (i = 0; i < v->nsigs && i < MF_DKIM_SIGS_MAX; i++) {
		n = snprintf(buf + len, size - len, "%s%s:%s", i > 0 ? "," : "",
		    mf_dkim_result_name(v->sig[i].result), v->sig[i].d);
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0';
			return;
		}
		len += (size_t)n;
	}
}

/* put_spf - spf=RESULT (text) and the spf object (JSON) */
static void
put_spf(struct cm_event *ev, const struct mf_msg *msg)
{
	const struct mf_spf_verdict *s = &msg->spf;

	if (!msg->spf_done) {
		/* The same JSON type whether checked or not (ELK mappings). */
		cm_event_flags(ev, CM_EV_TEXT);
		cm_event_str(ev, "spf", msg->skip != NULL ? "skipped" : "none");
		cm_event_flags(ev, CM_EV_JSON);
		cm_event_obj_begin(ev, "spf");
		cm_event_str(ev, "result",
		    msg->skip != NULL ? "skipped" : "none");
		cm_event_obj_end(ev);
		cm_event_flags(ev, CM_EV_BOTH);
		return;
	}
	cm_event_flags(ev, CM_EV_TEXT);
	cm_event_str(ev, "spf", mf_spf_result_name(s->result));
	if (s->reason[0] != '\0')
		cm_event_str(ev, "spf_reason", s->reason);
	if (s->helo_checked)
		cm_event_str(ev, "spf_helo",
		    mf_spf_result_name(s->helo_result));
	cm_event_flags(ev, CM_EV_JSON);
	cm_event_obj_begin(ev, "spf");
	cm_event_str(ev, "result", mf_spf_result_name(s->result));
	cm_event_str(ev, "identity", s->identity);
	cm_event_str(ev, "domain", s->domain);
	cm_event_str(ev, "reason", s->reason);
	if (s->helo_checked)
		cm_event_str(ev, "helo_result",
		    mf_spf_result_name(s->helo_result));
	else
		cm_event_null(ev, "helo_result");
	cm_event_obj_end(ev);
	cm_event_flags(ev, CM_EV_BOTH);
}

/* put_dkim - dkim=SUMMARY (text) and the signature array (JSON) */
static void
put_dkim(struct cm_event *ev, const struct mf_msg *msg)
{
	const struct mf_dkim_verdict *v = &msg->dkim_v;
	char sum[512];
	size_t i;

	if (!msg->dkim_done) {
		cm_event_flags(ev, CM_EV_TEXT);
		cm_event_str(ev, "dkim",
		    msg->skip != NULL ? "skipped" : "none");
		cm_event_flags(ev, CM_EV_JSON);
		cm_event_str(ev, "dkim_result",
		    msg->skip != NULL ? "skipped" : "none");
		cm_event_arr_begin(ev, "dkim");
		cm_event_arr_end(ev);
		cm_event_flags(ev, CM_EV_BOTH);
		return;
	}
	mf_authlog_dkim_summary(v, sum, sizeof(sum));
	cm_event_flags(ev, CM_EV_TEXT);
	cm_event_str(ev, "dkim", sum);
	cm_event_flags(ev, CM_EV_JSON);
	cm_event_str(ev, "dkim_result", mf_dkim_result_name(v->result));
	cm_event_arr_begin(ev, "dkim");
	for (i = 0; i < v->nsigs && i < MF_DKIM_SIGS_MAX; i++) {
		cm_event_obj_begin(ev, NULL);
		cm_event_str(ev, "d", v->sig[i].d);
		cm_event_str(ev, "s", v->sig[i].s);
		cm_event_str(ev, "a", v->sig[i].a);
		cm_event_int(ev, "bits", v->sig[i].bits);
		cm_event_str(ev, "result",
		    mf_dkim_result_name(v->sig[i].result));
		cm_event_str(ev, "reason", v->sig[i].reason);
		cm_event_obj_end(ev);
	}
	cm_event_arr_end(ev);
	cm_event_flags(ev, CM_EV_BOTH);
}

/* put_session - client, helo, tls, sasl */
static void
put_session(struct cm_event *ev, const struct mf_conn *conn,
    const struct mf_msg *msg)
{
	cm_event_str(ev, "client_ip", conn->client_ip);
	cm_event_str(ev, "client_name", conn->client_name);
	cm_event_str(ev, "helo", conn->helo);
	if (msg->tls_version[0] != '\0') {
		cm_event_obj_begin(ev, "tls");
		cm_event_str(ev, "version", msg->tls_version);
		cm_event_str(ev, "cipher", msg->tls_cipher);
		cm_event_str(ev, "bits", msg->tls_bits);
		cm_event_obj_end(ev);
	}
	if (msg->sasl_user[0] != '\0')
		cm_event_str(ev, "sasl_user", msg->sasl_user);
}

/* mf_authlog_event - the event=auth record of one message */
struct cm_event *
mf_authlog_event(const struct mf_conn *conn, const struct mf_msg *msg,
    const char *action)
{
	struct cm_event *ev;
	size_t i;

	if ((ev = cm_event_new("auth",
		 msg->queue_id[0] != '\0' ? msg->queue_id : conn->conn_id)) ==
	    NULL)
		return NULL;
	put_spf(ev, msg);
	put_dkim(ev, msg);
	cm_event_str(ev, "action", action);
	if (msg->rule != NULL)
		cm_event_str(ev, "rule", msg->rule);
	if (msg->skip != NULL)
		cm_event_str(ev, "skip", msg->skip);
	put_session(ev, conn, msg);
	cm_event_addr(ev, "mail_from", msg->mail_from);
	cm_event_arr_begin(ev, "rcpt");
	for (i = 0; i < msg->nrcpt; i++)
		cm_event_addr(ev, NULL, msg->rcpt[i]);
	cm_event_arr_end(ev);
	cm_event_int(ev, "rcpt_count", (long long)msg->rcpt_count);
	if (msg->message_id[0] != '\0')
		cm_event_str(ev, "message_id", msg->message_id);
	if (msg->from_domain[0] != '\0')
		cm_event_str(ev, "from_domain", msg->from_domain);
	cm_event_int(ev, "size", (long long)msg->size);
	if (msg->nforged > 0)
		cm_event_int(ev, "forged_ar", (long long)msg->nforged);
	if (msg->dkim_cut)
		cm_event_str(ev, "headers", "over max_header_bytes");
	if (msg->internal_error)
		cm_event_str(ev, "error", msg->error_why);
	cm_event_int(ev, "elapsed_ms",
	    (long long)(cm_mono_ms() - msg->start_ms));
	return ev;
}

/* mf_authlog_emit - write the line at level info */
void
mf_authlog_emit(const struct mf_conn *conn, const struct mf_msg *msg,
    const char *action)
{
	struct cm_event *ev;

	if ((ev = mf_authlog_event(conn, msg, action)) == NULL) {
		cm_log_error("%s: auth log line: out of memory", conn->conn_id);
		return;
	}
	if (mf_authlog_hook != NULL)
		mf_authlog_hook(ev);
	else
		cm_event_emit(ev, CM_LOG_INFO);
}
