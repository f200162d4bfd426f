/*
 * NAME
 *	pd_request 3h - one Postfix policy delegation request
 * SYNOPSIS
 *	#include "pd_request.h"
 *
 *	const char *pd_request_get(const struct pd_request *req,
 *		    const char *name);
 * DESCRIPTION
 *	A request is "name=value" lines ended by an empty line
 *	(SMTPD_POLICY_README). The parser (pd_proto.c) fills this structure;
 *	names and values point into its own buffer and are NUL-terminated.
 *	Bounds: a line is at most PD_LINE_MAX bytes, a request at most
 *	PD_ATTRS_MAX attributes and PD_REQUEST_MAX bytes; no NUL bytes, no
 *	duplicate names, every line has a '=', names are non-empty and hold
 *	no white space or control characters. A CR before a newline is
 *	dropped. Values may hold any other byte.
 *
 *	pd_request_get() returns the value of an attribute, "" for one sent
 *	empty, NULL for one not sent.
 */
#ifndef PD_REQUEST_H
#define PD_REQUEST_H

#include <stddef.h>

#define PD_LINE_MAX 2048
#define PD_ATTRS_MAX 64
#define PD_REQUEST_MAX 16384

struct pd_attr {
	const char *name;
	const char *value;
};

struct pd_request {
	struct pd_attr attr[PD_ATTRS_MAX];
	size_t nattr;
	size_t used;
	char buf[PD_REQUEST_MAX];
};

const char *pd_request_get(const struct pd_request *, const char *);

#endif
