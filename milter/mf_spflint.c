/*
 * NAME
 *	mf_spflint 3 - SPF record checks and rewrites libspf2 needs
 * SYNOPSIS
 *	#include "mf_spf_int.h"
 *
 *	int mf_spflint_domain(const char *dom, size_t len);
 *	int mf_spflint_record(const char *txt, size_t len, int client_v6,
 *	    char *out, size_t outsize);
 * DESCRIPTION
 *	mf_spflint_domain() checks a check_host() domain (RFC 7208 4.3):
 *	labels of 1 to 63 bytes, 253 bytes in all, at least two labels;
 *	anything else makes the result "none".
 *
 *	mf_spflint_record() reads a whole record before libspf2 compiles it
 *	and enforces the RFC 7208 rules libspf2 1.2.10 does not, each a
 *	permerror: bytes outside printable ASCII (3, 4.5); an unknown
 *	mechanism such as "redirect:" (5); redirect= or exp= twice (6); a
 *	domain-spec that does not end in a valid toplabel or a macro, or
 *	that uses the exp-only macro letters c, r, t (7.1); a '%' that does
 *	not start a macro; a prefix length with a leading zero ("/032").
 *	It then writes the record in the form libspf2 evaluates right:
 *	unknown modifiers dropped (6: they must be ignored), exp= and
 *	redirect= moved to the end and redirect= dropped when the record
 *	has "all" (6.1), ptr domains lower-cased, and prefix lengths of 0,
 *	which libspf2 refuses to compile: ip4:X/0 becomes its two halves
 *	(0.0.0.0/1 and 128.0.0.0/1, ip6 likewise), and an a or mx term whose
 *	length for the client's family is 0 gets the MF_SPF_CIDR0 marker
 *	after its domain (mf_spfdns(3) answers it).
 * DIAGNOSTICS
 *	0 when acceptable, -1 when not (a permerror).
 * SECURITY
 *	The record is untrusted; it is read with a pointer and a length and
 *	the output is bounded by outsize.
 * SEE ALSO
 *	RFC 7208, mf_spfdns(3)
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mf_spf_int.h"

/* Macro letters of a domain-spec; c, r and t belong to exp text only. */
#define MF_SPFLINT_DOMLETTERS "slodiphvSLODIPHV"
#define MF_SPFLINT_ALLLETTERS "slodiphcrtvSLODIPHCRTV"

struct mf_spflint_out {
	char *buf;
	size_t size, len;
	int overflow;
};

/* mf_spflint_domain - a check_host() domain (RFC 7208 4.3) */
int
mf_spflint_domain(const char *dom, size_t len)
{
	size_t i, lab = 0, nlabels = 0;

	if (len > 0 && dom[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i == len || dom[i] == '.') {
			if (lab == 0 || lab > 63)
				return -1;
			nlabels++;
			lab = 0;
		} else {
			lab++;
		}
	}
	return nlabels >= 2 ? 0 : -1;
}

/* mf_spflint_toplabel - RFC 7208 7.1 toplabel: alnum and '-', not all digits */
static int
mf_spflint_toplabel(const char *p, size_t len)
{
	size_t i;
	int alpha = 0;

	if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
		return -1;
	for (i = 0; i < len; i++) {
		if (isalpha((unsigned char)p[i]))
			alpha = 1;
		else if (!isdigit((unsigned char)p[i]) && p[i] != '-')
			return -1;
	}
	return alpha ? 0 : -1;
}

/*
 * mf_spflint_macros - check every '%' of a macro-string; sets *ends_macro
 * when the string ends with a macro-expand (then no toplabel is needed).
 */
static int
mf_spflint_macros(const char *p, size_t len, const char *letters,
    int *ends_macro)
{
	size_t i = 0;
	const char *close;

	*ends_macro = 0;
	while (i < len) {
		if (p[i] != '%') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		if (p[i + 1] == '%' || p[i + 1] == '_' || p[i + 1] == '-') {
			i += 2;
			continue;
		}
		if (p[i + 1] != '{' || i + 2 >= len ||
		    (close = memchr(p + i, '}', len - i)) == NULL)
			return -1;
		if (p[i + 2] == '\0' || strchr(letters, p[i + 2]) == NULL)
			return -1;
		i = (size_t)(close - p) + 1;
		if (i == len)
			*ends_macro = 1;
	}
	return 0;
}

/* mf_spflint_domspec - a domain-spec (RFC 7208 7.1) */
static int
mf_spflint_domspec(const char *p, size_t len)
{
	const char *dot;
	size_t i;
	int ends_macro;

	if (len == 0 ||
	    mf_spflint_macros(p, len, MF_SPFLINT_DOMLETTERS, &ends_macro) != 0)
		return -1;
	if (ends_macro)
		return 0;
	if (p[len - 1] == '.')
		len--;
	for (i = 0; i + 1 < len; i++) {
		if (p[i] == '.' && p[i + 1] == '.')
			return -1;
	}
	for (dot = NULL, i = len; i > 0; i--) {
		if (p[i - 1] == '.') {
			dot = p + i - 1;
			break;
		}
	}
	if (dot == NULL || dot == p)
		return -1;
	return mf_spflint_toplabel(dot + 1, (size_t)(p + len - dot - 1));
}

