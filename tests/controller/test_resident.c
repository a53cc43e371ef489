// SPDX-License-Identifier: MIT
/* resident_calloc(): zeroed, resident at once, overflow refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resident.h"

/* This process's private resident memory, KiB (RssAnon in /proc/self/status). */
static long rss_anon_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* 16 MiB: far above malloc's mmap threshold, so without the touching the kernel would
 * provide the pages only on first write, after the call. */
static void resident_at_once(void **state)
{
	const size_t n = 16u << 20;
	long before, after;
	unsigned char *p;

	(void)state;
	before = rss_anon_kb();
	p = resident_calloc(n / 64, 64);
	after = rss_anon_kb();
	assert_non_null(p);
	assert_true(before >= 0 && after >= 0);
	/* The whole block, less a page of rounding, before anything else wrote to it. */
	assert_true(after - before >= (long)(n >> 10) - 4);
	for (size_t i = 0; i < n; i += 4093)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[n - 1], 0);
	free(p);
}

static void small_and_zero_sizes(void **state)
{
	unsigned char *p = resident_calloc(3, 5);
	void *z = resident_calloc(0, 8);

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 15; i++)
		assert_int_equal(p[i], 0);
	assert_non_null(z);
	free(p);
	free(z);
}

static void overflow_refused(void **state)
{
	(void)state;
	assert_null(resident_calloc(SIZE_MAX / 2, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resident_at_once),
		cmocka_unit_test(small_and_zero_sizes),
		cmocka_unit_test(overflow_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
