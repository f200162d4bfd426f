/*
 * NAME
 *	cm_addr 3h - envelope address normalization and pseudonyms
 * SYNOPSIS
 *	#include <cm_addr.h>
 * DESCRIPTION
 *	cm_addr_norm() takes an envelope address as Postfix or an SMTP
 *	client gives it ("<a@Example.ORG>", "a@example.org", "<>", "",
 *	"<@route,@list:a@b>", "\"john doe\"@example.org") and writes the one
 *	canonical form used for counting and logging: no angle brackets, no
 *	source route, domain lower-cased, local part as given (a quoted local
 *	part that is a valid dot-atom loses its quotes). The null sender
 *	normalizes to "". A string without '@' is a bare local part (for
 *	example a SASL login name) and is kept as it is, within 64 bytes.
 *	Limits: local part 64 bytes, domain 255 bytes (RFC 5321 4.5.3.1).
 *
 *	cm_addr_domain() returns the domain of a normalized address, or NULL
 *	(null sender, bare local part, also a quoted one holding '@').
 *
 *	cm_addr_hash() writes a stable keyed pseudonym: HMAC-SHA256 of the
 *	normalized address under key, the first 8 bytes as 16 lower-case hex
 *	digits.
 * DIAGNOSTICS
 *	cm_addr_norm() returns 0, or -1 with *why for bad input: empty local
 *	part with '@', overlong parts, NUL or control bytes, unbalanced
 *	brackets or quotes, white space outside quotes.
 */
#ifndef CM_ADDR_H
#define CM_ADDR_H

#include <stddef.h>

#define CM_ADDR_LOCAL_MAX 64
#define CM_ADDR_DOMAIN_MAX 255
#define CM_ADDR_MAX (CM_ADDR_LOCAL_MAX + 2 + 1 + CM_ADDR_DOMAIN_MAX)
#define CM_ADDR_HASH_LEN 16

int cm_addr_norm(const char *in, size_t len, char out[CM_ADDR_MAX + 1],
    const char **why);
const char *cm_addr_domain(const char *norm);
int cm_addr_hash(const unsigned char *key, size_t keylen, const char *norm,
    char out[CM_ADDR_HASH_LEN + 1]);

#endif
