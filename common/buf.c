/*
 * NAME
 *	buf 3 - bounded growable byte buffer
 * SYNOPSIS
 *	#include <cm_buf.h>
 *
 *	void	cm_buf_init(struct cm_buf *b, size_t max);
 *	int	cm_buf_append(struct cm_buf *b, const void *p, size_t n);
 *	int	cm_buf_putc(struct cm_buf *b, int c);
 *	int	cm_buf_reserve(struct cm_buf *b, size_t n);
 *	int	cm_buf_append_grow(struct cm_buf *b, const void *p, size_t n);
 *	int	cm_buf_printf(struct cm_buf *b, const char *fmt, ...);
 *	void	cm_buf_reset(struct cm_buf *b);
 *	void	cm_buf_consume(struct cm_buf *b, size_t n);
 *	const char *cm_buf_str(struct cm_buf *b);
 *	void	cm_buf_release(struct cm_buf *b);
 * DESCRIPTION
 *	A buffer that grows on demand (doubling, from 64 bytes) up to "max"
 *	content bytes; 0 means no bound. cm_buf_reserve() grows it ahead of
 *	a known amount of appends. cm_buf_append() and cm_buf_putc() are
 *	inline in cm_buf.h, which only calls cm_buf_append_grow() when the
 *	room is short; their external definitions are made here. The content is always followed by
 *	a NUL that "len" does not count, so cm_buf_str() is a C string (the
 *	empty string before the first append). Content may hold NUL bytes.
 *
 *	cm_buf_consume() drops the first n bytes (all when n >= len), for
 *	protocol input buffers. cm_buf_reset() empties the buffer and clears
 *	"overflow" but keeps the memory; cm_buf_release() frees it and leaves
 *	an empty buffer with the same bound.
 * DIAGNOSTICS
 *	The append functions return 0, or -1 when the bound would be passed
 *	or memory ran out; then nothing is appended and "overflow" is set
 *	until the next cm_buf_reset(). They never exit: they are used on
 *	per-request paths.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_buf.h"

#define CM_BUF_MIN 64

/* cm_buf_init - empty buffer bounded at max bytes (0: unbounded) */
void
cm_buf_init(struct cm_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->overflow = 0;
}

/*
 * cm_buf_reserve - make room for n more content bytes plus the NUL.
 * Fails, setting overflow, when that passes the bound or malloc fails.
 * The capacity never passes max + 1, which the inline appends rely on.
 */
int
cm_buf_reserve(struct cm_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > SIZE_MAX - 1 - b->len || (b->max && b->len + n > b->max)) {
		b->overflow = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need > PTRDIFF_MAX) {
		b->overflow = 1;
		return -1;
	}
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : CM_BUF_MIN;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->max && cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->overflow = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* cm_buf_append_grow - grow, then append: the inline appends' slow path */
int
cm_buf_append_grow(struct cm_buf *b, const void *p, size_t n)
{
	if (cm_buf_reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* The external definitions of the inline functions of cm_buf.h. */
extern inline int cm_buf_append(struct cm_buf *, const void *, size_t);
extern inline int cm_buf_putc(struct cm_buf *, int);

/*
 * cm_buf_printf - append formatted text. The output is formatted once
 * into the spare room; when it does not fit, the buffer grows to the
 * exact size and it is formatted again.
 */
int
cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	room = b->cap > b->len ? b->cap - b->len : 0;
	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b->data)
			b->data[b->len] = '\0';
		b->overflow = 1;
		return -1;
	}
	if ((size_t)n < room) {
		if (b->max && b->len + (size_t)n > b->max) {
			b->data[b->len] = '\0';
			b->overflow = 1;
			return -1;
		}
		b->len += (size_t)n;
		return 0;
	}
	if (cm_buf_reserve(b, (size_t)n) == -1) {
		if (b->data)
			b->data[b->len] = '\0';
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* cm_buf_reset - empty the buffer, keep its memory, clear overflow */
void
cm_buf_reset(struct cm_buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* cm_buf_consume - drop the first n bytes */
void
cm_buf_consume(struct cm_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

/* cm_buf_str - the content as a C string */
const char *
cm_buf_str(struct cm_buf *b)
{
	return b->data ? b->data : "";
}

/* cm_buf_release - free the memory; the buffer stays usable and empty */
void
cm_buf_release(struct cm_buf *b)
{
	free(b->data);
	cm_buf_init(b, b->max);
}
