/*
 * NAME
 *	pd_window 3h - window arithmetic of the quota limits
 * SYNOPSIS
 *	#include "pd_window.h"
 *
 *	int	pd_window_tz(const char *tz, int apply, const char **why);
 *	int	pd_window_span(const struct pd_limit *lim, long long now,
 *		    struct pd_span *out);
 *	void	pd_window_flush(void);
 * DESCRIPTION
 *	Calendar windows (day, week, month) start at local midnight in the
 *	zone set by pd_window_tz() (TZ for the whole process, set once at
 *	start-up); a day across a DST change is 23 or 25 hours long. Their
 *	counter is exact; its id names the window ("d20261123",
 *	"w2026-48", "m202611") and its key expires after the window ends.
 *
 *	Rolling windows (1s..31d) count in slots of g = ceil(W/60) seconds:
 *	the used count is the sum of the nslots newest slots, the fewest
 *	whose span holds the last W seconds (now - W, now]; that span is
 *	longer than W by less than g seconds. So no W-long interval ever
 *	holds more than MAX (never too lenient), and a request may be
 *	refused early only by what was counted in the g - 1 seconds before
 *	the window (the error bound, one direction). Windows up to 60 s
 *	(g = 1) are exact. Slots older than keep are deleted at commit.
 *
 *	The clock ("now", seconds since the epoch) is always passed in, so
 *	tests inject it. The bounds of the last calendar window of each
 *	kind are cached (see pd_window.c); set the zone only through
 *	pd_window_tz(), or call pd_window_flush() after changing TZ.
 * DIAGNOSTICS
 *	pd_window_tz() returns -1 with *why for a zone that is not installed;
 *	with apply 0 it only checks the name.
 *	pd_window_span() returns -1 when the C library cannot map the time.
 */
#ifndef PD_WINDOW_H
#define PD_WINDOW_H

#include <stddef.h>

#include "pd_limits.h"

#define PD_ROLLING_SLOTS 60
#define PD_CAL_GRACE_S 3600 /* keys outlive their window: clock skew */

struct pd_span {
	long long start, end; /* calendar: [start, end), epoch seconds */
	char id[24]; /* key suffix */
	long long slot_s; /* rolling: slot length (0: calendar) */
	long long slot; /* rolling: now / slot_s */
	long long nslots; /* rolling: slots counted, current included */
	long long keep; /* rolling: slots kept in the store */
	long long ttl_s; /* key lifetime from now */
};

int pd_window_tz(const char *, int, const char **);
int pd_window_span(const struct pd_limit *, long long, struct pd_span *);
void pd_window_flush(void);

#endif
