/*
 * FUZZ-SOURCES: policyd/pd_proto.c
 * NAME
 *	fuzz_pd_proto - libFuzzer target of the policy request parser
 * SYNOPSIS
 *	tests/fuzz/fuzz_pd_proto [FILE|DIR ...]
 * DESCRIPTION
 *	Parses the input as a stream of pipelined requests, whole and then
 *	in chunks whose size comes from the first byte, and checks that
 *	both give the same requests; every attribute must be found again
 *	by pd_request_get(). The input is also tried as a reply line.
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd_proto.h"
#include "pd_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pd_request ra, rb;

/* next - parse one request from data[off..len) in chunks of step */
static enum pd_parse
next(struct pd_request *req, const char *data, size_t len, size_t *off,
    size_t step)
{
	struct pd_parser p;
	enum pd_parse r = PD_PARSE_MORE;
	size_t n, used;

	pd_parser_init(&p, req);
	while (*off < len) {
		n = step == 0 || len - *off < step ? len - *off : step;
		r = pd_parser_feed(&p, data + *off, n, &used);
		if (used > n)
			abort();
		*off += used;
		if (r != PD_PARSE_MORE)
			break;
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	size_t offa = 0, offb = 0, i, step;
	enum pd_parse a, b;
	char reply[PD_LINE_MAX + 3], line[PD_LINE_MAX + 1];
	size_t len;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	for (;;) {
		a = next(&ra, d, size, &offa, 0);
		b = next(&rb, d, size, &offb, step);
		if (a != b || offa != offb)
			abort();
		if (a != PD_PARSE_DONE)
			break;
		if (ra.nattr != rb.nattr || ra.nattr == 0)
			abort();
		for (i = 0; i < ra.nattr; i++) {
			if (strcmp(ra.attr[i].name, rb.attr[i].name) != 0 ||
			    strcmp(ra.attr[i].value, rb.attr[i].value) != 0)
				abort();
			if (pd_request_get(&ra, ra.attr[i].name) !=
			    ra.attr[i].value)
				abort();
		}
	}
	len = size < PD_LINE_MAX ? size : PD_LINE_MAX;
	memcpy(line, d, len);
	line[len] = '\0';
	if (pd_reply_format(reply, sizeof reply, line, &len) == 0 &&
	    (len < 2 || reply[len - 1] != '\n' || reply[len - 2] != '\n' ||
		memchr(reply, '\n', len - 2) != NULL))
		abort();
	return 0;
}
