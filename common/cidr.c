/*
 * NAME
 *	cidr 3 - IPv4 and IPv6 address lists
 * SYNOPSIS
 *	#include <cm_cidr.h>
 *
 *	int	cm_cidr_parse(const char *text, struct cm_cidr_list **out,
 *		    const char **why);
 *	int	cm_cidr_match_str(const struct cm_cidr_list *list,
 *		    const char *ip);
 *	int	cm_cidr_match_sa(const struct cm_cidr_list *list,
 *		    const struct sockaddr *sa);
 *	int	cm_cidr_format(const struct cm_cidr_list *list, char *buf,
 *		    size_t len);
 *	size_t	cm_cidr_count(const struct cm_cidr_list *list);
 *	struct cm_cidr_list *cm_cidr_free(struct cm_cidr_list *list);
 * DESCRIPTION
 *	cm_cidr_parse() reads a list of "address[/prefix]" entries separated
 *	by commas and/or white space. An address is parsed by inet_pton(3)
 *	(so "10.1" or "010.0.0.1" are not addresses); a prefix length is
 *	decimal digits without sign or leading zero, 0-32 for IPv4 and 0-128
 *	for IPv6; no prefix means a host. Host bits set under the mask are an
 *	error. An empty list (NULL, "", only separators) is stored as a NULL
 *	pointer, which every other function accepts as the empty list.
 *
 *	Matching: an IPv4 client also has the IPv4-mapped IPv6 form
 *	(::ffff:a.b.c.d), and an IPv4-mapped IPv6 client also has its IPv4
 *	form, so either kind of entry matches either way of writing the same
 *	client.
 *
 *	cm_cidr_format() writes the entries back in order, ", " separated,
 *	each as inet_ntop(3) writes it, with "/N" unless it is a host. The
 *	result parses back into the same list.
 * DIAGNOSTICS
 *	cm_cidr_parse() returns 0, or -1 with *why a message naming the bad
 *	entry (escaped, capped) in static storage valid until the next call;
 *	*out is then NULL. cm_cidr_match_str() returns 1, 0, or -1 for a
 *	string that is not an address; cm_cidr_match_sa() returns -1 for a
 *	family other than AF_INET and AF_INET6. cm_cidr_format() returns -1
 *	when the text did not fit (buf holds a truncated string if len > 0).
 * SECURITY
 *	Lists come from configuration files; the addresses matched come from
 *	the network (Postfix's client_address). Input is bounded:
 *	CIDR_TEXT_MAX bytes of list, CIDR_TOKEN_MAX bytes per entry.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_cidr.h"

#define CIDR_TEXT_MAX 65536 /* bytes of list text */
#define CIDR_TOKEN_MAX 64 /* bytes of one entry, INET6_ADDRSTRLEN + "/128" */
#define CIDR_SHOW_MAX 64 /* bytes of a bad entry quoted in *why */

struct cm_cidr_entry {
	int family; /* AF_INET or AF_INET6 */
	unsigned prefix; /* 0-32 or 0-128 */
	unsigned char addr[16]; /* network byte order; 4 used for IPv4 */
};

struct cm_cidr_list {
	size_t n;
	size_t cap;
	struct cm_cidr_entry *e;
};

static char cidr_why[CIDR_SHOW_MAX * 4 + 128];

/* cidr_is_sep - list separators: comma and white space */
static int
cidr_is_sep(int ch)
{
	return ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' ||
	    ch == '\r' || ch == '\v' || ch == '\f';
}

/* cidr_fail - compose *why as "ENTRY": reason, ENTRY escaped and capped */
static int
cidr_fail(const char **why, const char *tok, size_t len, const char *reason)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char ch;

	cidr_why[o++] = '"';
	for (i = 0; i < len && i < CIDR_SHOW_MAX; i++) {
		ch = (unsigned char)tok[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
			cidr_why[o++] = '\\';
			cidr_why[o++] = 'x';
			cidr_why[o++] = hex[ch >> 4];
			cidr_why[o++] = hex[ch & 15];
		} else
			cidr_why[o++] = (char)ch;
	}
	if (i < len) {
		memcpy(cidr_why + o, "...", 3);
		o += 3;
	}
	snprintf(cidr_why + o, sizeof cidr_why - o, "\": %s", reason);
	*why = cidr_why;
	return -1;
}

