/*
 * NAME
 *	mf_test 3h - offline verification of one message (--test)
 * SYNOPSIS
 *	#include "mf_test.h"
 * DESCRIPTION
 *	mf_test_run() feeds an RFC 5322 file through the same stage
 *	functions as the daemon and prints, on stdout, the header fields it
 *	would add and then its log line. client_ip, helo and mail_from may
 *	be NULL: without a client address SPF is not evaluated and
 *	internal_hosts does not apply.
 *
 *	mf_test_message() is the same run on a message in memory, on a
 *	connection of the caller's (the connection is closed after it, so
 *	it may serve the next message), with the header edits appended to
 *	out instead of printed; the log line goes wherever mf_authlog_hook
 *	says. Several threads may run it at once, each on its own
 *	connection (tests/integration/mf_verify does). mf_test_read()
 *	reads a whole file (malloc'ed, NUL-terminated), NULL on error.
 *
 *	mf_test_parse() splits a message into header fields and body, the
 *	way the MTA hands them to a milter; tests and the fuzzer use it.
 * DIAGNOSTICS
 *	mf_test_run() returns 0 when the message was verified (whatever the
 *	verdict), EX_NOINPUT when the file cannot be read, EX_SOFTWARE on an
 *	internal error.
 */
#ifndef MF_TEST_H
#define MF_TEST_H

#include <stddef.h>

#include "cm_buf.h"
#include "mf_ctx.h"

#define MF_TEST_FILE_MAX (64UL * 1024 * 1024)

/* Called for each header field (value as received, leading space kept). */
typedef int (
    *mf_test_header_fn)(void *arg, const char *name, const char *value);

int mf_test_run(const struct mf_env *, const char *path, const char *client_ip,
    const char *helo, const char *mail_from);
int mf_test_message(struct mf_conn *, const char *msg, size_t len,
    const char *client_ip, const char *helo, const char *mail_from,
    struct cm_buf *out);
char *mf_test_read(const char *path, size_t *len);
int mf_test_parse(const char *msg, size_t len, mf_test_header_fn, void *arg,
    size_t *body_off);

#endif
