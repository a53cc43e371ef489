// SPDX-License-Identifier: MIT
/* Per-command GPU time from counters: exact alone, an upper bound when shared, long commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmdest.h"

#define US 1000ull
#define MS 1000000ull

static void alone_is_exact(void **state)
{
	struct cmdest e;
	uint64_t c = 0;

	(void)state;
	cmdest_init(&e);
	/* 200 us commands back to back, read every 20 ms: 100 per interval. */
	for (uint64_t t = 0; t <= 1000 * MS; t += 20 * MS, c += 100)
		cmdest_update(&e, t, c, 4);
	assert_true(e.est_ns > 199 * US && e.est_ns < 201 * US);
}

static void follows_the_lower_envelope(void **state)
{
	struct cmdest e;
	uint64_t c = 0, t = 0;

	(void)state;
	cmdest_init(&e);
	cmdest_update(&e, t, c, 4);
	/* Shared with another process for a while: half the completions. */
	for (int i = 0; i < 50; i++)
		cmdest_update(&e, t += 20 * MS, c += 50, 4);
	assert_true(e.est_ns > 399 * US && e.est_ns < 401 * US);
	/* Alone again: the estimate drops at once. */
	cmdest_update(&e, t += 20 * MS, c += 100, 4);
	assert_true(e.est_ns < 201 * US);
	/* A slower interval moves it up only a little. */
	cmdest_update(&e, t += 20 * MS, c += 10, 4);
	assert_true(e.est_ns < 300 * US);
}

static void long_commands_span_intervals(void **state)
{
	struct cmdest e;
	uint64_t c = 0, t = 0;

	(void)state;
	cmdest_init(&e);
	cmdest_update(&e, t, c, 2);
	/* 50 ms commands: nothing completes in most intervals. */
	for (int i = 0; i < 40; i++) {
		t += 10 * MS;
		if (i % 5 == 4)
			c++;
		cmdest_update(&e, t, c, 2);
	}
	assert_true(e.est_ns > 49 * MS && e.est_ns < 51 * MS);
}

static void idle_restarts_the_span(void **state)
{
	struct cmdest e;

	(void)state;
	cmdest_init(&e);
	cmdest_update(&e, 0, 0, 0);
	/* Ran dry at the last look: the 1 s of idleness is not charged to 10 commands. */
	cmdest_update(&e, 1000 * MS, 10, 1);
	assert_true(e.est_ns == 0);
	cmdest_update(&e, 1002 * MS, 20, 1);
	assert_true(e.est_ns > 199 * US && e.est_ns < 201 * US);
	/* Counters going back (a new process image) restart too. */
	cmdest_update(&e, 1004 * MS, 3, 1);
	assert_true(e.est_ns > 199 * US && e.est_ns < 201 * US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alone_is_exact),
		cmocka_unit_test(follows_the_lower_envelope),
		cmocka_unit_test(long_commands_span_intervals),
		cmocka_unit_test(idle_restarts_the_span),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
