// SPDX-License-Identifier: MIT
/* The sliding window: expiry by sample time, late samples, and the error bound over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "latwin.h"

#define MS 1000000ull

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void expiry(void **state)
{
	struct latwin w;

	(void)state;
	assert_int_equal(latwin_init(&w, 1000 * MS, 50, 0), 0); /* 1 s in 20 ms slots */
	assert_true(latwin_add(&w, 5 * MS, 7 * MS));
	latwin_advance(&w, 500 * MS);
	assert_true(latwin_add(&w, 499 * MS, 2 * MS));
	assert_int_equal(latwin_count(&w), 2);
	assert_int_equal(latwin_max(&w), 7 * MS);
	/* The first sample's slot [0, 20 ms) leaves when the window starts past it. */
	latwin_advance(&w, 999 * MS);
	assert_int_equal(latwin_start(&w), 0);
	assert_int_equal(latwin_count(&w), 2);
	latwin_advance(&w, 1000 * MS);
	assert_int_equal(latwin_start(&w), 20 * MS);
	assert_int_equal(latwin_count(&w), 1);
	assert_int_equal(latwin_max(&w), 2 * MS); /* max recomputed after expiry */
	assert_true(latwin_quantile(&w, 0.99) >= 2 * MS);
	/* A long silence clears everything. */
	latwin_advance(&w, 10000 * MS);
	assert_int_equal(latwin_count(&w), 0);
	assert_int_equal(latwin_max(&w), 0);
	assert_int_equal(latwin_quantile(&w, 0.99), 0);
	latwin_free(&w);
}

static void late_and_old_samples(void **state)
{
	struct latwin w;

	(void)state;
	assert_int_equal(latwin_init(&w, 1000 * MS, 10, 0), 0); /* 100 ms slots */
	latwin_advance(&w, 2000 * MS);
	assert_true(latwin_add(&w, 1950 * MS, 1)); /* read late: filed by its own time */
	assert_true(latwin_add(&w, latwin_start(&w), 2));
	assert_false(latwin_add(&w, latwin_start(&w) - 1, 3)); /* older than the window */
	assert_true(latwin_add(&w, 5000 * MS, 4));             /* ahead: the newest slot */
	assert_int_equal(latwin_count(&w), 3);
	/* The sample filed at the window start expires first. */
	latwin_advance(&w, 2100 * MS);
	assert_int_equal(latwin_count(&w), 2);
	latwin_advance(&w, 1000 * MS); /* time going back is ignored */
	assert_int_equal(latwin_count(&w), 2);
	latwin_free(&w);
}

static void bad_geometry(void **state)
{
	struct latwin w;

	(void)state;
	assert_int_equal(latwin_init(&w, 1000, 0, 0), -1);
	assert_int_equal(latwin_init(&w, 5, 10, 0), -1);
}

/* Random arrivals over 20 s; at every tick the window's quantiles must match the exact
 * quantiles of exactly the samples it claims to hold, within the histogram's bound. */
static void random_stream_matches_exact(void **state)
{
	enum {
		MAXS = 40000
	};
	static uint64_t t[MAXS], v[MAXS], live[MAXS];
	const double qs[] = { 0.5, 0.99, 1.0 };
	struct latwin w;
	size_t n = 0;
	uint64_t now = 0;

	(void)state;
	assert_int_equal(latwin_init(&w, 1000 * MS, 50, 0), 0);
	while (now < 20000 * MS && n < MAXS) {
		now += 20 * MS;
		latwin_advance(&w, now);
		/* 0..6 samples per tick, some ending up to 60 ms before they are read. */
		for (int k = (int)(rnd() % 7); k > 0 && n < MAXS; k--) {
			t[n] = now - (now > 60 * MS ? rnd() % (60 * MS) : 0);
			v[n] = 500000 + rnd() % 3000000 + (rnd() % 50 ? 0 : rnd() % 30000000);
			if (latwin_add(&w, t[n], v[n]))
				n++;
		}
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (t[i] >= latwin_start(&w))
				live[m++] = v[i];
		assert_int_equal(latwin_count(&w), m);
		if (!m)
			continue;
		qsort(live, m, sizeof(*live), cmp_u64);
		for (size_t i = 0; i < 3; i++) {
			uint64_t qm = (uint64_t)llround(qs[i] * 1000.0), r = (qm * m + 999) / 1000;
			uint64_t e = live[(r ? r : 1) - 1], est = latwin_quantile(&w, qs[i]);

			assert_true(est >= e);
			assert_true(est == e || (double)est < (double)e * (1.0 + LATHIST_REL_ERR));
		}
	}
	latwin_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expiry),
		cmocka_unit_test(late_and_old_samples),
		cmocka_unit_test(bad_geometry),
		cmocka_unit_test(random_stream_matches_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
