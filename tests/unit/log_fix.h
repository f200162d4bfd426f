/*
 * NAME
 *	log_fix - helpers shared by the logger unit tests
 * SYNOPSIS
 *	#include "log_fix.h"
 *
 *	extern char host[];
 *	extern char tmpdir[];
 *
 *	const char *render(const struct cm_event *ev, int format);
 *	void	assert_json(const char *s);
 *	struct cm_log_conf conf(const char *target, int addresses,
 *		    const char *keyfile);
 *	void	write_key(const char *name, const char *content, mode_t mode);
 *	int	log_fix_run(const char *prog, const struct CMUnitTest *tests,
 *		    size_t n);
 * DESCRIPTION
 *	render() renders an event at the fixed time TS into a static
 *	buffer; assert_json() fails the test when a string is not valid
 *	JSON (tests/fuzz/json_check.h); conf() is a log config with
 *	defaults; write_key() writes a hash key file into tmpdir.
 *	log_fix_run() names the program 'prog' for cm_log, fills host,
 *	makes tmpdir, runs the tests and removes tmpdir.
 * DIAGNOSTICS
 *	log_fix_run() returns cmocka's result, or 1 when tmpdir cannot be
 *	made or removed.
 */
#ifndef LOG_FIX_H
#define LOG_FIX_H

#include <sys/types.h>

#include <stddef.h>

#include "cm_log.h"

#define TS 1795451606123ULL /* 2026-11-23T16:33:26.123Z */

struct CMUnitTest;

extern char host[256];
extern char tmpdir[];

const char *render(const struct cm_event *, int);
void assert_json(const char *);
struct cm_log_conf conf(const char *, int, const char *);
void write_key(const char *, const char *, mode_t);
int log_fix_run(const char *, const struct CMUnitTest *, size_t);

#endif /* LOG_FIX_H */
