/*
 * NAME
 *	event_render 3 - render event records as text or JSON lines
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	int	cm_event_render(const struct cm_event *ev, int format,
 *		    uint64_t ts_ms, struct cm_buf *out);
 *	void	cm_event_emit(struct cm_event *ev, int level);
 *	int	cm_event_format(void);
 * DESCRIPTION
 *	cm_event_render() walks the operations that event.c recorded and
 *	writes one line (see cm_log.h for both shapes). Each field is
 *	written at the end of the line and kept only when it fits, keeping
 *	room to close the open containers and to add the truncation mark;
 *	the first field that does not fit is cut off again and stops the
 *	line, which then ends in "truncated" (JSON "truncated":true, text
 *	truncated=yes), so JSON output always parses. When the line's own
 *	buffer fails (its bound or memory) in the middle of a field, the
 *	field is written again into a scratch "piece" bounded at
 *	CM_LOG_LINE_MAX, as every field once was, so the outcome is that
 *	of the piece-by-piece rendering in every case.
 *
 *	Fields whose flags leave out the format being rendered are skipped,
 *	and so is everything inside a skipped container. Text writes null
 *	fields not at all, booleans as yes/no, addresses as key=<addr>, and
 *	the fields of containers as "parent.key=" or "parent.N=" (N from 0).
 *	Unclosed containers are closed at the end.
 *
 *	cm_event_emit() renders in the configured format with the current
 *	time, hands the line to the sink when the level lets it through,
 *	and frees the event. cm_event_format() tells which format that is,
 *	so a caller about to emit can skip building fields the line would
 *	not show.
 * SECURITY
 *	Values come from event.c already capped; all their escaping is done
 *	by log_fmt.c. No line passes CM_LOG_LINE_MAX bytes.
 * DIAGNOSTICS
 *	cm_event_render() returns 0, or -1 for a NULL event or when out
 *	failed (its bound or memory); out then holds "". cm_event_emit()
 *	drops a line that cannot be rendered.
 * SEE ALSO
 *	cm_log(3h), event(3), log_fmt(3), log_sink(3), log_int(3h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "log_int.h"

/* Rendering state: one entry per open container, [0] the line itself. */
struct rlevel {
	int kind; /* CM_EV_OP_OBJ or CM_EV_OP_ARR */
	int hidden; /* not shown in this format */
	size_t n; /* elements shown so far */
	size_t plen; /* text: path length inside this container */
};

struct render {
	const struct cm_event *ev;
	struct cm_buf *out;
	struct cm_buf *pb; /* where a field goes: out, or piece on a retry */
	struct cm_buf piece;
	int json;
	int depth;
	int full; /* a field did not fit: stop adding */
	struct rlevel st[CM_EV_DEPTH_MAX + 1];
	char path[(CM_EV_KEY_MAX + 2) * (CM_EV_DEPTH_MAX + 1) + 32];
};

#define LINE_START 1023 /* most lines fit: one allocation */
#define JSON_TRUNC ",\"truncated\":true"
#define TEXT_TRUNC " truncated=yes"

typedef int (*field_fn)(struct render *, const struct cm_ev_op *);

/* put_str - append a C string (no printf: this is every log line) */
static void
put_str(struct cm_buf *b, const char *str)
{
	cm_buf_append(b, str, strlen(str));
}

/* put_num - append a decimal integer, as "%lld" would */
static void
put_num(struct cm_buf *b, long long v)
{
	char d[CM_LOG_NUM_MAX];

	cm_buf_append(b, d, cm_log_num(d, v));
}

/* fits - does a piece fit, keeping room to close and mark truncation? */
static int
fits(const struct render *r, size_t len, int extra_depth)
{
	size_t reserve;

	reserve = r->json
	    ? (size_t)(r->depth + extra_depth) + 1 + sizeof JSON_TRUNC
	    : sizeof TEXT_TRUNC;
	return r->out->len + len + reserve <= CM_LOG_LINE_MAX;
}

/*
 * piece_name - start a piece: the separator and the name of an element
 * ("key": in JSON objects; " path.key=" or " path.N=" in text).
 */