/* cidr_prefix - parse decimal prefix digits: no sign, no leading zero */
static int
cidr_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* cidr_host_bits - nonzero when addr has bits set past the prefix */
static int
cidr_host_bits(const unsigned char *addr, size_t nbytes, unsigned prefix)
{
	size_t i;
	unsigned char m;

	for (i = prefix / 8; i < nbytes; i++) {
		m = i == prefix / 8 ? (unsigned char)(0xff >> (prefix % 8))
				    : 0xff;
		if (addr[i] & m)
			return 1;
	}
	return 0;
}

/* cidr_parse_one - parse one entry; tok is not NUL-terminated */
static int
cidr_parse_one(const char *tok, size_t len, struct cm_cidr_entry *e,
    const char **why)
{
	char buf[CIDR_TOKEN_MAX + 1], net[INET6_ADDRSTRLEN];
	char reason[INET6_ADDRSTRLEN + 64];
	char *slash;
	unsigned max;
	size_t i;

	if (len > CIDR_TOKEN_MAX)
		return cidr_fail(why, tok, len, "entry too long");
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(e, 0, sizeof *e);
	e->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	max = e->family == AF_INET6 ? 128 : 32;
	if (inet_pton(e->family, buf, e->addr) != 1)
		return cidr_fail(why, tok, len, "not an IPv4 or IPv6 address");
	e->prefix = max;
	if (slash != NULL && cidr_prefix(slash, max, &e->prefix) == -1)
		return cidr_fail(why, tok, len,
		    e->family == AF_INET6 ? "bad prefix length (use 0-128)"
					  : "bad prefix length (use 0-32)");
	if (cidr_host_bits(e->addr, max / 8, e->prefix)) {
		for (i = e->prefix / 8; i < max / 8; i++)
			e->addr[i] &= i == e->prefix / 8
			    ? (unsigned char)(0xff << (8 - e->prefix % 8))
			    : 0;
		inet_ntop(e->family, e->addr, net, sizeof net);
		snprintf(reason, sizeof reason,
		    "host bits set under the mask (did you mean %s/%u?)", net,
		    e->prefix);
		return cidr_fail(why, tok, len, reason);
	}
	return 0;
}

/* cidr_add - append an entry, growing the array */
static int
cidr_add(struct cm_cidr_list *l, const struct cm_cidr_entry *e)
{
	struct cm_cidr_entry *ne;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 8;
		if ((ne = realloc(l->e, ncap * sizeof *ne)) == NULL)
			return -1;
		l->e = ne;
		l->cap = ncap;
	}
	l->e[l->n++] = *e;
	return 0;
}

/* cm_cidr_parse - parse a list; NULL for an empty one */
int
cm_cidr_parse(const char *text, struct cm_cidr_list **out, const char **why)
{
	struct cm_cidr_list *l;
	struct cm_cidr_entry e;
	size_t len, i, start;

	*out = NULL;
	if (text == NULL)
		return 0;
	if ((len = strnlen(text, CIDR_TEXT_MAX + 1)) > CIDR_TEXT_MAX) {
		*why = "address list longer than 65536 bytes";
		return -1;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = 0; i < len;) {
		if (cidr_is_sep((unsigned char)text[i])) {
			i++;
			continue;
		}
		for (start = i;
		     i < len && !cidr_is_sep((unsigned char)text[i]);)
			i++;
		if (cidr_parse_one(text + start, i - start, &e, why) == -1)
			goto fail;
		if (cidr_add(l, &e) == -1) {
			*why = "out of memory";
			goto fail;
		}
	}
	if (l->n == 0)
		l = cm_cidr_free(l);
	*out = l;
	return 0;
fail:
	cm_cidr_free(l);
	return -1;
}

