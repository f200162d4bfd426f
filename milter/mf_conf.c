/*
 * NAME
 *	mf_conf 3 - mailtally-milter configuration and result-to-action rules
 * SYNOPSIS
 *	#include "mf_conf.h"
 *
 *	int	mf_conf_load(struct mf_conf *conf, const char *path,
 *		    char *err, size_t errlen);
 *	int	mf_conf_load_buf(struct mf_conf *conf, const char *name,
 *		    const char *buf, size_t len, char *err, size_t errlen);
 *	void	mf_conf_print(struct mf_conf *conf, FILE *fp);
 *	void	mf_conf_free(struct mf_conf *conf);
 *	int	mf_conf_action(const struct mf_conf *conf,
 *		    const struct mf_spf_verdict *spf,
 *		    const struct mf_dkim_verdict *dkim, int internal_error,
 *		    const char **rule);
 *	int	mf_conf_reply(const struct mf_conf *conf, int action,
 *		    const char *rule, struct mf_reply *reply);
 *	int	mf_conf_parse_reply(const char *text, struct mf_reply *reply,
 *		    int klass, const char **why);
 * DESCRIPTION
 *	Every key is declared once, in mf_conf_defs[], with its default;
 *	cm_conf(3) does the parsing, this file the checks that need more
 *	than one value's syntax. A reply text is "[NNN ]X.Y.Z text": the
 *	enhanced status code is required and its class must match the
 *	action (5 for reject, 4 for tempfail); the SMTP code defaults to
 *	550 or 451.
 *
 *	The action rules (mf_conf_action()):
 *	spf fail, softfail, temperror: on_spf_fail, on_spf_softfail,
 *	on_spf_temperror; dkim temperror (the best result over every
 *	signature): on_dns_error; dkim fail, policy, permerror or neutral
 *	(signed, and no signature verified): on_dkim_fail; an internal
 *	error: on_internal_error. Unsigned mail and dkim pass decide
 *	nothing. The most severe of the resulting actions wins.
 * DIAGNOSTICS
 *	Loaders return 0, or -1 with "file:line: key: why" in err.
 * SEE ALSO
 *	mailtally-milter.conf(5), cm_conf(3h)
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_cidr.h"
#include "cm_conf.h"
#include "cm_log.h"
#include "cm_util.h"
#include "mf_checks.h"
#include "mf_conf.h"

/* clang-format off */
const char *const mf_action_names[] = {
	"accept", "reject", "tempfail", "quarantine", NULL
};

#define F(x) offsetof(struct mf_conf, x)
#define STR(n, d) { #n, CM_CONF_STR, d, 0, 0, F(n), NULL, NULL, NULL, NULL, 0 }
#define BOOL(n, d) { #n, CM_CONF_BOOL, d, 0, 0, F(n), NULL, NULL, NULL, NULL, 0 }
#define NUM(n, t, d, lo, hi, f) \
	{ n, t, d, lo, hi, F(f), NULL, NULL, NULL, NULL, 0 }
#define ACT(n) { #n, CM_CONF_ENUM, "accept", 0, 0, F(n), mf_action_names, \
	NULL, NULL, NULL, 0 }

const struct cm_conf_def mf_conf_defs[] = {
	STR(listen, "inet:127.0.0.1:8891"),
	NUM("socket_mode", CM_CONF_INT, "0660", 0, 0777, socket_mode),
	STR(user, NULL),
	STR(pid_file, NULL),
	STR(authserv_id, NULL),
	{ "internal_hosts", CM_CONF_CIDR, "127.0.0.0/8, ::1", 0, 0,
	    F(internal_hosts), NULL, NULL, NULL, NULL, 0 },
	BOOL(skip_authenticated, "yes"),
	{ "dns_nameservers", CM_CONF_LIST, NULL, 0, 0, F(dns_nameservers),
	    NULL, NULL, NULL, NULL, 0 },
	NUM("dns_timeout", CM_CONF_DURATION, "5s", 100, 60000, dns_timeout_ms),
	BOOL(spf, "yes"),
	BOOL(spf_helo, "yes"),
	BOOL(add_received_spf, "no"),
	BOOL(dkim, "yes"),
	NUM("dkim_min_key_bits", CM_CONF_INT, "1024", 0, 16384,
	    dkim_min_key_bits),
	NUM("dkim_max_signatures", CM_CONF_INT, "5", 1, MF_DKIM_SIGS_MAX,
	    dkim_max_signatures),
	/* libmfcheck stops DKIM at 64 KiB of headers itself: no higher. */
	NUM("max_header_bytes", CM_CONF_SIZE, "64k", 1024, 65536,
	    max_header_bytes),
	NUM("log_rcpt_max", CM_CONF_INT, "5", 0, 100, log_rcpt_max),
	ACT(on_spf_fail),
	ACT(on_spf_softfail),
	ACT(on_spf_temperror),
	ACT(on_dkim_fail),
	ACT(on_dns_error),
	ACT(on_internal_error),
	STR(spf_reject_reply, "550 5.7.23 SPF validation failed"),
	STR(dkim_reject_reply, "550 5.7.20 No valid DKIM signature found"),
	STR(reject_reply, "550 5.7.1 Message rejected by authentication policy"),
	STR(tempfail_reply,
	    "451 4.7.0 Authentication checks failed temporarily, try again later"),
	{ NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0 }
};
/* clang-format on */

