/*
 * NAME
 *	test_pd_window - window arithmetic with an injected clock
 * SYNOPSIS
 *	tests/unit/test_pd_window
 * DESCRIPTION
 *	Calendar windows in UTC, Europe/Berlin, America/New_York and
 *	America/Santiago (midnight skipped by DST): local midnight, DST
 *	change days (23 and 25 hours), month ends, a leap day, ISO weeks
 *	across years. The wanted values were computed independently with
 *	Python's zoneinfo (first instant of each local date). Rolling
 *	windows: slot length, slot count, covered span. Zone names. The
 *	cached calendar bounds: each case again with the cache warmed an
 *	hour earlier, and sweeps across DST days and window ends comparing
 *	every answer with the cache warm to the one computed afresh.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pd_limits.h"
#include "pd_window.h"

struct ccase {
	const char *name, *tz, *window;
	long long now, start, end;
	const char *id;
};

static const struct ccase calendar[] = {
	{ "UTC day", "UTC", "day", 1795435200LL, 1795392000LL, 1795478400LL,
	    "d20261123" },
	{ "Berlin last second of a day", "Europe/Berlin", "day", 1795474799LL,
	    1795388400LL, 1795474800LL, "d20261123" },
	{ "Berlin local midnight", "Europe/Berlin", "day", 1795474800LL,
	    1795474800LL, 1795561200LL, "d20261124" },
	{ "Berlin spring forward: 23 h day", "Europe/Berlin", "day",
	    1774778400LL, 1774738800LL, 1774821600LL, "d20260329" },
	{ "Berlin just before the gap", "Europe/Berlin", "day", 1774745999LL,
	    1774738800LL, 1774821600LL, "d20260329" },
	{ "Berlin just after the gap", "Europe/Berlin", "day", 1774746000LL,
	    1774738800LL, 1774821600LL, "d20260329" },
	{ "Berlin fall back: 25 h day", "Europe/Berlin", "day", 1792888200LL,
	    1792879200LL, 1792969200LL, "d20261025" },
	{ "New York spring forward", "America/New_York", "day", 1772985600LL,
	    1772946000LL, 1773028800LL, "d20260308" },
	{ "New York fall back, last second", "America/New_York", "day",
	    1793595599LL, 1793505600LL, 1793595600LL, "d20261101" },
	{ "Berlin January, last second", "Europe/Berlin", "month", 1769900399LL,
	    1767222000LL, 1769900400LL, "m202601" },
	{ "Berlin February, first second", "Europe/Berlin", "month",
	    1769900400LL, 1769900400LL, 1772319600LL, "m202602" },
	{ "New York leap February", "America/New_York", "month", 1709269199LL,
	    1706763600LL, 1709269200LL, "m202402" },
	{ "New York leap day", "America/New_York", "day", 1709182800LL,
	    1709182800LL, 1709269200LL, "d20240229" },
	{ "Berlin October (25 h day inside)", "Europe/Berlin", "month",
	    1793487599LL, 1790805600LL, 1793487600LL, "m202610" },
	{ "ISO week 1 starts in December", "UTC", "week", 1767261600LL,
	    1766966400LL, 1767571200LL, "w2026-01" },
	{ "ISO week 53", "UTC", "week", 1798797600LL, 1798416000LL,
	    1799020800LL, "w2026-53" },
	{ "Berlin week with spring forward", "Europe/Berlin", "week",
	    1774821599LL, 1774220400LL, 1774821600LL, "w2026-13" },
	{ "Berlin Monday midnight", "Europe/Berlin", "week", 1774821600LL,
	    1774821600LL, 1775426400LL, "w2026-14" },
	{ "Santiago: midnight skipped", "America/Santiago", "day", 1788706800LL,
	    1788667200LL, 1788750000LL, "d20260906" },
	{ "New York December, last second", "America/New_York", "month",
	    1798779599LL, 1796101200LL, 1798779600LL, "m202612" },
};

/* limit_of - a limit with just a window */
static void
limit_of(const char *window, struct pd_limit *lim)
{
	const char *why = "";
	char value[64];

	snprintf(value, sizeof value, "%s 1 messages", window);
	if (pd_limit_parse("t", value, lim, &why) == -1)
		fail_msg("%s: %s", window, why);
}

