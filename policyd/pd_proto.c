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
 *
 *	Work per byte is kept low (policyd parses every request): memchr()
 *	finds newlines and '=', NULs are looked for once per 4 KiB rather
 *	than per line, names are checked eight bytes at a time, and
 *	duplicates are found through a hash of the names (PD_NAME_SLOTS
 *	slots for at most PD_ATTRS_MAX names, so a probe ends; names that
 *	collide cost a strcmp() each, no more than the pairwise check).
 * DIAGNOSTICS
 *	pd_parser_feed() returns PD_PARSE_MORE, PD_PARSE_DONE, or
 *	PD_PARSE_ERROR with p->why (static) and p->sample/p->sample_len
 *	(the offending line as far as it was kept). Nothing is logged here.
 * SEE ALSO
 *	pd_server(3), mailtally-policyd(8)
 */
#include "config.h"

#include <stdint.h>
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
	memset(p->slot, 0, sizeof p->slot);
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

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/*
 * bad_word - does one of the 8 bytes of x fall outside a name: a byte
 * <= ' ' (the "has a byte less than n" test, exact for n <= 128) or
 * 0x7f (a zero byte in x ^ 0x7f7f...). Bytes >= 0x80 are allowed.
 */
static int
bad_word(uint64_t x)
{
	uint64_t d = x ^ (0x7f * ONES);

	return (((x - 0x21 * ONES) & ~x) | ((d - ONES) & ~d)) & HIGHS ? 1 : 0;
}

/*
 * name_hash - 0 unless name[0..len) is non-empty printable text without
 * white space; then 1, and *hash of its bytes (for the duplicate check).
 * Reads eight bytes at a time; the rest is read with fixed-size loads
 * that overlap bytes already read (the last 8, or 4 + 4), or for 1-3
 * bytes as first, middle and last byte padded with '!' (a name byte).
 * Every byte of the name is checked, and with the length in the hash
 * two names of one length that differ give different words.
 */
static int
name_hash(const char *name, size_t len, uint32_t *hash)
{
	uint64_t x, h = len;
	uint32_t a, b;
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, name + i, 8);
		if (bad_word(x))
			return 0;
		h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	if (i < len) {
		if (len >= 8) {
			memcpy(&x, name + len - 8, 8);
		} else if (len >= 4) {
			memcpy(&a, name, 4);
			memcpy(&b, name + len - 4, 4);
			x = (uint64_t)a << 32 | b;
		} else {
			x = ('!' * ONES) << 24 | (unsigned char)name[0] |
			    (uint64_t)(unsigned char)name[len / 2] << 8 |
			    (uint64_t)(unsigned char)name[len - 1] << 16;
		}
		if (bad_word(x))
			return 0;
		h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
	}
	*hash = (uint32_t)(h >> 32);
	return 1;
}

/*
 * seen_before - is the name (NUL-terminated, hash h) already an
 * attribute? When not, it is recorded as attribute req->nattr.
 */
static int
seen_before(struct pd_parser *p, const char *name, uint32_t h)
{
	struct pd_request *req = p->req;
	size_t s = h % PD_NAME_SLOTS, k;

	for (; p->slot[s] != 0; s = (s + 1) % PD_NAME_SLOTS) {
		k = p->slot[s] - 1;
		if (p->hash[k] == h && strcmp(req->attr[k].name, name) == 0)
			return 1;
	}
	p->slot[s] = (unsigned char)(req->nattr + 1);
	p->hash[req->nattr] = h;
	return 0;
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
	uint32_t h;
	char *eq;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		if (req->nattr == 0)
			return fail(p, "empty request");
		return PD_PARSE_DONE;
	}
	if ((eq = memchr(line, '=', len)) == NULL)
		return fail(p, "attribute without '='");
	if (!name_hash(line, (size_t)(eq - line), &h))
		return fail(p, "bad attribute name");
	if (req->nattr == PD_ATTRS_MAX)
		return fail(p, "too many attributes");
	*eq = '\0';
	if (seen_before(p, line, h)) {
		*eq = '=';
		return fail(p, "duplicate attribute");
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
	const char *nl, *nul, *first_nul = NULL, *scanned = data;
	size_t i = 0, n, room, line_room, step;
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
		/*
		 * The first NUL of data, looked for 4 KiB or a line at a
		 * time: no line before this one held it, so it is this
		 * line's if it lies before the line's end.
		 */
		if (first_nul == NULL && scanned < data + i + n) {
			step = (size_t)(data + i + n - scanned);
			if (step < 4096)
				step = 4096;
			if (step > (size_t)(data + len - scanned))
				step = (size_t)(data + len - scanned);
			first_nul = memchr(scanned, '\0', step);
			scanned += step;
		}
		nul = first_nul != NULL && first_nul < data + i + n ? first_nul
								    : NULL;
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
	const char *a;
	size_t i;

	/* The first two bytes differ for most names: skip the call. */
	for (i = 0; i < req->nattr; i++) {
		a = req->attr[i].name;
		if (a[0] == name[0] &&
		    (name[0] == '\0' ||
			(a[1] == name[1] && strcmp(a + 1, name + 1) == 0)))
			return req->attr[i].value;
	}
	return NULL;
}
