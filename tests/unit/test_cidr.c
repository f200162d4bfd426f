/*
 * NAME
 *	test_cidr - unit tests of the address lists (common/cidr.c)
 * SYNOPSIS
 *	tests/unit/test_cidr
 * DESCRIPTION
 *	Tables: list text -> formatted list or the exact error; list and
 *	client address -> match result; the same through struct sockaddr.
 * DIAGNOSTICS
 *	TAP through cmocka.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_cidr.h"

/* {input, want}: want is the formatted list, or "ERR:" and *why. */
static const struct {
	const char *in, *want;
} parse_rows[] = {
	{ "", "" },
	{ " , ,\t\n", "" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "127.0.0.0/8", "127.0.0.0/8" },
	{ "192.0.2.7/32", "192.0.2.7" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "::/0", "::/0" },
	{ "::1", "::1" },
	{ "::1/128", "::1" },
	{ "2001:DB8::/32", "2001:db8::/32" },
	{ "2001:db8:0:0:0:0:0:0/48", "2001:db8::/48" },
	{ "10.0.0.0/8,192.168.0.0/16 172.16.0.0/12\t::1",
	    "10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12, ::1" },
	{ "10.128.0.0/9", "10.128.0.0/9" },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120" },
	{ "fe80::/10", "fe80::/10" },
	{ "10.0.0.1/8",
	    "ERR:\"10.0.0.1/8\": host bits set under the mask (did you mean "
	    "10.0.0.0/8?)" },
	{ "10.0.0.128/25", "10.0.0.128/25" },
	{ "10.0.0.129/25",
	    "ERR:\"10.0.0.129/25\": host bits set under the mask (did you mean "
	    "10.0.0.128/25?)" },
	{ "1.2.3.4/0",
	    "ERR:\"1.2.3.4/0\": host bits set under the mask (did you mean "
	    "0.0.0.0/0?)" },
	{ "2001:db8::1/64",
	    "ERR:\"2001:db8::1/64\": host bits set under the mask (did you mean "
	    "2001:db8::/64?)" },
	{ "::1/0",
	    "ERR:\"::1/0\": host bits set under the mask (did you mean ::/0?)" },
	{ "fe80::/9", "fe80::/9" },
	{ "fe80::/8",
	    "ERR:\"fe80::/8\": host bits set under the mask (did you mean "
	    "fe00::/8?)" },
	{ "10.0.0.0/33", "ERR:\"10.0.0.0/33\": bad prefix length (use 0-32)" },
	{ "::/129", "ERR:\"::/129\": bad prefix length (use 0-128)" },
	{ "10.0.0.0/", "ERR:\"10.0.0.0/\": bad prefix length (use 0-32)" },
	{ "10.0.0.0/-8", "ERR:\"10.0.0.0/-8\": bad prefix length (use 0-32)" },
	{ "10.0.0.0/+8", "ERR:\"10.0.0.0/+8\": bad prefix length (use 0-32)" },
	{ "10.0.0.0/08", "ERR:\"10.0.0.0/08\": bad prefix length (use 0-32)" },
	{ "10.0.0.0/0x8",
	    "ERR:\"10.0.0.0/0x8\": bad prefix length (use 0-32)" },
	{ "10.0.0.0/8/8",
	    "ERR:\"10.0.0.0/8/8\": bad prefix length (use 0-32)" },
	{ "::/0128", "ERR:\"::/0128\": bad prefix length (use 0-128)" },
	{ "::/1000", "ERR:\"::/1000\": bad prefix length (use 0-128)" },
	{ "10.1", "ERR:\"10.1\": not an IPv4 or IPv6 address" },
	{ "010.0.0.1", "ERR:\"010.0.0.1\": not an IPv4 or IPv6 address" },
	{ "256.0.0.1", "ERR:\"256.0.0.1\": not an IPv4 or IPv6 address" },
	{ "1.2.3.4.5", "ERR:\"1.2.3.4.5\": not an IPv4 or IPv6 address" },
	{ "example.org", "ERR:\"example.org\": not an IPv4 or IPv6 address" },
	{ "/8", "ERR:\"/8\": not an IPv4 or IPv6 address" },
	{ ":::", "ERR:\":::\": not an IPv4 or IPv6 address" },
	{ "1::2::3", "ERR:\"1::2::3\": not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", "ERR:\"fe80::1%eth0\": not an IPv4 or IPv6 address" },
	{ "[::1]", "ERR:\"[::1]\": not an IPv4 or IPv6 address" },
	{ "127.0.0.1, bad\x01",
	    "ERR:\"bad\\x01\": not an IPv4 or IPv6 address" },
	{ "\xff\xfe", "ERR:\"\\xff\\xfe\": not an IPv4 or IPv6 address" },
	{ "\"x\\", "ERR:\"\\x22x\\x5c\": not an IPv4 or IPv6 address" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee",
	    "ERR:\"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:"
	    "cccc:dddd...\": entry too long" },
};

