/*
 * NAME
 *	addr 3 - envelope address normalization and pseudonyms
 * SYNOPSIS
 *	#include <cm_addr.h>
 *
 *	int	cm_addr_norm(const char *in, size_t len,
 *		    char out[CM_ADDR_MAX + 1], const char **why);
 *	const char *cm_addr_domain(const char *norm);
 *	int	cm_addr_hash(const unsigned char *key, size_t keylen,
 *		    const char *norm, char out[CM_ADDR_HASH_LEN + 1]);
 * DESCRIPTION
 *	cm_addr_norm() is the one place where an envelope address becomes
 *	the canonical form that is counted, stored and logged:
 *
 *	- One pair of angle brackets is removed. "<>" and "" are the null
 *	  sender and normalize to "".
 *	- A source route ("@a,@b:" before the mailbox) is checked and dropped.
 *	- A quoted local part is unescaped. When its content is a dot-atom
 *	  it is written without quotes; otherwise it is written in quotes
 *	  with only '"' and '\' escaped. An unquoted local part may hold
 *	  atext, dots in any place (real mail has "a..b@") and UTF-8
 *	  (RFC 6531). At most CM_ADDR_LOCAL_MAX bytes, not counting quotes.
 *	- The domain is lower-cased (ASCII only; UTF-8 labels are kept),
 *	  loses one trailing dot, has labels of at most 63 bytes of
 *	  letters, digits, '-', '_' or UTF-8, and is at most
 *	  CM_ADDR_DOMAIN_MAX bytes. An address literal "[192.0.2.1]" or
 *	  "[IPv6:2001:db8::1]" is checked and rewritten in the canonical
 *	  inet_ntop() form.
 *	- A string without '@' is a bare local part (a SASL login name).
 *
 *	Normalization is idempotent: cm_addr_norm() of a normalized address
 *	returns it unchanged (the fuzz target checks this).
 *
 *	cm_addr_domain() returns what follows the last '@' of a normalized
 *	address, or NULL for the null sender and bare local parts (also a
 *	quoted one that holds '@', such as "a@b").
 *
 *	cm_addr_hash() writes the first 8 bytes of HMAC-SHA256(key, norm)
 *	as 16 lower-case hex digits.
 * SECURITY
 *	The input is untrusted (SMTP envelope, policy attributes). Parsing
 *	uses the given length, never reads past it and rejects NUL and
 *	control bytes, so a normalized address is safe in a Redis key.
 * DIAGNOSTICS
 *	cm_addr_norm() returns 0, or -1 with *why (a static string) and out
 *	set to "". cm_addr_hash() returns 0, or -1 when HMAC fails.
 * SEE ALSO
 *	RFC 5321 4.1.2 and 4.5.3.1, RFC 6531.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cm_addr.h"
#include "cm_util.h"

#define LABEL_MAX 63

/* is_atext - RFC 5322 atext, ASCII part */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* utf8_ok - every byte >= 0x80 of s[0..n) is part of valid UTF-8 */
static int
utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k;

	for (i = 0; i < n; i += k)
		if ((k = cm_utf8_len(p + i, n - i)) == 0)
			return 0;
	return 1;
}

/* is_dot_atom - content that may be written without quotes */
static int
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]) &&
		    (unsigned char)s[i] < 0x80)
			return 0;
	}
	return utf8_ok(s, n);
}

/*
 * norm_quoted - parse the quoted string at *pp (on its opening quote),
 * write the canonical local part to out (size > CM_ADDR_LOCAL_MAX + 2),
 * and move *pp past the closing quote. Returns the length or -1.
 */
