/*
 * NAME
 *	conf_fix - the configuration table the conf unit tests load
 * SYNOPSIS
 *	#include "conf_fix.h"
 *
 *	void	fix_init(struct tfix *f);
 *	char	*print_str(const struct cm_conf_section *secs);
 *	int	has_line(const char *text, const char *line);
 * DESCRIPTION
 *	The definitions behind conf_fix.h: keyed handlers that keep their
 *	entries in order, the two section tables ("defs" with every type,
 *	"log_defs"), and the helpers.
 * DIAGNOSTICS
 *	print_str() fails the running cmocka test when memory runs out.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"

/* t_store - keyed handler: keep "args" -> value in order */
static int
t_store(struct tentry *v, size_t *n, const char *const *args, size_t nargs,
    const char *value, const char **why)
{
	char key[512];

	if (*value == '\0') {
		*why = "empty value";
		return -1;
	}
	if (*n == NLIMITS) {
		*why = "too many entries";
		return -1;
	}
	snprintf(key, sizeof key, "%s%s%s", args[0], nargs > 1 ? " " : "",
	    nargs > 1 ? args[1] : "");
	v[*n].key = strdup(key);
	v[*n].value = strdup(value);
	(*n)++;
	return 0;
}

/* t_limit - keyed handler of "limit NAME = VALUE" */
static int
t_limit(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct tcfg *c = base;

	return t_store(c->limits, &c->nlimits, args, nargs, value, why);
}

/* t_override - keyed handler of "override SUBJECT NAME = VALUE" */
static int
t_override(void *base, const char *const *args, size_t nargs, const char *value,
    const char **why)
{
	struct tcfg *c = base;

	return t_store(c->overrides, &c->noverrides, args, nargs, value, why);
}

/* t_print_limits - the -n lines of the limit entries */
static void
t_print_limits(const void *base, FILE *fp)
{
	const struct tcfg *c = base;
	size_t i;

	for (i = 0; i < c->nlimits; i++)
		fprintf(fp, "limit %s = %s\n", c->limits[i].key,
		    c->limits[i].value);
}

/* t_print_overrides - the -n lines of the override entries */
static void
t_print_overrides(const void *base, FILE *fp)
{
	const struct tcfg *c = base;
	size_t i;

	for (i = 0; i < c->noverrides; i++)
		fprintf(fp, "override %s = %s\n", c->overrides[i].key,
		    c->overrides[i].value);
}

/* t_free_entries - free an entry array and empty it */
static void
t_free_entries(struct tentry *v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	*n = 0;
}

/* t_free_limits - free the limit entries */
static void
t_free_limits(void *base)
{
	struct tcfg *c = base;

	t_free_entries(c->limits, &c->nlimits);
}

/* t_free_overrides - free the override entries */
static void
t_free_overrides(void *base)
{
	struct tcfg *c = base;

	t_free_entries(c->overrides, &c->noverrides);
}

static const char *const modes[] = { "enforce", "monitor", NULL };
static const char *const levels[] = { "error", "warning", "info", "debug",
	NULL };

#define DEF(n, t, d, lo, hi, field)                                            \
	{                                                                      \
		.name = n, .type = t, .def = d, .min = lo, .max = hi,          \
		.off = offsetof(struct tcfg, field)                            \
	}

static const struct cm_conf_def defs[] = {
	DEF("name", CM_CONF_STR, "mailtally", 0, 0, name),
	DEF("enabled", CM_CONF_BOOL, "yes", 0, 0, enabled),
	DEF("max_conn", CM_CONF_INT, "100", 1, 1000, max_conn),
	DEF("mode_bits", CM_CONF_INT, "0660", 0, 0, mode_bits),
	DEF("timeout", CM_CONF_DURATION, "5s", 1, 3600000, timeout_ms),
	DEF("max_size", CM_CONF_SIZE, "10M", 1024, 1LL << 30, max_size),
	DEF("listen", CM_CONF_LIST, "inet:127.0.0.1:10031", 0, 0, listen),
	DEF("exempt", CM_CONF_CIDR, "127.0.0.0/8, ::1", 0, 0, exempt),
	{ .name = "mode",
	    .type = CM_CONF_ENUM,
	    .def = "enforce",
	    .off = offsetof(struct tcfg, mode),
	    .choices = modes },
	{ .name = "limit",
	    .type = CM_CONF_KEYED,
	    .keyed = t_limit,
	    .print = t_print_limits,
	    .free = t_free_limits,
	    .nargs = 1 },
	{ .name = "override",
	    .type = CM_CONF_KEYED,
	    .keyed = t_override,
	    .print = t_print_overrides,
	    .free = t_free_overrides,
	    .nargs = 2 },
	{ .name = NULL },
};

static const struct cm_conf_def log_defs[] = {
	{ .name = "log_target",
	    .type = CM_CONF_STR,
	    .def = "syslog",
	    .off = offsetof(struct tlog, target) },
	{ .name = "log_level",
	    .type = CM_CONF_ENUM,
	    .def = "info",
	    .off = offsetof(struct tlog, level),
	    .choices = levels },
	{ .name = NULL },
};

/* fix_init - an empty fixture over defs and log_defs */
void
fix_init(struct tfix *f)
{
	memset(f, 0, sizeof *f);
	f->secs[0].defs = defs;
	f->secs[0].base = &f->cfg;
	f->secs[1].defs = log_defs;
	f->secs[1].base = &f->log;
}

/* print_str - cm_conf_print into a malloc'd string */
char *
print_str(const struct cm_conf_section *secs)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	cm_conf_print(secs, fp);
	fclose(fp);
	return out;
}

/* has_line - does text contain the whole line 'line' */
int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* rich - a config that sets every type away from its default */
const char rich[] =
    "# every type set away from its default\n"
    "name = \"  spaced \\\"quoted\\\" \\\\ name \"\n"
    "enabled = off\n"
    "max_conn = 7\n"
    "mode_bits = 0600\n"
    "timeout = 1500ms\n"
    "max_size = 3M\n"
    "listen = inet:127.0.0.1:1, unix:/run/a.sock\n"
    "    inet:[::1]:2\n"
    "exempt = 10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::ffff:1.2.3.4\n"
    "mode = monitor\n"
    "limit daily = day 1000 recipients\n"
    "limit hourly = hour 100 messages\n"
    "override a@example.org daily = 5000\n"
    "log_target = file:/var/log/x.log\n"
    "log_level = debug\n";