static void
t_parse(void **state)
{
	struct cm_cidr_list *l;
	const char *why;
	char got[1024];
	size_t i;
	int rc;

	for (i = 0; i < sizeof parse_rows / sizeof *parse_rows; i++) {
		why = NULL;
		rc = cm_cidr_parse(parse_rows[i].in, &l, &why);
		if (strncmp(parse_rows[i].want, "ERR:", 4) == 0) {
			if (rc != -1 || l != NULL)
				fail_msg("\"%s\": got success, want %s",
				    parse_rows[i].in, parse_rows[i].want + 4);
			if (strcmp(why, parse_rows[i].want + 4) != 0)
				fail_msg("\"%s\": got '%s', want '%s'",
				    parse_rows[i].in, why,
				    parse_rows[i].want + 4);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": got '%s', want '%s'",
			    parse_rows[i].in, why, parse_rows[i].want);
		assert_int_equal(cm_cidr_format(l, got, sizeof got), 0);
		if (strcmp(got, parse_rows[i].want) != 0)
			fail_msg("\"%s\": got '%s', want '%s'",
			    parse_rows[i].in, got, parse_rows[i].want);
		if (parse_rows[i].want[0] == '\0')
			assert_null(l);
		cm_cidr_free(l);
	}
}

/* {list, client address, want 1 match, 0 none, -1 bad address} */
static const struct {
	const char *list, *ip;
	int want;
} match_rows[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "127.255.255.255", 1 },
	{ "127.0.0.0/8", "128.0.0.0", 0 },
	{ "127.0.0.0/8", "126.255.255.255", 0 },
	{ "10.128.0.0/9", "10.128.0.1", 1 },
	{ "10.128.0.0/9", "10.127.255.255", 0 },
	{ "192.0.2.7", "192.0.2.7", 1 },
	{ "192.0.2.7", "192.0.2.8", 0 },
	{ "192.0.2.6/31", "192.0.2.7", 1 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "203.0.113.9", 1 }, /* the mapped form is IPv6 too */
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "::1", "127.0.0.1", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:8000::", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::", 1 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	/* IPv4-mapped clients match IPv4 entries, and back */
	{ "192.0.2.0/24", "::ffff:192.0.2.7", 1 },
	{ "192.0.2.0/24", "::FFFF:c000:0207", 1 },
	{ "192.0.2.0/24", "::ffff:192.0.3.7", 0 },
	{ "192.0.2.0/24", "::192.0.2.7", 0 }, /* compatible, not mapped */
	{ "192.0.2.0/24", "64:ff9b::192.0.2.7", 0 }, /* NAT64, not mapped */
	{ "::ffff:192.0.2.0/120", "192.0.2.9", 1 },
	{ "::ffff:192.0.2.0/120", "192.0.3.9", 0 },
	{ "::ffff:0:0/96", "10.1.2.3", 1 },
	{ "10.0.0.0/8, 2001:db8::/32", "2001:db8::5", 1 },
	{ "10.0.0.0/8, 2001:db8::/32", "10.0.0.5", 1 },
	{ "10.0.0.0/8, 2001:db8::/32", "11.0.0.5", 0 },
	{ "", "127.0.0.1", 0 },
	{ "", "::1", 0 },
	/* bad client addresses */
	{ "0.0.0.0/0", "", -1 },
	{ "0.0.0.0/0", "localhost", -1 },
	{ "0.0.0.0/0", "1.2.3", -1 },
	{ "0.0.0.0/0", "01.2.3.4", -1 },
	{ "0.0.0.0/0", " 1.2.3.4", -1 },
	{ "0.0.0.0/0", "1.2.3.4/32", -1 },
	{ "::/0", "[::1]", -1 },
	{ "::/0", "fe80::1%eth0", -1 },
	{ "::/0", "::1::", -1 },
	{ "::/0",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1",
	    -1 },
	{ "", "garbage", -1 },
};

static void
t_match(void **state)
{
	struct cm_cidr_list *l;
	const char *why;
	size_t i;
	int got;

	for (i = 0; i < sizeof match_rows / sizeof *match_rows; i++) {
		if (cm_cidr_parse(match_rows[i].list, &l, &why) != 0)
			fail_msg("list \"%s\": %s", match_rows[i].list, why);
		got = cm_cidr_match_str(l, match_rows[i].ip);
		if (got != match_rows[i].want)
			fail_msg("\"%s\" in \"%s\": got %d, want %d",
			    match_rows[i].ip, match_rows[i].list, got,
			    match_rows[i].want);
		cm_cidr_free(l);
	}
	assert_int_equal(cm_cidr_match_str(NULL, NULL), -1);
}

