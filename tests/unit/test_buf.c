/*
 * NAME
 *	test_buf - unit tests of cm_buf (common/buf.c) and cm_util (util.c)
 * SYNOPSIS
 *	tests/unit/test_buf
 * DESCRIPTION
 *	Tables of appends against bounds (exact fit, one past, 0 = none),
 *	formatted appends that must grow the buffer, NUL bytes in content,
 *	consume, reset and release; cm_strlcpy() truncation; the start-up
 *	allocators; the clocks never go backwards.
 * DIAGNOSTICS
 *	TAP through cmocka: one line per test, "not ok" with the reason
 *	when one fails; the exit status is then non-zero.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_buf.h"
#include "cm_util.h"

struct append_case {
	const char *name;
	size_t max;
	const char *parts[4]; /* appended in order, NULL ends */
	const char *want; /* content after the appends */
	int fails; /* index of the first failing part, or -1 */
};

static const struct append_case append_cases[] = {
	{ "unbounded", 0, { "abc", "def", NULL }, "abcdef", -1 },
	{ "exact fit", 6, { "abc", "def", NULL }, "abcdef", -1 },
	{ "one past", 5, { "abc", "def", NULL }, "abc", 1 },
	{ "after overflow", 5, { "abc", "def", "x", NULL }, "abcx", 1 },
	{ "empty parts", 1, { "", "", "a", NULL }, "a", -1 },
	{ "bound 1", 1, { "ab", "a", "b", NULL }, "a", 0 },
};

/* test_append - cm_buf_append() against bounds */
static void
test_append(void **state)
{
	struct cm_buf b;
	size_t i, j;
	int r, first;

	for (i = 0; i < countof(append_cases); i++) {
		const struct append_case *c = &append_cases[i];

		cm_buf_init(&b, c->max);
		first = -1;
		for (j = 0; c->parts[j] != NULL; j++) {
			r = cm_buf_append(&b, c->parts[j], strlen(c->parts[j]));
			if (r == -1 && first == -1)
				first = (int)j;
		}
		if (strcmp(cm_buf_str(&b), c->want) != 0 || first != c->fails)
			fail_msg("%s: got %s (fail %d), want %s (fail %d)",
			    c->name, cm_buf_str(&b), first, c->want, c->fails);
		assert_int_equal(b.len, strlen(c->want));
		assert_int_equal(b.overflow, c->fails != -1);
		if (c->max)
			assert_true(b.len <= c->max);
		cm_buf_release(&b);
	}
}

/* test_printf - growth, bounds, and formats longer than the room */
static void
test_printf(void **state)
{
	struct cm_buf b;
	char want[3000];
	int i;

	cm_buf_init(&b, 0);
	assert_string_equal(cm_buf_str(&b), "");
	for (i = 0; i < 100; i++)
		assert_int_equal(cm_buf_printf(&b, "%04d,", i), 0);
	assert_int_equal(b.len, 500);
	assert_memory_equal(b.data, "0000,0001,", 10);
	assert_string_equal(b.data + 495, "0099,");
	cm_buf_reset(&b);
	memset(want, 'x', 2999);
	want[2999] = '\0';
	assert_int_equal(cm_buf_printf(&b, "%s", want), 0);
	assert_string_equal(cm_buf_str(&b), want);
	cm_buf_release(&b);

	cm_buf_init(&b, 10);
	assert_int_equal(cm_buf_printf(&b, "%s", "12345"), 0);
	assert_int_equal(cm_buf_printf(&b, "%s", "123456"), -1);
	assert_string_equal(cm_buf_str(&b), "12345");
	assert_true(b.overflow);
	assert_int_equal(cm_buf_printf(&b, "%d", 12345), 0);
	assert_string_equal(cm_buf_str(&b), "1234512345");
	assert_int_equal(cm_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(cm_buf_putc(&b, 'x'), -1);
	cm_buf_reset(&b);
	assert_false(b.overflow);
	assert_int_equal(cm_buf_putc(&b, 'x'), 0);
	assert_string_equal(cm_buf_str(&b), "x");
	cm_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 10);
	assert_string_equal(cm_buf_str(&b), "");
}

/* test_binary - NUL bytes in content, consume */
static void
test_binary(void **state)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	assert_int_equal(cm_buf_append(&b, "a\0b\0c", 5), 0);
	assert_int_equal(cm_buf_putc(&b, 0), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "a\0b\0c\0", 7);
	cm_buf_consume(&b, 2);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "b\0c\0", 5);
	cm_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_string_equal(cm_buf_str(&b), "");
	cm_buf_consume(&b, 1);
	cm_buf_release(&b);
	cm_buf_consume(&b, 1); /* on a released buffer */
	cm_buf_reset(&b);
	cm_buf_release(&b);
}

/* test_big - a growing buffer keeps every byte */
static void
test_big(void **state)
{
	struct cm_buf b;
	size_t i;

	cm_buf_init(&b, 1 << 20);
	for (i = 0; i < (1 << 20); i++)
		assert_int_equal(cm_buf_putc(&b, (int)(i & 0xff)), 0);
	assert_int_equal(cm_buf_putc(&b, 0), -1);
	for (i = 0; i < (1 << 20); i++)
		if ((unsigned char)b.data[i] != (i & 0xff))
			fail_msg("byte %zu: got %d", i, b.data[i]);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(cm_buf_append(&b, "x", SIZE_MAX), -1);
	cm_buf_release(&b);
	cm_buf_init(&b, 0);
	assert_int_equal(cm_buf_append(&b, "x", 1), 0);
	assert_int_equal(cm_buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(cm_buf_append(&b, "x", SIZE_MAX / 2), -1);
	assert_true(b.overflow);
	assert_string_equal(cm_buf_str(&b), "x");
	cm_buf_release(&b);
}

struct strlcpy_case {
	const char *name;
	const char *src;
	size_t size;
	const char *want;
	int ret;
};

static const struct strlcpy_case strlcpy_cases[] = {
	{ "fits", "abc", 8, "abc", 0 },
	{ "exact", "abcdefg", 8, "abcdefg", 0 },
	{ "one over", "abcdefgh", 8, "abcdefg", -1 },
	{ "empty", "", 1, "", 0 },
	{ "size 1", "a", 1, "", -1 },
	{ "size 0", "a", 0, "ZZ", -1 },
};

/* test_strlcpy - truncation is reported */
static void
test_strlcpy(void **state)
{
	char dst[8];
	size_t i;
	int r;

	for (i = 0; i < countof(strlcpy_cases); i++) {
		const struct strlcpy_case *c = &strlcpy_cases[i];

		memcpy(dst, "ZZ", 3);
		r = cm_strlcpy(dst, c->src, c->size);
		if (r != c->ret || strcmp(dst, c->want) != 0)
			fail_msg("%s: got %d %s, want %d %s", c->name, r, dst,
			    c->ret, c->want);
	}
}

/* test_util - allocators and clocks */
static void
test_util(void **state)
{
	uint64_t a, b;
	char *s, *p;
	int *z;

	s = cm_xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	p = cm_xmalloc(0);
	assert_non_null(p);
	free(p);
	z = cm_xcalloc(4, sizeof *z);
	assert_int_equal(z[0] | z[1] | z[2] | z[3], 0);
	free(z);
	free(cm_xcalloc(0, 0));
	a = cm_mono_ms();
	b = cm_mono_ms();
	assert_true(b >= a);
	a = cm_mono_us();
	b = cm_mono_us();
	assert_true(b >= a);
	assert_true(cm_wall_ms() > 1600000000000ULL);
	assert_int_equal(countof(strlcpy_cases), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_util),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
