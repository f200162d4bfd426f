/*
 * FUZZ-SOURCES: policyd/pd_limits.c
 * NAME
 *	fuzz_pd_limits - libFuzzer target of the limit grammar
 * SYNOPSIS
 *	tests/fuzz/fuzz_pd_limits [FILE|DIR ...]
 * DESCRIPTION
 *	Input: "NAME\nVALUE" (no newline: the whole input is the value of a
 *	limit named "x"). Every limit that parses must format back to text
 *	that parses to the same limit (round trip); override values are
 *	parsed too. Aborts on a broken invariant.
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* same - two limits equal field by field */
static int
same(const struct pd_limit *a, const struct pd_limit *b)
{
	return strcmp(a->name, b->name) == 0 && a->window == b->window &&
	    a->window_s == b->window_s && a->max == b->max &&
	    a->unit == b->unit && a->action == b->action && a->key == b->key &&
	    ((a->reply == NULL && b->reply == NULL) ||
		(a->reply && b->reply && strcmp(a->reply, b->reply) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_limit lim, again;
	char *buf, *name, *value, *nl, text[2048];
	const char *why;
	long long max;

	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = 0;
		name = buf;
		value = nl + 1;
	} else {
		name = "x";
		value = buf;
	}
	(void)pd_override_parse_max(value, &max, &why);
	if (pd_limit_parse(name, value, &lim, &why) == 0) {
		if (lim.max < 0 || lim.max > PD_LIMIT_MAX_VALUE ||
		    (lim.window == PD_WIN_ROLLING &&
			(lim.window_s < 1 || lim.window_s > PD_WINDOW_MAX_S)))
			abort();
		if (pd_limit_format(&lim, text, sizeof text) == 0) {
			if (pd_limit_parse(name, text, &again, &why) != 0 ||
			    !same(&lim, &again))
				abort();
			pd_limit_clear(&again);
		}
		pd_limit_clear(&lim);
	}
	free(buf);
	return 0;
}
