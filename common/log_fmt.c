/*
 * NAME
 *	log_fmt 3 - escaping and value formatting for log lines
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	const char *cm_log_str(char *buf, size_t bufsize, const char *s,
 *		    size_t len, size_t max);
 *	size_t	cm_log_num(char *dst, long long v);
 *
 *	#include "log_int.h"
 *
 *	int	cm_log_json_escape(struct cm_buf *b, const char *s, size_t n,
 *		    size_t limit);
 *	void	cm_log_json_str(struct cm_buf *b, const char *s, size_t n,
 *		    int capped);
 *	void	cm_log_text_escape(struct cm_buf *b, const char *s, size_t n,
 *		    const char *esc);
 *	void	cm_log_text_quoted(struct cm_buf *b, int open, const char *s,
 *		    size_t n, int capped, int close);
 *	void	cm_log_text_val(struct cm_buf *b, const char *s, size_t n,
 *		    int capped);
 *	void	cm_log_json_head(struct cm_buf *b, uint64_t ts_ms);
 * DESCRIPTION
 *	The pieces that diagnostics (log.c) and event lines
 *	(event_render.c) are written with. The cm_buf functions append;
 *	a buffer that hits its bound sets its overflow flag, which the
 *	callers check once per line.
 *
 *	cm_log_json_escape() writes the inside of a JSON string: '"', '\',
 *	newline and tab as two-character escapes, printable ASCII and valid
 *	UTF-8 as they are, every other byte as \u00XX of its value, so the
 *	result is valid JSON whatever bytes come in. cm_log_json_str() adds
 *	the quotes and, for a capped value, "...".
 *
 *	cm_log_text_val() writes a text value bare when it is made only of
 *	letters, digits and "._-:/@+,=[]()", else in double quotes with \"
 *	\\ and \xHH escapes (cm_log_text_quoted(), which also writes
 *	addresses as <...>).
 *
 *	cm_log_json_head() writes {"ts":..,"host":..,"program":.. of a JSON
 *	line (UTC, millisecond precision), without the closing brace.
 *
 *	cm_log_str() escapes and caps an untrusted string for a diagnostic
 *	into a caller's buffer (see cm_log.h): every byte outside printable
 *	ASCII, and '"' and '\', as \xHH, so its output can sit inside a
 *	quoted field of a text line.
 * SECURITY
 *	Every byte given to these functions may come from a peer. Nothing
 *	is copied unescaped except printable ASCII and (JSON only) valid
 *	UTF-8; no output can hold a raw control byte, a NUL, or an
 *	unbalanced quote.
 * DIAGNOSTICS
 *	cm_log_json_escape() returns 1 when all of s was written, 0 when it
 *	stopped before limit or the buffer failed. The others return
 *	nothing; cm_log_str() always NUL-terminates a non-empty buffer.
 * SEE ALSO
 *	cm_log(3h), cm_buf(3h), log_int(3h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "cm_util.h"
#include "log_int.h"

static const char hexdig[] = "0123456789abcdef";

/*
 * Bytes written as they are, one table lookup per byte (every log line
 * goes through here): json_plain is printable ASCII but '"' and '\\';
 * text_safe is what a bare text value holds: letters, digits and
 * "._-:/@+,=[]()".
 */
/* printable ASCII but '"' and '\\' (a JSON string, a quoted text value) */
#define QUOTED_PLAIN(c) (CM_PRINTABLE(c) && (c) != '"' && (c) != '\\')
static const unsigned char json_plain[256] = CM_BYTE_TABLE(QUOTED_PLAIN);

/* [A-Za-z0-9] and ._-:/@+,=[]() */
#define TEXT_SAFE(c)                                                           \
	(CM_DIGIT(c) || CM_LOWER(c) || CM_UPPER(c) || (c) == '.' ||            \
	    (c) == '_' || (c) == '-' || (c) == ':' || (c) == '/' ||            \
	    (c) == '@' || (c) == '+' || (c) == ',' || (c) == '=' ||            \
	    (c) == '[' || (c) == ']' || (c) == '(' || (c) == ')')
static const unsigned char text_safe[256] = CM_BYTE_TABLE(TEXT_SAFE);

/* printable ASCII: cm_log_text_escape() with no delimiters */
static const unsigned char text_plain[256] = CM_BYTE_TABLE(CM_PRINTABLE);

/* printable ASCII but <, > and \\ (an address) */
#define ADDR_PLAIN(c)                                                          \
	(CM_PRINTABLE(c) && (c) != '<' && (c) != '>' && (c) != '\\')
static const unsigned char text_plain_addr[256] = CM_BYTE_TABLE(ADDR_PLAIN);

/*
 * plain_table - the table of bytes cm_log_text_escape() writes as they
 * are for the delimiters esc, when it is one of the three in use; NULL
 * for any other set.
 */
