// SPDX-License-Identifier: MIT
/* Which entries a service constrains, how they share, and several services at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan.h"

#define US 1000.0
#define MS 1000000.0

static const struct allot_params ap = { .cmd_default_ns = 500 * US, .idle_floor = 1 };
/* plan_tops() works in the caller's memory: room for the largest case below. */
static struct allot_proc scratch[8];

static void two_levels_one_gpu(void **state)
{
	struct plan_svc s = { .gpu = 0, .prio = 0, .x_ns = 800 * US, .burst_cmds = 10 };
	struct plan_entry e[] = {
		{ .gpu = 0, .prio = 0, .active = true, .wmax = 64 }, /* the service */
		{ .gpu = 0, .prio = 2, .active = true, .cmd_ns = 200 * US, .wmax = 64 }, /* batch */
		{ .gpu = 0, .prio = 2, .active = true, .cmd_ns = 200 * US, .wmax = 64 }, /* batch */
		{ .gpu = 1,
		  .prio = 2,
		  .active = true,
		  .cmd_ns = 200 * US,
		  .wmax = 64 }, /* other GPU */
		{ .gpu = 0, .prio = 2, .active = true, .fixed = true, .fixed_window = 3 },
		{ .gpu = 0, .prio = 2, .active = false, .wmax = 64 }, /* idle, duration unknown */
	};

	(void)state;
	plan_tops(&s, 1, e, 6, &ap, scratch);
	assert_int_equal(s.n_low, 2);
	assert_true(s.ff_ok);
	assert_true(s.a_top_ns == 2 * 64 * 200 * US);
	plan_grants(&s, 1, e, 6, &ap);
	assert_false(e[0].controlled);
	assert_int_equal(e[0].out.w_idle, 64);
	/* 800 us over two: 400 us each, two 200 us commands. */
	assert_true(e[1].controlled);
	assert_int_equal(e[1].out.w_idle, 2);
	assert_int_equal(e[1].out.w_busy, 0);
	assert_int_equal(e[1].out.budget_idle_us, 400);
	assert_false(e[3].controlled);
	assert_false(e[4].controlled);
	assert_int_equal(e[4].out.w_idle, 3);
	assert_int_equal(e[4].out.w_busy, 3);
	/* The idle one is bounded as a third sharer: 266 us at 500 us assumed: the floor. */
	assert_true(e[5].controlled);
	assert_int_equal(e[5].out.w_idle, 1);
}

static void three_levels_take_the_tightest(void **state)
{
	struct plan_svc s[] = {
		{ .gpu = 0, .prio = 0, .x_ns = 400 * US, .burst_cmds = 1 },
		{ .gpu = 0, .prio = 1, .x_ns = 100 * MS, .burst_cmds = 1 },
	};
	struct plan_entry e[] = {
		{ .gpu = 0, .prio = 1, .active = true, .cmd_ns = 100 * US, .wmax = 64 },
		{ .gpu = 0, .prio = 2, .active = true, .cmd_ns = 100 * US, .wmax = 64 },
	};

	(void)state;
	plan_tops(s, 2, e, 2, &ap, scratch);
	assert_int_equal(s[0].n_low, 2);
	assert_int_equal(s[1].n_low, 1);
	plan_grants(s, 2, e, 2, &ap);
	/* The level-1 service shares 400 us with level 2; level 2 is also under level 1's
	 * (wide open) allowance: the tighter, level 0's, wins. */
	assert_int_equal(e[0].out.w_idle, 2);
	assert_int_equal(e[1].out.w_idle, 2);
	assert_true(e[0].controlled && e[1].controlled);
}

static void nobody_active_means_floor(void **state)
{
	struct plan_svc s = { .gpu = 0, .prio = 0, .x_ns = 0, .burst_cmds = 5 };
	struct plan_entry e = { .gpu = 0, .prio = 1, .active = false, .wmax = 64 };

	(void)state;
	plan_tops(&s, 1, &e, 1, &ap, scratch);
	assert_int_equal(s.n_low, 0);
	assert_true(s.a_top_ns == 0);
	plan_grants(&s, 1, &e, 1, &ap);
	assert_true(e.controlled);
	assert_int_equal(e.out.w_idle, 1);
	assert_int_equal(e.out.w_busy, 0);
}

/* A service may start open only when every active process under it is ranked below it by a
 * native knob too; idle ones, and other GPUs', do not count. */
static void native_below_needs_every_active_entry(void **state)
{
	struct plan_svc s = { .gpu = 0, .prio = 0, .burst_cmds = 1 };
	struct plan_entry e[] = {
		{ .gpu = 0,
		  .prio = 2,
		  .active = true,
		  .cmd_ns = 100 * US,
		  .wmax = 64,
		  .native_below = true },
		{ .gpu = 0, .prio = 2, .active = false, .wmax = 64 },
		{ .gpu = 1, .prio = 2, .active = true, .wmax = 64 },
		{ .gpu = 0,
		  .prio = 2,
		  .active = true,
		  .cmd_ns = 100 * US,
		  .wmax = 64,
		  .native_below = true },
	};

	(void)state;
	plan_tops(&s, 1, e, 4, &ap, scratch);
	assert_true(s.native_below);
	e[3].native_below = false;
	plan_tops(&s, 1, e, 4, &ap, scratch);
	assert_false(s.native_below);
	e[0].active = e[3].active = false;
	plan_tops(&s, 1, e, 4, &ap, scratch);
	assert_false(s.native_below); /* nobody under it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_levels_one_gpu),
		cmocka_unit_test(three_levels_take_the_tightest),
		cmocka_unit_test(nobody_active_means_floor),
		cmocka_unit_test(native_below_needs_every_active_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
