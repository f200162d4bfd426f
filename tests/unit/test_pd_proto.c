/*
 * NAME
 *	test_pd_proto - policy request parser and reply writer, hostile table
 * SYNOPSIS
 *	tests/unit/test_pd_proto
 * DESCRIPTION
 *	Each case is fed whole, then again one byte at a time, then in
 *	chunks of 7 bytes; all three must give the same status, reason,
 *	attributes and consumed byte count.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pd_proto.h"
#include "pd_request.h"

#define L(s) s, sizeof(s) - 1

/* Big inputs are built at run time. */
enum gen {
	GEN_NONE,
	GEN_MIB_LINE, /* "sender=" + 1 MiB of 'a' */
	GEN_10K_ATTRS, /* attr0=v ... attr9999=v */
	GEN_64_ATTRS, /* exactly PD_ATTRS_MAX */
	GEN_65_ATTRS,
	GEN_LINE_MAX, /* a line of exactly PD_LINE_MAX bytes */
	GEN_LINE_MAX_1,
	GEN_TOO_LARGE, /* 9 lines of 2000 bytes */
	GEN_GARBAGE, /* 64 KiB of bytes 0x80-0xff, no newline */
	GEN_NUL_LATE, /* 5 lines of 1000 bytes, a NUL in the fifth */
};

struct tcase {
	const char *name;
	const char *in;
	size_t len;
	enum gen gen;
	enum pd_parse want;
	const char *why; /* ERROR: the reason */
	size_t nattr; /* DONE: attributes */
	const char *attr; /* DONE: one name to look up, or NULL */
	const char *value; /* its expected value */
	size_t used; /* DONE: bytes consumed; 0: all */
};