static const unsigned char *
plain_table(const char *esc)
{
	if (esc[0] == '\0')
		return text_plain;
	if (esc[0] == '<' && esc[1] == '>' && esc[2] == '\\' && esc[3] == '\0')
		return text_plain_addr;
	if (esc[0] == '"' && esc[1] == '"' && esc[2] == '\\' && esc[3] == '\0')
		return json_plain;
	return NULL;
}

/*
 * cm_log_json_escape - append s[0..n) as the inside of a JSON string, stopping
 * before the buffer would pass limit bytes. Returns 1 when all of s was
 * written, 0 when it stopped early or the buffer failed. A run of plain
 * bytes is appended at once; when that fails it is retried byte by byte,
 * so the buffer ends exactly where it would have one byte at a time.
 */
int
cm_log_json_escape(struct cm_buf *b, const char *s, size_t n, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];
	size_t i, j, k, tl;
	const char *piece;

	for (i = 0; i < n; i += k) {
		for (j = i; j < n && json_plain[p[j]]; j++)
			;
		if (j > i) {
			k = j - i;
			if (b->len + k <= limit &&
			    cm_buf_append(b, s + i, k) == 0)
				continue;
			/* Byte by byte: stop where one at a time stopped. */
			for (; i < j; i++)
				if (b->len + 1 > limit ||
				    cm_buf_putc(b, p[i]) == -1)
					return 0;
			k = 0;
			continue;
		}
		piece = tmp;
		k = 1;
		if (p[i] == '"' || p[i] == '\\') {
			tmp[0] = '\\', tmp[1] = (char)p[i], tl = 2;
		} else if (p[i] == '\n') {
			piece = "\\n", tl = 2;
		} else if (p[i] == '\t') {
			piece = "\\t", tl = 2;
		} else if (p[i] >= 0x80 &&
		    (k = cm_utf8_len(p + i, n - i)) > 0) {
			piece = s + i, tl = k;
		} else {
			k = 1;
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hexdig[p[i] >> 4];
			tmp[5] = hexdig[p[i] & 15];
			tl = 6;
		}
		if (b->len + tl > limit || cm_buf_append(b, piece, tl) == -1)
			return 0;
	}
	return 1;
}

/* cm_log_json_str - append a JSON string; "..." marks a capped value */
void
cm_log_json_str(struct cm_buf *b, const char *s, size_t n, int capped)
{
	cm_buf_putc(b, '"');
	cm_log_json_escape(b, s, n, SIZE_MAX);
	if (capped)
		cm_buf_append(b, "...", 3);
	cm_buf_putc(b, '"');
}

/* text_esc_one - append the escape of one byte of cm_log_text_escape() */
static void
text_esc_one(struct cm_buf *b, unsigned char c, const char *esc)
{
	char x[4];

	if (c == '"' && strchr(esc, '"')) {
		cm_buf_append(b, "\\\"", 2);
	} else if (c == '\\' && strchr(esc, '\\')) {
		cm_buf_append(b, "\\\\", 2);
	} else if (c < 0x20 || c >= 0x7f ||
	    (c != '\0' && c != '"' && c != '\\' && strchr(esc, c))) {
		x[0] = '\\';
		x[1] = 'x';
		x[2] = hexdig[c >> 4];
		x[3] = hexdig[c & 15];
		cm_buf_append(b, x, 4);
	} else {
		cm_buf_putc(b, c);
	}
}

/*
 * cm_log_text_escape - append s[0..n) with \xHH for bytes outside printable
 * ASCII and for the other bytes in "esc", except '"' and '\' which are
 * written \" and \\ when in "esc" and as they are when not. Diagnostics
 * pass "": their arguments went through cm_log_str() already, and its
 * \xHH escapes must not be escaped twice.
 *
 * Runs of bytes written as they are (printable ASCII not in "esc") are
 * appended at once; they are found by table for the delimiter sets in
 * use (none, '<' '>' '\\', '"' '\\') and by strchr() for any other. A failed append does not stop the rest (as one byte
 * at a time never did): a run that fails is retried byte by byte.
 */
void
cm_log_text_escape(struct cm_buf *b, const char *s, size_t n, const char *esc)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *plain = plain_table(esc);
	unsigned char c;
	size_t i, j;

	for (i = 0; i < n;) {
		if (plain != NULL) {
			for (j = i; j < n && plain[p[j]]; j++)
				;
		} else {
			for (j = i; j < n; j++) {
				c = p[j];
				if (c < 0x20 || c >= 0x7f || strchr(esc, c))
					break;
			}
		}
		if (j > i && cm_buf_append(b, s + i, j - i) == -1)
			for (; i < j; i++)
				cm_buf_putc(b, p[i]);
		if (j < n)
			text_esc_one(b, p[j++], esc);
		i = j;
	}
}

/*
 * cm_log_text_quoted - append "open", s[0..n) escaped (the delimiters
 * and backslash too), "..." when capped, and "close": a quoted
 * text value ('"') or an address ('<', '>').
 */
