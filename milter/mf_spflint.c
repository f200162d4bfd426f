/*
 * NAME
 *	mf_spflint 3 - the SPF record checks that libspf2 leaves out
 * SYNOPSIS
 *	#include "mf_spf_int.h"
 *
 *	int mf_spflint_domain(const char *dom, size_t len);
 *	int mf_spflint_record(const char *txt, size_t len);
 * DESCRIPTION
 *	mf_spflint_domain() checks a check_host() <domain> (RFC 7208 4.3):
 *	labels of 1 to 63 bytes, 253 bytes in all, at least two labels;
 *	anything else makes the result "none".
 *
 *	mf_spflint_record() checks a whole record before libspf2 compiles
 *	it, for the RFC 7208 rules libspf2 1.2.10 does not enforce, each a
 *	permerror: bytes outside printable ASCII (3, 4.5), redirect= or
 *	exp= twice (6), a domain-spec that does not end in a valid
 *	toplabel or a macro (7.1: "a:foo.1", "a:foo", "a:", empty labels),
 *	and a '%' that does not start a macro (7.1). Everything else is
 *	left to SPF_record_compile().
 * DIAGNOSTICS
 *	0 when acceptable, -1 when not.
 * SECURITY
 *	The record is untrusted; it is read with a pointer and a length.
 * SEE ALSO
 *	RFC 7208, mf_spfdns(3)
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mf_spf_int.h"

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
mf_spflint_macros(const char *p, size_t len, int *ends_macro)
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
		if (p[i + 2] == '\0' ||
		    strchr("slodiphcrtvSLODIPHCRTV", p[i + 2]) == NULL)
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

	if (len == 0 || mf_spflint_macros(p, len, &ends_macro) != 0)
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

/* mf_spflint_cut_cidr - length of a/mx's domain-spec before "/cidr" */
static size_t
mf_spflint_cut_cidr(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '/')
			return i;
	}
	return len;
}

/* mf_spflint_term - one term; counts redirect= and exp= */
static int
mf_spflint_term(const char *t, size_t len, int *nredir, int *nexp)
{
	static const char *const dommech[] = { "include", "exists", "a",
		"mx", "ptr" };
	const char *eq, *colon;
	size_t i, nl;

	if ((eq = memchr(t, '=', len)) != NULL &&
	    isalpha((unsigned char)t[0]) &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") == (size_t)(eq - t)) {
		nl = (size_t)(eq - t);
		if (nl == 8 && strncasecmp(t, "redirect", 8) == 0) {
			if (++*nredir > 1)
				return -1;
		} else if (nl == 3 && strncasecmp(t, "exp", 3) == 0) {
			if (++*nexp > 1)
				return -1;
		} else {
			int em;
			return mf_spflint_macros(eq + 1, len - nl - 1, &em);
		}
		return mf_spflint_domspec(eq + 1, len - nl - 1);
	}
	if (len > 0 && strchr("+-~?", t[0]) != NULL) {
		t++;
		len--;
	}
	for (i = 0; i < sizeof dommech / sizeof dommech[0]; i++) {
		nl = strlen(dommech[i]);
		if (len < nl || strncasecmp(t, dommech[i], nl) != 0)
			continue;
		if (len == nl || t[nl] == '/')
			return i < 2 ? -1 : 0;	/* include/exists need one */
		if (t[nl] != ':')
			continue;
		colon = t + nl;
		len -= nl + 1;
		if (i >= 2)
			len = mf_spflint_cut_cidr(colon + 1, len);
		return mf_spflint_domspec(colon + 1, len);
	}
	return 0;
}

/* mf_spflint_record - a whole record, "v=spf1 ..." */
int
mf_spflint_record(const char *txt, size_t len)
{
	size_t i, start;
	int nredir = 0, nexp = 0;

	for (i = 0; i < len; i++) {
		if ((unsigned char)txt[i] < 0x20 || (unsigned char)txt[i] > 0x7e)
			return -1;
	}
	i = 6;	/* after "v=spf1" */
	while (i < len) {
		while (i < len && txt[i] == ' ')
			i++;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		if (i > start &&
		    mf_spflint_term(txt + start, i - start, &nredir, &nexp) != 0)
			return -1;
	}
	return 0;
}
