/*
 * NAME
 *	event 3 - build structured event records
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	struct cm_event *cm_event_new(const char *event, const char *queue_id);
 *	void	cm_event_flags(struct cm_event *ev, int flags);
 *	void	cm_event_str(struct cm_event *ev, const char *key,
 *		    const char *val);
 *	void	cm_event_strn(struct cm_event *ev, const char *key,
 *		    const char *val, size_t len);
 *	void	cm_event_int(struct cm_event *ev, const char *key, long long);
 *	void	cm_event_bool(struct cm_event *ev, const char *key, int);
 *	void	cm_event_null(struct cm_event *ev, const char *key);
 *	void	cm_event_addr(struct cm_event *ev, const char *key,
 *		    const char *addr);
 *	void	cm_event_obj_begin(struct cm_event *ev, const char *key);
 *	void	cm_event_obj_end(struct cm_event *ev);
 *	void	cm_event_arr_begin(struct cm_event *ev, const char *key);
 *	void	cm_event_arr_end(struct cm_event *ev);
 *	void	cm_event_free(struct cm_event *ev);
 * DESCRIPTION
 *	Events are recorded, not rendered, as they are built: each field is
 *	an operation (struct cm_ev_op in log_int.h) holding its key and its
 *	value already capped at CM_LOG_VALUE_MAX bytes (cut on a UTF-8
 *	boundary; the rendering adds "..."), so a 1 MiB value costs 256
 *	bytes. At most CM_EV_DEPTH_MAX containers nest; deeper ones and
 *	everything in them are dropped, and an end without a begin is
 *	ignored. Room for the ends of the open containers is always kept,
 *	so a record is well nested even when memory runs out. At most
 *	CM_EV_OPS_MAX fields are kept. event_render.c turns a record into a
 *	line; cm_event_emit() there writes and frees it.
 *
 *	cm_event_addr() normalizes the address (cm_addr_norm()); with
 *	log_addresses = domain it shows "@domain", and "?" for a bare local
 *	part or an address that does not parse; with hash it shows "h:" +
 *	16 hex digits (HMAC of the normalized address) + "@domain" (no
 *	domain part for a bare local part; the HMAC of the raw bytes for an
 *	address that does not parse). The null sender is "" everywhere.
 * SECURITY
 *	Values (and the queue id) may come from a peer: they are stored
 *	with their length, capped, and escaped only when rendered. Keys and
 *	event names are code constants and are checked against
 *	[a-z0-9_.]{1,64}.
 * DIAGNOSTICS
 *	A bad key or event name is a bug: cm_panic(). When memory runs out
 *	an event loses fields (its line then shows "truncated") or, at
 *	cm_event_new(), the whole line: every function here accepts a NULL
 *	event and does nothing.
 * SEE ALSO
 *	cm_log(3h), cm_addr(3h), event_render(3), log_int(3h).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_addr.h"
#include "cm_buf.h"
#include "cm_log.h"
#include "log_int.h"

/*
 * First sizes of an event's operations and arena: a policyd quota line
 * has about 30 fields and 400 bytes of keys and values, so most events
 * allocate each once instead of doubling their way there.
 */
#define EV_OPS_START 64
#define EV_ARENA_START 511

/* [a-z0-9_.]: the bytes of a key */
#define KEY_CHAR(c) (CM_LOWER(c) || CM_DIGIT(c) || (c) == '_' || (c) == '.')
static const unsigned char key_char[256] = CM_BYTE_TABLE(KEY_CHAR);

/*
 * check_name - key names are code constants: [a-z0-9_.]{1,64}. Returns
 * the length, which saves the callers a strlen().
 */
static size_t
check_name(const char *key)
{
	size_t n;

	if (key == NULL)
		cm_panic("cm_event: missing key");
	for (n = 0; key_char[(unsigned char)key[n]]; n++)
		;
	if (n == 0 || key[n] != '\0' || n > CM_EV_KEY_MAX)
		cm_panic("cm_event: bad key name");
	return n;
}

