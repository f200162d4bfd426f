/*
 * NAME
 *	pd_test_req 3h - build a struct pd_request in a unit test
 * SYNOPSIS
 *	#include "pd_test_req.h"
 *
 *	void	pd_test_req(struct pd_request *req, const char *text);
 * DESCRIPTION
 *	Fills a request from "name=value\n" lines, as the transport's parser
 *	would, so the policy half's tests do not depend on the framing code.
 *	Test input only: it aborts on a request that does not fit.
 */
#ifndef PD_TEST_REQ_H
#define PD_TEST_REQ_H

#include <stdlib.h>
#include <string.h>

#include "pd_request.h"

/* pd_test_req - split "a=b\nc=d\n" into the request's buffer */
static void
pd_test_req(struct pd_request *req, const char *text)
{
	size_t len = strlen(text);
	char *p, *end, *nl, *eq;

	if (len + 1 > sizeof req->buf)
		abort();
	memset(req, 0, sizeof *req);
	memcpy(req->buf, text, len + 1);
	req->used = len;
	for (p = req->buf, end = req->buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*nl = 0;
		if ((eq = strchr(p, '=')) == NULL || req->nattr == PD_ATTRS_MAX)
			abort();
		*eq = 0;
		req->attr[req->nattr].name = p;
		req->attr[req->nattr++].value = eq + 1;
	}
}

#endif