/* cidr_in - does addr fall under entry e (same family) */
static int
cidr_in(const struct cm_cidr_entry *e, const unsigned char *addr)
{
	unsigned full = e->prefix / 8, rest = e->prefix % 8;
	unsigned char m;

	if (memcmp(e->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (unsigned char)(0xff << (8 - rest));
	return (e->addr[full] & m) == (addr[full] & m);
}

/*
 * cidr_match - match a client given in both forms: 'v4' is its IPv4
 * address or NULL, 'v6' its IPv6 (or IPv4-mapped) address.
 */
static int
cidr_match(const struct cm_cidr_list *l, const unsigned char *v4,
    const unsigned char *v6)
{
	size_t i;

	if (l == NULL)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (l->e[i].family == AF_INET && v4 != NULL &&
		    cidr_in(&l->e[i], v4))
			return 1;
		if (l->e[i].family == AF_INET6 && cidr_in(&l->e[i], v6))
			return 1;
	}
	return 0;
}

/* cidr_match_v4 - match an IPv4 client, also in its mapped form */
static int
cidr_match_v4(const struct cm_cidr_list *l, const unsigned char *v4)
{
	unsigned char v6[16] = { 0 };

	v6[10] = v6[11] = 0xff;
	memcpy(v6 + 12, v4, 4);
	return cidr_match(l, v4, v6);
}

/* cidr_match_v6 - match an IPv6 client, also as IPv4 when mapped */
static int
cidr_match_v6(const struct cm_cidr_list *l, const unsigned char *v6)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	return cidr_match(l, memcmp(v6, mapped, 12) == 0 ? v6 + 12 : NULL, v6);
}

/* cm_cidr_match_str - match an address given as text */
int
cm_cidr_match_str(const struct cm_cidr_list *l, const char *ip)
{
	unsigned char a[16];
	size_t len;

	if (ip == NULL || (len = strnlen(ip, INET6_ADDRSTRLEN)) == 0 ||
	    len >= INET6_ADDRSTRLEN)
		return -1;
	if (memchr(ip, ':', len) != NULL) {
		if (inet_pton(AF_INET6, ip, a) != 1)
			return -1;
		return cidr_match_v6(l, a);
	}
	if (inet_pton(AF_INET, ip, a) != 1)
		return -1;
	return cidr_match_v4(l, a);
}

/* cm_cidr_match_sa - match a socket address (accept(2), getpeername(2)) */
int
cm_cidr_match_sa(const struct cm_cidr_list *l, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		return cidr_match_v4(l,
		    (const unsigned char *)&sin->sin_addr.s_addr);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return cidr_match_v6(l, sin6->sin6_addr.s6_addr);
	default:
		return -1;
	}
}

/* cm_cidr_format - write the list back as text */
int
cm_cidr_format(const struct cm_cidr_list *l, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i, o = 0;
	unsigned max;
	int n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; l != NULL && i < l->n; i++) {
		if (inet_ntop(l->e[i].family, l->e[i].addr, addr,
			sizeof addr) == NULL)
			return -1;
		max = l->e[i].family == AF_INET6 ? 128 : 32;
		if (l->e[i].prefix == max)
			n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
			    addr);
		else
			n = snprintf(buf + o, len - o, "%s%s/%u", i ? ", " : "",
			    addr, l->e[i].prefix);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	return 0;
}

/* cm_cidr_count - number of entries; 0 for the empty (NULL) list */
size_t
cm_cidr_count(const struct cm_cidr_list *l)
{
	return l == NULL ? 0 : l->n;
}

/* cm_cidr_free - free a list; accepts NULL, returns NULL */
struct cm_cidr_list *
cm_cidr_free(struct cm_cidr_list *l)
{
	if (l != NULL) {
		free(l->e);
		free(l);
	}
	return NULL;
}