/* cap_len - cap an untrusted value, cutting on a UTF-8 boundary */
static size_t
cap_len(const char *s, size_t n, int *capped)
{
	size_t cut = CM_LOG_VALUE_MAX;

	*capped = n > CM_LOG_VALUE_MAX;
	if (!*capped)
		return n;
	while (cut > CM_LOG_VALUE_MAX - 3 &&
	    ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

/* cm_event_new - start an event record; NULL when memory ran out */
struct cm_event *
cm_event_new(const char *event, const char *queue_id)
{
	struct cm_event *ev;
	size_t n;

	n = check_name(event);
	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	cm_buf_init(&ev->arena, 0);
	if (cm_buf_reserve(&ev->arena, EV_ARENA_START) == -1) {
		cm_event_free(ev);
		return NULL;
	}
	memcpy(ev->name, event, n + 1);
	ev->flags = CM_EV_BOTH;
	ev->qid = CM_EV_NO_KEY;
	if (queue_id != NULL) {
		n = cap_len(queue_id, strnlen(queue_id, CM_LOG_VALUE_MAX + 1),
		    &ev->qid_capped);
		ev->qid = 0;
		ev->qidlen = n;
		if (cm_buf_append(&ev->arena, queue_id, n) == -1 ||
		    cm_buf_putc(&ev->arena, '\0') == -1) {
			cm_event_free(ev);
			return NULL;
		}
	}
	return ev;
}

/* cm_event_flags - formats (CM_EV_TEXT, CM_EV_JSON) of the next fields */
void
cm_event_flags(struct cm_event *ev, int flags)
{
	if (ev != NULL)
		ev->flags = flags & CM_EV_BOTH;
}

/* ev_end - record the end of the innermost container, if any */
static void
ev_end(struct cm_event *ev)
{
	struct cm_ev_op *op;

	if (ev->skip > 0) {
		ev->skip--;
	} else if (ev->depth > 0) {
		ev->depth--;
		op = &ev->ops[ev->nops++];
		memset(op, 0, sizeof *op);
		op->type = CM_EV_OP_END;
	}
}

/*
 * ev_grow - make room for one more operation plus the ends of all the
 * containers that may be open. -1 when memory or CM_EV_OPS_MAX ran out.
 */
static int
ev_grow(struct cm_event *ev)
{
	struct cm_ev_op *ops;
	size_t cap;

	if (ev->nops + 1 + CM_EV_DEPTH_MAX <= ev->cap)
		return 0;
	cap = ev->cap ? ev->cap * 2 : EV_OPS_START;
	if (ev->nops >= CM_EV_OPS_MAX ||
	    (ops = reallocarray(ev->ops, cap, sizeof *ops)) == NULL)
		return -1;
	ev->ops = ops;
	ev->cap = cap;
	return 0;
}

/*
 * ev_add - record one operation. Containers beyond CM_EV_DEPTH_MAX and
 * everything inside them are dropped; so is an end without a begin.
 * A field that finds no memory is dropped and marks the event "lost";
 * a container that finds none is dropped with its content.
 */
static void
ev_add(struct cm_event *ev, int type, const char *key, const char *val,
    size_t vlen, long long num)
{
	struct cm_ev_op *op;
	int begin = type == CM_EV_OP_OBJ || type == CM_EV_OP_ARR, capped = 0;
	size_t koff = CM_EV_NO_KEY, voff = 0, klen = 0;

	if (ev == NULL)
		return;
	if (key != NULL ||
	    (ev->skip == 0 && type != CM_EV_OP_END &&
		ev->kind[ev->depth] != CM_EV_OP_ARR))
		klen = check_name(key);
	if (type == CM_EV_OP_END) {
		ev_end(ev);
		return;
	}
	if (ev->skip > 0 || (begin && ev->depth == CM_EV_DEPTH_MAX)) {
		ev->skip += begin;
		return;
	}
	if (ev_grow(ev) == -1)
		goto lost;
	if (key != NULL && ev->kind[ev->depth] != CM_EV_OP_ARR) {
		koff = ev->arena.len;
		if (cm_buf_append(&ev->arena, key, klen + 1) == -1)
			goto lost;
	}
	if (type == CM_EV_OP_STR || type == CM_EV_OP_ADDR) {
		vlen = cap_len(val, vlen, &capped);
		voff = ev->arena.len;
		if (cm_buf_append(&ev->arena, val, vlen) == -1)
			goto lost;
	}
	op = &ev->ops[ev->nops++];
	op->type = (unsigned char)type;
	op->flags = (unsigned char)ev->flags;
	op->capped = (unsigned char)capped;
	op->key = koff;
	op->klen = koff == CM_EV_NO_KEY ? 0 : (unsigned char)klen;
	op->val = voff;
	op->vlen = vlen;
	op->num = num;
	if (begin)
		ev->kind[++ev->depth] = (unsigned char)type;
	return;
lost:
	ev->lost = 1;
	ev->skip += begin;
}

/* cm_event_str - a string field (NULL: a null field) */
void
cm_event_str(struct cm_event *ev, const char *key, const char *val)
{
	if (val == NULL)
		ev_add(ev, CM_EV_OP_NULL, key, NULL, 0, 0);
	else
		ev_add(ev, CM_EV_OP_STR, key, val,
		    strnlen(val, CM_LOG_VALUE_MAX + 1), 0);
}

/* cm_event_strn - a string field of len bytes, which may hold NUL */
void
cm_event_strn(struct cm_event *ev, const char *key, const char *val, size_t len)
{
	if (val == NULL)
		ev_add(ev, CM_EV_OP_NULL, key, NULL, 0, 0);
	else
		ev_add(ev, CM_EV_OP_STR, key, val, len, 0);
}

/* cm_event_int - an integer field */
void
cm_event_int(struct cm_event *ev, const char *key, long long v)
{
	ev_add(ev, CM_EV_OP_INT, key, NULL, 0, v);
}

/* cm_event_bool - a boolean field */
void
cm_event_bool(struct cm_event *ev, const char *key, int v)
{
	ev_add(ev, CM_EV_OP_BOOL, key, NULL, 0, v != 0);
}

/* cm_event_null - a field whose value is not known */
void
cm_event_null(struct cm_event *ev, const char *key)
{
	ev_add(ev, CM_EV_OP_NULL, key, NULL, 0, 0);
}

/* cm_event_obj_begin - open an object */
void
cm_event_obj_begin(struct cm_event *ev, const char *key)
{
	ev_add(ev, CM_EV_OP_OBJ, key, NULL, 0, 0);
}

/* cm_event_obj_end - close the innermost object or array */
void
cm_event_obj_end(struct cm_event *ev)
{
	ev_add(ev, CM_EV_OP_END, NULL, NULL, 0, 0);
}

/* cm_event_arr_begin - open an array */
void
cm_event_arr_begin(struct cm_event *ev, const char *key)
{
	ev_add(ev, CM_EV_OP_ARR, key, NULL, 0, 0);
}

/* cm_event_arr_end - close the innermost object or array */
void
cm_event_arr_end(struct cm_event *ev)
{
	ev_add(ev, CM_EV_OP_END, NULL, NULL, 0, 0);
}

/*
 * cm_event_addr - an address field, shown as log_addresses says. The
 * address is normalized first, so "<A@Example.ORG>" logs as
 * "A@example.org" in every mode.
 */
void
cm_event_addr(struct cm_event *ev, const char *key, const char *addr)
{
	char norm[CM_ADDR_MAX + 1], hash[CM_ADDR_HASH_LEN + 1];
	char shown[CM_ADDR_MAX + 8];
	const char *why, *dom, *src;
	size_t len;
	int ok;

	if (ev == NULL)
		return;
	if (addr == NULL) {
		ev_add(ev, CM_EV_OP_NULL, key, NULL, 0, 0);
		return;
	}
	len = strnlen(addr, CM_ADDR_MAX * 4);
	ok = cm_addr_norm(addr, len, norm, &why) == 0;
	src = ok ? norm : addr;
	dom = ok ? cm_addr_domain(norm) : NULL;
	if ((ok && norm[0] == '\0') ||
	    cm_log_state.addresses == CM_LOG_ADDR_FULL) {
		ev_add(ev, CM_EV_OP_ADDR, key, src, ok ? strlen(norm) : len, 0);
		return;
	}
	if (cm_log_state.addresses == CM_LOG_ADDR_DOMAIN) {
		snprintf(shown, sizeof shown, "%s%s", dom ? "@" : "?",
		    dom ? dom : "");
	} else {
		if (!ok) {
			memcpy(norm, addr,
			    len > CM_ADDR_MAX ? CM_ADDR_MAX : len);
			norm[len > CM_ADDR_MAX ? CM_ADDR_MAX : len] = '\0';
		}
		if (cm_addr_hash(cm_log_state.key, cm_log_state.keylen, norm,
			hash) == -1)
			snprintf(hash, sizeof hash, "?");
		snprintf(shown, sizeof shown, "h:%s%s%s", hash, dom ? "@" : "",
		    dom ? dom : "");
	}
	ev_add(ev, CM_EV_OP_ADDR, key, shown, strlen(shown), 0);
}

/* cm_event_free - free an event record */
void
cm_event_free(struct cm_event *ev)
{
	if (ev == NULL)
		return;
	cm_buf_release(&ev->arena);
	free(ev->ops);
	free(ev);
}
