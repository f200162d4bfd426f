/*
 * NAME
 *	pd_limits 3 - the limit grammar of mailtally-policyd.conf(5)
 * SYNOPSIS
 *	#include "pd_limits.h"
 *
 *	int	pd_limit_name_ok(const char *name, size_t len);
 *	int	pd_limit_parse(const char *name, const char *value,
 *		    struct pd_limit *out, const char **why);
 *	int	pd_override_parse_max(const char *value, long long *max,
 *		    const char **why);
 *	int	pd_limit_format(const struct pd_limit *lim, char *buf,
 *		    size_t len);
 *	int	pd_window_format(const struct pd_limit *lim, char *buf,
 *		    size_t len);
 *	const char *pd_unit_name(int unit);
 *	const char *pd_limit_key_name(int key);
 *	void	pd_limit_clear(struct pd_limit *lim);
 * DESCRIPTION
 *	pd_limit_parse() reads "WINDOW MAX UNIT [options]" (see pd_limits.h)
 *	into a struct pd_limit. The value is split into words at white
 *	space; a reply="..." option is one word that may hold white space
 *	inside its double quotes, with \" and \\ as the only escapes.
 *
 *	pd_limit_format() writes a limit back in the same grammar (for -n),
 *	pd_window_format() only its window ("day", "1h", "90s").
 * DIAGNOSTICS
 *	The parsers return 0, or -1 with *why (a static string); they never
 *	log. pd_limit_format() returns -1 when the text did not fit.
 * SECURITY
 *	The input is the configuration file: trusted, but parsed with
 *	explicit lengths and bounds all the same (fuzzed by
 *	tests/fuzz/fuzz_pd_limits.c).
 * SEE ALSO
 *	mailtally-policyd.conf(5), pd_window(3)
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_limits.h"

#define WORDS_MAX 8

struct word {
	const char *p;
	size_t len;
};

/* pd_limit_name_ok - 1 when a limit name is 1-32 of [a-z0-9_-] */
int
pd_limit_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > PD_LIMIT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(islower(c) || isdigit(c) || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * split_words - cut a value into at most WORDS_MAX words. A word may
 * contain a double-quoted part (reply="a b"), kept with its quotes.
 */
static int
split_words(const char *s, struct word *w, size_t *nw, const char **why)
{
	size_t n = 0;
	int quoted;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == 0)
			break;
		if (n == WORDS_MAX) {
			*why = "too many words";
			return -1;
		}
		w[n].p = s;
		for (quoted = 0; *s && (quoted || (*s != ' ' && *s != '\t'));
		     s++) {
			if (quoted && *s == '\\' && s[1] != 0)
				s++;
			else if (*s == '"')
				quoted = !quoted;
		}
		if (quoted) {
			*why = "unbalanced double quote";
			return -1;
		}
		w[n].len = (size_t)(s - w[n].p);
		n++;
	}
	*nw = n;
	return 0;
}

/* word_is - compare a word with a literal */
static int
word_is(const struct word *w, const char *lit)
{
	return w->len == strlen(lit) && memcmp(w->p, lit, w->len) == 0;
}

/* parse_number - digits with an optional suffix; bounded, no sign */
static int
parse_number(const char *p, size_t len, const char *suffixes,
    const long long *mult, long long max, long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;
	const char *sp;

	if (len == 0 || !isdigit((unsigned char)p[0]))
		return -1;
	for (; i < len && isdigit((unsigned char)p[i]); i++) {
		v = v * 10 + (unsigned)(p[i] - '0');
		if (v > (unsigned long long)max)
			return -1;
	}
	if (i < len) {
		if (i + 1 != len || p[i] == 0 || suffixes == NULL ||
		    (sp = strchr(suffixes, p[i])) == NULL)
			return -1;
		if (v > (unsigned long long)max /
			(unsigned long long)mult[sp - suffixes])
			return -1;
		v *= (unsigned long long)mult[sp - suffixes];
	}
	*out = (long long)v;
	return 0;
}