static int
norm_quoted(const char **pp, const char *e, char *out, const char **why)
{
	char raw[CM_ADDR_LOCAL_MAX + 1];
	const char *p = *pp + 1;
	size_t n = 0, o = 0, i;
	unsigned char c;

	for (; p < e && *p != '"'; p++) {
		if (*p == '\\') {
			if (++p == e)
				break;
			if ((unsigned char)*p >= 0x80)
				return (*why = "bad escape in quoted string"),
				       -1;
		}
		if (n == CM_ADDR_LOCAL_MAX)
			return (*why = "local part too long"), -1;
		raw[n++] = *p;
	}
	if (p == e)
		return (*why = "unbalanced quotes"), -1;
	*pp = p + 1;
	if (n == 0)
		return (*why = "empty local part"), -1;
	if (!utf8_ok(raw, n))
		return (*why = "bad UTF-8 in local part"), -1;
	if (is_dot_atom(raw, n)) {
		memcpy(out, raw, n);
		return (int)n;
	}
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		c = (unsigned char)raw[i];
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = (char)c;
		if (o > CM_ADDR_LOCAL_MAX + 1)
			return (*why = "local part too long"), -1;
	}
	out[o++] = '"';
	return (int)o;
}

/* norm_local - the unquoted local part up to '@' or the end */
static int
norm_local(const char **pp, const char *e, char *out, const char **why)
{
	const char *p = *pp, *s = *pp;
	unsigned char c;

	for (; p < e && *p != '@'; p++) {
		c = (unsigned char)*p;
		if (is_atext(c) || c == '.' || c >= 0x80)
			continue;
		if (c == ' ')
			return (*why = "white space outside quotes"), -1;
		if (c == '"')
			return (*why = "unbalanced quotes"), -1;
		if (c == '<' || c == '>' || c == '[' || c == ']')
			return (*why = "unbalanced brackets"), -1;
		return (*why = "bad character in local part"), -1;
	}
	if (p == s)
		return (*why = "empty local part"), -1;
	if ((size_t)(p - s) > CM_ADDR_LOCAL_MAX)
		return (*why = "local part too long"), -1;
	if (!utf8_ok(s, (size_t)(p - s)))
		return (*why = "bad UTF-8 in local part"), -1;
	memcpy(out, s, (size_t)(p - s));
	*pp = p;
	return (int)(p - s);
}

/* norm_literal - an address literal [IPv4] or [IPv6:...], canonical */
static int
norm_literal(const char *p, size_t n, char *out, const char **why)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t o;

	if (n < 3 || p[n - 1] != ']')
		return (*why = "unbalanced brackets"), -1;
	p++, n -= 2;
	if (n >= sizeof tmp)
		return (*why = "bad address literal"), -1;
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		memcpy(tmp, p + 5, n - 5);
		tmp[n - 5] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return (*why = "bad address literal"), -1;
		memcpy(out, "[IPv6:", 6);
		o = 6;
		if (inet_ntop(AF_INET6, bin, out + o, INET6_ADDRSTRLEN) == NULL)
			return (*why = "bad address literal"), -1;
	} else {
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET, tmp, bin) != 1)
			return (*why = "bad address literal"), -1;
		out[0] = '[';
		o = 1;
		if (inet_ntop(AF_INET, bin, out + o, INET_ADDRSTRLEN) == NULL)
			return (*why = "bad address literal"), -1;
	}
	o += strlen(out + o);
	out[o++] = ']';
	return (int)o;
}

/*
 * norm_domain - check and lower-case the domain p[0..n) into out (size
 * > CM_ADDR_DOMAIN_MAX). Returns the length written or -1.
 */
