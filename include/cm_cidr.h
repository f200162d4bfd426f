/*
 * NAME
 *	cm_cidr 3h - IPv4 and IPv6 address lists
 * SYNOPSIS
 *	#include <cm_cidr.h>
 * DESCRIPTION
 *	A list such as "127.0.0.0/8, ::1, 2001:db8::/32, 192.0.2.7" (comma
 *	and/or white space separated). An address without a prefix length is
 *	a host (/32, /128). Host bits set under the mask ("10.0.0.1/8") are
 *	an error, as in Postfix cidr tables, so a typo cannot widen a list.
 *	An IPv4-mapped IPv6 address (::ffff:192.0.2.7) matches IPv4 entries,
 *	and an IPv4 address matches IPv4-mapped IPv6 entries. Addresses are
 *	what inet_pton(3) accepts; a prefix length is decimal (0-32, 0-128).
 *	An empty list ("" or only separators) is a NULL pointer, which every
 *	function takes as the empty list. A list is at most 64 KiB of text.
 * DIAGNOSTICS
 *	cm_cidr_parse() returns 0, or -1 with *why naming the bad entry
 *	(*why points into static storage, valid until the next call).
 *	cm_cidr_match_str() returns 1 on a match, 0 on none, -1 for an
 *	address that does not parse; cm_cidr_match_sa() returns -1 for a
 *	family other than AF_INET and AF_INET6.
 */
#ifndef CM_CIDR_H
#define CM_CIDR_H

#include <stddef.h>

struct sockaddr;
struct cm_cidr_list;

int cm_cidr_parse(const char *text, struct cm_cidr_list **out,
    const char **why);
int cm_cidr_match_str(const struct cm_cidr_list *, const char *ip);
int cm_cidr_match_sa(const struct cm_cidr_list *, const struct sockaddr *);
/* Write the list back as text; returns -1 when it did not fit. */
int cm_cidr_format(const struct cm_cidr_list *, char *buf, size_t len);
size_t cm_cidr_count(const struct cm_cidr_list *);
struct cm_cidr_list *cm_cidr_free(struct cm_cidr_list *);

#endif
