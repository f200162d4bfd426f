/*
 * NAME
 *	json_check 3h - strict JSON validator for tests and fuzz targets
 * SYNOPSIS
 *	#include "json_check.h"
 *
 *	static int json_check(const char *s, size_t n, const char **why);
 * DESCRIPTION
 *	Checks that s[0..n) is exactly one JSON value (RFC 8259) with
 *	optional white space around it: strings hold no raw control bytes,
 *	only valid UTF-8 and only the escapes \" \\ \/ \b \f \n \r \t and
 *	\uXXXX; numbers follow the grammar; literals are true, false, null;
 *	nothing follows the value. Nesting deeper than JSON_CHECK_DEPTH is
 *	refused. Header-only so unit tests and fuzz targets share it.
 * DIAGNOSTICS
 *	0 when valid; -1 with *why (a static string) and the offset of the
 *	error in json_check_off otherwise.
 */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stddef.h>
#include <string.h>

#define JSON_CHECK_DEPTH 64

struct json_cur {
	const unsigned char *p;
	const unsigned char *e;
	const char *why;
};

static size_t json_check_off;

static int json_value(struct json_cur *, int);

/* json_ws - skip white space */
static void
json_ws(struct json_cur *c)
{
	while (c->p < c->e &&
	    (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* json_fail - record why */
static int
json_fail(struct json_cur *c, const char *why)
{
	c->why = why;
	return -1;
}

/* json_utf8 - length of a valid UTF-8 sequence at p, or 0 */
static size_t
json_utf8(const unsigned char *p, size_t n)
{
	size_t need, i;
	unsigned int cp, min;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, cp = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, cp = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* json_string - a string, on its opening quote */
static int
json_string(struct json_cur *c)
{
	size_t k;
	int i;

	for (c->p++; c->p < c->e;) {
		if (*c->p == '"') {
			c->p++;
			return 0;
		}
		if (*c->p < 0x20)
			return json_fail(c, "control byte in string");
		if (*c->p == '\\') {
			if (++c->p == c->e)
				break;
			if (*c->p == 'u') {
				for (i = 1; i <= 4; i++)
					if (c->p + i >= c->e ||
					    !strchr("0123456789abcdefABCDEF",
						c->p[i]) ||
					    c->p[i] == 0)
						return json_fail(c, "bad \\u");
				c->p += 5;
			} else if (*c->p && strchr("\"\\/bfnrt", *c->p)) {
				c->p++;
			} else {
				return json_fail(c, "bad escape");
			}
		} else if (*c->p >= 0x80) {
			if ((k = json_utf8(c->p, (size_t)(c->e - c->p))) == 0)
				return json_fail(c, "bad UTF-8 in string");
			c->p += k;
		} else {
			c->p++;
		}
	}
	return json_fail(c, "unterminated string");
}

/* json_digits - one or more digits */
static int
json_digits(struct json_cur *c)
{
	const unsigned char *s = c->p;

	while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s ? 0 : json_fail(c, "digit expected");
}

/* json_number - -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
json_number(struct json_cur *c)
{
	if (c->p < c->e && *c->p == '-')
		c->p++;
	if (c->p < c->e && *c->p == '0')
		c->p++;
	else if (json_digits(c) == -1)
		return -1;
	if (c->p < c->e && *c->p == '.') {
		c->p++;
		if (json_digits(c) == -1)
			return -1;
	}
	if (c->p < c->e && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->e && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (json_digits(c) == -1)
			return -1;
	}
	return 0;
}

/* json_container - an object or an array, on its opening bracket */
static int
json_container(struct json_cur *c, int depth)
{
	int obj = *c->p == '{';
	unsigned char close = obj ? '}' : ']';

	if (depth >= JSON_CHECK_DEPTH)
		return json_fail(c, "too deep");
	c->p++;
	json_ws(c);
	if (c->p < c->e && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		if (obj) {
			json_ws(c);
			if (c->p == c->e || *c->p != '"')
				return json_fail(c, "key expected");
			if (json_string(c) == -1)
				return -1;
			json_ws(c);
			if (c->p == c->e || *c->p != ':')
				return json_fail(c, "':' expected");
			c->p++;
		}
		if (json_value(c, depth + 1) == -1)
			return -1;
		json_ws(c);
		if (c->p < c->e && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->e && *c->p == close) {
			c->p++;
			return 0;
		}
		return json_fail(c, "',' or close expected");
	}
}

/* json_value - any value */
static int
json_value(struct json_cur *c, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	size_t i, n;

	json_ws(c);
	if (c->p == c->e)
		return json_fail(c, "value expected");
	if (*c->p == '{' || *c->p == '[')
		return json_container(c, depth);
	if (*c->p == '"')
		return json_string(c);
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
		return json_number(c);
	for (i = 0; i < 3; i++) {
		n = strlen(lits[i]);
		if ((size_t)(c->e - c->p) >= n &&
		    memcmp(c->p, lits[i], n) == 0) {
			c->p += n;
			return 0;
		}
	}
	return json_fail(c, "value expected");
}

/* json_check - is s[0..n) exactly one valid JSON value? */
static int
json_check(const char *s, size_t n, const char **why)
{
	struct json_cur c;

	c.p = (const unsigned char *)s;
	c.e = c.p + n;
	c.why = NULL;
	if (json_value(&c, 0) == 0) {
		json_ws(&c);
		if (c.p == c.e)
			return 0;
		c.why = "text after the value";
	}
	json_check_off = (size_t)(c.p - (const unsigned char *)s);
	if (why != NULL)
		*why = c.why;
	return -1;
}

#endif
