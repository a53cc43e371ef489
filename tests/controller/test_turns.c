// SPDX-License-Identifier: MIT
/* Turns among time-sliced lower processes (turns.h), and what the plan makes of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "turns.h"

#define US   1000.0
#define MS   1000000ull
#define TICK (20 * MS)
#define Q    (100 * MS)

static const struct allot_params ap = { .cmd_default_ns = 500 * US, .idle_floor = 1 };
static struct allot_proc scratch[8];
static struct plan_svc svc = { .gpu = 0, .prio = 0, .x_ns = 2 * MS, .burst_cmds = 1 };

/* The service (key 0) and three time-sliced batch processes (keys 1..3), all busy. */
static void three_batch(struct plan_entry *e)
{
	e[0] = (struct plan_entry){ .gpu = 0,
		                    .prio = 0,
		                    .active = true,
		                    .wmax = 64,
		                    .key = 0,
		                    .sliced = true,
		                    .busy_now = true };
	for (int i = 1; i <= 3; i++)
		e[i] = (struct plan_entry){ .gpu = 0,
			                    .prio = 2,
			                    .active = true,
			                    .wmax = 64,
			                    .cmd_ns = 100 * US,
			                    .key = i,
			                    .sliced = true,
			                    .busy_now = true };
}

static int holder(const struct plan_entry *e, size_t n)
{
	int h = -1;

	for (size_t j = 0; j < n; j++) {
		if (e[j].turn == PLAN_TURN_HOLD) {
			assert_int_equal(h, -1); /* one holder at most */
			h = e[j].key;
		}
	}
	return h;
}

/* Waiters are suspended and take no share; the holder is planned alone, the service not at
 * all; the turn goes round every quantum, each member once per round. */
static void round_robin_every_quantum(void **state)
{
	struct turn_gpu g;
	struct plan_entry e[4];
	uint64_t now = 0;
	int seen[4] = { 0 }, last = -1, changes = 0;

	(void)state;
	turns_init(&g, 1);
	three_batch(e);
	for (int t = 0; t < 30; t++, now += TICK) { /* 600 ms: two rounds of three */
		int h;

		turns_tick(&g, 1, &svc, 1, e, 4, now, Q);
		h = holder(e, 4);
		assert_true(h >= 1 && h <= 3);
		assert_int_equal(e[0].turn, PLAN_TURN_NONE);
		for (int j = 1; j <= 3; j++)
			assert_int_equal(e[j].turn, j == h ? PLAN_TURN_HOLD : PLAN_TURN_WAIT);
		if (h != last) {
			changes++;
			last = h;
		}
		seen[h]++;
		plan_tops(&svc, 1, e, 4, &ap, scratch);
		assert_int_equal(svc.n_low, 1);
		plan_grants(&svc, 1, e, 4, &ap);
		for (int j = 1; j <= 3; j++) {
			if (j == h) {
				/* The whole 2 ms: 20 commands of 100 us. */
				assert_int_equal(e[j].out.w_idle, 20);
				assert_int_equal(e[j].out.budget_idle_us, 2000);
			} else {
				assert_true(e[j].controlled);
				assert_int_equal(e[j].out.w_idle, 0);
				assert_int_equal(e[j].out.w_busy, 0);
			}
		}
		assert_false(e[0].controlled);
		for (int j = 1; j <= 3; j++) /* the busy flag of a waiter is false */
			e[j].busy_now = e[j].turn == PLAN_TURN_HOLD;
	}
	assert_int_equal(changes, 6);
	for (int j = 1; j <= 3; j++)
		assert_int_equal(seen[j], 10);
}

/* A holder with nothing to do for two intervals passes the turn at once and leaves the
 * rotation; when it launches again it rejoins. */