static int
norm_domain(const char *p, size_t n, char *out, const char **why)
{
	size_t i, label = 0;
	unsigned char c;

	if (n > 0 && p[0] == '[')
		return norm_literal(p, n, out, why);
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0)
		return (*why = "empty domain"), -1;
	if (n > CM_ADDR_DOMAIN_MAX)
		return (*why = "domain too long"), -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '.') {
			if (label == 0)
				return (*why = "empty label in domain"), -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c >= 0x80) {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
			label++;
		} else if (c == '@') {
			return (*why = "more than one '@'"), -1;
		} else if (c == ' ') {
			return (*why = "white space outside quotes"), -1;
		} else if (c == '[' || c == ']' || c == '<' || c == '>') {
			return (*why = "unbalanced brackets"), -1;
		} else {
			return (*why = "bad character in domain"), -1;
		}
		if (label > LABEL_MAX)
			return (*why = "label too long in domain"), -1;
		out[i] = (char)c;
	}
	if (label == 0)
		return (*why = "empty label in domain"), -1;
	if (!utf8_ok(p, n))
		return (*why = "bad UTF-8 in domain"), -1;
	return (int)n;
}

/* skip_route - check a source route "@a,@b:" at p and return past it */
static const char *
skip_route(const char *p, const char *e, const char **why)
{
	char scratch[CM_ADDR_DOMAIN_MAX + 1];
	const char *colon, *s, *t;

	if ((colon = memchr(p, ':', (size_t)(e - p))) == NULL) {
		*why = "empty local part";
		return NULL;
	}
	for (s = p; s < colon; s = t + 1) {
		if (*s != '@') {
			*why = "bad source route";
			return NULL;
		}
		s++;
		if ((t = memchr(s, ',', (size_t)(colon - s))) == NULL)
			t = colon;
		if (norm_domain(s, (size_t)(t - s), scratch, why) == -1) {
			*why = "bad source route";
			return NULL;
		}
	}
	return colon + 1;
}

/* cm_addr_norm - canonical form of an envelope address */
int
cm_addr_norm(const char *in, size_t len, char out[CM_ADDR_MAX + 1],
    const char **why)
{
	const char *p, *e;
	int n, d;
	size_t i;

	out[0] = '\0';
	if (in == NULL || len == 0)
		return 0;
	p = in;
	e = in + len;
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
			return (*why = "control character in address"), -1;
	if (*p == '<' || e[-1] == '>') {
		if (len < 2 || *p != '<' || e[-1] != '>')
			return (*why = "unbalanced angle brackets"), -1;
		p++, e--;
	}
	if (p == e)
		return 0;
	if (*p == '@' && (p = skip_route(p, e, why)) == NULL)
		return -1;
	if (p == e)
		return (*why = "empty address after source route"), -1;
	if (*p == '"')
		n = norm_quoted(&p, e, out, why);
	else
		n = norm_local(&p, e, out, why);
	if (n == -1)
		goto fail;
	if (p < e && *p != '@') {
		*why = "text after quoted local part";
		goto fail;
	}
	if (p < e) {
		out[n++] = '@';
		p++;
		if ((d = norm_domain(p, (size_t)(e - p), out + n, why)) == -1)
			goto fail;
		n += d;
	}
	out[n] = '\0';
	return 0;
fail:
	out[0] = '\0';
	return -1;
}

/* cm_addr_domain - the domain of a normalized address, or NULL */
const char *
cm_addr_domain(const char *norm)
{
	const char *at;

	/* A quote after the last '@': a bare quoted local part like "a@b". */
	if (norm == NULL || (at = strrchr(norm, '@')) == NULL ||
	    strchr(at, '"') != NULL)
		return NULL;
	return at + 1;
}

/* cm_addr_hash - keyed pseudonym: HMAC-SHA256, 8 bytes as hex */
int
cm_addr_hash(const unsigned char *key, size_t keylen, const char *norm,
    char out[CM_ADDR_HASH_LEN + 1])
{
	static const unsigned char nokey[1];
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	out[0] = '\0';
	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), keylen ? key : nokey, (int)keylen,
		(const unsigned char *)norm, strlen(norm), md,
		&mdlen) == NULL ||
	    mdlen < CM_ADDR_HASH_LEN / 2)
		return -1;
	for (i = 0; i < CM_ADDR_HASH_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[CM_ADDR_HASH_LEN] = '\0';
	return 0;
}