/* mf_spflint_put - append n bytes to o, noting overflow */
static void
mf_spflint_put(struct mf_spflint_out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->size) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* mf_spflint_puts - append a string */
static void
mf_spflint_puts(struct mf_spflint_out *o, const char *s)
{
	mf_spflint_put(o, s, strlen(s));
}

/* mf_spflint_num - 1-3 digits, no leading zero, at most max; or -1 */
static int
mf_spflint_num(const char *p, size_t len, int max)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= max ? v : -1;
}

/*
 * mf_spflint_cidr - split a trailing dual-cidr-length ("/N", "//M",
 * "/N//M") off t[0..len): returns the length before it, with n4/n6 set
 * (-1 when absent), or -1 when a cidr is malformed (e.g. "/032").
 */
static long
mf_spflint_cidr(const char *t, size_t len, int *n4, int *n6)
{
	size_t e = len, i;

	*n4 = *n6 = -1;
	for (i = e; i > 0 && isdigit((unsigned char)t[i - 1]); i--)
		;
	if (i < e && i >= 2 && t[i - 1] == '/' && t[i - 2] == '/') {
		if ((*n6 = mf_spflint_num(t + i, e - i, 128)) < 0)
			return -1;
		e = i - 2;
		for (i = e; i > 0 && isdigit((unsigned char)t[i - 1]); i--)
			;
	}
	if (i < e && i >= 1 && t[i - 1] == '/' && (i < 2 || t[i - 2] != '/')) {
		if ((*n4 = mf_spflint_num(t + i, e - i, 32)) < 0)
			return -1;
		e = i - 1;
	}
	return (long)e;
}

/* mf_spflint_ipnet - ip4:/ip6: with its prefix; "/0" becomes two halves */
static int
mf_spflint_ipnet(struct mf_spflint_out *o, const char *q, const char *t,
    size_t len, int v6)
{
	const char *slash = NULL;
	size_t i;
	int n;

	for (i = len; i > 0; i--) {
		if (t[i - 1] == '/') {
			slash = t + i - 1;
			break;
		}
	}
	if (slash != NULL) {
		n = mf_spflint_num(slash + 1, (size_t)(t + len - slash - 1),
		    v6 ? 128 : 32);
		if (n < 0 || (slash > t && slash[-1] == '/'))
			return -1;
		if (n == 0) {
			mf_spflint_puts(o, " ");
			mf_spflint_puts(o, q);
			mf_spflint_puts(o, v6 ? "ip6:::/1 " : "ip4:0.0.0.0/1 ");
			mf_spflint_puts(o, q);
			mf_spflint_puts(o,
			    v6 ? "ip6:8000::/1" : "ip4:128.0.0.0/1");
			return 0;
		}
	}
	mf_spflint_puts(o, " ");
	mf_spflint_puts(o, q);
	mf_spflint_put(o, t, len);
	return 0;
}

/*
 * mf_spflint_amx - a[:dom][/n][//m] and mx[...]: a prefix length of 0
 * cannot be compiled by libspf2, so for the client's family it becomes
 * the marker MF_SPF_CIDR0 after the domain, which mf_spfdns resolves
 * to "the client's own address, if the name has any address".
 */
static int
mf_spflint_amx(struct mf_spflint_out *o, const char *q, const char *name,
    const char *t, size_t len, int client_v6)
{
	long dl;
	int n4, n6, mark;
	char num[16];

	if ((dl = mf_spflint_cidr(t, len, &n4, &n6)) < 0)
		return -1;
	if (dl > 0 &&
	    (t[0] != ':' || mf_spflint_domspec(t + 1, (size_t)dl - 1) != 0))
		return -1;
	mark = client_v6 ? n6 == 0 : n4 == 0;
	mf_spflint_puts(o, " ");
	mf_spflint_puts(o, q);
	mf_spflint_puts(o, name);
	if (dl > 0)
		mf_spflint_put(o, t,
		    (size_t)(dl > 1 && t[dl - 1] == '.' ? dl - 1 : dl));
	else if (mark)
		mf_spflint_puts(o, ":%{d}");
	if (mark)
		mf_spflint_puts(o, MF_SPF_CIDR0);
	if (n4 > 0) {
		snprintf(num, sizeof num, "/%d", n4);
		mf_spflint_puts(o, num);
	}
	if (n6 > 0) {
		snprintf(num, sizeof num, "//%d", n6);
		mf_spflint_puts(o, num);
	}
	return 0;
}