/* parse_window - day, week, month, or a rolling duration */
static int
parse_window(const struct word *w, struct pd_limit *lim, const char **why)
{
	static const long long mult[] = { 1, 60, 3600, 86400 };

	lim->window_s = 0;
	if (word_is(w, "day"))
		lim->window = PD_WIN_DAY;
	else if (word_is(w, "week"))
		lim->window = PD_WIN_WEEK;
	else if (word_is(w, "month"))
		lim->window = PD_WIN_MONTH;
	else {
		lim->window = PD_WIN_ROLLING;
		if (w->len < 2 || !strchr("smhd", w->p[w->len - 1]) ||
		    parse_number(w->p, w->len, "smhd", mult, PD_WINDOW_MAX_S,
			&lim->window_s) == -1 ||
		    lim->window_s < 1) {
			*why = "window must be day, week, month or a "
			       "duration 1s..31d (30s, 1m, 1h, 24h)";
			return -1;
		}
	}
	return 0;
}

/* parse_unit - messages, recipients or bytes */
static int
parse_unit(const struct word *w, struct pd_limit *lim, const char **why)
{
	if (word_is(w, "messages") || word_is(w, "message"))
		lim->unit = PD_UNIT_MESSAGES;
	else if (word_is(w, "recipients") || word_is(w, "recipient"))
		lim->unit = PD_UNIT_RECIPIENTS;
	else if (word_is(w, "bytes") || word_is(w, "byte"))
		lim->unit = PD_UNIT_BYTES;
	else {
		*why = "unit must be messages, recipients or bytes";
		return -1;
	}
	return 0;
}

