/*
 * NAME
 *	util 3 - small helpers shared by every module
 * SYNOPSIS
 *	#include <cm_util.h>
 *
 *	void	*cm_xmalloc(size_t size);
 *	void	*cm_xcalloc(size_t n, size_t size);
 *	char	*cm_xstrdup(const char *s);
 *	int	cm_strlcpy(char *dst, const char *src, size_t dstsize);
 *	uint64_t cm_mono_ms(void);
 *	uint64_t cm_mono_us(void);
 *	uint64_t cm_wall_ms(void);
 * DESCRIPTION
 *	cm_xmalloc(), cm_xcalloc() and cm_xstrdup() are for start-up paths
 *	only: when memory runs out they call cm_fatal(). A zero size asks
 *	for one byte, so the result is never NULL.
 *
 *	cm_strlcpy() copies src into dst (always NUL-terminated when dstsize
 *	is not 0) and reports truncation.
 *
 *	cm_mono_ms() and cm_mono_us() read CLOCK_MONOTONIC, for timeouts and
 *	elapsed times; cm_wall_ms() reads CLOCK_REALTIME, for time stamps.
 * DIAGNOSTICS
 *	cm_strlcpy() returns 0, or -1 when src did not fit (dst then holds
 *	the truncated prefix). The allocators exit through cm_fatal().
 * SEE ALSO
 *	cm_log(3h) for cm_fatal().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_log.h"
#include "cm_util.h"

/* cm_xmalloc - malloc that exits on failure */
void *
cm_xmalloc(size_t size)
{
	void *p;

	if ((p = malloc(size ? size : 1)) == NULL)
		cm_fatal("out of memory allocating %zu bytes", size);
	return p;
}

/* cm_xcalloc - calloc that exits on failure, overflow checked by calloc */
void *
cm_xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		cm_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

/* cm_xstrdup - strdup that exits on failure */
char *
cm_xstrdup(const char *s)
{
	size_t n;
	char *p;

	n = strlen(s) + 1;
	p = cm_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

/* cm_strlcpy - bounded copy; -1 when src did not fit */
int
cm_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t n;

	if (dstsize == 0)
		return -1;
	n = strnlen(src, dstsize);
	if (n == dstsize) {
		memcpy(dst, src, dstsize - 1);
		dst[dstsize - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/* clock_ns - read one clock in nanoseconds */
static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) == -1)
		cm_panic("clock_gettime: cannot read clock %d", (int)id);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* cm_mono_ms - monotonic milliseconds */
uint64_t
cm_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

/* cm_mono_us - monotonic microseconds */
uint64_t
cm_mono_us(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000u;
}

/* cm_wall_ms - wall-clock milliseconds since the epoch */
uint64_t
cm_wall_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000u;
}

/*
 * cm_utf8_len - length of the valid UTF-8 sequence at s (n > 0 bytes
 * left), or 0 when it is not one: no overlong forms, no surrogates,
 * nothing above U+10FFFF. Shared by every module that checks UTF-8.
 */
size_t
cm_utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned int cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}
