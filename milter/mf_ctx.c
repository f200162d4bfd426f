/*
 * NAME
 *	mf_ctx 3 - per-connection and per-message milter state
 * SYNOPSIS
 *	#include "mf_ctx.h"
 *
 *	int	mf_env_open(const struct mf_conf *conf, struct mf_env *env,
 *		    char *err, size_t errlen);
 *	void	mf_env_close(struct mf_env *env);
 *	struct mf_conn *mf_conn_new(const struct mf_env *env);
 *	struct mf_conn *mf_conn_free(struct mf_conn *conn);
 *	struct mf_msg *mf_msg_new(const struct mf_conf *conf);
 *	struct mf_msg *mf_msg_free(struct mf_msg *msg);
 *	int	mf_msg_add_rcpt(struct mf_msg *msg,
 *		    const struct mf_conf *conf, const char *rcpt);
 *	int	mf_msg_add_forged(struct mf_msg *msg, size_t index);
 *	int	mf_msg_count_header(struct mf_msg *msg,
 *		    const struct mf_conf *conf, size_t n);
 *	void	mf_copy(char *dst, size_t size, const char *src);
 * DESCRIPTION
 *	The state the stage functions share. A connection gets a random
 *	16-hex-digit id for log lines written before the queue id is
 *	known.
 *
 *	mf_msg_add_rcpt() counts every recipient and keeps a normalized
 *	copy of the first log_rcpt_max (an address that does not
 *	normalize is kept as "?").
 *
 *	mf_msg_add_forged() remembers the occurrence number of an
 *	Authentication-Results header to delete at end of message. The
 *	list grows as needed: a forged header must never survive because a
 *	list was full, and the header byte limit bounds it anyway.
 *
 *	mf_msg_count_header() adds n bytes to the header total and returns
 *	1 when max_header_bytes is passed (the message is then still
 *	handled, but DKIM stops reading headers).
 * DIAGNOSTICS
 *	Allocation failures return NULL or -1; nothing here exits.
 */
#include "config.h"

#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_addr.h"
#include "cm_util.h"
#include "mf_ctx.h"

/* mf_env_open - resolver, SPF and DKIM handles as conf says */
int
mf_env_open(const struct mf_conf *conf, struct mf_env *env, char *err,
    size_t errlen)
{
	const char *why = "", *what = "dns";

	memset(env, 0, sizeof(*env));
	env->conf = conf;
	if (!conf->spf && !conf->dkim)
		return 0;
	if ((env->dns = mf_dns_new((const char *const *)conf->dns_nameservers.v,
		 conf->dns_nameservers.n, conf->dns_timeout_ms, &why)) == NULL)
		goto fail;
	what = "spf";
	if (conf->spf &&
	    (env->spf = mf_spf_new(env->dns, conf->authserv_id, &why)) == NULL)
		goto fail;
	what = "dkim";
	if (conf->dkim &&
	    (env->dkim = mf_dkim_lib_new(env->dns,
		 (unsigned)conf->dkim_min_key_bits,
		 (unsigned)conf->dkim_max_signatures, &why)) == NULL)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, why);
	mf_env_close(env);
	return -1;
}

/* mf_env_close - free what mf_env_open made */
void
mf_env_close(struct mf_env *env)
{
	if (env->dkim != NULL)
		mf_dkim_lib_free(env->dkim);
	if (env->spf != NULL)
		mf_spf_free(env->spf);
	if (env->dns != NULL)
		mf_dns_free(env->dns);
	memset(env, 0, sizeof(*env));
}

/* mf_copy - bounded copy that truncates (macros, names) */
void
mf_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return;
	if (src == NULL)
		src = "";
	n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* mf_conn_new - a connection context with a fresh id */
struct mf_conn *
mf_conn_new(const struct mf_env *env)
{
	struct mf_conn *conn;
	unsigned char r[8];
	size_t i;

	if ((conn = calloc(1, sizeof(*conn))) == NULL)
		return NULL;
	conn->env = env;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = cm_mono_us() ^ (uint64_t)(uintptr_t)conn;

		memcpy(r, &t, sizeof(r));
	}
	for (i = 0; i < sizeof(r); i++) {
		conn->conn_id[2 * i] = "0123456789ABCDEF"[r[i] >> 4];
		conn->conn_id[2 * i + 1] = "0123456789ABCDEF"[r[i] & 15];
	}
	conn->conn_id[16] = '\0';
	return conn;
}

/* mf_conn_free - free a connection and its message */
struct mf_conn *
mf_conn_free(struct mf_conn *conn)
{
	if (conn == NULL)
		return NULL;
	conn->msg = mf_msg_free(conn->msg);
	free(conn);
	return NULL;
}

/* mf_msg_new - a message context */
struct mf_msg *
mf_msg_new(const struct mf_conf *conf)
{
	struct mf_msg *msg;

	if ((msg = calloc(1, sizeof(*msg))) == NULL)
		return NULL;
	if (conf->log_rcpt_max > 0 &&
	    (msg->rcpt = calloc((size_t)conf->log_rcpt_max,
		 sizeof(*msg->rcpt))) == NULL) {
		free(msg);
		return NULL;
	}
	msg->start_ms = cm_mono_ms();
	return msg;
}

/* mf_msg_free - free a message context and its DKIM handle */
struct mf_msg *
mf_msg_free(struct mf_msg *msg)
{
	size_t i;

	if (msg == NULL)
		return NULL;
	for (i = 0; i < msg->nrcpt; i++)
		free(msg->rcpt[i]);
	free(msg->rcpt);
	free(msg->forged);
	if (msg->dkim != NULL)
		mf_dkim_msg_free(msg->dkim);
	free(msg);
	return NULL;
}

/* mf_msg_add_rcpt - count a recipient, keep the first few */
int
mf_msg_add_rcpt(struct mf_msg *msg, const struct mf_conf *conf,
    const char *rcpt)
{
	char norm[CM_ADDR_MAX + 1];
	const char *why;

	msg->rcpt_count++;
	if (msg->nrcpt >= (size_t)conf->log_rcpt_max)
		return 0;
	if (cm_addr_norm(rcpt, strlen(rcpt), norm, &why) < 0)
		mf_copy(norm, sizeof(norm), "?");
	if ((msg->rcpt[msg->nrcpt] = strdup(norm)) == NULL)
		return -1;
	msg->nrcpt++;
	return 0;
}

/* mf_msg_add_forged - remember one forged header to delete */
int
mf_msg_add_forged(struct mf_msg *msg, size_t index)
{
	size_t *p, cap;

	if (msg->nforged == msg->forged_cap) {
		cap = msg->forged_cap == 0 ? 8 : msg->forged_cap * 2;
		if ((p = reallocarray(msg->forged, cap, sizeof(*p))) == NULL)
			return -1;
		msg->forged = p;
		msg->forged_cap = cap;
	}
	msg->forged[msg->nforged++] = index;
	return 0;
}

/* mf_msg_count_header - add to the header bytes; 1 when over the limit */
int
mf_msg_count_header(struct mf_msg *msg, const struct mf_conf *conf, size_t n)
{
	msg->nheaders++;
	msg->size += n;
	if (msg->header_bytes + n > (size_t)conf->max_header_bytes)
		msg->header_overflow = 1;
	else
		msg->header_bytes += n;
	return msg->header_overflow;
}
