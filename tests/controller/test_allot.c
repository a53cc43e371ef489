// SPDX-License-Identifier: MIT
/* Allowance to windows and budgets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "allot.h"

#define US 1000.0

static const struct allot_params ap = { .cmd_default_ns = 500 * US,
	                                .idle_floor = 1,
	                                .burst_cmds = 10 };

static void tops(void **state)
{
	struct allot_proc p[2] = { { .cmd_ns = 200 * US, .wmax = 64 },
		                   { .cmd_ns = 0, .wmax = 8 } }; /* unknown: 500 us assumed */
	double a, b;

	(void)state;
	allot_tops(p, 2, &ap, &a, &b);
	/* max(64 * 200 us, 8 * 500 us) = 12.8 ms per process, times 2 processes. */
	assert_true(a == 2 * 12800 * US);
	assert_true(b == 10 * a);
}

static void floor_and_idle_range(void **state)
{
	struct allot_proc p = { .cmd_ns = 200 * US, .wmax = 64 };
	struct allot_out o;
	double a = 12800 * US, b = 128000 * US;

	(void)state;
	allot_one(0, a, b, 1, &p, &ap, &o);
	assert_int_equal(o.w_idle, 1);
	assert_int_equal(o.w_busy, 0);
	assert_int_equal(o.budget_idle_us, 1); /* never 0: 0 means unbounded */
	/* 1 ms over two processes: 500 us each, two 200 us commands. */
	allot_one(1000 * US, 2 * a, 2 * b, 2, &p, &ap, &o);
	assert_int_equal(o.w_idle, 2);
	assert_int_equal(o.budget_idle_us, 500);
	assert_int_equal(o.w_busy, 0);
}

static void busy_range_scales_with_burst(void **state)
{
	struct allot_proc p = { .cmd_ns = 200 * US, .wmax = 64 };
	struct allot_out o;
	double a = 12800 * US, b = 128000 * US;

	(void)state;
	/* 1.9 ms into the busy range, burst of 10 commands: below one command per launch. */
	allot_one(a + 1900 * US, a, b, 1, &p, &ap, &o);
	assert_int_equal(o.w_idle, 64);
	assert_int_equal(o.budget_idle_us, 0);
	assert_int_equal(o.w_busy, 0);
	allot_one(a + 4000 * US, a, b, 1, &p, &ap, &o);
	assert_int_equal(o.w_busy, 2);
	assert_int_equal(o.budget_busy_us, 400);
	allot_one(a + b, a, b, 1, &p, &ap, &o);
	assert_int_equal(o.w_busy, 64);
	assert_int_equal(o.budget_busy_us, 0);
}

/* The least busy allowance that opens a busy window: below it every W_busy is 0. */
static void busy_min_opens_the_first_busy_window(void **state)
{
	struct allot_proc p[2] = { { .cmd_ns = 200 * US, .wmax = 64 },
		                   { .cmd_ns = 0, .wmax = 8 } }; /* unknown: 500 us assumed */
	struct allot_out o;
	double a, b, m;

	(void)state;
	allot_tops(p, 2, &ap, &a, &b);
	m = allot_busy_min(p, 2, &ap);
	assert_true(m == 2 * 200 * US * 10); /* n * d * k of the shorter commands */
	for (int i = 0; i < 2; i++) {
		allot_one(a + 0.99 * m, a, b, 2, &p[i], &ap, &o);
		assert_int_equal(o.w_busy, 0);
	}
	allot_one(a + m, a, b, 2, &p[0], &ap, &o);
	assert_int_equal(o.w_busy, 1);
}

static void wmax_caps_floor(void **state)
{
	struct allot_proc p = { .cmd_ns = 200 * US, .wmax = 0 };
	struct allot_out o;

	(void)state;
	allot_one(0, 1, 1, 1, &p, &ap, &o); /* a static 0 window stays 0 */
	assert_int_equal(o.w_idle, 0);
}

static void min_of_services(void **state)
{
	struct allot_out acc = {
		.w_idle = 8, .w_busy = 2, .budget_idle_us = 0, .budget_busy_us = 300
	};
	struct allot_out o = {
		.w_idle = 4, .w_busy = 3, .budget_idle_us = 900, .budget_busy_us = 0
	};

	(void)state;
	allot_min(&acc, &o);
	assert_int_equal(acc.w_idle, 4);
	assert_int_equal(acc.w_busy, 2);
	assert_int_equal(acc.budget_idle_us, 900);
	assert_int_equal(acc.budget_busy_us, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tops),
		cmocka_unit_test(floor_and_idle_range),
		cmocka_unit_test(busy_range_scales_with_burst),
		cmocka_unit_test(busy_min_opens_the_first_busy_window),
		cmocka_unit_test(wmax_caps_floor),
		cmocka_unit_test(min_of_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
