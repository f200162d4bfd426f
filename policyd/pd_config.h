/*
 * NAME
 *	pd_config 3h - mailtally-policyd configuration
 * SYNOPSIS
 *	#include "pd_config.h"
 *
 *	int	pd_config_load(struct pd_config *cfg, const char *path,
 *		    char *err, size_t errlen);
 *	void	pd_config_print(const struct pd_config *cfg, FILE *fp);
 *	void	pd_config_free(struct pd_config *cfg);
 * DESCRIPTION
 *	One table declares every key of mailtally-policyd.conf(5) with its
 *	type, default and range (pd_config.c); the log keys come from the
 *	core (cm_log_conf_defs). Limits and overrides are keyed entries
 *	parsed by pd_limits.c.
 * DIAGNOSTICS
 *	pd_config_load() returns 0, or -1 with "file:line: key: why".
 */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "cm_conf.h"
#include "cm_log.h"

struct cm_cidr_list;
struct pd_limit;
struct pd_override;

enum pd_store_error_action { PD_ON_STORE_ERROR_DUNNO, PD_ON_STORE_ERROR_DEFER };
enum pd_mode { PD_MODE_ENFORCE, PD_MODE_MONITOR };

struct pd_config {
	/* server (policyd.c, pd_server.c) */
	struct cm_list listen; /* inet:HOST:PORT | unix:/path */
	long long socket_mode; /* unix sockets, octal */
	char *user; /* drop privileges after binding */
	char *pid_file;
	long long max_connections;
	long long idle_timeout_ms;
	/* store (pd_store_*.c) */
	char *store; /* redis://h:p/db | redis+unix:///p | memory */
	char *store_password_file; /* never the password itself */
	long long store_timeout_ms;
	long long store_reconnect_max_ms;
	int on_store_error; /* enum pd_store_error_action */
	char *key_prefix; /* "mt" */
	/* policy (pd_quota.c, pd_limits.c) */
	int mode; /* enum pd_mode */
	struct cm_list identity; /* attribute names, first non-empty wins */
	char *timezone;
	struct cm_cidr_list *exempt_clients;
	struct cm_list exempt_identities;
	char *defer_reply;
	char *reject_reply;
	struct pd_limit *limits; /* in config order */
	size_t nlimits;
	struct pd_override *overrides;
	size_t noverrides;
	/* logging */
	struct cm_log_conf log;
	/* added by pd_config.c (additive) */
	char *path; /* the file loaded, for messages */
};

int pd_config_load(struct pd_config *, const char *, char *, size_t);
int pd_config_load_buf(struct pd_config *, const char *name, const char *buf,
    size_t len, char *err, size_t errlen);
void pd_config_print(const struct pd_config *, FILE *);
void pd_config_free(struct pd_config *);

#endif