static void
piece_name(struct render *r, const struct cm_ev_op *op, int leaf)
{
	struct rlevel *l = &r->st[r->depth];
	struct cm_buf *b = r->pb;
	const char *key = op->key == CM_EV_NO_KEY ? ""
						  : r->ev->arena.data + op->key;

	if (r->json) {
		if (l->n > 0)
			cm_buf_putc(b, ',');
		if (l->kind == CM_EV_OP_OBJ) {
			cm_buf_putc(b, '"');
			cm_buf_append(b, key, op->klen);
			cm_buf_append(b, "\":", 2);
		}
		return;
	}
	if (!leaf)
		return;
	cm_buf_putc(b, ' ');
	cm_buf_append(b, r->path, l->plen);
	if (l->kind == CM_EV_OP_OBJ)
		cm_buf_append(b, key, op->klen);
	else
		put_num(b, (long long)l->n);
	cm_buf_putc(b, '=');
}

/* render_leaf - one scalar field into r->pb; 0 when not shown */
static int
render_leaf(struct render *r, const struct cm_ev_op *op)
{
	struct cm_buf *b = r->pb;
	const char *v = "";

	if (op->type == CM_EV_OP_STR || op->type == CM_EV_OP_ADDR)
		v = r->ev->arena.data + op->val;

	if (!r->json && op->type == CM_EV_OP_NULL)
		return 0;
	piece_name(r, op, 1);
	switch (op->type) {
	case CM_EV_OP_STR:
		if (r->json)
			cm_log_json_str(b, v, op->vlen, op->capped);
		else
			cm_log_text_val(b, v, op->vlen, op->capped);
		break;
	case CM_EV_OP_ADDR:
		if (r->json) {
			cm_log_json_str(b, v, op->vlen, op->capped);
			break;
		}
		cm_log_text_quoted(b, '<', v, op->vlen, op->capped, '>');
		break;
	case CM_EV_OP_INT:
		put_num(b, op->num);
		break;
	case CM_EV_OP_BOOL:
		if (r->json)
			put_str(b, op->num ? "true" : "false");
		else
			put_str(b, op->num ? "yes" : "no");
		break;
	default:
		put_str(b, "null");
		break;
	}
	return 1;
}

/* render_open - the head of a container into r->pb: name and bracket */
static int
render_open(struct render *r, const struct cm_ev_op *op)
{
	piece_name(r, op, 0);
	if (r->json)
		cm_buf_putc(r->pb, op->type == CM_EV_OP_OBJ ? '{' : '[');
	return 1;
}

/* cut - drop what the line got after mark, and restore its overflow */
static void
cut(struct cm_buf *out, size_t mark, int overflow)
{
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	out->overflow = overflow;
}

/*
 * add_field - write one field (fn: a leaf, or a container's head) at the
 * end of the line and keep it when it fits with extra_depth more
 * containers to close. Returns 1 when kept, 0 when it does not fit (the
 * line is full), -1 when fn shows nothing. A field the line's buffer
 * failed on is written again into the scratch piece (bounded at
 * CM_LOG_LINE_MAX), so its length decides as it always did: the line
 * is full, or the copy fails and the whole rendering with it.
 */
static int
add_field(struct render *r, const struct cm_ev_op *op, int extra_depth,
    field_fn fn)
{
	struct cm_buf *out = r->out;
	size_t mark = out->len;
	int overflow = out->overflow;

	out->overflow = 0;
	r->pb = out;
	if (!fn(r, op)) {
		out->overflow = overflow;
		return -1;
	}
	if (!out->overflow) {
		if (fits(r, 0, extra_depth)) {
			out->overflow = overflow;
			return 1;
		}
		cut(out, mark, overflow);
		return 0;
	}
	cut(out, mark, overflow);
	cm_buf_reset(&r->piece);
	r->pb = &r->piece;
	fn(r, op);
	r->pb = out;
	if (r->piece.overflow || !fits(r, r->piece.len, extra_depth))
		return 0;
	cm_buf_append(out, r->piece.data, r->piece.len);
	return 1;
}

/* render_begin - open a container, or push a hidden one */
static void
render_begin(struct render *r, const struct cm_ev_op *op, int shown)
{
	struct rlevel *l = &r->st[r->depth], *in = &r->st[r->depth + 1];
	const char *key = op->key == CM_EV_NO_KEY ? ""
						  : r->ev->arena.data + op->key;
	int w;

	in->kind = op->type;
	in->hidden = 1;
	in->n = 0;
	in->plen = l->plen;
	if (shown) {
		if (add_field(r, op, 1, render_open) == 1) {
			in->hidden = 0;
			l->n++;
		} else {
			r->full = 1;
		}
	}
	if (!r->json && !in->hidden) {
		if (l->kind == CM_EV_OP_OBJ)
			w = snprintf(r->path + l->plen,
			    sizeof r->path - l->plen, "%s.", key);
		else
			w = snprintf(r->path + l->plen,
			    sizeof r->path - l->plen, "%zu.", l->n - 1);
		if (w > 0 && (size_t)w < sizeof r->path - l->plen)
			in->plen = l->plen + (size_t)w;
	}
	r->depth++;
}