static const struct tcase cases[] = {
	{ "simple", L("request=smtpd_access_policy\nprotocol_state=RCPT\n\n"),
	    GEN_NONE, PD_PARSE_DONE, NULL, 2, "protocol_state", "RCPT", 0 },
	{ "crlf", L("request=smtpd_access_policy\r\nsender=a@b\r\n\r\n"),
	    GEN_NONE, PD_PARSE_DONE, NULL, 2, "sender", "a@b", 0 },
	{ "value holds =", L("ccert_subject=CN=x,O=y\n\n"), GEN_NONE,
	    PD_PARSE_DONE, NULL, 1, "ccert_subject", "CN=x,O=y", 0 },
	{ "empty value", L("queue_id=\nsender=\n\n"), GEN_NONE, PD_PARSE_DONE,
	    NULL, 2, "queue_id", "", 0 },
	{ "absent attribute", L("a=b\n\n"), GEN_NONE, PD_PARSE_DONE, NULL, 1,
	    "sender", NULL, 0 },
	{ "high bytes in value", L("helo_name=\xff\xfe\x01\n\n"), GEN_NONE,
	    PD_PARSE_DONE, NULL, 1, "helo_name", "\xff\xfe\x01", 0 },
	{ "pipelined: stops after first", L("a=b\n\nc=d\n\n"), GEN_NONE,
	    PD_PARSE_DONE, NULL, 1, "a", "b", 5 },
	{ "incomplete", L("a=b\nc=d\n"), GEN_NONE, PD_PARSE_MORE, NULL, 0, NULL,
	    NULL, 0 },
	{ "no newline yet", L("a=b"), GEN_NONE, PD_PARSE_MORE, NULL, 0, NULL,
	    NULL, 0 },
	{ "nothing", L(""), GEN_NONE, PD_PARSE_MORE, NULL, 0, NULL, NULL, 0 },
	{ "empty request", L("\n"), GEN_NONE, PD_PARSE_ERROR, "empty request",
	    0, NULL, NULL, 0 },
	{ "empty request crlf", L("\r\n"), GEN_NONE, PD_PARSE_ERROR,
	    "empty request", 0, NULL, NULL, 0 },
	{ "missing =", L("request=smtpd_access_policy\nnoequals\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "attribute without '='", 0, NULL, NULL, 0 },
	{ "empty name", L("=value\n\n"), GEN_NONE, PD_PARSE_ERROR,
	    "bad attribute name", 0, NULL, NULL, 0 },
	{ "space in name", L("a b=c\n\n"), GEN_NONE, PD_PARSE_ERROR,
	    "bad attribute name", 0, NULL, NULL, 0 },
	{ "control in name", L("a\x01=c\n\n"), GEN_NONE, PD_PARSE_ERROR,
	    "bad attribute name", 0, NULL, NULL, 0 },
	{ "duplicate name", L("sender=a\nsender=b\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "duplicate attribute", 0, NULL, NULL, 0 },
	{ "duplicate 8-byte name", L("abcdefgh=1\nabcdefgi=2\nabcdefgh=3\n\n"),
	    GEN_NONE, PD_PARSE_ERROR, "duplicate attribute", 0, NULL, NULL, 0 },
	{ "duplicate 9-byte name",
	    L("abcdefghi=1\nabcdefghj=2\nabcdefghi=\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "duplicate attribute", 0, NULL, NULL, 0 },
	{ "names differing in byte 9 or 17",
	    L("recipient_count=1\nrecipient_counu=2\nccert_pubkey_fingerprint="
	      "3\nccert_pubkey_fingerprinu=4\n\n"),
	    GEN_NONE, PD_PARSE_DONE, NULL, 4, "ccert_pubkey_fingerprinu", "4",
	    0 },
	{ "name is a prefix of another", L("send=1\nsender=2\nsende=3\n\n"),
	    GEN_NONE, PD_PARSE_DONE, NULL, 3, "sende", "3", 0 },
	{ "high bytes in name", L("\x80\xff=1\n\xc3\xa9=2\n\n"), GEN_NONE,
	    PD_PARSE_DONE, NULL, 2, "\xc3\xa9", "2", 0 },
	{ "space in name, byte 9", L("abcdefgh =c\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "DEL in name, byte 10", L("abcdefghi\x7f=c\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "control in name, byte 8", L("abcdefg\x1f=c\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "control first in a 3-byte name",
	    L("\x01"
	      "ab=c\n\n"),
	    GEN_NONE, PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "DEL in the middle of a 5-byte name",
	    L("ab\x7f"
	      "cd=c\n\n"),
	    GEN_NONE, PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "space in the tail of a 12-byte name", L("abcdefghij k=c\n\n"),
	    GEN_NONE, PD_PARSE_ERROR, "bad attribute name", 0, NULL, NULL, 0 },
	{ "'!' and '~' in name", L("!~=c\n\n"), GEN_NONE, PD_PARSE_DONE, NULL,
	    1, "!~", "c", 0 },
	{ "NUL in a later line", L("a=b\nc=d\ne=\0\n\n"), GEN_NONE,
	    PD_PARSE_ERROR, "NUL byte in request", 0, NULL, NULL, 0 },
	{ "NUL after the request", L("a=b\n\n\0"), GEN_NONE, PD_PARSE_DONE,
	    NULL, 1, "a", "b", 5 },
	{ "NUL past 4 KiB", NULL, 0, GEN_NUL_LATE, PD_PARSE_ERROR,
	    "NUL byte in request", 0, NULL, NULL, 0 },
	{ "NUL in value", L("sender=a\0b\n\n"), GEN_NONE, PD_PARSE_ERROR,
	    "NUL byte in request", 0, NULL, NULL, 0 },
	{ "NUL first", L("\0"), GEN_NONE, PD_PARSE_ERROR, "NUL byte in request",
	    0, NULL, NULL, 0 },
	{ "1 MiB line", NULL, 0, GEN_MIB_LINE, PD_PARSE_ERROR, "line too long",
	    0, NULL, NULL, 0 },
	{ "10,000 attributes", NULL, 0, GEN_10K_ATTRS, PD_PARSE_ERROR,
	    "too many attributes", 0, NULL, NULL, 0 },
	{ "64 attributes", NULL, 0, GEN_64_ATTRS, PD_PARSE_DONE, NULL,
	    PD_ATTRS_MAX, "a63", "v", 0 },
	{ "65 attributes", NULL, 0, GEN_65_ATTRS, PD_PARSE_ERROR,
	    "too many attributes", 0, NULL, NULL, 0 },
	{ "line of PD_LINE_MAX", NULL, 0, GEN_LINE_MAX, PD_PARSE_DONE, NULL, 1,
	    NULL, NULL, 0 },
	{ "line of PD_LINE_MAX+1", NULL, 0, GEN_LINE_MAX_1, PD_PARSE_ERROR,
	    "line too long", 0, NULL, NULL, 0 },
	{ "request too large", NULL, 0, GEN_TOO_LARGE, PD_PARSE_ERROR,
	    "request too large", 0, NULL, NULL, 0 },
	{ "binary garbage", NULL, 0, GEN_GARBAGE, PD_PARSE_ERROR,
	    "line too long", 0, NULL, NULL, 0 },
};

/* gen_input - build a big case; returns a malloc'd buffer */
static char *
gen_input(enum gen g, size_t *len)
{
	size_t cap = 2 * 1024 * 1024, off = 0, i, n = 0;
	char *b = malloc(cap);

	assert_non_null(b);
	switch (g) {
	case GEN_MIB_LINE:
		memcpy(b, "sender=", 7);
		memset(b + 7, 'a', 1048576);
		off = 7 + 1048576;
		b[off++] = '\n';
		b[off++] = '\n';
		break;
	case GEN_10K_ATTRS:
	case GEN_64_ATTRS:
	case GEN_65_ATTRS:
		n = g == GEN_10K_ATTRS ? 10000 : g == GEN_64_ATTRS ? 64 : 65;
		for (i = 0; i < n; i++)
			off += (size_t)snprintf(b + off, cap - off, "a%zu=v\n",
			    i);
		b[off++] = '\n';
		break;
	case GEN_LINE_MAX:
	case GEN_LINE_MAX_1:
		n = g == GEN_LINE_MAX ? PD_LINE_MAX : PD_LINE_MAX + 1;
		memcpy(b, "x=", 2);
		memset(b + 2, 'v', n - 2);
		off = n;
		b[off++] = '\n';
		b[off++] = '\n';
		break;
	case GEN_TOO_LARGE:
		for (i = 0; i < 9; i++) {
			off += (size_t)snprintf(b + off, cap - off, "n%zu=", i);
			memset(b + off, 'v', 1995);
			off += 1995;
			b[off++] = '\n';
		}
		b[off++] = '\n';
		break;
	case GEN_GARBAGE:
		for (i = 0; i < 65536; i++)
			b[off++] = (char)(0x80 | (i * 37 % 128));
		break;
	case GEN_NUL_LATE:
		for (i = 0; i < 5; i++) {
			off += (size_t)snprintf(b + off, cap - off, "n%zu=", i);
			memset(b + off, 'v', 995);
			if (i == 4)
				b[off + 500] = '\0';
			off += 995;
			b[off++] = '\n';
		}
		b[off++] = '\n';
		break;
	case GEN_NONE:
		break;
	}
	*len = off;
	return b;
}

struct result {
	enum pd_parse r;
	const char *why;
	size_t used;
	struct pd_request req;
};

/* run - feed in chunks of "step" bytes (0: whole), until DONE/ERROR */
static void
run(const char *in, size_t len, size_t step, struct result *res)
{
	struct pd_parser p;
	size_t off = 0, n, used;

	pd_parser_init(&p, &res->req);
	res->r = PD_PARSE_MORE;
	res->why = NULL;
	do {
		n = step == 0 || len - off < step ? len - off : step;
		res->r = pd_parser_feed(&p, in + off, n, &used);
		assert_true(used <= n);
		off += used;
		if (res->r == PD_PARSE_MORE)
			assert_int_equal(used, n);
	} while (res->r == PD_PARSE_MORE && off < len);
	res->why = p.why;
	res->used = off;
}

/* same - two results are equal */
static void
same(const struct tcase *tc, const struct result *a, const struct result *b,
    size_t step)
{
	size_t i;

	if (a->r != b->r || a->used != b->used ||
	    (a->why != b->why && strcmp(a->why, b->why) != 0))
		fail_msg("%s: step %zu: got %d/%zu/%s, whole gave %d/%zu/%s",
		    tc->name, step, b->r, b->used, b->why ? b->why : "-", a->r,
		    a->used, a->why ? a->why : "-");
	if (a->r != PD_PARSE_DONE)
		return;
	assert_int_equal(a->req.nattr, b->req.nattr);
	for (i = 0; i < a->req.nattr; i++) {
		assert_string_equal(a->req.attr[i].name, b->req.attr[i].name);
		assert_string_equal(a->req.attr[i].value, b->req.attr[i].value);
	}
}

static void
test_table(void **state)
{
	static struct result whole, split;
	static const size_t steps[] = { 1, 7, 4096 };
	const struct tcase *tc;
	const char *in, *v;
	char *big;
	size_t i, j, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tc = &cases[i];
		big = NULL;
		in = tc->in;
		len = tc->len;
		if (tc->gen != GEN_NONE)
			in = big = gen_input(tc->gen, &len);
		run(in, len, 0, &whole);
		if (whole.r != tc->want)
			fail_msg("%s: got status %d, want %d (why %s)",
			    tc->name, whole.r, tc->want,
			    whole.why ? whole.why : "-");
		if (tc->why != NULL && strcmp(whole.why, tc->why) != 0)
			fail_msg("%s: got why \"%s\", want \"%s\"", tc->name,
			    whole.why, tc->why);
		if (tc->want == PD_PARSE_DONE) {
			if (whole.req.nattr != tc->nattr)
				fail_msg("%s: got %zu attributes, want %zu",
				    tc->name, whole.req.nattr, tc->nattr);
			if (whole.used != (tc->used ? tc->used : len))
				fail_msg("%s: got used %zu, want %zu", tc->name,
				    whole.used, tc->used ? tc->used : len);
			if (tc->attr != NULL) {
				v = pd_request_get(&whole.req, tc->attr);
				if ((v == NULL) != (tc->value == NULL) ||
				    (v != NULL && strcmp(v, tc->value) != 0))
					fail_msg(
					    "%s: %s: got \"%s\", want \"%s\"",
					    tc->name, tc->attr,
					    v ? v : "(null)",
					    tc->value ? tc->value : "(null)");
			}
		}
		for (j = 0; j < sizeof steps / sizeof steps[0]; j++) {
			run(in, len, steps[j], &split);
			same(tc, &whole, &split, steps[j]);
		}
		free(big);
	}
}

/* The request buffer is reused for the next pipelined request. */
static void
test_reuse(void **state)
{
	static struct pd_request req;
	struct pd_parser p;
	const char in[] = "a=1\n\nb=2\nc=3\n\n";
	size_t used, off = 0;

	pd_parser_init(&p, &req);
	assert_int_equal(pd_parser_started(&p), 0);
	assert_int_equal(pd_parser_feed(&p, in, sizeof in - 1, &used),
	    PD_PARSE_DONE);
	off += used;
	assert_string_equal(pd_request_get(&req, "a"), "1");
	pd_parser_init(&p, &req);
	assert_int_equal(pd_parser_feed(&p, in + off, 3, &used), PD_PARSE_MORE);
	assert_int_equal(pd_parser_started(&p), 1);
	off += used;
	assert_int_equal(pd_parser_feed(&p, in + off, sizeof in - 1 - off,
			     &used),
	    PD_PARSE_DONE);
	assert_int_equal(req.nattr, 2);
	assert_null(pd_request_get(&req, "a"));
	assert_string_equal(pd_request_get(&req, "c"), "3");
}

/* The error sample points at the offending line. */
static void
test_sample(void **state)
{
	static struct pd_request req;
	struct pd_parser p;
	const char in[] = "a=1\nbad line\n\n";
	size_t used;

	pd_parser_init(&p, &req);
	assert_int_equal(pd_parser_feed(&p, in, sizeof in - 1, &used),
	    PD_PARSE_ERROR);
	assert_int_equal(p.sample_len, 8);
	assert_memory_equal(p.sample, "bad line", 8);
}

struct rcase {
	const char *name;
	const char *line;
	size_t size;
	int want;
	const char *out;
};

static void
test_reply(void **state)
{
	static const struct rcase rc[] = {
		{ "dunno", "action=DUNNO", 64, 0, "action=DUNNO\n\n" },
		{ "defer text", "action=DEFER_IF_PERMIT 4.7.1 quota", 64, 0,
		    "action=DEFER_IF_PERMIT 4.7.1 quota\n\n" },
		{ "newline", "action=DUNNO\naction=REJECT", 64, -1, NULL },
		{ "cr", "action=DUNNO\r", 64, -1, NULL },
		{ "empty", "", 64, -1, NULL },
		{ "null", NULL, 64, -1, NULL },
		{ "exact fit", "action=OK", 12, 0, "action=OK\n\n" },
		{ "too long", "action=OK", 11, -1, NULL },
	};
	char buf[64];
	size_t i, len;
	int r;

	for (i = 0; i < sizeof rc / sizeof rc[0]; i++) {
		r = pd_reply_format(buf, rc[i].size, rc[i].line, &len);
		if (r != rc[i].want)
			fail_msg("%s: got %d, want %d", rc[i].name, r,
			    rc[i].want);
		if (r == 0 &&
		    (len != strlen(rc[i].out) ||
			memcmp(buf, rc[i].out, len) != 0))
			fail_msg("%s: got \"%.*s\", want \"%s\"", rc[i].name,
			    (int)len, buf, rc[i].out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