/*
 * calendar_cases - start, end, id, TTL of each case; with warm, the
 * cache is first filled by a request an hour (or a week) earlier, so
 * the answer comes from it or crosses a window end with it warm.
 */
static void
calendar_cases(int warm)
{
	const struct ccase *c;
	struct pd_limit lim;
	struct pd_span sp;
	const char *why = "";
	size_t i;

	for (i = 0; i < sizeof calendar / sizeof calendar[0]; i++) {
		c = &calendar[i];
		if (pd_window_tz(c->tz, 1, &why) == -1)
			fail_msg("%s: tz %s: %s", c->name, c->tz, why);
		limit_of(c->window, &lim);
		if (warm &&
		    (pd_window_span(&lim, c->now - 3600, &sp) == -1 ||
			pd_window_span(&lim, c->now - 604800, &sp) == -1 ||
			pd_window_span(&lim, c->now - 1, &sp) == -1))
			fail_msg("%s: warming span failed", c->name);
		if (pd_window_span(&lim, c->now, &sp) == -1)
			fail_msg("%s: span failed", c->name);
		if (sp.start != c->start || sp.end != c->end ||
		    strcmp(sp.id, c->id) != 0)
			fail_msg(
			    "%s: got [%lld, %lld) %s, want [%lld, %lld) %s",
			    c->name, sp.start, sp.end, sp.id, c->start, c->end,
			    c->id);
		if (sp.ttl_s != c->end - c->now + PD_CAL_GRACE_S ||
		    sp.slot_s != 0)
			fail_msg("%s: got ttl %lld slot_s %lld", c->name,
			    sp.ttl_s, sp.slot_s);
		pd_limit_clear(&lim);
	}
	pd_window_tz("UTC", 1, &why);
}

/* test_calendar - each case computed afresh */
static void
test_calendar(void **state)
{
	calendar_cases(0);
}

/* test_calendar_warm - each case with the cache filled before */
static void
test_calendar_warm(void **state)
{
	calendar_cases(1);
}

/* same_span - fail unless two answers for now are equal */
static void
same_span(const char *what, long long now, const struct pd_span *got,
    const struct pd_span *want)
{
	if (got->start != want->start || got->end != want->end ||
	    strcmp(got->id, want->id) != 0 || got->ttl_s != want->ttl_s ||
	    got->slot_s != want->slot_s)
		fail_msg("%s at %lld: got [%lld, %lld) %s ttl %lld, want "
			 "[%lld, %lld) %s ttl %lld",
		    what, now, got->start, got->end, got->id, got->ttl_s,
		    want->start, want->end, want->id, want->ttl_s);
}

/* check_at - the warm answer at now against a fresh one */
static void
check_at(const char *what, const struct pd_limit *lim, long long now)
{
	struct pd_span warm, fresh;
	int rw, rf;

	rw = pd_window_span(lim, now, &warm);
	pd_window_flush();
	rf = pd_window_span(lim, now, &fresh);
	if (rw != rf)
		fail_msg("%s at %lld: got %d, want %d", what, now, rw, rf);
	if (rf == 0)
		same_span(what, now, &warm, &fresh);
}

/*
 * test_calendar_cache - sweep each zone across its DST days and the
 * ends of days, weeks and months with the cache warm: every answer
 * (start, end, id, TTL) must be the one computed without the cache.
 * Each step is taken twice: once from the cache the step before left
 * (warm across a window end), once right after a fresh computation.
 */
