/*
 * FUZZ-SOURCES:
 * FUZZ-LIBS: -lcrypto
 *
 * NAME
 *	fuzz_log - libFuzzer target of the event log renderer
 * SYNOPSIS
 *	tests/fuzz/fuzz_log [FILE|DIR ...]
 * DESCRIPTION
 *	Builds an event from the input: a length-prefixed queue id (used
 *	when its length is odd; bit 1 of the length picks log_addresses
 *	domain instead of full), then each byte is an operation (string, string with NULs,
 *	integer, boolean, null, address, object/array begin and end, format
 *	flags, a long value) taking its key and value from the bytes that
 *	follow. The event is rendered in both formats and checked: the JSON
 *	line parses (json_check.h), the text line is printable ASCII, and
 *	neither passes CM_LOG_LINE_MAX. cm_log_str() and cm_event_emit()
 *	run on the same bytes. Any broken promise aborts.
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct in {
	const uint8_t *p;
	size_t n;
};

/* take - the next byte, 0 at the end */
static unsigned
take(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* chunk - the next length-prefixed run of bytes */
static const char *
chunk(struct in *in, size_t *len)
{
	const char *s = (const char *)in->p;

	*len = take(in);
	if (*len > in->n)
		*len = in->n;
	in->p += *len;
	in->n -= *len;
	return s;
}

/* key - a key name in [a-z0-9_.], NULL sometimes (array elements) */
static const char *
key(struct in *in, char *buf)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789_.";
	unsigned b = take(in), n = b % 9, i;

	if (n == 0)
		return (b & 0x80) ? NULL : "k";
	for (i = 0; i < n; i++)
		buf[i] = alpha[take(in) % (sizeof alpha - 1)];
	buf[n] = '\0';
	return buf;
}

/* check - abort when a promise is broken */
static void
check(int ok)
{
	if (!ok)
		abort();
}

/* The fuzzer's own view of the open containers: 1 for an array. */
struct nest {
	unsigned char arr[64];
	size_t depth;
};

/* op - apply one operation to ev */
static void
op(struct cm_event *ev, struct in *in, struct nest *st)
{
	char kbuf[16], tmp[300], *big;
	const char *k, *s;
	size_t len;
	unsigned c = take(in) % 12, i;
	long long v = 0;

	k = key(in, kbuf);
	if (k == NULL &&
	    (st->depth == 0 || st->depth > sizeof st->arr ||
		!st->arr[st->depth - 1]))
		k = "obj"; /* a NULL key outside an array is a bug */
	switch (c) {
	case 0:
	case 1:
		s = chunk(in, &len);
		cm_event_strn(ev, k, s, len);
		break;
	case 2:
		for (i = 0; i < 8; i++)
			v = (long long)((unsigned long long)v << 8 | take(in));
		cm_event_int(ev, k, v);
		break;
	case 3:
		cm_event_bool(ev, k, (int)take(in));
		break;
	case 4:
		cm_event_null(ev, k);
		break;
	case 5:
		s = chunk(in, &len);
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		cm_event_addr(ev, k, tmp);
		break;
	case 6:
	case 8:
		if (c == 6)
			cm_event_obj_begin(ev, k);
		else
			cm_event_arr_begin(ev, k);
		if (st->depth < sizeof st->arr)
			st->arr[st->depth] = c == 8;
		st->depth++;
		break;
	case 7:
	case 9:
		if (c == 7)
			cm_event_obj_end(ev);
		else
			cm_event_arr_end(ev);
		if (st->depth > 0)
			st->depth--;
		break;
	case 10:
		cm_event_flags(ev, (int)take(in));
		break;
	default:
		len = (size_t)take(in) * 40;
		if ((big = malloc(len + 1)) == NULL)
			return;
		memset(big, (int)take(in), len);
		big[len] = '\0';
		cm_event_str(ev, k, big);
		free(big);
		break;
	}
}

/* set_mode - log_addresses for the next event */
static void
set_mode(int mode)
{
	static int current = -1;
	struct cm_log_conf c;
	const char *why;

	if (mode == current)
		return;
	memset(&c, 0, sizeof c);
	c.target = (char *)(uintptr_t) "stderr";
	c.addresses = mode;
	c.level = CM_LOG_DEBUG;
	check(cm_log_setup(&c, &why) == 0);
	current = mode;
}

/* check_text - one printable line */
static void
check_text(const char *s, size_t n)
{
	size_t i;

	check(n <= CM_LOG_LINE_MAX && strlen(s) == n);
	for (i = 0; i < n; i++)
		check(
		    (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct in in = { data, size };
	struct cm_event *ev;
	struct cm_buf b;
	char qbuf[300], sbuf[64];
	const char *q, *why;
	size_t qlen, i;
	struct nest st;

	if (devnull == NULL) {
		cm_log_init("fuzz_log");
		devnull = fopen("/dev/null", "w");
		cm_log_set_stream(devnull);
	}
	cm_log_str(sbuf, sizeof sbuf, (const char *)data, size, 40);
	check(strlen(sbuf) < sizeof sbuf);
	for (i = 0; sbuf[i]; i++)
		check((unsigned char)sbuf[i] >= 0x20 && sbuf[i] != 0x7f);
	st.depth = 0;
	q = chunk(&in, &qlen);
	memcpy(qbuf, q, qlen);
	qbuf[qlen] = '\0';
	set_mode(qlen & 2 ? CM_LOG_ADDR_DOMAIN : CM_LOG_ADDR_FULL);
	ev = cm_event_new("fuzz", (qlen & 1) ? qbuf : NULL);
	while (in.n > 0)
		op(ev, &in, &st);
	cm_buf_init(&b, 0);
	check(cm_event_render(ev, CM_LOG_JSON, 1795451606123ULL, &b) == 0);
	check(b.len <= CM_LOG_LINE_MAX);
	if (json_check(b.data, b.len, &why) != 0) {
		fprintf(stderr, "invalid JSON (%s at %zu): %s\n", why,
		    json_check_off, b.data);
		abort();
	}
	check(cm_event_render(ev, CM_LOG_TEXT, 0, &b) == 0);
	check_text(b.data, b.len);
	cm_buf_release(&b);
	cm_event_emit(ev, size & 3);
	return 0;
}
