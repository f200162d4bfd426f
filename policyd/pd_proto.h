/*
 * NAME
 *	pd_proto 3h - Postfix policy delegation framing
 * SYNOPSIS
 *	#include "pd_proto.h"
 *
 *	void	pd_parser_init(struct pd_parser *p, struct pd_request *req);
 *	enum pd_parse pd_parser_feed(struct pd_parser *p, const char *data,
 *		    size_t len, size_t *used);
 *	int	pd_parser_started(const struct pd_parser *p);
 *	int	pd_reply_format(char *buf, size_t size, const char *line,
 *		    size_t *len);
 * DESCRIPTION
 *	pd_parser_feed() takes the next bytes of a connection, as many or
 *	as few as have arrived, and fills the request given to
 *	pd_parser_init(). It stops right after the empty line that ends a
 *	request, so *used tells how many bytes belong to this request; the
 *	rest start the next one (a client may pipeline). After DONE or
 *	ERROR the parser must be initialized again before the next feed.
 *
 *	pd_reply_format() writes "LINE\n\n", the whole reply to one
 *	request, refusing a line that holds a newline or a NUL.
 * DIAGNOSTICS
 *	PD_PARSE_MORE: every byte was taken and the request is not finished.
 *	PD_PARSE_DONE: the request is complete and valid.
 *	PD_PARSE_ERROR: a bound or the syntax was broken; p->why says which
 *	(a static string), p->sample and p->sample_len point at the
 *	offending line as received so far (untrusted: escape before
 *	logging). The caller closes the connection.
 *
 *	pd_reply_format() returns 0, or -1 when the reply does not fit or
 *	is not one line.
 */
#ifndef PD_PROTO_H
#define PD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "pd_request.h"

enum pd_parse { PD_PARSE_MORE, PD_PARSE_DONE, PD_PARSE_ERROR };

/* Open hashing of the names seen, for the duplicate check: at most half
 * full, so a probe always ends. */
#define PD_NAME_SLOTS (2 * PD_ATTRS_MAX)

struct pd_parser {
	struct pd_request *req;
	size_t line_off; /* where the current line starts in req->buf */
	size_t nbytes; /* bytes taken for this request, CR included */
	const char *why; /* reason of PD_PARSE_ERROR */
	const char *sample; /* the offending line, not NUL-terminated */
	size_t sample_len;
	uint32_t hash[PD_ATTRS_MAX]; /* of each attribute's name */
	unsigned char slot[PD_NAME_SLOTS]; /* attribute index + 1, 0: free */
};

void pd_parser_init(struct pd_parser *, struct pd_request *);
enum pd_parse pd_parser_feed(struct pd_parser *, const char *, size_t,
    size_t *);
int pd_parser_started(const struct pd_parser *);
int pd_reply_format(char *, size_t, const char *, size_t *);

#endif