static void
test_calendar_cache(void **state)
{
	static const struct {
		const char *tz;
		long long from;
	} t[] = {
		{ "UTC", 1798675200LL }, /* 2026-12-31 .. year end */
		{ "Europe/Berlin", 1774652400LL }, /* 2026-03-28 */
		{ "Europe/Berlin", 1792792800LL }, /* 2026-10-24 */
		{ "America/New_York", 1772859600LL }, /* 2026-03-07 */
		{ "America/New_York", 1793419200LL }, /* 2026-10-31 */
		{ "America/Santiago", 1788580800LL }, /* 2026-09-05 */
		{ "America/Santiago", 1775271600LL }, /* 2026-04-04 */
		{ "Australia/Lord_Howe", 1775221200LL }, /* 2026-04-04 */
	};
	static const char *const kinds[] = { "day", "week", "month" };
	struct pd_limit lim;
	struct pd_span sp;
	const char *why = "";
	long long now, end;
	size_t i, k;
	int d;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (pd_window_tz(t[i].tz, 1, &why) == -1)
			fail_msg("tz %s: %s", t[i].tz, why);
		for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			limit_of(kinds[k], &lim);
			pd_window_flush();
			/* Three days in steps of 7 min 13 s. */
			for (now = t[i].from; now < t[i].from + 3 * 86400;
			     now += 433) {
				check_at(t[i].tz, &lim, now);
				if (pd_window_span(&lim, now, &sp) == -1)
					continue;
				/* Each second around the next window end,
				 * the cache filled by the step before. */
				end = sp.end;
				for (d = -2; d <= 2; d++) {
					assert_int_equal(pd_window_span(&lim,
							     now, &sp),
					    0);
					check_at(t[i].tz, &lim, end + d);
				}
			}
			pd_limit_clear(&lim);
		}
	}
	pd_window_tz("UTC", 1, &why);
}

/*
 * test_rolling - slot length; for every "now" over three slots the
 * counted span holds the last W seconds and less than one slot more.
 */
static void
test_rolling(void **state)
{
	static const struct {
		const char *window;
		long long slot_s;
	} t[] = {
		{ "1s", 1 },
		{ "30s", 1 },
		{ "1m", 1 },
		{ "90s", 2 },
		{ "61s", 2 },
		{ "1h", 60 },
		{ "24h", 1440 },
		{ "7d", 10080 },
		{ "31d", 44640 },
	};
	struct pd_limit lim;
	struct pd_span sp;
	long long now, w;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		limit_of(t[i].window, &lim);
		w = lim.window_s;
		for (now = 1795435200LL; now < 1795435200LL + 3 * t[i].slot_s;
		     now++) {
			assert_int_equal(pd_window_span(&lim, now, &sp), 0);
			if (sp.slot_s != t[i].slot_s)
				fail_msg("%s: got slot_s %lld, want %lld",
				    t[i].window, sp.slot_s, t[i].slot_s);
			if (sp.start > now - w + 1 ||
			    now - w + 1 - sp.start >= sp.slot_s ||
			    sp.start != (sp.slot - sp.nslots + 1) * sp.slot_s)
				fail_msg("%s at %lld: got start %lld, want "
					 "(%lld - %lld, %lld]",
				    t[i].window, now, sp.start,
				    now - w + 1 - sp.slot_s, now - w + 1,
				    now - w + 1);
			assert_int_equal(sp.slot, now / sp.slot_s);
			assert_true(sp.keep > sp.nslots);
			assert_true(sp.ttl_s > sp.keep * sp.slot_s);
		}
		pd_limit_clear(&lim);
	}
}

/* test_tz_names - installed zones only, no paths */
static void
test_tz_names(void **state)
{
	static const struct {
		const char *tz;
		int want;
	} t[] = {
		{ "UTC", 0 },
		{ "Europe/Berlin", 0 },
		{ "America/New_York", 0 },
		{ "", 0 },
		{ "Mars/Olympus_Mons", -1 },
		{ "../etc/passwd", -1 },
		{ "/etc/localtime", -1 },
		{ "Europe", -1 },
	};
	const char *why = "";
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (pd_window_tz(t[i].tz, 0, &why) != t[i].want)
			fail_msg("%s: got %d, want %d", t[i].tz, -t[i].want - 1,
			    t[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_calendar_warm),
		cmocka_unit_test(test_calendar_cache),
		cmocka_unit_test(test_rolling),
		cmocka_unit_test(test_tz_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