/* sections - the tables and the structs they fill */
static void
sections(struct mf_conf *conf, struct cm_conf_section s[3])
{
	s[0].defs = mf_conf_defs;
	s[0].base = conf;
	s[1].defs = cm_log_conf_defs;
	s[1].base = &conf->log;
	s[2].defs = NULL;
	s[2].base = NULL;
}

/* mf_conf_parse_reply - split "[NNN ]X.Y.Z text" */
int
mf_conf_parse_reply(const char *text, struct mf_reply *r, int klass,
    const char **why)
{
	const char *p = text, *q;
	size_t n;
	int dots;

	memset(r, 0, sizeof(*r));
	if (text == NULL || *text == '\0')
		return (*why = "empty reply text", -1);
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ' ') {
		if (p[0] != '0' + klass)
			return (*why = "SMTP code of the wrong class", -1);
		memcpy(r->rcode, p, 3);
		p += 4;
	} else
		memcpy(r->rcode, klass == 5 ? "550" : "451", 3);
	for (q = p, dots = 0; isdigit((unsigned char)*q) || *q == '.'; q++)
		dots += *q == '.';
	n = (size_t)(q - p);
	if (dots != 2 || n < 5 || n >= sizeof(r->xcode) || *q != ' ' ||
	    p[0] != '0' + klass || p[1] != '.' || q[-1] == '.')
		return (*why = "need an enhanced status code such as 5.7.1",
		    -1);
	memcpy(r->xcode, p, n);
	for (q++; *q == ' '; q++)
		;
	if (*q == '\0' || strpbrk(q, "\r\n%") != NULL)
		return (*why = "reply text empty or with CR, LF or %", -1);
	if (cm_strlcpy(r->text, q, sizeof(r->text)) < 0)
		return (*why = "reply text too long", -1);
	return 0;
}

/* check_listen - accept libmilter and Postfix spellings of a socket */
static int
check_listen(const char *s, const char **why)
{
	if (s == NULL)
		return (*why = "empty", -1);
	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0)
		return strchr(s, '/') != NULL
		    ? 0
		    : (*why = "need an absolute path", -1);
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0)
		return strpbrk(s + 5, ":@") != NULL
		    ? 0
		    : (*why = "need inet:host:port or inet:port@host", -1);
	return (*why = "need unix:/path, inet:host:port or inet6:[host]:port",
	    -1);
}

/* check_id - authserv_id must be an RFC 2045 token */
static int
check_id(const char *s, const char **why)
{
	const char *p;

	if (strlen(s) > MF_DOMAIN_MAX)
		return (*why = "longer than 255", -1);
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *p))
			return (*why = "not a plain host name (RFC 8601 token)",
			    -1);
	return 0;
}

/* post_check - checks over the loaded values; key in *key */
static int
post_check(struct mf_conf *conf, const char **key, const char **why)
{
	struct mf_reply r;
	char host[MF_DOMAIN_MAX + 1];

	if ((*key = "listen", check_listen(conf->listen, why)) < 0)
		return -1;
	*key = "authserv_id";
	if (conf->authserv_id == NULL) {
		if (gethostname(host, sizeof(host)) < 0)
			return (*why = "gethostname failed", -1);
		host[sizeof(host) - 1] = '\0';
		conf->authserv_id = strdup(host);
		if (conf->authserv_id == NULL)
			return (*why = "out of memory", -1);
	}
	if (check_id(conf->authserv_id, why) < 0)
		return -1;
	if ((*key = "spf_reject_reply",
		mf_conf_parse_reply(conf->spf_reject_reply, &r, 5, why)) < 0 ||
	    (*key = "dkim_reject_reply",
		mf_conf_parse_reply(conf->dkim_reject_reply, &r, 5, why)) < 0 ||
	    (*key = "reject_reply",
		mf_conf_parse_reply(conf->reject_reply, &r, 5, why)) < 0 ||
	    (*key = "tempfail_reply",
		mf_conf_parse_reply(conf->tempfail_reply, &r, 4, why)) < 0)
		return -1;
	return 0;
}

