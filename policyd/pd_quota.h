/*
 * NAME
 *	pd_quota 3h - quota decisions (pure: request + config + clock)
 * SYNOPSIS
 *	#include "pd_quota.h"
 *
 *	int	pd_quota_prepare(const struct pd_config *cfg,
 *		    const struct pd_request *req, long long now,
 *		    struct pd_quota *q);
 *	void	pd_quota_finish(const struct pd_config *cfg,
 *		    struct pd_quota *q, int status, const char *err);
 *	int	pd_quota_identity(const char *raw, size_t len, char *out,
 *		    size_t outlen);
 *	int	pd_quota_keys(const struct pd_config *cfg,
 *		    const struct pd_limit *lim, const char *subject,
 *		    long long now, struct pd_plan_item *it);
 *	int	pd_quota_expand(const char *tmpl, const char *limit,
 *		    long long used, long long max, const char *window,
 *		    const char *identity, char *out, size_t outlen);
 * DESCRIPTION
 *	pd_quota_prepare() reads the request: protocol state, identity
 *	(the first non-empty attribute named by "identity", normalized by
 *	cm_addr_norm(), hashed when it cannot be used as is), exemptions,
 *	and builds the store plan: RCPT checks with cost 1 ("is anything
 *	left?"); END-OF-MESSAGE checks and commits cost = 1 message,
 *	recipient_count recipients or size bytes, idempotent on the
 *	"instance" attribute. It returns 1 when the store must run the plan
 *	(q->plan), 0 when the decision is already made (every other state,
 *	no identity, exempt, no limit applies).
 *
 *	pd_quota_finish() turns the store's answer into the action and the
 *	reply line: within limits or a duplicate -> DUNNO; over a defer
 *	limit -> DEFER_IF_PERMIT (RCPT) or DEFER (END-OF-MESSAGE); over a
 *	reject limit -> REJECT; a store failure -> on_store_error (DUNNO, or
 *	DEFER_IF_PERMIT 4.3.0). In monitor mode the reply is always DUNNO;
 *	q->would keeps what enforce mode would have answered.
 *
 *	pd_quota_identity() normalizes an identity, or writes "h:" and 32
 *	hex digits of its SHA-256 when it is too long, does not normalize,
 *	or holds bytes that do not belong in a Redis key hash tag.
 *
 *	pd_quota_keys() fills the keys, window and TTLs of one plan item
 *	(also used by mailtally-ctl). pd_quota_expand() expands %{limit}
 *	%{used} %{max} %{window} %{identity} in a reply template.
 * DIAGNOSTICS
 *	pd_quota_identity() returns 1 when it hashed, 0 when not, -1 for an
 *	empty input. pd_quota_keys() and pd_quota_expand() return -1 when
 *	a result does not fit.
 */
#ifndef PD_QUOTA_H
#define PD_QUOTA_H

#include <stddef.h>

#include "cm_addr.h"
#include "pd_limits.h"
#include "pd_store.h"

#define PD_IDENTITY_MAX CM_ADDR_MAX
#define PD_LOGVAL_MAX 256

enum pd_state { PD_STATE_OTHER, PD_STATE_RCPT, PD_STATE_EOM };
enum pd_action {
	PD_ACTION_DUNNO,
	PD_ACTION_DEFER_IF_PERMIT,
	PD_ACTION_DEFER,
	PD_ACTION_REJECT,
};

struct pd_config;
struct pd_request;

struct pd_quota {
	/* from the request (copied, capped) */
	int state;
	char state_name[32];
	char queue_id[64];
	char client_ip[64];
	char sasl_user[PD_LOGVAL_MAX + 1];
	char sender[PD_LOGVAL_MAX + 1];
	char identity[PD_IDENTITY_MAX + 1];
	int hashed; /* identity is a hash */
	long long rcpt_count, size;
	/* the decision */
	struct pd_plan plan;
	const char *reason; /* closed list, see pd_quotalog.c */
	int action; /* what was answered */
	int would; /* what enforce mode answers */
	char reply[PD_REPLY_MAX + 64]; /* "action=..." */
	int store_used; /* the store was asked */
	char store_error[128]; /* "": none */
};

int pd_quota_prepare(const struct pd_config *, const struct pd_request *,
    long long, struct pd_quota *);
void pd_quota_finish(const struct pd_config *, struct pd_quota *, int,
    const char *);
int pd_quota_identity(const char *, size_t, char *, size_t);
int pd_quota_keys(const struct pd_config *, const struct pd_limit *,
    const char *, long long, struct pd_plan_item *);
int pd_quota_expand(const char *, const char *, long long, long long,
    const char *, const char *, char *, size_t);
const char *pd_action_name(int);

/* pd_quotalog.c: the one quota log line of a decision. */
void pd_quotalog(const struct pd_config *, const struct pd_quota *,
    const char *store, long long elapsed_us);

#endif
