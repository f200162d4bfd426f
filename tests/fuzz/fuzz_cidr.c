/*
 * FUZZ-SOURCES:
 * NAME
 *	fuzz_cidr - libFuzzer target of the address lists
 * SYNOPSIS
 *	tests/fuzz/fuzz_cidr [FILE|DIR ...]	(replay driver)
 * DESCRIPTION
 *	The input's first line is a list, the rest a client address. A
 *	list that parses must format, and the format must parse to the same
 *	format. The address is matched as a string; 16 bytes of the input
 *	are also matched as IPv6 and 4 as IPv4, through struct sockaddr and
 *	through their inet_ntop(3) text, which must agree.
 * DIAGNOSTICS
 *	abort() when a property does not hold; sanitizers do the rest.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* f_format - format into a malloc'd string, growing as needed */
static char *
f_format(const struct cm_cidr_list *l)
{
	size_t len;
	char *b;

	for (len = 64;; len *= 2) {
		if ((b = malloc(len)) == NULL)
			abort();
		if (cm_cidr_format(l, b, len) == 0)
			return b;
		free(b);
		if (len > (1u << 24))
			abort();
	}
}

/* f_agree - match a raw address both ways: sockaddr and text */
static void
f_agree(const struct cm_cidr_list *l, const uint8_t *a, int family)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char text[INET6_ADDRSTRLEN];
	int bysa;

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (family == AF_INET) {
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a, 4);
		bysa = cm_cidr_match_sa(l, (struct sockaddr *)&sin);
	} else {
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a, 16);
		bysa = cm_cidr_match_sa(l, (struct sockaddr *)&sin6);
	}
	if (inet_ntop(family, a, text, sizeof text) == NULL)
		abort();
	if (bysa < 0 || cm_cidr_match_str(l, text) != bysa)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_cidr_list *l, *l2;
	const char *why;
	char *text, *nl, *f1, *f2;
	uint8_t a[16];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((nl = strchr(text, '\n')) != NULL)
		*nl++ = '\0';
	if (cm_cidr_parse(text, &l, &why) == 0) {
		f1 = f_format(l);
		if (cm_cidr_parse(f1, &l2, &why) != 0)
			abort();
		f2 = f_format(l2);
		if (strcmp(f1, f2) != 0 ||
		    cm_cidr_count(l) != cm_cidr_count(l2))
			abort();
		free(f1);
		free(f2);
		cm_cidr_free(l2);
	} else if (l != NULL || why == NULL)
		abort();
	if (nl != NULL && cm_cidr_match_str(l, nl) < -1)
		abort();
	memset(a, 0, sizeof a);
	memcpy(a, data, size < 16 ? size : 16);
	f_agree(l, a, AF_INET6);
	f_agree(l, a, AF_INET);
	a[10] = a[11] = 0xff; /* and as an IPv4-mapped address */
	memset(a, 0, 10);
	f_agree(l, a, AF_INET6);
	cm_cidr_free(l);
	free(text);
	return 0;
}
