/*
 * NAME
 *	pd_proto 3 - Postfix policy delegation framing
 * SYNOPSIS
 *	#include "pd_proto.h"
 *
 *	void	pd_parser_init(struct pd_parser *p, struct pd_request *req);
 *	enum pd_parse pd_parser_feed(struct pd_parser *p, const char *data,
 *		    size_t len, size_t *used);
 *	int	pd_parser_started(const struct pd_parser *p);
 *	int	pd_reply_format(char *buf, size_t size, const char *line,
 *		    size_t *len);
 *
 *	#include "pd_request.h"
 *
 *	const char *pd_request_get(const struct pd_request *req,
 *		    const char *name);
 * DESCRIPTION
 *	A request is "name=value" lines, each ended by a newline, and the
 *	request by an empty line (Postfix SMTPD_POLICY_README). The parser
 *	is incremental: bytes are copied into the request buffer as they
 *	arrive, so splitting the input anywhere (one byte at a time)
 *	gives the same result as feeding it whole. A line's '=' and its
 *	newline become NULs in place, so each name and value is a C string
 *	inside req->buf.
 *
 *	A CR before the newline is dropped, so a CRLF client works too.
 *	The first '=' splits name from value; a value may hold '=' and any
 *	byte but NUL. Postfix never sends an empty request, so an empty
 *	line with no attribute before it is an error.
 * SECURITY
 *	Every byte comes from the network. Bounds are checked before a
 *	byte is copied: PD_LINE_MAX per line, PD_REQUEST_MAX per request
 *	(names, values and their NULs), PD_ATTRS_MAX attributes. A NUL
 *	byte, a line without '=', an empty or control-character name and a
 *	duplicate name are errors, so a 1 MiB line or 10,000 attributes
 *	cost at most one request buffer and end the connection.
 * DIAGNOSTICS
 *	pd_parser_feed() returns PD_PARSE_MORE, PD_PARSE_DONE, or
 *	PD_PARSE_ERROR with p->why (static) and p->sample/p->sample_len
 *	(the offending line as far as it was kept). Nothing is logged here.
 * SEE ALSO
 *	pd_server(3), mailtally-policyd(8)
 */
#include "config.h"

#include <string.h>

#include "pd_proto.h"
#include "pd_request.h"

/* pd_parser_init - start a new request in req */
void
pd_parser_init(struct pd_parser *p, struct pd_request *req)
{
	p->req = req;
	p->line_off = 0;
	p->why = NULL;
	p->sample = NULL;
	p->sample_len = 0;
	if (req != NULL) {
		req->nattr = 0;
		req->used = 0;
	}
}

/* pd_parser_started - has any byte of a request been taken? */
int
pd_parser_started(const struct pd_parser *p)
{
	return p->req != NULL && p->req->used > 0;
}

/* fail - record why, with the current line as sample */
static enum pd_parse
fail(struct pd_parser *p, const char *why)
{
	struct pd_request *req = p->req;

	p->why = why;
	p->sample = req->buf + p->line_off;
	p->sample_len = req->used - p->line_off;
	return PD_PARSE_ERROR;
}

/* name_ok - a name is non-empty printable text without white space */
static int
name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * end_line - a newline arrived: finish the line at req->buf[line_off..used).
 * Returns MORE after an attribute, DONE after the empty line that ends
 * a request, ERROR for a bad line.
 */
static enum pd_parse
end_line(struct pd_parser *p)
{
	struct pd_request *req = p->req;
	char *line = req->buf + p->line_off;
	size_t len = req->used - p->line_off;
	char *eq;
	size_t i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		if (req->nattr == 0)
			return fail(p, "empty request");
		return PD_PARSE_DONE;
	}
	if ((eq = memchr(line, '=', len)) == NULL)
		return fail(p, "attribute without '='");
	if (!name_ok(line, (size_t)(eq - line)))
		return fail(p, "bad attribute name");
	if (req->nattr == PD_ATTRS_MAX)
		return fail(p, "too many attributes");
	*eq = '\0';
	for (i = 0; i < req->nattr; i++) {
		/* First bytes differ for most pairs: skip the call. */
		if (req->attr[i].name[0] == line[0] &&
		    strcmp(req->attr[i].name, line) == 0) {
			*eq = '=';
			return fail(p, "duplicate attribute");
		}
	}
	line[len] = '\0'; /* the CR or the newline's slot */
	req->attr[req->nattr].name = line;
	req->attr[req->nattr].value = eq + 1;
	req->nattr++;
	req->used = p->line_off + len + 1;
	p->line_off = req->used;
	return PD_PARSE_MORE;
}

/*
 * pd_parser_feed - take up to len bytes of data into the request
 *
 * The newline itself is never copied: its slot holds the line's NUL,
 * which is why a request of PD_REQUEST_MAX bytes on the wire fits.
 */
enum pd_parse
pd_parser_feed(struct pd_parser *p, const char *data, size_t len, size_t *used)
{
	struct pd_request *req = p->req;
	const char *nl, *nul;
	size_t i = 0, n, room, line_room;
	enum pd_parse r;

	while (i < len) {
		nl = memchr(data + i, '\n', len - i);
		n = nl != NULL ? (size_t)(nl - (data + i)) : len - i;
		/* Room left on this line, and in the buffer with a NUL. */
		line_room = PD_LINE_MAX - (req->used - p->line_off);
		room = req->used < PD_REQUEST_MAX
		    ? PD_REQUEST_MAX - 1 - req->used
		    : 0;
		if (line_room < room)
			room = line_room;
		nul = memchr(data + i, '\0', n);
		if (nul != NULL || n > room) {
			size_t keep = nul != NULL ? (size_t)(nul - (data + i))
						  : n;

			memcpy(req->buf + req->used, data + i,
			    keep < room ? keep : room);
			req->used += keep < room ? keep : room;
			*used = i + (keep < room ? keep : room);
			if (nul != NULL && keep <= room)
				return fail(p, "NUL byte in request");
			return fail(p,
			    room == line_room ? "line too long"
					      : "request too large");
		}
		memcpy(req->buf + req->used, data + i, n);
		req->used += n;
		i += n;
		if (nl == NULL)
			break;
		i++;
		if ((r = end_line(p)) != PD_PARSE_MORE) {
			*used = i;
			return r;
		}
	}
	*used = i;
	return PD_PARSE_MORE;
}

/* pd_reply_format - "LINE\n\n" into buf; -1 for a bad or long line */
int
pd_reply_format(char *buf, size_t size, const char *line, size_t *len)
{
	size_t n;

	if (line == NULL || (n = strlen(line)) == 0 ||
	    memchr(line, '\n', n) != NULL || memchr(line, '\r', n) != NULL)
		return -1;
	if (n + 3 > size)
		return -1;
	memcpy(buf, line, n);
	buf[n] = '\n';
	buf[n + 1] = '\n';
	buf[n + 2] = '\0';
	*len = n + 2;
	return 0;
}

/* pd_request_get - an attribute's value, "" if sent empty, NULL if absent */
const char *
pd_request_get(const struct pd_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nattr; i++)
		if (strcmp(req->attr[i].name, name) == 0)
			return req->attr[i].value;
	return NULL;
}
