/*
 * NAME
 *	pd_window 3 - window arithmetic of the quota limits
 * SYNOPSIS
 *	#include "pd_window.h"
 *
 *	int	pd_window_tz(const char *tz, int apply, const char **why);
 *	int	pd_window_span(const struct pd_limit *lim, long long now,
 *		    struct pd_span *out);
 *	void	pd_window_flush(void);
 * DESCRIPTION
 *	See pd_window.h for the algorithms. Calendar arithmetic goes through
 *	localtime_r() and mktime() with tm_isdst = -1, so the C library's
 *	zone data decide where midnight falls; a midnight that does not
 *	exist (a DST change at 00:00) becomes the first instant of that day.
 *
 *	That arithmetic costs thousands of instructions per window, and
 *	policyd needs it for every request, so the last window of each
 *	calendar kind is cached. Everything but the TTL is a function of
 *	the local date of "now" alone (localtime_r() is read for the date
 *	and the weekday only), the same for every date of one window. So
 *	an entry filled at time t0 holds for every now in [t0, end): local
 *	dates only move forward, and "end" is the first instant of the next
 *	window (or earlier, when mktime() puts a skipped midnight before
 *	it). No entry is kept when the start was moved to "now" (a skipped
 *	midnight): the id would then depend on now. pd_window_tz() with
 *	apply and pd_window_flush() empty the cache, which is process-wide
 *	and unlocked: policyd is one thread.
 * DIAGNOSTICS
 *	pd_window_tz() returns 0, or -1 with *why. pd_window_span() returns
 *	0, or -1 when localtime_r() or mktime() fail (time out of range).
 * SEE ALSO
 *	mailtally-policyd.conf(5), pd_limits(3)
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pd_window.h"

/* The last calendar window of each kind: valid for now in [lo, sp.end). */
static struct cal_cache {
	int valid;
	long long lo;
	struct pd_span sp; /* start, end, id; no TTL */
} cal_cache[PD_WIN_MONTH + 1];

/* pd_window_flush - forget the cached calendar windows */
void
pd_window_flush(void)
{
	memset(cal_cache, 0, sizeof cal_cache);
}

/*
 * pd_window_tz - set the zone of the calendar windows for this process.
 * "UTC" always works; any other name must be a file under TZDIR or
 * /usr/share/zoneinfo, so a typo cannot silently become UTC (glibc's
 * behaviour for an unknown TZ).
 */
int
pd_window_tz(const char *tz, int apply, const char **why)
{
	const char *dir;
	char path[512];
	struct stat st;
	int n;

	if (tz == NULL || *tz == 0)
		tz = "UTC";
	if (strcmp(tz, "UTC") != 0) {
		if (tz[0] == '/' || strstr(tz, "..") != NULL ||
		    strlen(tz) > 128) {
			*why = "timezone must be a zone name such as "
			       "Europe/Berlin";
			return -1;
		}
		if ((dir = getenv("TZDIR")) == NULL || *dir == 0)
			dir = "/usr/share/zoneinfo";
		n = snprintf(path, sizeof path, "%s/%s", dir, tz);
		if (n < 0 || (size_t)n >= sizeof path ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			*why = "unknown timezone (not in the zoneinfo "
			       "directory)";
			return -1;
		}
	}
	if (!apply)
		return 0;
	if (setenv("TZ", tz, 1) == -1) {
		*why = "setenv TZ failed";
		return -1;
	}
	tzset();
	pd_window_flush();
	return 0;
}

/* local_midnight - mktime of a local date at 00:00 (normalizes days) */
static long long
local_midnight(const struct tm *day, int add_days, int add_months)
{
	struct tm tm = *day;
	time_t t;

	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += add_days;
	tm.tm_mon += add_months;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	return (long long)t;
}

/* calendar_span - start, end and id of the day, week or month of now */
static int
calendar_span(int kind, long long now, struct pd_span *out)
{
	struct cal_cache *c = NULL;
	time_t t = (time_t)now;
	struct tm tm, st;
	int back = 0, moved = 0;
	time_t st_t;
	size_t n;

	if (kind >= PD_WIN_DAY && kind <= PD_WIN_MONTH)
		c = &cal_cache[kind];
	if (c != NULL && c->valid && now >= c->lo && now < c->sp.end) {
		*out = c->sp;
		out->ttl_s = out->end - now + PD_CAL_GRACE_S;
		return 0;
	}
	if (localtime_r(&t, &tm) == NULL)
		return -1;
	if (kind == PD_WIN_WEEK)
		back = (tm.tm_wday + 6) % 7; /* days since Monday */
	else if (kind == PD_WIN_MONTH)
		tm.tm_mday = 1;
	out->start = local_midnight(&tm, -back, 0);
	if (kind == PD_WIN_DAY)
		out->end = local_midnight(&tm, 1, 0);
	else if (kind == PD_WIN_WEEK)
		out->end = local_midnight(&tm, 7 - back, 0);
	else
		out->end = local_midnight(&tm, 0, 1);
	if (out->start == -1 || out->end == -1 || out->end <= now)
		return -1;
	if (out->start > now) { /* no such midnight: the day starts later */
		out->start = now;
		moved = 1;
	}
	st_t = (time_t)out->start;
	if (localtime_r(&st_t, &st) == NULL)
		return -1;
	if (kind == PD_WIN_DAY)
		n = strftime(out->id, sizeof out->id, "d%Y%m%d", &st);
	else if (kind == PD_WIN_WEEK)
		n = strftime(out->id, sizeof out->id, "w%G-%V", &st);
	else
		n = strftime(out->id, sizeof out->id, "m%Y%m", &st);
	if (n == 0)
		return -1;
	if (c != NULL) {
		c->valid = !moved;
		c->lo = now;
		c->sp = *out;
	}
	out->ttl_s = out->end - now + PD_CAL_GRACE_S;
	return 0;
}

/*
 * pd_window_span - where "now" falls in the window of a limit. For a
 * rolling window: the slot length g, the current slot, and how many slots
 * (the current one included) count: the fewest whose span reaches back
 * past now - w, so the span is the window plus less than one slot. The
 * id is "r" + the window in seconds, so changing a window's length starts
 * a fresh counter.
 */
int
pd_window_span(const struct pd_limit *lim, long long now, struct pd_span *out)
{
	long long w = lim->window_s, g;
	char d[24];
	size_t i = sizeof d;

	memset(out, 0, sizeof *out);
	if (now < 0)
		return -1;
	if (lim->window != PD_WIN_ROLLING)
		return calendar_span(lim->window, now, out);
	if (w < 1)
		return -1;
	g = out->slot_s = (w + PD_ROLLING_SLOTS - 1) / PD_ROLLING_SLOTS;
	out->slot = now / g;
	/* Fewest slots whose span holds (now - w, now]: at least one. */
	out->nslots = 1 + (w - 1 - now % g + g - 1) / g;
	if (w - 1 - now % g <= 0)
		out->nslots = 1;
	out->start = (out->slot - out->nslots + 1) * g;
	out->end = (out->slot + 1) * g;
	out->keep = (w + g - 1) / g + 2;
	out->ttl_s = (out->keep + 1) * g;
	/* "r%lld" of w (positive), without printf: every request. */
	do
		d[--i] = (char)('0' + w % 10);
	while ((w /= 10) != 0);
	out->id[0] = 'r';
	memcpy(out->id + 1, d + i, sizeof d - i);
	out->id[1 + sizeof d - i] = 0;
	return 0;
}
