/*
 * NAME
 *	pd_quotalog 3 - the quota log line of mailtally-policyd
 * SYNOPSIS
 *	#include "pd_quota.h"
 *
 *	void	pd_quotalog(const struct pd_config *cfg,
 *		    const struct pd_quota *q, const char *store,
 *		    long long elapsed_us);
 * DESCRIPTION
 *	Writes one "quota" event per decision (DESIGN 4) through cm_log, at
 *	level info for RCPT and END-OF-MESSAGE, debug for any other state:
 *
 *	QUEUEID: quota protocol_state=END-OF-MESSAGE client_ip=192.0.2.7
 *	sasl_user=alice from=<alice@example.org> identity=<alice@...>
 *	rcpt_count=3 size=1234 limits=daily:12/1000,hourly:3/200
 *	action=DUNNO reason=counted store=redis elapsed_us=412
 *
 *	In text the limits are one compact field (name:used/max); JSON gets
 *	the array [{name, window, used, max, cost}]. Only the one for the
 *	configured log format is built (cm_event_format()): the event is
 *	emitted at once, and the other would not be shown. "used" is the counter
 *	after this decision (it includes the cost when the message was
 *	counted). In monitor mode, mode=monitor and would=ACTION say what
 *	enforce mode would have answered.
 *
 *	reason is one of: state (not RCPT or END-OF-MESSAGE), exempt-client,
 *	exempt-identity, no-identity, no-limits, within (checked, nothing
 *	counted), counted, duplicate (instance committed before),
 *	over-limit, store-error.
 * DIAGNOSTICS
 *	None. Untrusted values are escaped and capped by cm_event_*; the
 *	store password never reaches this code.
 * SEE ALSO
 *	cm_log(3h), pd_quota(3)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "pd_config.h"
#include "pd_quota.h"

/* limits_text - "daily:12/1000,hourly:3/200" (no printf: every line) */
static void
limits_text(const struct pd_quota *q, struct cm_event *ev)
{
	const struct pd_plan_item *it;
	char buf[PD_LIMITS_MAX * 80], one[PD_LIMIT_NAME_MAX + 64];
	size_t i, o = 0, n, k;

	for (i = 0; i < q->plan.n; i++) {
		it = &q->plan.item[i];
		k = 0;
		if (i)
			one[k++] = ',';
		n = strnlen(it->limit->name, PD_LIMIT_NAME_MAX);
		memcpy(one + k, it->limit->name, n);
		k += n;
		one[k++] = ':';
		k += cm_log_num(one + k,
		    it->used + (q->plan.committed ? it->cost : 0));
		one[k++] = '/';
		k += cm_log_num(one + k, it->eff_max);
		if (k >= sizeof buf - o) /* as snprintf's truncation was */
			break;
		memcpy(buf + o, one, k);
		o += k;
	}
	buf[o] = 0;
	cm_event_flags(ev, CM_EV_TEXT);
	cm_event_str(ev, "limits", buf);
}

/* limits_json - [{name, window, used, max, cost}] */
static void
limits_json(const struct pd_quota *q, struct cm_event *ev)
{
	const struct pd_plan_item *it;
	char win[32];
	size_t i;

	cm_event_flags(ev, CM_EV_JSON);
	cm_event_arr_begin(ev, "limits");
	for (i = 0; i < q->plan.n; i++) {
		it = &q->plan.item[i];
		if (pd_window_format(it->limit, win, sizeof win) == -1)
			win[0] = 0;
		cm_event_obj_begin(ev, NULL);
		cm_event_str(ev, "name", it->limit->name);
		cm_event_str(ev, "window", win);
		cm_event_int(ev, "used",
		    it->used + (q->plan.committed ? it->cost : 0));
		cm_event_int(ev, "max", it->eff_max);
		cm_event_int(ev, "cost", it->cost);
		cm_event_obj_end(ev);
	}
	cm_event_arr_end(ev);
}

/* pd_quotalog - write the line (see above) */
void
pd_quotalog(const struct pd_config *cfg, const struct pd_quota *q,
    const char *store, long long elapsed_us)
{
	struct cm_event *ev;

	ev = cm_event_new("quota", q->queue_id[0] ? q->queue_id : NULL);
	if (ev == NULL)
		return;
	cm_event_str(ev, "protocol_state", q->state_name);
	if (q->client_ip[0])
		cm_event_str(ev, "client_ip", q->client_ip);
	if (q->sasl_user[0])
		cm_event_str(ev, "sasl_user", q->sasl_user);
	cm_event_addr(ev, "sender", q->sender);
	if (q->identity[0])
		cm_event_addr(ev, "identity", q->identity);
	if (q->state == PD_STATE_EOM) {
		cm_event_int(ev, "rcpt_count", q->rcpt_count);
		cm_event_int(ev, "size", q->size);
	}
	if (q->plan.n > 0 && q->store_used && q->store_error[0] == 0) {
		if (cm_event_format() == CM_LOG_JSON)
			limits_json(q, ev);
		else
			limits_text(q, ev);
		cm_event_flags(ev, CM_EV_BOTH);
	}
	cm_event_str(ev, "action", pd_action_name(q->action));
	if (cfg->mode == PD_MODE_MONITOR) {
		cm_event_str(ev, "mode", "monitor");
		cm_event_str(ev, "would", pd_action_name(q->would));
	}
	cm_event_str(ev, "reason", q->reason ? q->reason : "");
	if (q->store_used) {
		cm_event_str(ev, "store", store);
		if (q->store_error[0])
			cm_event_str(ev, "store_error", q->store_error);
	}
	cm_event_int(ev, "elapsed_us", elapsed_us);
	/* One info line per RCPT and END-OF-MESSAGE decision; the DUNNO
	 * of any other state is detail. */
	cm_event_emit(ev,
	    q->state == PD_STATE_OTHER ? CM_LOG_DEBUG : CM_LOG_INFO);
}
