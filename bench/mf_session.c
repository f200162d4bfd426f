/*
 * NAME
 *	mf_session - one Postfix-like SMTP session as seen by a milter
 * SYNOPSIS
 *	#include "mf_session.h"
 *
 *	int	mf_session_open(struct mf_session *s, const struct mf_addr *a,
 *		    unsigned client_no, const char **why);
 *	int	mf_session_message(struct mf_session *s,
 *		    const struct mf_msg *msg, const char *qid,
 *		    const char *authserv_id, struct mf_verdict *v);
 *	void	mf_session_close(struct mf_session *s);
 * DESCRIPTION
 *	This module plays the MTA side of milter protocol version 6 the
 *	way Postfix 3.7 (smtpd + cleanup, milter8.c) does with its default
 *	settings (milter_protocol = 6, default milter_*_macros,
 *	smtpd_delay_open_until_valid_rcpt = yes):
 *
 *	- SMFIC_OPTNEG offers version 6, every action (0x1ff) and every
 *	  protocol step (0x1fffff); the milter's answer decides which steps
 *	  are sent (SMFIP_NO*) and which get no reply (SMFIP_NR_*), and its
 *	  macro lists (SMFIR_SETSYMLIST) replace the default ones;
 *	- before each event an SMFIC_MACRO packet with that stage's macros
 *	  (also for CONNECT..DATA events the milter skipped, as Postfix);
 *	  {i} (the queue id) exists from DATA on;
 *	- one SMFIC_HEADER per header field, each after its macro packet,
 *	  folded lines joined by "\n", one leading space eaten unless
 *	  SMFIP_HDR_LEADSPC; SMFIC_EOH; SMFIC_BODY chunks of at most 65535
 *	  bytes of CRLF text (SMFIR_SKIP honoured); SMFIC_BODYEOB;
 *	- the buffer is flushed when a reply is awaited, and once after DATA
 *	  (Postfix's smtpd hands the milter socket to cleanup there), so
 *	  unanswered packets coalesce with the next ones as in Postfix;
 *	- after each transaction SMFIC_ABORT, and at the end SMFIC_ABORT
 *	  again and SMFIC_QUIT, all unflushed until then (a packet trace of
 *	  Postfix 3.7.11 with opendkim shows the same sequence and stalls).
 *
 *	mf_session_open() connects, negotiates and sends CONNECT and HELO.
 *	The client is 192.0.2.x (TEST-NET-1), chosen from client_no.
 *
 *	mf_session_message() runs MAIL, RCPT, DATA and the content of one
 *	message and reads the end-of-message replies into *v: the final
 *	decision and every Authentication-Results field the milter adds,
 *	inserts or changes whose authserv-id is 'authserv_id' (any, if
 *	null), through mf_verdict_header() (mf_verdict.c).
 *
 *	mf_session_close() ends the session as Postfix does and frees it.
 * DIAGNOSTICS
 *	mf_session_open() and mf_session_message() return -1 on an I/O or
 *	protocol error (the session is then unusable).
 * SECURITY
 *	Replies are parsed with explicit lengths; strings must end in NUL
 *	inside their packet.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_session.h"

/* Protocol steps (SMFIP_*) and actions (SMFIF_*). */
#define MF_P_NOCONNECT 0x1
#define MF_P_NOHELO 0x2
#define MF_P_NOMAIL 0x4
#define MF_P_NORCPT 0x8
#define MF_P_NOBODY 0x10
#define MF_P_NOHDRS 0x20
#define MF_P_NOEOH 0x40
#define MF_P_NR_HDR 0x80
#define MF_P_NODATA 0x200
#define MF_P_NR_CONN 0x1000
#define MF_P_NR_HELO 0x2000
#define MF_P_NR_MAIL 0x4000
#define MF_P_NR_RCPT 0x8000
#define MF_P_NR_DATA 0x10000
#define MF_P_NR_EOH 0x40000
#define MF_P_NR_BODY 0x80000
#define MF_P_HDR_LEADSPC 0x100000
#define MF_P_OFFERED 0x1fffffU /* Postfix's MILTER8_V6_PROTO_MASK */
#define MF_A_OFFERED 0x1ffU /* every SMFIF_* action */

