/*
 * NAME
 *	conf_fix - the configuration table the conf unit tests load
 * SYNOPSIS
 *	#include "conf_fix.h"
 *
 *	void	fix_init(struct tfix *f);
 *	char	*print_str(const struct cm_conf_section *secs);
 *	int	has_line(const char *text, const char *line);
 *
 *	extern const char rich[];
 * DESCRIPTION
 *	A table with every type, two sections and two keyed entries,
 *	shared by test_conf and test_conf_print. fix_init() zeroes a
 *	fixture and points its sections at the tables; print_str() is
 *	cm_conf_print() into a malloc'd string; has_line() says whether
 *	text holds 'line' as a whole line. rich is a config file's text
 *	that sets every type away from its default.
 * DIAGNOSTICS
 *	print_str() fails the running cmocka test when memory runs out.
 */
#ifndef CONF_FIX_H
#define CONF_FIX_H

#include <stddef.h>

#include "cm_cidr.h"
#include "cm_conf.h"

#define NLIMITS 32

struct tentry {
	char *key;
	char *value;
};

struct tcfg {
	char *name;
	int enabled;
	long long max_conn;
	long long mode_bits;
	long long timeout_ms;
	long long max_size;
	struct cm_list listen;
	struct cm_cidr_list *exempt;
	int mode;
	struct tentry limits[NLIMITS];
	size_t nlimits;
	struct tentry overrides[NLIMITS];
	size_t noverrides;
};

struct tlog {
	char *target;
	int level;
};

/* A test fixture: both structs and the section list over them. */
struct tfix {
	struct tcfg cfg;
	struct tlog log;
	struct cm_conf_section secs[3];
};

void fix_init(struct tfix *);
char *print_str(const struct cm_conf_section *);
int has_line(const char *, const char *);

extern const char rich[];

#endif /* CONF_FIX_H */
