/*
 * NAME
 *	cm_util 3h - small helpers shared by every module
 * SYNOPSIS
 *	#include <cm_util.h>
 * DESCRIPTION
 *	countof(), checked allocation for start-up paths, a bounded string
 *	copy that reports truncation, and a monotonic clock.
 */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define countof(a) (sizeof(a) / sizeof((a)[0]))

/* Start-up allocators: they call cm_fatal() when memory runs out. */
void *cm_xmalloc(size_t);
void *cm_xcalloc(size_t, size_t);
char *cm_xstrdup(const char *);

/* cm_strlcpy - copy with truncation check; returns -1 when src did not fit. */
int cm_strlcpy(char *dst, const char *src, size_t dstsize);

/* cm_utf8_len - bytes in the valid UTF-8 sequence at s, 0 if invalid. */
size_t cm_utf8_len(const unsigned char *s, size_t n);

/* Milliseconds and microseconds of CLOCK_MONOTONIC; wall clock in ms. */
uint64_t cm_mono_ms(void);
uint64_t cm_mono_us(void);
uint64_t cm_wall_ms(void);

#endif