static void idle_holder_passes_and_rejoins(void **state)
{
	struct turn_gpu g;
	struct plan_entry e[4];
	uint64_t now = 0;
	int h, h2;

	(void)state;
	turns_init(&g, 1);
	three_batch(e);
	turns_tick(&g, 1, &svc, 1, e, 4, now, Q);
	h = holder(e, 4);
	e[h].busy_now = false;
	turns_tick(&g, 1, &svc, 1, e, 4, now += TICK, Q);
	assert_int_equal(holder(e, 4), h);
	turns_tick(&g, 1, &svc, 1, e, 4, now += TICK, Q);
	h2 = holder(e, 4);
	assert_true(h2 != h && h2 > 0);
	assert_false(e[h].member);
	assert_int_equal(e[h].turn, PLAN_TURN_NONE);
	/* Idle and out of the rotation: bounded by the plan like any idle process. */
	e[h].active = false;
	plan_tops(&svc, 1, e, 4, &ap, scratch);
	plan_grants(&svc, 1, e, 4, &ap);
	assert_true(e[h].out.w_idle >= 1);
	e[h].busy_now = e[h].active = true;
	turns_tick(&g, 1, &svc, 1, e, 4, now += TICK, Q);
	assert_true(e[h].member);
	assert_int_equal(e[h].turn, PLAN_TURN_WAIT);
	assert_int_equal(holder(e, 4), h2);
}

/* No turns: one member alone, processes under MPS (not time-sliced), nobody to protect,
 * or turns off. */
static void when_there_are_no_turns(void **state)
{
	struct turn_gpu g;
	struct plan_entry e[4];

	(void)state;
	turns_init(&g, 1);
	three_batch(e);
	e[2].busy_now = e[3].busy_now = false;
	turns_tick(&g, 1, &svc, 1, e, 4, 0, Q);
	assert_int_equal(holder(e, 4), -1);
	for (int j = 0; j < 4; j++)
		assert_int_equal(e[j].turn, PLAN_TURN_NONE);

	three_batch(e);
	for (int j = 1; j <= 3; j++)
		e[j].sliced = false;
	turns_tick(&g, 1, &svc, 1, e, 4, TICK, Q);
	for (int j = 0; j < 4; j++)
		assert_int_equal(e[j].turn, PLAN_TURN_NONE);

	three_batch(e);
	turns_tick(&g, 1, NULL, 0, e, 4, 2 * TICK, Q); /* no service on the GPU */
	for (int j = 0; j < 4; j++)
		assert_false(e[j].member);
	for (int j = 0; j < 4; j++)
		assert_int_equal(e[j].turn, PLAN_TURN_NONE);

	three_batch(e);
	turns_tick(&g, 1, &svc, 1, e, 4, 3 * TICK, 0);
	for (int j = 0; j < 4; j++)
		assert_int_equal(e[j].turn, PLAN_TURN_NONE);
	plan_tops(&svc, 1, e, 4, &ap, scratch);
	assert_int_equal(svc.n_low, 3);
}

/* Each GPU has its own rotation; a holder that exits hands over at once. */
static void per_gpu_and_exit(void **state)
{
	struct turn_gpu g[2];
	struct plan_svc s2[2] = { svc, svc };
	struct plan_entry e[5];
	int h;

	(void)state;
	s2[1].gpu = 1;
	turns_init(g, 2);
	three_batch(e);
	e[4] = e[3];
	e[4].key = 4;
	e[4].gpu = 1; /* alone on GPU 1 */
	turns_tick(g, 2, s2, 2, e, 5, 0, Q);
	assert_int_equal(e[4].turn, PLAN_TURN_NONE);
	h = holder(e, 4);
	assert_true(h >= 1);
	/* The holder exits: the caller drops its entry. */
	e[h] = e[3];
	turns_tick(g, 2, s2, 2, e, 3 + (h != 3), TICK, Q);
	assert_true(holder(e, 3 + (h != 3)) >= 1);
	assert_true(holder(e, 3 + (h != 3)) != h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_robin_every_quantum),
		cmocka_unit_test(idle_holder_passes_and_rejoins),
		cmocka_unit_test(when_there_are_no_turns),
		cmocka_unit_test(per_gpu_and_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
