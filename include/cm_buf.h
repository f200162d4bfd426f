/*
 * NAME
 *	cm_buf 3h - bounded growable byte buffer
 * SYNOPSIS
 *	#include <cm_buf.h>
 *
 *	void	cm_buf_init(struct cm_buf *b, size_t max);
 *	int	cm_buf_append(struct cm_buf *b, const void *p, size_t n);
 *	int	cm_buf_putc(struct cm_buf *b, int c);
 *	int	cm_buf_printf(struct cm_buf *b, const char *fmt, ...);
 *	void	cm_buf_reset(struct cm_buf *b);
 *	void	cm_buf_consume(struct cm_buf *b, size_t n);
 *	const char *cm_buf_str(struct cm_buf *b);
 *	void	cm_buf_release(struct cm_buf *b);
 * DESCRIPTION
 *	A buffer that grows on demand up to "max" bytes (0: no bound). The
 *	content is always NUL-terminated so it can be used as a C string;
 *	"len" does not count that NUL.
 * DIAGNOSTICS
 *	The append functions return 0, or -1 when the bound would be passed
 *	or memory ran out; then nothing is appended and "overflow" is set
 *	until the next cm_buf_reset().
 */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stddef.h>

struct cm_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

void cm_buf_init(struct cm_buf *, size_t);
int cm_buf_append(struct cm_buf *, const void *, size_t);
int cm_buf_putc(struct cm_buf *, int);
int cm_buf_printf(struct cm_buf *, const char *, ...)
    __attribute__((__format__(printf, 2, 3)));
void cm_buf_reset(struct cm_buf *);
void cm_buf_consume(struct cm_buf *, size_t);
const char *cm_buf_str(struct cm_buf *);
void cm_buf_release(struct cm_buf *);

#endif
