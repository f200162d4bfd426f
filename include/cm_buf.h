/*
 * NAME
 *	cm_buf 3h - bounded growable byte buffer
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
 *	A buffer that grows on demand up to "max" bytes (0: no bound). The
 *	content is always NUL-terminated so it can be used as a C string;
 *	"len" does not count that NUL. cm_buf_reserve() makes room for n
 *	more bytes at once, so a buffer about to take a known amount grows
 *	once instead of doubling its way there.
 *
 *	cm_buf_append() and cm_buf_putc() are inline here when the room is
 *	there already (every log line appends dozens of small pieces), and
 *	call cm_buf_append_grow() otherwise; buf.c holds their external
 *	definitions. The fields are theirs: callers read data and len only.
 * DIAGNOSTICS
 *	The append functions return 0, or -1 when the bound would be passed
 *	or memory ran out; then nothing is appended and "overflow" is set
 *	until the next cm_buf_reset().
 */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stddef.h>
#include <string.h>

struct cm_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

void cm_buf_init(struct cm_buf *, size_t);
int cm_buf_reserve(struct cm_buf *, size_t);
int cm_buf_printf(struct cm_buf *, const char *, ...)
    __attribute__((__format__(printf, 2, 3)));
void cm_buf_reset(struct cm_buf *);
void cm_buf_consume(struct cm_buf *, size_t);
const char *cm_buf_str(struct cm_buf *);
void cm_buf_release(struct cm_buf *);

/* The appends when the room is short: grow (or fail), then append. */
int cm_buf_append_grow(struct cm_buf *, const void *, size_t);

/* Longer appends always take the call: memcpy() dominates them anyway,
 * and a huge constant length then never reaches an inline memcpy(). */
#define CM_BUF_INLINE_MAX 4096

/*
 * cm_buf_append - append n bytes. The room test is enough on its own:
 * cap is 0 before the first allocation and never passes max + 1, so
 * n < cap - len means the bound holds too.
 */
inline int
cm_buf_append(struct cm_buf *b, const void *p, size_t n)
{
	if (n > CM_BUF_INLINE_MAX || n >= b->cap - b->len)
		return cm_buf_append_grow(b, p, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* cm_buf_putc - append one byte */
inline int
cm_buf_putc(struct cm_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	if (b->cap - b->len < 2)
		return cm_buf_append_grow(b, &ch, 1);
	b->data[b->len++] = (char)ch;
	b->data[b->len] = '\0';
	return 0;
}

#endif
