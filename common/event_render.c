/*
 * NAME
 *	event_render 3 - render event records as text or JSON lines
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	int	cm_event_render(const struct cm_event *ev, int format,
 *		    uint64_t ts_ms, struct cm_buf *out);
 *	void	cm_event_emit(struct cm_event *ev, int level);
 * DESCRIPTION
 *	cm_event_render() walks the operations that event.c recorded and
 *	writes one line (see cm_log.h for both shapes). Each field is first
 *	written into a scratch "piece" and copied to the line only when it
 *	fits, keeping room to close the open containers and to add the
 *	truncation mark; the first field that does not fit stops the line,
 *	which then ends in "truncated" (JSON "truncated":true, text
 *	truncated=yes), so JSON output always parses.
 *
 *	Fields whose flags leave out the format being rendered are skipped,
 *	and so is everything inside a skipped container. Text writes null
 *	fields not at all, booleans as yes/no, addresses as key=<addr>, and
 *	the fields of containers as "parent.key=" or "parent.N=" (N from 0).
 *	Unclosed containers are closed at the end.
 *
 *	cm_event_emit() renders in the configured format with the current
 *	time, hands the line to the sink when the level lets it through,
 *	and frees the event.
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
	struct cm_buf piece;
	int json;
	int depth;
	int full; /* a field did not fit: stop adding */
	struct rlevel st[CM_EV_DEPTH_MAX + 1];
	char path[(CM_EV_KEY_MAX + 2) * (CM_EV_DEPTH_MAX + 1) + 32];
};

#define JSON_TRUNC ",\"truncated\":true"
#define TEXT_TRUNC " truncated=yes"

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
	const char *key = op->key == CM_EV_NO_KEY ? ""
						  : r->ev->arena.data + op->key;

	if (r->json) {
		if (l->n > 0)
			cm_buf_putc(&r->piece, ',');
		if (l->kind == CM_EV_OP_OBJ)
			cm_buf_printf(&r->piece, "\"%s\":", key);
		return;
	}
	if (!leaf)
		return;
	cm_buf_printf(&r->piece, " %.*s", (int)l->plen, r->path);
	if (l->kind == CM_EV_OP_OBJ)
		cm_buf_printf(&r->piece, "%s=", key);
	else
		cm_buf_printf(&r->piece, "%zu=", l->n);
}

/* render_leaf - one scalar field into r->piece; 0 when not shown */
static int
render_leaf(struct render *r, const struct cm_ev_op *op)
{
	struct cm_buf *b = &r->piece;
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
		cm_buf_printf(b, "%lld", op->num);
		break;
	case CM_EV_OP_BOOL:
		if (r->json)
			cm_buf_printf(b, "%s", op->num ? "true" : "false");
		else
			cm_buf_printf(b, "%s", op->num ? "yes" : "no");
		break;
	default:
		cm_buf_printf(b, "null");
		break;
	}
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
		piece_name(r, op, 0);
		if (r->json)
			cm_buf_putc(&r->piece,
			    op->type == CM_EV_OP_OBJ ? '{' : '[');
		if (!r->piece.overflow && fits(r, r->piece.len, 1)) {
			cm_buf_append(r->out, r->piece.data, r->piece.len);
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
		cm_buf_printf(r->out,
		    ",\"event\":\"%s\",\"queue_id\":", ev->name);
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
		cm_buf_printf(r->out, ": %s", ev->name);
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
		cm_buf_reset(&r.piece);
		if (op->type == CM_EV_OP_OBJ || op->type == CM_EV_OP_ARR) {
			render_begin(&r, op, !hidden);
			continue;
		}
		if (hidden || !render_leaf(&r, op))
			continue;
		if (!r.piece.overflow && fits(&r, r.piece.len, 0)) {
			cm_buf_append(out, r.piece.data, r.piece.len);
			r.st[r.depth].n++;
		} else {
			r.full = 1;
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
		if (cm_event_render(ev, cm_log_state.format, cm_log_now_ms(),
			&b) == 0)
			cm_log_sink_write(level, cm_buf_str(&b), b.len);
		cm_buf_release(&b);
	}
	cm_event_free(ev);
}