/* parse_reply - reply="TEXT": unquote into a malloc'd string */
static int
parse_reply(const struct word *w, struct pd_limit *lim, const char **why)
{
	const char *p = w->p + 6, *end = w->p + w->len;
	char *out, *o;

	if (end - p < 2 || *p != '"' || end[-1] != '"') {
		*why = "reply must be reply=\"TEXT\"";
		return -1;
	}
	p++;
	end--;
	if (end - p > PD_REPLY_MAX) {
		*why = "reply text too long";
		return -1;
	}
	if ((o = out = malloc((size_t)(end - p) + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			goto bad;
		/* Reply text goes on one policy reply line: no controls. */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			goto bad;
		*o++ = *p;
	}
	*o = 0;
	free(lim->reply);
	lim->reply = out;
	return 0;
bad:
	free(out);
	*why = "reply text has a bare quote or control byte";
	return -1;
}

/* parse_option - defer, reject, key=..., reply="..." */
static int
parse_option(const struct word *w, struct pd_limit *lim, const char **why)
{
	if (word_is(w, "defer"))
		lim->action = PD_LIMIT_DEFER;
	else if (word_is(w, "reject"))
		lim->action = PD_LIMIT_REJECT;
	else if (word_is(w, "key=identity"))
		lim->key = PD_KEY_IDENTITY;
	else if (word_is(w, "key=sender_domain"))
		lim->key = PD_KEY_SENDER_DOMAIN;
	else if (word_is(w, "key=client_address"))
		lim->key = PD_KEY_CLIENT;
	else if (w->len >= 6 && memcmp(w->p, "reply=", 6) == 0)
		return parse_reply(w, lim, why);
	else {
		*why = "option must be defer, reject, key=identity, "
		       "key=sender_domain, key=client_address or reply=\"...\"";
		return -1;
	}
	return 0;
}

/*
 * pd_limit_parse - "limit NAME = VALUE" into *out. On failure *out is
 * cleared (nothing to free).
 */
int
pd_limit_parse(const char *name, const char *value, struct pd_limit *out,
    const char **why)
{
	static const long long mult[] = { 1024, 1024 * 1024,
		1024 * 1024 * 1024 };
	struct word w[WORDS_MAX];
	size_t nw, i;

	memset(out, 0, sizeof *out);
	if (!pd_limit_name_ok(name, strlen(name))) {
		*why = "limit name must be 1-32 of a-z 0-9 _ -";
		return -1;
	}
	memcpy(out->name, name, strlen(name) + 1);
	if (split_words(value, w, &nw, why) == -1)
		goto fail;
	if (nw < 3) {
		*why = "want WINDOW MAX UNIT [defer|reject] [key=...] "
		       "[reply=\"...\"]";
		goto fail;
	}
	if (parse_window(&w[0], out, why) == -1 ||
	    parse_unit(&w[2], out, why) == -1)
		goto fail;
	if (parse_number(w[1].p, w[1].len,
		out->unit == PD_UNIT_BYTES ? "kMG" : NULL, mult,
		PD_LIMIT_MAX_VALUE, &out->max) == -1) {
		*why = "MAX must be a number 0..10^15 (bytes: k M G)";
		goto fail;
	}
	for (i = 3; i < nw; i++)
		if (parse_option(&w[i], out, why) == -1)
			goto fail;
	return 0;
fail:
	pd_limit_clear(out);
	return -1;
}

/* pd_override_parse_max - the MAX of "override ID LIMIT = MAX" */
int
pd_override_parse_max(const char *value, long long *max, const char **why)
{
	static const long long mult[] = { 1024, 1024 * 1024,
		1024 * 1024 * 1024 };

	while (*value == ' ' || *value == '\t')
		value++;
	if (parse_number(value, strcspn(value, " \t"), "kMG", mult,
		PD_LIMIT_MAX_VALUE, max) == -1 ||
	    value[strcspn(value, " \t") +
		strspn(value + strcspn(value, " \t"), " \t")] != 0) {
		*why = "override must be a number 0..10^15";
		return -1;
	}
	return 0;
}

/* pd_unit_name - the canonical unit word */
const char *
pd_unit_name(int unit)
{
	switch (unit) {
	case PD_UNIT_MESSAGES:
		return "messages";
	case PD_UNIT_RECIPIENTS:
		return "recipients";
	default:
		return "bytes";
	}
}

/* pd_limit_key_name - the canonical key= word */
const char *
pd_limit_key_name(int key)
{
	switch (key) {
	case PD_KEY_SENDER_DOMAIN:
		return "sender_domain";
	case PD_KEY_CLIENT:
		return "client_address";
	default:
		return "identity";
	}
}

/* pd_window_format - "day", "week", "month", or the shortest duration */
int
pd_window_format(const struct pd_limit *lim, char *buf, size_t len)
{
	long long s = lim->window_s;
	int n;

	if (lim->window == PD_WIN_DAY)
		n = snprintf(buf, len, "day");
	else if (lim->window == PD_WIN_WEEK)
		n = snprintf(buf, len, "week");
	else if (lim->window == PD_WIN_MONTH)
		n = snprintf(buf, len, "month");
	else if (s % 86400 == 0 && s != 86400)
		n = snprintf(buf, len, "%lldd", s / 86400);
	else if (s % 3600 == 0)
		n = snprintf(buf, len, "%lldh", s / 3600);
	else if (s % 60 == 0)
		n = snprintf(buf, len, "%lldm", s / 60);
	else
		n = snprintf(buf, len, "%llds", s);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* pd_limit_format - a limit in the grammar pd_limit_parse() reads */
int
pd_limit_format(const struct pd_limit *lim, char *buf, size_t len)
{
	char win[32];
	size_t used;
	const char *r;
	int n;

	if (pd_window_format(lim, win, sizeof win) == -1)
		return -1;
	n = snprintf(buf, len, "%s %lld %s %s key=%s", win, lim->max,
	    pd_unit_name(lim->unit),
	    lim->action == PD_LIMIT_REJECT ? "reject" : "defer",
	    pd_limit_key_name(lim->key));
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (lim->reply == NULL)
		return 0;
	used = (size_t)n;
	if (used + 8 >= len)
		return -1;
	memcpy(buf + used, " reply=\"", 8);
	used += 8;
	for (r = lim->reply; *r; r++) {
		if (used + 3 >= len)
			return -1;
		if (*r == '"' || *r == '\\')
			buf[used++] = '\\';
		buf[used++] = *r;
	}
	buf[used++] = '"';
	buf[used] = 0;
	return 0;
}

/* pd_limit_clear - free what a limit owns */
void
pd_limit_clear(struct pd_limit *lim)
{
	if (lim == NULL)
		return;
	free(lim->reply);
	memset(lim, 0, sizeof *lim);
}
