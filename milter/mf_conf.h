/*
 * NAME
 *	mf_conf 3h - mailtally-milter configuration and result-to-action rules
 * SYNOPSIS
 *	#include "mf_conf.h"
 * DESCRIPTION
 *	struct mf_conf holds every key of mailtally-milter.conf(5); the keys
 *	are declared once in mf_conf_defs[] (the log keys come from
 *	cm_log_conf_defs[] into conf->log).
 *
 *	mf_conf_load() applies the defaults, reads the file (NULL: defaults
 *	only) and checks what cm_conf cannot (listen syntax,
 *	reply texts); mf_conf_load_buf() does the same from memory.
 *
 *	mf_conf_action() maps the verdicts of one message to the action the
 *	configuration asks for; the most severe wins (reject, tempfail,
 *	quarantine, accept). *rule names the key that decided ("on_spf_fail"
 *	...) or NULL for accept without a rule.
 *
 *	mf_conf_reply() splits the reply text for an action and rule into
 *	the SMTP code, the enhanced status code and the text.
 * DIAGNOSTICS
 *	Loaders return 0, or -1 with "file:line: key: why" in err.
 */
#ifndef MF_CONF_H
#define MF_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "cm_conf.h"
#include "cm_log.h"

struct cm_cidr_list;
struct mf_spf_verdict;
struct mf_dkim_verdict;

enum mf_action {
	MF_ACT_ACCEPT,
	MF_ACT_REJECT,
	MF_ACT_TEMPFAIL,
	MF_ACT_QUARANTINE,
};

#define MF_CONF_DEFAULT_PATH SYSCONFDIR "/mailtally/mailtally-milter.conf"

struct mf_conf {
	char *listen;
	long long socket_mode; /* octal in the file */
	char *user;
	char *pid_file;
	char *authserv_id; /* default: gethostname() */
	struct cm_cidr_list *internal_hosts;
	int skip_authenticated;
	struct cm_list dns_nameservers;
	long long dns_timeout_ms;
	int spf;
	int spf_helo;
	int add_received_spf;
	int dkim;
	long long dkim_min_key_bits;
	long long dkim_max_signatures;
	long long max_header_bytes;
	long long log_rcpt_max;
	int on_spf_fail; /* enum mf_action */
	int on_spf_softfail;
	int on_spf_temperror;
	int on_dkim_fail;
	int on_dns_error;
	int on_internal_error;
	char *spf_reject_reply;
	char *dkim_reject_reply;
	char *reject_reply;
	char *tempfail_reply;
	struct cm_log_conf log;
};

struct mf_reply {
	char rcode[4]; /* "550" */
	char xcode[8]; /* "5.7.23" */
	char text[256];
};

extern const struct cm_conf_def mf_conf_defs[];
extern const char *const mf_action_names[];

int mf_conf_load(struct mf_conf *, const char *path, char *err, size_t);
int mf_conf_load_buf(struct mf_conf *, const char *name, const char *buf,
    size_t len, char *err, size_t);
void mf_conf_print(struct mf_conf *, FILE *);
void mf_conf_free(struct mf_conf *);

int mf_conf_action(const struct mf_conf *, const struct mf_spf_verdict *spf,
    const struct mf_dkim_verdict *dkim, int internal_error, const char **rule);
int mf_conf_reply(const struct mf_conf *, int action, const char *rule,
    struct mf_reply *);
int mf_conf_parse_reply(const char *text, struct mf_reply *, int klass,
    const char **why);

#endif
