/*
 * FUZZ-SOURCES:
 * NAME
 *	fuzz_conf - libFuzzer target of the configuration parser
 * SYNOPSIS
 *	tests/fuzz/fuzz_conf [FILE|DIR ...]	(replay driver)
 * DESCRIPTION
 *	Loads the input as a file over a table with every type, two
 *	sections and two keyed entries; on success prints the effective
 *	config, loads that print again and checks that it prints the same
 *	(the -n round trip). A reload may only fail on the logical line
 *	limit, as printing can lengthen a line ("a,b" prints "a, b").
 * DIAGNOSTICS
 *	abort() when a property does not hold; sanitizers do the rest.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NENT 64

struct fcfg {
	char *s;
	int b, e;
	long long i, o, d, z;
	struct cm_list l;
	struct cm_cidr_list *c;
	char *ent[NENT];
	size_t nent;
};

struct flog {
	char *target;
	int level;
};

/* f_keyed - keep "name words = value" lines to print back */
static int
f_keyed(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct fcfg *c = base;
	char line[2 * 4096 + 64];

	if (c->nent == NENT || *value == '\0') {
		*why = "refused";
		return -1;
	}
	if (nargs == 1)
		snprintf(line, sizeof line, "limit %s = %s", args[0], value);
	else
		snprintf(line, sizeof line, "override %s %s = %s", args[0],
		    args[1], value);
	if ((c->ent[c->nent] = strdup(line)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	c->nent++;
	return 0;
}

static void
f_print(const void *base, FILE *fp)
{
	const struct fcfg *c = base;
	size_t i;

	for (i = 0; i < c->nent; i++)
		fprintf(fp, "%s\n", c->ent[i]);
}

static void
f_free(void *base)
{
	struct fcfg *c = base;
	size_t i;

	for (i = 0; i < c->nent; i++)
		free(c->ent[i]);
	c->nent = 0;
}

static const char *const choices[] = { "enforce", "monitor", NULL };

#define F(n, t, d, lo, hi, f)                                                  \
	{                                                                      \
		.name = n, .type = t, .def = d, .min = lo, .max = hi,          \
		.off = offsetof(struct fcfg, f)                                \
	}

static const struct cm_conf_def defs[] = {
	F("s", CM_CONF_STR, "x y", 0, 0, s),
	F("b", CM_CONF_BOOL, "no", 0, 0, b),
	F("i", CM_CONF_INT, "1", -5, 1000000, i),
	F("o", CM_CONF_INT, "0644", 0, 0, o),
	F("d", CM_CONF_DURATION, "5s", 0, 0, d),
	F("z", CM_CONF_SIZE, "1M", 1, 1LL << 40, z),
	F("l", CM_CONF_LIST, "a, b", 0, 0, l),
	F("c", CM_CONF_CIDR, "127.0.0.0/8", 0, 0, c),
	{ .name = "e",
	    .type = CM_CONF_ENUM,
	    .def = "monitor",
	    .off = offsetof(struct fcfg, e),
	    .choices = choices },
	{ .name = "limit",
	    .type = CM_CONF_KEYED,
	    .keyed = f_keyed,
	    .print = f_print,
	    .free = f_free,
	    .nargs = 1 },
	{ .name = "override",
	    .type = CM_CONF_KEYED,
	    .keyed = f_keyed,
	    .print = NULL,
	    .free = NULL,
	    .nargs = 2 },
	{ .name = NULL },
};

static const struct cm_conf_def log_defs[] = {
	{ .name = "log_target",
	    .type = CM_CONF_STR,
	    .off = offsetof(struct flog, target) },
	{ .name = "log_level",
	    .type = CM_CONF_ENUM,
	    .def = "enforce",
	    .off = offsetof(struct flog, level),
	    .choices = choices },
	{ .name = NULL },
};

/* f_load_print - load text, print it into a malloc'd string */
static int
f_load_print(const char *text, size_t len, char **out, char *err, size_t errlen)
{
	struct fcfg cfg;
	struct flog log;
	struct cm_conf_section secs[] = { { defs, &cfg }, { log_defs, &log },
		{ NULL, NULL } };
	size_t olen = 0;
	FILE *fp;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	memset(&log, 0, sizeof log);
	*out = NULL;
	rc = cm_conf_load_buf(secs, "fuzz.conf", text, len, err, errlen);
	if (rc == 0 && (fp = open_memstream(out, &olen)) != NULL) {
		cm_conf_print(secs, fp);
		fclose(fp);
	}
	cm_conf_free(secs);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *p1, *p2;

	if (f_load_print((const char *)data, size, &p1, err, sizeof err) != 0) {
		/* an error is one line, beginning with the file name */
		if (strncmp(err, "fuzz.conf", 9) != 0 || strchr(err, '\n'))
			abort();
		return 0;
	}
	if (p1 == NULL)
		return 0;
	if (f_load_print(p1, strlen(p1), &p2, err, sizeof err) != 0) {
		if (strstr(err, "longer than") == NULL) {
			fprintf(stderr, "reload failed: %s\n%s", err, p1);
			abort();
		}
	} else if (p2 == NULL || strcmp(p1, p2) != 0) {
		fprintf(stderr, "round trip:\n%s---\n%s", p1, p2 ? p2 : "");
		abort();
	}
	free(p1);
	free(p2);
	return 0;
}