/* sa_match - match 'ip' through a struct sockaddr of its family */
static int
sa_match(const struct cm_cidr_list *l, const char *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(25);
		return cm_cidr_match_sa(l, (struct sockaddr *)&sin);
	}
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	sin6.sin6_family = AF_INET6;
	return cm_cidr_match_sa(l, (struct sockaddr *)&sin6);
}

static void
t_match_sa(void **state)
{
	struct cm_cidr_list *l;
	struct sockaddr sa;
	const char *why;
	size_t i;
	int got;

	for (i = 0; i < sizeof match_rows / sizeof *match_rows; i++) {
		if (match_rows[i].want == -1)
			continue;
		assert_int_equal(cm_cidr_parse(match_rows[i].list, &l, &why),
		    0);
		got = sa_match(l, match_rows[i].ip);
		if (got != match_rows[i].want)
			fail_msg("sockaddr \"%s\" in \"%s\": got %d, want %d",
			    match_rows[i].ip, match_rows[i].list, got,
			    match_rows[i].want);
		cm_cidr_free(l);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	assert_int_equal(cm_cidr_match_sa(NULL, &sa), -1);
	assert_int_equal(cm_cidr_match_sa(NULL, NULL), -1);
}

/* t_format - small buffers, count, free(NULL), round trip */
static void
t_format(void **state)
{
	static const char text[] =
	    "10.0.0.0/8, ::1, 2001:db8::/32, 192.0.2.7, ::ffff:1.2.3.4";
	struct cm_cidr_list *l, *l2;
	const char *why;
	char buf[128], buf2[128];

	assert_int_equal(cm_cidr_parse(text, &l, &why), 0);
	assert_int_equal(cm_cidr_count(l), 5);
	assert_int_equal(cm_cidr_format(l, buf, sizeof buf), 0);
	assert_string_equal(buf, text);
	assert_int_equal(cm_cidr_parse(buf, &l2, &why), 0);
	assert_int_equal(cm_cidr_format(l2, buf2, sizeof buf2), 0);
	assert_string_equal(buf2, buf);
	/* one byte short: -1, and still a string */
	assert_int_equal(cm_cidr_format(l, buf, strlen(text)), -1);
	assert_true(strlen(buf) < strlen(text));
	assert_int_equal(cm_cidr_format(l, buf, 0), -1);
	assert_int_equal(cm_cidr_format(l, buf, 1), -1);
	assert_string_equal(buf, "");
	assert_int_equal(cm_cidr_format(NULL, buf, 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(cm_cidr_count(NULL), 0);
	assert_null(cm_cidr_free(l));
	assert_null(cm_cidr_free(l2));
	assert_null(cm_cidr_free(NULL));
}

/* t_bounds - many entries, an overlong list, NULL text */
static void
t_bounds(void **state)
{
	struct cm_cidr_list *l;
	const char *why;
	size_t i, n = 65536;
	char *big;

	assert_int_equal(cm_cidr_parse(NULL, &l, &why), 0);
	assert_null(l);
	/* 4096 entries of "10.x.y.0/24 " (at most 13 bytes each) */
	big = malloc(n + 2);
	assert_non_null(big);
	for (i = 0, big[0] = '\0'; i < 4096; i++)
		snprintf(big + strlen(big), n + 2 - strlen(big),
		    "10.%zu.%zu.0/24 ", i / 256, i % 256);
	assert_int_equal(cm_cidr_parse(big, &l, &why), 0);
	assert_int_equal(cm_cidr_count(l), 4096);
	assert_int_equal(cm_cidr_match_str(l, "10.15.255.1"), 1);
	assert_int_equal(cm_cidr_match_str(l, "10.16.0.1"), 0);
	cm_cidr_free(l);
	/* 65536 separators: accepted, empty; one byte more: refused */
	memset(big, ' ', n);
	big[n] = '\0';
	assert_int_equal(cm_cidr_parse(big, &l, &why), 0);
	assert_null(l);
	big[n] = ' ';
	big[n + 1] = '\0';
	assert_int_equal(cm_cidr_parse(big, &l, &why), -1);
	assert_null(l);
	assert_string_equal(why, "address list longer than 65536 bytes");
	free(big);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse),
		cmocka_unit_test(t_match),
		cmocka_unit_test(t_match_sa),
		cmocka_unit_test(t_format),
		cmocka_unit_test(t_bounds),
	};

	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