/* mf_spflint_mech - one mechanism term; *has_all set by "all" */
static int
mf_spflint_mech(struct mf_spflint_out *o, const char *t, size_t len,
    int client_v6, int *has_all)
{
	char q[2] = { 0, 0 };
	size_t nl, i;

	if (len > 0 && strchr("+-~?", t[0]) != NULL) {
		q[0] = t[0];
		t++;
		len--;
	}
	for (nl = 0; nl < len && t[nl] != ':' && t[nl] != '/'; nl++)
		;
#define MECH(s) (nl == sizeof(s) - 1 && strncasecmp(t, s, nl) == 0)
	if (MECH("all")) {
		*has_all = 1;
		return nl == len
		    ? (mf_spflint_puts(o, " "), mf_spflint_puts(o, q),
			  mf_spflint_puts(o, "all"), 0)
		    : -1;
	}
	if (MECH("include") || MECH("exists")) {
		if (nl == len || t[nl] != ':' ||
		    mf_spflint_domspec(t + nl + 1, len - nl - 1) != 0)
			return -1;
	} else if (MECH("ptr")) {
		if (nl < len &&
		    (t[nl] != ':' ||
			mf_spflint_domspec(t + nl + 1, len - nl - 1) != 0))
			return -1;
		mf_spflint_puts(o, " ");
		mf_spflint_puts(o, q);
		for (i = 0; i < len; i++) {
			char c = memchr(t, '%', len)
			    ? t[i]
			    : (char)tolower((unsigned char)t[i]);
			mf_spflint_put(o, &c, 1);
		}
		return 0;
	} else if (MECH("ip4") || MECH("ip6")) {
		if (nl == len || t[nl] != ':')
			return -1;
		return mf_spflint_ipnet(o, q, t, len, t[2] == '6');
	} else if (MECH("a") || MECH("mx")) {
		return mf_spflint_amx(o, q, MECH("a") ? "a" : "mx", t + nl,
		    len - nl, client_v6);
	} else {
		return -1; /* unknown mechanism, "redirect:" included */
	}
#undef MECH
	mf_spflint_puts(o, " ");
	mf_spflint_puts(o, q);
	mf_spflint_put(o, t, len);
	return 0;
}

/* mf_spflint_modifier - name=value; keeps redirect= and exp= aside */
static int
mf_spflint_modifier(const char *t, size_t len, const char **redir,
    size_t *redirlen, const char **exp, size_t *explen)
{
	const char *eq = memchr(t, '=', len);
	size_t nl = (size_t)(eq - t), vl = len - nl - 1;
	int em;

	if (nl == 8 && strncasecmp(t, "redirect", 8) == 0) {
		if (*redir != NULL || mf_spflint_domspec(eq + 1, vl) != 0)
			return -1;
		*redir = t;
		*redirlen = len;
	} else if (nl == 3 && strncasecmp(t, "exp", 3) == 0) {
		if (*exp != NULL || mf_spflint_domspec(eq + 1, vl) != 0)
			return -1;
		*exp = t;
		*explen = len;
	} else if (mf_spflint_macros(eq + 1, vl, MF_SPFLINT_ALLLETTERS, &em) !=
	    0) {
		return -1;
	}
	return 0; /* unknown modifiers are dropped (RFC 7208 6) */
}

/* mf_spflint_is_modifier - name "=" with name = ALPHA *(alnum / - _ .) */
static int
mf_spflint_is_modifier(const char *t, size_t len)
{
	const char *eq = memchr(t, '=', len);

	return eq != NULL && isalpha((unsigned char)t[0]) &&
	    strspn(t,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789-_.") == (size_t)(eq - t);
}

/*
 * mf_spflint_record - check the record txt[0..len) ("v=spf1 ...") and
 * write the form libspf2 can compile to out: unknown modifiers dropped,
 * exp= and redirect= moved to the end (redirect= dropped when there is
 * an "all"), "ptr:" domains lower-cased, prefix lengths of 0 rewritten.
 * client_v6 says which family the client is. 0, or -1: permerror.
 */
int
mf_spflint_record(const char *txt, size_t len, int client_v6, char *out,
    size_t outsize)
{
	struct mf_spflint_out o = { out, outsize, 0, 0 };
	const char *redir = NULL, *exp = NULL;
	size_t i, start, redirlen = 0, explen = 0;
	int has_all = 0, r;

	for (i = 0; i < len; i++) {
		if ((unsigned char)txt[i] < 0x20 ||
		    (unsigned char)txt[i] > 0x7e)
			return -1;
	}
	mf_spflint_puts(&o, "v=spf1");
	for (i = 6; i < len;) {
		while (i < len && txt[i] == ' ')
			i++;
		for (start = i; i < len && txt[i] != ' '; i++)
			;
		if (i == start)
			continue;
		if (mf_spflint_is_modifier(txt + start, i - start))
			r = mf_spflint_modifier(txt + start, i - start, &redir,
			    &redirlen, &exp, &explen);
		else
			r = mf_spflint_mech(&o, txt + start, i - start,
			    client_v6, &has_all);
		if (r != 0)
			return -1;
	}
	if (exp != NULL) {
		mf_spflint_puts(&o, " ");
		mf_spflint_put(&o, exp, explen);
	}
	if (redir != NULL && !has_all) {
		mf_spflint_puts(&o, " ");
		mf_spflint_put(&o, redir, redirlen);
	}
	return o.overflow ? -1 : 0;
}