/* render_end - close the innermost container */
static void
render_end(struct render *r)
{
	struct rlevel *l = &r->st[r->depth];

	if (r->depth == 0)
		return;
	if (r->json && !l->hidden)
		cm_buf_putc(r->out, l->kind == CM_EV_OP_OBJ ? '}' : ']');
	r->depth--;
}

/* render_head - the fixed start of a line */
static void
render_head(struct render *r, uint64_t ts_ms)
{
	const struct cm_event *ev = r->ev;
	const char *qid = ev->qid == CM_EV_NO_KEY ? ""
						  : ev->arena.data + ev->qid;

	if (r->json) {
		cm_log_json_head(r->out, ts_ms);
		/* The name is [a-z0-9_.]: nothing to escape. */
		cm_buf_append(r->out, ",\"event\":\"", 10);
		put_str(r->out, ev->name);
		cm_buf_append(r->out, "\",\"queue_id\":", 13);
		if (ev->qid == CM_EV_NO_KEY)
			cm_buf_append(r->out, "null", 4);
		else
			cm_log_json_str(r->out, qid, ev->qidlen,
			    ev->qid_capped);
		r->st[0].n = 5;
	} else {
		if (ev->qid == CM_EV_NO_KEY)
			cm_buf_append(r->out, "NOQUEUE", 7);
		else
			cm_log_text_val(r->out, qid, ev->qidlen,
			    ev->qid_capped);
		cm_buf_append(r->out, ": ", 2);
		put_str(r->out, ev->name);
	}
}

/*
 * cm_event_render - render an event into out (reset first) in format
 * (CM_LOG_TEXT or CM_LOG_JSON) with time stamp ts_ms. Returns 0, or -1
 * when out failed (its bound or memory); out then holds "".
 */
int
cm_event_render(const struct cm_event *ev, int format, uint64_t ts_ms,
    struct cm_buf *out)
{
	struct render r;
	const struct cm_ev_op *op;
	size_t i;
	int mask, hidden;

	cm_buf_reset(out);
	if (ev == NULL)
		return -1;
	memset(&r, 0, sizeof r);
	r.ev = ev;
	r.out = out;
	r.json = format == CM_LOG_JSON;
	r.st[0].kind = CM_EV_OP_OBJ;
	mask = r.json ? CM_EV_JSON : CM_EV_TEXT;
	cm_buf_init(&r.piece, CM_LOG_LINE_MAX);
	render_head(&r, ts_ms);
	for (i = 0; i < ev->nops; i++) {
		op = &ev->ops[i];
		hidden = r.full || r.st[r.depth].hidden || !(op->flags & mask);
		if (op->type == CM_EV_OP_END) {
			render_end(&r);
			continue;
		}
		if (op->type == CM_EV_OP_OBJ || op->type == CM_EV_OP_ARR) {
			render_begin(&r, op, !hidden);
			continue;
		}
		if (hidden)
			continue;
		switch (add_field(&r, op, 0, render_leaf)) {
		case 1:
			r.st[r.depth].n++;
			break;
		case 0:
			r.full = 1;
			break;
		}
	}
	while (r.depth > 0)
		render_end(&r);
	if (r.full || ev->lost)
		cm_buf_printf(out, "%s", r.json ? JSON_TRUNC : TEXT_TRUNC);
	if (r.json)
		cm_buf_putc(out, '}');
	cm_buf_release(&r.piece);
	if (out->overflow) {
		cm_buf_reset(out);
		return -1;
	}
	return 0;
}

/* cm_event_emit - render in the configured format, write, free */
void
cm_event_emit(struct cm_event *ev, int level)
{
	struct cm_buf b;

	if (ev == NULL)
		return;
	if (level <= cm_log_state.level) {
		cm_buf_init(&b, 0);
		if (cm_buf_reserve(&b, LINE_START) == 0 &&
		    cm_event_render(ev, cm_log_state.format, cm_log_now_ms(),
			&b) == 0)
			cm_log_sink_write(level, cm_buf_str(&b), b.len);
		cm_buf_release(&b);
	}
	cm_event_free(ev);
}

/* cm_event_format - the format cm_event_emit() renders in */
int
cm_event_format(void)
{
	return cm_log_state.format;
}