/* Macro stages (SMFIM_*), the index of their name lists. */
enum {
	MF_M_CONNECT,
	MF_M_HELO,
	MF_M_MAIL,
	MF_M_RCPT,
	MF_M_DATA,
	MF_M_EOM,
	MF_M_EOH
};

/* Postfix 3.7's default milter_*_macros. */
/* clang-format off */
static const char *const mf_default_macros[MF_NMACRO_STAGES] = {
	"j {daemon_name} {daemon_addr} v _",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i",
	"i",
	"i",
};
/* clang-format on */

#define MF_CHUNK 65535 /* Postfix MILTER_CHUNK_SIZE */
#define MF_HOSTNAME "mx.bench.example"

/* Event outcomes. */
#define MF_EV_CONT 0
#define MF_EV_FINAL 1
#define MF_EV_SKIP 2

/* mf_domain - the domain part of an address */
static const char *
mf_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/*
 * mf_macro_value - what Postfix's smtpd would define for one macro name
 * in this session and stage, or null when it is undefined (then Postfix
 * leaves it out). There is no TLS and no SMTP AUTH here.
 */
static const char *
mf_macro_value(const struct mf_session *s, int stage, const char *name,
    char *tmp, size_t tmplen)
{
	unsigned ip = 1 + s->client_no % 254;

	if (strcmp(name, "i") == 0 || strcmp(name, "{i}") == 0)
		return stage >= MF_M_DATA ? s->qid : NULL;
	if (strcmp(name, "j") == 0 || strcmp(name, "{daemon_name}") == 0)
		return MF_HOSTNAME;
	if (strcmp(name, "{daemon_addr}") == 0)
		return "127.0.0.1";
	if (strcmp(name, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(name, "_") == 0) {
		snprintf(tmp, tmplen, "client%u.bench.example [192.0.2.%u]", ip,
		    ip);
		return tmp;
	}
	if (s->msg == NULL)
		return NULL;
	if (strcmp(name, "{mail_addr}") == 0)
		return s->msg->mail_from;
	if (strcmp(name, "{mail_host}") == 0)
		return mf_domain(s->msg->mail_from);
	if (strcmp(name, "{mail_mailer}") == 0)
		return "smtp";
	if (strcmp(name, "{rcpt_addr}") == 0)
		return s->msg->rcpt_to;
	if (strcmp(name, "{rcpt_host}") == 0)
		return mf_domain(s->msg->rcpt_to);
	if (strcmp(name, "{rcpt_mailer}") == 0)
		return "virtual";
	return NULL;
}

/* mf_send_macros - one SMFIC_MACRO packet for event 'cmd' */
static int
mf_send_macros(struct mf_session *s, int cmd, int stage)
{
	const char *list = s->symlist[stage] ? s->symlist[stage]
					     : mf_default_macros[stage];
	const char *p = list, *val;
	char name[64], tmp[128];
	unsigned char code = (unsigned char)cmd;
	size_t n;

	mf_pkt_begin(&s->conn, MF_C_MACRO);
	mf_pkt_add(&s->conn, &code, 1);
	while (*p != '\0') {
		p += strspn(p, ", \t\r\n");
		n = strcspn(p, ", \t\r\n");
		if (n == 0)
			break;
		if (n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			val = mf_macro_value(s, stage, name, tmp, sizeof(tmp));
			if (val != NULL) {
				mf_pkt_str(&s->conn, name);
				mf_pkt_str(&s->conn, val);
			}
		}
		p += n;
	}
	return mf_pkt_end(&s->conn);
}

/* mf_reply - read replies to one event until it is decided */
static int
mf_reply(struct mf_session *s, int event, const char *authserv_id,
    struct mf_verdict *v)
{
	const unsigned char *d;
	size_t len;
	int cmd;

	for (;;) {
		if (mf_read_reply(&s->conn, &cmd, &d, &len) < 0)
			return -1;
		switch (cmd) {
		case MF_R_PROGRESS:
		case MF_R_SETSYMLIST:
			continue;
		case MF_R_CONTINUE:
			return MF_EV_CONT;
		case MF_R_SKIP:
			return MF_EV_SKIP;
		case MF_R_QUARANTINE:
			if (v != NULL)
				v->quarantined = 1;
			continue;
		case MF_R_ACCEPT:
		case MF_R_DISCARD:
		case MF_R_REJECT:
		case MF_R_TEMPFAIL:
		case MF_R_REPLYCODE:
		case MF_R_SHUTDOWN:
		case MF_R_CONN_FAIL:
			if (v != NULL) {
				v->final = cmd;
				v->stage = event;
			}
			return MF_EV_FINAL;
		case MF_R_ADDHEADER:
		case MF_R_INSHEADER:
		case MF_R_CHGHEADER:
			if (event != MF_C_BODYEOB || v == NULL ||
			    mf_verdict_header(v, authserv_id, cmd, d, len) < 0)
				return -1;
			continue;
		case MF_R_ADDRCPT:
		case MF_R_DELRCPT:
		case MF_R_ADDRCPT_PAR:
		case MF_R_REPLBODY:
		case MF_R_CHGFROM:
			if (event != MF_C_BODYEOB)
				return -1;
			continue;
		default:
			fprintf(stderr,
			    "milter_load: unexpected reply '%c' "
			    "to '%c'\n",
			    cmd, event);
			return -1;
		}
	}
}

/*
 * mf_event - the part of an event after its arguments were appended:
 * close the packet and read the reply unless SMFIP_NR_* says none.
 */
static int
mf_event_end(struct mf_session *s, int event, uint32_t nr_flag,
    const char *authserv_id, struct mf_verdict *v)
{
	if (mf_pkt_end(&s->conn) < 0)
		return -1;
	if (nr_flag != 0 && (s->pflags & nr_flag) != 0)
		return MF_EV_CONT;
	return mf_reply(s, event, authserv_id, v);
}

/* mf_negotiate - SMFIC_OPTNEG and its answer */
static int
mf_negotiate(struct mf_session *s, const char **why)
{
	const unsigned char *d, *end, *nul;
	uint32_t w[3], type;
	size_t len;
	int cmd;

	mf_pkt_begin(&s->conn, MF_C_OPTNEG);
	mf_pkt_u32(&s->conn, 6);
	mf_pkt_u32(&s->conn, MF_A_OFFERED);
	mf_pkt_u32(&s->conn, MF_P_OFFERED);
	if (mf_pkt_end(&s->conn) < 0 ||
	    mf_read_reply(&s->conn, &cmd, &d, &len) < 0) {
		*why = "option negotiation: I/O error";
		return -1;
	}
	if (cmd != MF_C_OPTNEG || len < 12) {
		*why = "option negotiation: bad reply";
		return -1;
	}
	memcpy(w, d, sizeof(w));
	s->version = ntohl(w[0]);
	s->actions = ntohl(w[1]);
	s->pflags = ntohl(w[2]);
	if (s->version > 6 || (s->actions & ~MF_A_OFFERED) != 0) {
		*why = "option negotiation: version or actions not offered";
		return -1;
	}
	for (d += 12, end = d + (len - 12); end - d > 4; d = nul + 1) {
		memcpy(&type, d, 4);
		type = ntohl(type);
		d += 4;
		if ((nul = memchr(d, '\0', (size_t)(end - d))) == NULL)
			break;
		if (type < MF_NMACRO_STAGES) {
			free(s->symlist[type]);
			s->symlist[type] = strdup((const char *)d);
		}
	}
	return 0;
}

/* mf_session_open - connect, negotiate, CONNECT and HELO */
int
mf_session_open(struct mf_session *s, const struct mf_addr *a,
    unsigned client_no, const char **why)
{
	char host[64], addr[32];
	unsigned ip = 1 + client_no % 254;
	uint16_t port = htons((uint16_t)(40000 + client_no % 20000));
	unsigned char fam = '4';
	struct mf_verdict v;
	int r;

	memset(s, 0, sizeof(*s));
	s->client_no = client_no;
	if (mf_conn_open(&s->conn, a, why) < 0)
		return -1;
	if (mf_negotiate(s, why) < 0)
		goto fail;
	snprintf(host, sizeof(host), "client%u.bench.example", ip);
	snprintf(addr, sizeof(addr), "192.0.2.%u", ip);
	memset(&v, 0, sizeof(v));
	if (mf_send_macros(s, MF_C_CONNECT, MF_M_CONNECT) < 0)
		goto io;
	if ((s->pflags & MF_P_NOCONNECT) == 0) {
		mf_pkt_begin(&s->conn, MF_C_CONNECT);
		mf_pkt_str(&s->conn, host);
		mf_pkt_add(&s->conn, &fam, 1);
		mf_pkt_add(&s->conn, &port, 2);
		mf_pkt_str(&s->conn, addr);
		if ((r = mf_event_end(s, MF_C_CONNECT, MF_P_NR_CONN, NULL,
			 &v)) < 0)
			goto io;
		if (r == MF_EV_FINAL) {
			s->conn_final = v.final;
			return 0;
		}
	}
	if (mf_send_macros(s, MF_C_HELO, MF_M_HELO) < 0)
		goto io;
	if ((s->pflags & MF_P_NOHELO) == 0) {
		mf_pkt_begin(&s->conn, MF_C_HELO);
		mf_pkt_str(&s->conn, host);
		if ((r = mf_event_end(s, MF_C_HELO, MF_P_NR_HELO, NULL, &v)) <
		    0)
			goto io;
		if (r == MF_EV_FINAL)
			s->conn_final = v.final;
	}
	return 0;
io:
	*why = "CONNECT/HELO: I/O or protocol error";
fail:
	mf_session_close(s);
	return -1;
}

/* mf_pkt_addr - an envelope address argument: "<addr>" and its NUL */
static void
mf_pkt_addr(struct mf_conn *c, const char *addr)
{
	mf_pkt_add(c, "<", 1);
	mf_pkt_add(c, addr, strlen(addr));
	mf_pkt_add(c, ">", 2);
}

/* mf_envelope - MAIL, RCPT and DATA; returns an MF_EV_* or -1 */
static int
mf_envelope(struct mf_session *s, const char *authserv_id, struct mf_verdict *v)
{
	char size[32]; /* "SIZE=" and a size_t */
	int r;

	if (mf_send_macros(s, MF_C_MAIL, MF_M_MAIL) < 0)
		return -1;
	if ((s->pflags & MF_P_NOMAIL) == 0) {
		snprintf(size, sizeof(size), "SIZE=%zu", s->msg->size);
		mf_pkt_begin(&s->conn, MF_C_MAIL);
		mf_pkt_addr(&s->conn, s->msg->mail_from);
		mf_pkt_str(&s->conn, size);
		if ((r = mf_event_end(s, MF_C_MAIL, MF_P_NR_MAIL, authserv_id,
			 v)) != MF_EV_CONT)
			return r;
	}
	if (mf_send_macros(s, MF_C_RCPT, MF_M_RCPT) < 0)
		return -1;
	if ((s->pflags & MF_P_NORCPT) == 0) {
		mf_pkt_begin(&s->conn, MF_C_RCPT);
		mf_pkt_addr(&s->conn, s->msg->rcpt_to);
		if ((r = mf_event_end(s, MF_C_RCPT, MF_P_NR_RCPT, authserv_id,
			 v)) != MF_EV_CONT)
			return r;
	}
	if (s->version < 4)
		return mf_flush(&s->conn) < 0 ? -1 : MF_EV_CONT;
	if (mf_send_macros(s, MF_C_DATA, MF_M_DATA) < 0)
		return -1;
	if ((s->pflags & MF_P_NODATA) == 0) {
		mf_pkt_begin(&s->conn, MF_C_DATA);
		if ((r = mf_event_end(s, MF_C_DATA, MF_P_NR_DATA, authserv_id,
			 v)) != MF_EV_CONT)
			return r;
	}
	/* smtpd hands the milter socket to cleanup: milter8_send() flushes */
	return mf_flush(&s->conn) < 0 ? -1 : MF_EV_CONT;
}

/* mf_headers - one SMFIC_HEADER per field, then SMFIC_EOH */
static int
mf_headers(struct mf_session *s, const char *authserv_id, struct mf_verdict *v)
{
	const struct mf_hdr *h;
	const char *val;
	size_t i;
	int r;

	for (i = 0; (s->pflags & MF_P_NOHDRS) == 0 && i < s->msg->nhdr; i++) {
		h = &s->msg->hdr[i];
		val = h->wire + h->name_len + 1;
		if ((s->pflags & MF_P_HDR_LEADSPC) == 0 && *val == ' ')
			val++;
		if (mf_send_macros(s, MF_C_HEADER, MF_M_EOH) < 0)
			return -1;
		mf_pkt_begin(&s->conn, MF_C_HEADER);
		mf_pkt_add(&s->conn, h->wire, h->name_len + 1);
		mf_pkt_str(&s->conn, val);
		if ((r = mf_event_end(s, MF_C_HEADER, MF_P_NR_HDR, authserv_id,
			 v)) != MF_EV_CONT)
			return r;
	}
	if ((s->pflags & MF_P_NOEOH) != 0)
		return MF_EV_CONT;
	if (mf_send_macros(s, MF_C_EOH, MF_M_EOH) < 0)
		return -1;
	mf_pkt_begin(&s->conn, MF_C_EOH);
	return mf_event_end(s, MF_C_EOH, MF_P_NR_EOH, authserv_id, v);
}

/* mf_body - SMFIC_BODY chunks, then SMFIC_BODYEOB and its replies */
static int
mf_body(struct mf_session *s, const char *authserv_id, struct mf_verdict *v)
{
	size_t off, n;
	int r;

	for (off = 0; (s->pflags & MF_P_NOBODY) == 0 && off < s->msg->body_len;
	     off += n) {
		n = s->msg->body_len - off;
		if (n > MF_CHUNK)
			n = MF_CHUNK;
		if (mf_send_macros(s, MF_C_BODY, MF_M_EOM) < 0)
			return -1;
		mf_pkt_begin(&s->conn, MF_C_BODY);
		mf_pkt_add(&s->conn, s->msg->body + off, n);
		r = mf_event_end(s, MF_C_BODY, MF_P_NR_BODY, authserv_id, v);
		if (r == MF_EV_SKIP)
			break;
		if (r != MF_EV_CONT)
			return r;
	}
	if (mf_send_macros(s, MF_C_BODYEOB, MF_M_EOM) < 0)
		return -1;
	mf_pkt_begin(&s->conn, MF_C_BODYEOB);
	r = mf_event_end(s, MF_C_BODYEOB, 0, authserv_id, v);
	return r == MF_EV_FINAL ? r : -1;
}

/* mf_session_message - one mail transaction */
int
mf_session_message(struct mf_session *s, const struct mf_msg *msg,
    const char *qid, const char *authserv_id, struct mf_verdict *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	if (s->conn_final) {
		v->final = s->conn_final;
		v->stage = MF_C_CONNECT;
		return 0;
	}
	s->msg = msg;
	s->qid = qid;
	if (s->need_abort) {
		mf_pkt_begin(&s->conn, MF_C_ABORT);
		if (mf_pkt_end(&s->conn) < 0)
			return -1;
	}
	s->need_abort = 1;
	if ((r = mf_envelope(s, authserv_id, v)) == MF_EV_CONT &&
	    (r = mf_headers(s, authserv_id, v)) == MF_EV_CONT)
		r = mf_body(s, authserv_id, v);
	s->msg = NULL;
	return r < 0 ? -1 : 0;
}

/* mf_session_close - SMFIC_ABORT x 2, SMFIC_QUIT and close, as Postfix */
void
mf_session_close(struct mf_session *s)
{
	int i;

	if (s->conn.fd >= 0 && !s->conn_final) {
		/* smtpd resets after DATA and again at QUIT: two aborts */
		for (i = 0; s->need_abort && i < 2; i++) {
			mf_pkt_begin(&s->conn, MF_C_ABORT);
			(void)mf_pkt_end(&s->conn);
		}
		mf_pkt_begin(&s->conn, MF_C_QUIT);
		if (mf_pkt_end(&s->conn) == 0)
			(void)mf_flush(&s->conn);
	}
	mf_conn_close(&s->conn);
	for (i = 0; i < MF_NMACRO_STAGES; i++) {
		free(s->symlist[i]);
		s->symlist[i] = NULL;
	}
}