/* load - defaults, then the loader, then the checks */
static int
load(struct mf_conf *conf, const char *name, const char *path, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct cm_conf_section s[3];
	const char *key, *why;

	memset(conf, 0, sizeof(*conf));
	sections(conf, s);
	if (cm_conf_defaults(s, err, errlen) < 0)
		return -1;
	if (path != NULL && cm_conf_load_file(s, path, err, errlen) < 0)
		return -1;
	if (buf != NULL && cm_conf_load_buf(s, name, buf, len, err, errlen) < 0)
		return -1;
	if (post_check(conf, &key, &why) < 0) {
		snprintf(err, errlen, "%s: %s: %s",
		    path != NULL       ? path
			: name != NULL ? name
				       : "(defaults)",
		    key, why);
		return -1;
	}
	return 0;
}

/* mf_conf_load - defaults, then the file (NULL: defaults only) */
int
mf_conf_load(struct mf_conf *conf, const char *path, char *err, size_t errlen)
{
	return load(conf, NULL, path, NULL, 0, err, errlen);
}

/* mf_conf_load_buf - defaults, then a buffer (tests, fuzzing) */
int
mf_conf_load_buf(struct mf_conf *conf, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	return load(conf, name, NULL, buf, len, err, errlen);
}

/* mf_conf_print - the effective configuration, for -n */
void
mf_conf_print(struct mf_conf *conf, FILE *fp)
{
	struct cm_conf_section s[3];

	sections(conf, s);
	cm_conf_print(s, fp);
}

/* mf_conf_free - release every value */
void
mf_conf_free(struct mf_conf *conf)
{
	struct cm_conf_section s[3];

	if (conf == NULL)
		return;
	sections(conf, s);
	cm_conf_free(s);
}

/* severity - order of actions: the most severe wins */
static int
severity(int action)
{
	static const int rank[] = { 0, 3, 2, 1 };

	return action >= 0 && action < (int)countof(rank) ? rank[action] : 0;
}

/* consider - keep the more severe of the current and a new action */
static void
consider(int *action, const char **rule, int candidate, const char *name)
{
	if (severity(candidate) > severity(*action)) {
		*action = candidate;
		*rule = name;
	}
}

/* mf_conf_action - the action the configuration asks for */
int
mf_conf_action(const struct mf_conf *conf, const struct mf_spf_verdict *spf,
    const struct mf_dkim_verdict *dkim, int internal_error, const char **rule)
{
	int action = MF_ACT_ACCEPT;

	*rule = NULL;
	if (spf != NULL) {
		if (spf->result == MF_SPF_FAIL)
			consider(&action, rule, conf->on_spf_fail,
			    "on_spf_fail");
		else if (spf->result == MF_SPF_SOFTFAIL)
			consider(&action, rule, conf->on_spf_softfail,
			    "on_spf_softfail");
		else if (spf->result == MF_SPF_TEMPERROR)
			consider(&action, rule, conf->on_spf_temperror,
			    "on_spf_temperror");
	}
	if (dkim != NULL) {
		if (dkim->result == MF_DKIM_TEMPERROR)
			consider(&action, rule, conf->on_dns_error,
			    "on_dns_error");
		else if (dkim->result != MF_DKIM_PASS &&
		    dkim->result != MF_DKIM_NONE)
			consider(&action, rule, conf->on_dkim_fail,
			    "on_dkim_fail");
	}
	if (internal_error)
		consider(&action, rule, conf->on_internal_error,
		    "on_internal_error");
	return action;
}

/* mf_conf_reply - the reply for an action decided by rule */
int
mf_conf_reply(const struct mf_conf *conf, int action, const char *rule,
    struct mf_reply *r)
{
	const char *text, *why;

	if (action == MF_ACT_TEMPFAIL)
		return mf_conf_parse_reply(conf->tempfail_reply, r, 4, &why);
	if (action != MF_ACT_REJECT)
		return (memset(r, 0, sizeof(*r)), -1);
	if (rule != NULL && strncmp(rule, "on_spf_", 7) == 0 &&
	    strcmp(rule, "on_spf_temperror") != 0)
		text = conf->spf_reject_reply;
	else if (rule != NULL && strcmp(rule, "on_dkim_fail") == 0)
		text = conf->dkim_reject_reply;
	else
		text = conf->reject_reply;
	return mf_conf_parse_reply(text, r, 5, &why);
}
