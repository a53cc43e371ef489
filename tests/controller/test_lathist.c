// SPDX-License-Identifier: MIT
/* The histogram's buckets and its stated error bound against exact percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lathist.h"

static const double qs[] = { 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0 };

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the value of rank ceil(q n), computed in integers (q in thousandths). */
static uint64_t exact(const uint64_t *sorted, size_t n, double q)
{
	uint64_t qm = (uint64_t)llround(q * 1000.0), r = (qm * n + 999) / 1000;

	if (r < 1)
		r = 1;
	return sorted[r - 1];
}

static void check_bound(uint64_t *v, size_t n)
{
	struct lathist *h = malloc(sizeof(*h));

	assert_non_null(h);
	lathist_reset(h);
	for (size_t i = 0; i < n; i++)
		lathist_add(h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t e = exact(v, n, qs[i]), est = lathist_quantile(h, qs[i]);

		/* The header's bound: exact <= estimate < exact * (1 + 1/SUB). */
		if (est < e || (est > e && (double)est >= (double)e * (1.0 + LATHIST_REL_ERR)))
			fail_msg("q=%g n=%zu exact=%llu estimate=%llu", qs[i], n,
			         (unsigned long long)e, (unsigned long long)est);
	}
	assert_int_equal(lathist_quantile(h, 1.0), v[n - 1]);
	free(h);
}

static void buckets_tile_the_range(void **state)
{
	(void)state;
	assert_int_equal(lathist_lower(0), 0);
	for (uint32_t i = 0; i + 1 < LATHIST_BUCKETS; i++) {
		assert_int_equal(lathist_upper(i) + 1, lathist_lower(i + 1));
		assert_int_equal(lathist_index(lathist_lower(i)), i);
		assert_int_equal(lathist_index(lathist_upper(i)), i);
		if (i >= 2 * LATHIST_SUB) {
			uint64_t width = lathist_upper(i) - lathist_lower(i) + 1;
			/* The width bound the header states. */
			assert_true(width * LATHIST_SUB <= lathist_lower(i));
		}
	}
	assert_int_equal(lathist_upper(LATHIST_BUCKETS - 1), (1ull << LATHIST_MAX_BITS) - 1);
	assert_int_equal(lathist_index(UINT64_MAX), LATHIST_BUCKETS - 1);
}

static void empty_and_single(void **state)
{
	struct lathist *h = malloc(sizeof(*h));

	(void)state;
	lathist_reset(h);
	assert_int_equal(lathist_quantile(h, 0.99), 0);
	lathist_add(h, 1234567);
	assert_int_equal(lathist_quantile(h, 0.5), 1234567); /* clipped to the max seen */
	assert_int_equal(lathist_quantile(h, 0.0), 1234567);
	assert_int_equal(lathist_quantile(h, NAN), 1234567);
	free(h);
}

#define N 20000

static void bound_log_uniform(void **state)
{
	static uint64_t v[N];

	(void)state;
	for (int round = 0; round < 5; round++) {
		size_t n = 1 + rnd() % N;

		for (size_t i = 0; i < n; i++) /* 1 us .. 1 s, log-uniform */
			v[i] = (uint64_t)(1000.0 * pow(1e6, unif()));
		check_bound(v, n);
	}
}

static void bound_tight_and_tailed(void **state)
{
	static uint64_t v[N];

	(void)state;
	/* A service's bursts: about 1 ms with a few queueing outliers up to 20 ms. */
	for (size_t i = 0; i < N; i++)
		v[i] = 1000000 + rnd() % 50000 + (rnd() % 100 == 0 ? rnd() % 20000000 : 0);
	check_bound(v, N);
	/* Heavy tail (Pareto, alpha 1.2). */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)(100000.0 / pow(1.0 - unif(), 1.0 / 1.2));
	check_bound(v, N);
	/* Small values, exact buckets. */
	for (size_t i = 0; i < N; i++)
		v[i] = rnd() % 300;
	check_bound(v, N);
	/* Tiny samples: P99 of 7 values is the max. */
	for (size_t i = 0; i < 7; i++)
		v[i] = 1000 + rnd() % 5000000;
	check_bound(v, 7);
}

static void huge_values_clamp(void **state)
{
	struct lathist *h = malloc(sizeof(*h));

	(void)state;
	lathist_reset(h);
	lathist_add(h, 1000);
	lathist_add(h, 1ull << 40);
	assert_int_equal(h->clamped, 1);
	assert_int_equal(lathist_quantile(h, 1.0), (1ull << LATHIST_MAX_BITS) - 1);
	free(h);
}

static void merge_and_subtract(void **state)
{
	struct lathist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)),
	               *all = malloc(sizeof(*all));

	(void)state;
	lathist_reset(a);
	lathist_reset(b);
	lathist_reset(all);
	for (int i = 0; i < 5000; i++) {
		uint64_t x = rnd() % 10000000;

		lathist_add(i % 3 ? a : b, x);
		lathist_add(all, x);
	}
	lathist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->bucket, all->bucket, sizeof(a->bucket));
	lathist_subtract(a, b);
	assert_int_equal(a->count, all->count - b->count);
	lathist_subtract(a, all); /* more than it holds: saturates at zero, never wraps */
	assert_int_equal(a->count, 0);
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
		assert_int_equal(a->bucket[i], 0);
	free(a);
	free(b);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets_tile_the_range), cmocka_unit_test(empty_and_single),
		cmocka_unit_test(bound_log_uniform),      cmocka_unit_test(bound_tight_and_tailed),
		cmocka_unit_test(huge_values_clamp),      cmocka_unit_test(merge_and_subtract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