void
cm_log_text_quoted(struct cm_buf *b, int open, const char *s, size_t n,
    int capped, int close)
{
	char esc[4] = { (char)open, (char)close, '\\', '\0' };

	cm_buf_putc(b, open);
	cm_log_text_escape(b, s, n, esc);
	if (capped)
		cm_buf_append(b, "...", 3);
	cm_buf_putc(b, close);
}

/* cm_log_text_val - a text value: bare when every byte is safe, else quoted */
void
cm_log_text_val(struct cm_buf *b, const char *s, size_t n, int capped)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n && text_safe[p[i]]; i++)
		;
	if (n > 0 && i == n) {
		cm_buf_append(b, s, n);
		if (capped)
			cm_buf_append(b, "...", 3);
		return;
	}
	cm_log_text_quoted(b, '"', s, n, capped, '"');
}

/*
 * log_str_escaped - does cm_log_str() write c as \xHH: control bytes,
 * non-ASCII, and the quote and backslash, so that a value cannot end a
 * quoted field or fake an escape on the line
 */
static int
log_str_escaped(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* cm_log_str - escape and cap an untrusted string for a diagnostic */
const char *
cm_log_str(char *buf, size_t bufsize, const char *s, size_t len, size_t max)
{
	size_t i, o = 0, need = 0, lim, n;
	unsigned char c;
	int capped;

	if (bufsize == 0)
		return buf;
	if (s == NULL)
		s = "(null)", len = 6;
	n = len > max ? max : len;
	capped = len > max;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		need += log_str_escaped(c) ? 4 : 1;
	}
	if (need > bufsize - 1)
		capped = 1;
	lim = capped && bufsize - 1 >= 3 ? bufsize - 1 - 3 : bufsize - 1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (log_str_escaped(c)) {
			if (o + 4 > lim)
				break;
			snprintf(buf + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			if (o + 1 > lim)
				break;
			buf[o++] = (char)c;
		}
	}
	if (capped && bufsize - 1 >= 3) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* digits - v (0 <= v < 10^n) in n decimal digits at o; returns o + n */
static char *
digits(char *o, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + n;
}

/*
 * json_ts - {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ" as the printf format in
 * cm_log_json_head() writes it, without printf (every JSON line); 0
 * when a field is out of the range where both agree (a year past 9999).
 */
static int
json_ts(struct cm_buf *b, const struct tm *tm, unsigned ms)
{
	char t[40], *o = t;
	int year = tm->tm_year + 1900;

	if (year < 0 || year > 9999 || tm->tm_mon < 0 || tm->tm_mon > 98 ||
	    tm->tm_mday < 0 || tm->tm_mday > 99 || tm->tm_hour < 0 ||
	    tm->tm_hour > 99 || tm->tm_min < 0 || tm->tm_min > 99 ||
	    tm->tm_sec < 0 || tm->tm_sec > 99 || ms > 999)
		return 0;
	memcpy(o, "{\"ts\":\"", 7);
	o = digits(o + 7, (unsigned)year, 4);
	*o++ = '-';
	o = digits(o, (unsigned)tm->tm_mon + 1, 2);
	*o++ = '-';
	o = digits(o, (unsigned)tm->tm_mday, 2);
	*o++ = 'T';
	o = digits(o, (unsigned)tm->tm_hour, 2);
	*o++ = ':';
	o = digits(o, (unsigned)tm->tm_min, 2);
	*o++ = ':';
	o = digits(o, (unsigned)tm->tm_sec, 2);
	*o++ = '.';
	o = digits(o, ms, 3);
	memcpy(o, "Z\"", 2);
	cm_buf_append(b, t, (size_t)(o + 2 - t));
	return 1;
}

/* cm_log_json_head - {"ts":..,"host":..,"program":.. without the closing brace */
void
cm_log_json_head(struct cm_buf *b, uint64_t ts_ms)
{
	struct tm tm;
	time_t t = (time_t)(ts_ms / 1000);

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	if (!json_ts(b, &tm, (unsigned)(ts_ms % 1000)))
		cm_buf_printf(b,
		    "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\"",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (unsigned)(ts_ms % 1000));
	cm_buf_append(b, ",\"host\":", 8);
	cm_log_json_str(b, cm_log_state.host, strlen(cm_log_state.host), 0);
	cm_buf_append(b, ",\"program\":", 11);
	cm_log_json_str(b, cm_log_state.program, strlen(cm_log_state.program),
	    0);
}

/*
 * cm_log_num - v in decimal, as "%lld" writes it, into dst (at least
 * CM_LOG_NUM_MAX bytes, no NUL); returns the length. Log lines are
 * built with it instead of printf, which costs several times more.
 */
size_t
cm_log_num(char *dst, long long v)
{
	char t[CM_LOG_NUM_MAX];
	size_t i = sizeof t, n;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
				     : (unsigned long long)v;

	do
		t[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		t[--i] = '-';
	n = sizeof t - i;
	memcpy(dst, t + i, n);
	return n;
}
