// SPDX-License-Identifier: MIT
/* A service's views of its samples, and the law acting on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service.h"

#define US 1000ull
#define MS 1000000ull

static void views(void **state)
{
	struct svc s;
	uint64_t now = 20 * MS;

	(void)state;
	assert_int_equal(svc_init(&s, "online", 0, 0, 3 * MS, 1000 * MS, 20 * MS, 0), 0);
	assert_string_equal(s.name, "online");
	assert_int_equal(s.win.nslots, 50);
	svc_sample(&s, now, 1 * MS, 10);
	svc_sample(&s, now, 4 * MS, 20); /* a violation */
	assert_int_equal(s.int_n, 2);
	assert_int_equal(s.int_viol, 1);
	assert_int_equal(s.int_max_ns, 4 * MS);
	assert_true(s.burst_cmds > 10 && s.burst_cmds < 20);
	svc_tick(&s, now, 4 * MS, 8 * MS, true);
	/* Interval consumed; the window keeps both. */
	assert_int_equal(s.int_n, 0);
	assert_int_equal(s.last_win_n, 2);
	assert_true(s.last_p99_ns >= 4 * MS);
	svc_free(&s);
}

static void old_bursts_stay_out_of_the_evidence(void **state)
{
	struct svc s;
	uint64_t now = 0;

	(void)state;
	assert_int_equal(svc_init(&s, "online", 0, 0, 3 * MS, 1000 * MS, 20 * MS, 0), 0);
	/* Twenty quick samples at the floor: the law relaxes and restarts the evidence. */
	for (int i = 0; i < 20; i++)
		svc_sample(&s, now += 2 * MS, 1 * MS, 10);
	now += 20 * MS;
	assert_true(svc_tick(&s, now, 4 * MS, 8 * MS, true));
	assert_true(s.law.x_ns > 0);
	assert_int_equal(s.since.count, 0);
	assert_int_equal(s.since_start_ns, now);
	/* A burst that began before the change is in the window, not in the evidence. */
	svc_sample(&s, now + 1 * MS, 2 * MS, 10);
	svc_sample(&s, now + 3 * MS, 1 * MS, 10);
	assert_int_equal(s.since.count, 1);
	svc_free(&s);
}

static void few_slots_for_long_intervals(void **state)
{
	struct svc s;

	(void)state;
	assert_int_equal(svc_init(&s, "x", 1, 2, 3 * MS, 1000 * MS, 2000 * MS, 0), 0);
	assert_int_equal(s.win.nslots, 1);
	svc_free(&s);
	assert_int_equal(svc_init(&s, "x", 1, 2, 3 * MS, 10000 * MS, 1 * MS, 0), 0);
	assert_int_equal(s.win.nslots, 64);
	svc_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(views),
		cmocka_unit_test(old_bursts_stay_out_of_the_evidence),
		cmocka_unit_test(few_slots_for_long_intervals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
