/*
 * NAME
 *	cm_conf 3h - Postfix-style configuration files, declared by tables
 * SYNOPSIS
 *	#include <cm_conf.h>
 * DESCRIPTION
 *	A file is "key = value" lines. '#' starts a comment when it is the
 *	first non-blank character of a line; blank lines are ignored; a line
 *	that starts with white space continues the previous one (Postfix
 *	main.cf). A logical line is at most CM_CONF_LINE_MAX bytes.
 *
 *	Each program declares every key once in a table of struct
 *	cm_conf_def, terminated by an entry whose name is NULL, and lists its
 *	tables with the struct each fills (struct cm_conf_section, terminated
 *	by defs == NULL). Defaults are parsed as if written in the file. Use
 *	designated initializers in tables (-Wextra warns about short ones):
 *
 *	    static const struct cm_conf_def pd_defs[] = {
 *		{ .name = "idle_timeout", .type = CM_CONF_DURATION,
 *		    .def = "5m", .min = 1000, .max = 3600000,
 *		    .off = offsetof(struct pd_config, idle_timeout_ms) },
 *		{ .name = NULL },
 *	    };
 *	    struct cm_conf_section secs[] = { { pd_defs, cfg },
 *		{ cm_log_conf_defs, &cfg->log }, { NULL, NULL } };
 *
 *	Loading: the caller zeroes its structs, then calls
 *	cm_conf_load_file() (or _buf), which applies every default first and
 *	then the file; keys are looked up in every section of the list.
 *	After success or failure, cm_conf_free() once frees what was stored
 *	and zeroes it (so a struct can be loaded again). Loading over a
 *	loaded struct frees the old values first, as cm_conf_defaults() does.
 *
 *	Field types by kind: STR char * (malloc'd, NULL when empty; a value
 *	in double quotes keeps its blanks, with \" and \\ escapes), BOOL int
 *	(yes/no/true/false/on/off/1/0, any case), INT long long (decimal, or
 *	octal with a leading 0 as in "0660"; printed in octal when the
 *	default is written so, else in decimal), DURATION
 *	long long milliseconds (plain number = seconds; units ms s m h d:
 *	"50ms", "5s", "1h"; no sign, no fraction), SIZE long long bytes
 *	(units k K M G, powers of 1024), LIST struct cm_list (comma and/or
 *	white space separated; v == NULL when empty, else v[n] == NULL), CIDR
 *	struct cm_cidr_list * (NULL when empty), ENUM int (index into
 *	choices, matched in any case). A def with def == NULL starts zeroed.
 *	Bounds min/max apply to INT, DURATION and SIZE unless both are 0.
 *
 *	KEYED entries are repeated keys with words between the name and '=':
 *	"limit daily = day 1000 recipients" has name "limit", args {"daily"}
 *	and value "day 1000 recipients". The def says how many words (nargs,
 *	at most 8) and gives a handler that stores the entry (the value is
 *	passed trimmed, quotes and all); print lists them for -n. A
 *	duplicate (same name and words) is an error like any duplicate key.
 *	The free callback must accept a base with nothing stored, and leave
 *	it empty: defaults and cm_conf_free() call it.
 *
 *	Bounds: a file is at most 4 MiB; NUL bytes, control bytes other than
 *	tab and (outside comments) invalid UTF-8 are errors; CRLF line ends
 *	are accepted.
 * DIAGNOSTICS
 *	Load functions return 0, or -1 with "file:line: key: why" in err
 *	(e.g. 'policyd.conf:12: store_timeout: "5q": unknown unit (use ms, s,
 *	m, h, d)'), untrusted text escaped as \xHH and capped at 64 bytes.
 *	A bad default gives "(default): key: why". Nothing is logged.
 */
#ifndef CM_CONF_H
#define CM_CONF_H

#include <stddef.h>
#include <stdio.h>

#define CM_CONF_LINE_MAX 4096

enum cm_conf_type {
	CM_CONF_STR,
	CM_CONF_BOOL,
	CM_CONF_INT,
	CM_CONF_DURATION,
	CM_CONF_SIZE,
	CM_CONF_LIST,
	CM_CONF_CIDR,
	CM_CONF_ENUM,
	CM_CONF_KEYED,
};

struct cm_list {
	char **v;
	size_t n;
};

/* Store one keyed entry; 0, or -1 with *why (a static string). */
typedef int (*cm_conf_keyed_fn)(void *base, const char *const *args,
    size_t nargs, const char *value, const char **why);
/* Print every stored keyed entry as "name args = value" lines. */
typedef void (*cm_conf_keyed_print_fn)(const void *base, FILE *fp);
/* Free what the handler stored. */
typedef void (*cm_conf_keyed_free_fn)(void *base);

struct cm_conf_def {
	const char *name;
	enum cm_conf_type type;
	const char *def; /* default, as written in a file; NULL: empty */
	long long min, max; /* INT, DURATION (ms), SIZE (bytes) */
	size_t off; /* offsetof() the field in the section base */
	const char *const *choices; /* ENUM: NULL-terminated */
	cm_conf_keyed_fn keyed; /* KEYED */
	cm_conf_keyed_print_fn print; /* KEYED */
	cm_conf_keyed_free_fn free; /* KEYED, may be NULL */
	size_t nargs; /* KEYED: words between name and '=' */
};

struct cm_conf_section {
	const struct cm_conf_def *defs;
	void *base;
};

/* Apply every default; then load a file or a buffer over them. */
int cm_conf_defaults(const struct cm_conf_section *, char *err, size_t errlen);
int cm_conf_load_file(const struct cm_conf_section *, const char *path,
    char *err, size_t errlen);
int cm_conf_load_buf(const struct cm_conf_section *, const char *name,
    const char *buf, size_t len, char *err, size_t errlen);
/* Print the effective configuration, every key, for -n. */
void cm_conf_print(const struct cm_conf_section *, FILE *);
void cm_conf_free(const struct cm_conf_section *);

/* The value parsers, for modules that parse values of their own. */
int cm_conf_parse_duration(const char *, long long *ms, const char **why);
int cm_conf_parse_size(const char *, long long *bytes, const char **why);
int cm_conf_parse_bool(const char *, int *, const char **why);
int cm_conf_parse_list(const char *, struct cm_list *, const char **why);
void cm_list_free(struct cm_list *);

#endif
