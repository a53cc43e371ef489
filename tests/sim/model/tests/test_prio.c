/* SPDX-License-Identifier: MIT */
/*
 * The device model's priority actuators: stream priorities across processes in concurrent
 * mode (as MPS honours them), and CU-restricted streams (AMD CU masks). Every check is on
 * the model's own timestamps; each effect is shown against a control run without it.
 */
#include "simtest.h"

#include <errno.h>

/* The child: one stream of priority `prio` (sent first), then `n` kernels of 10 ms on it;
 * it reports when they are queued and sends their ids back once all are done. */
#define LOW_KERNELS 6
static void low_child(int in, int out)
{
	int prio = (int)(int64_t)get64(in);
	uint32_t st = stream_new(prio);
	uint64_t ids[LOW_KERNELS];

	for (int i = 0; i < LOW_KERNELS; i++)
		ids[i] = kernel(st, 10 * MS);
	put64(out, 1);
	for (int i = 0; i < LOW_KERNELS; i++) {
		simgpu_wait(ids[i]);
		put64(out, ids[i]);
	}
	get64(in);
}

/* The parent's stream at `parent_prio` submits three 5 ms kernels while the child's stream
 * (priority 0) has a queue of 10 ms kernels. Returns how many of the child's kernels
 * started while the parent had work queued or running. */
static int child_starts_during_parent(int parent_prio)
{
	assert_int_equal(sim_fresh(SIMGPU_CONCURRENT, 2000), 0);
	struct child c = child_start(low_child);

	put64(c.to, 0);
	get64(c.from);
	uint32_t st = stream_new(parent_prio);
	uint64_t p[3];

	for (int i = 0; i < 3; i++)
		p[i] = kernel(st, 5 * MS);
	struct span first = span_of(p[0]), last = span_of(p[2]);
	struct span prev = first;

	/* The parent's own kernels run back to back whatever the child does. */
	for (int i = 1; i < 3; i++) {
		struct span si = span_of(p[i]);

		assert_int_equal(si.start, prev.end);
		prev = si;
	}
	int during = 0;
	uint64_t child_last_end = 0;

	for (int i = 0; i < LOW_KERNELS; i++) {
		struct span sc = span_of(get64(c.from));

		if (sc.start > first.start && sc.start < last.end)
			during++;
		child_last_end = sc.end;
	}
	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	/* The child had work queued all along (60 ms of it against the parent's 15 ms). */
	assert_true(child_last_end > last.end);
	print_message("parent priority %d: %d child kernels started during its %.1f ms\n",
	              parent_prio, during, (last.end - first.start) / 1e6);
	return during;
}

/* concurrent: a more urgent stream of another process goes first at kernel boundaries; at
 * equal priority the two share the device and the child keeps starting kernels. */
static void concurrent_priority_across_processes(void **state)
{
	(void)state;
	assert_int_equal(child_starts_during_parent(-5), 0);
	teardown_segment(NULL);
	assert_true(child_starts_during_parent(0) >= 1);
}

/* A stream restricted to a quarter of the CUs runs its kernels at a quarter of the speed. */
static void cu_mask_slows_its_stream(void **state)
{
	uint32_t full, quarter;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	assert_int_equal(simgpu_stream_create_masked(0, 0, 0, &quarter), -EINVAL);
	assert_int_equal(simgpu_stream_create_masked(0, 0, SIMGPU_CU_FULL + 1, &quarter), -EINVAL);
	assert_int_equal(simgpu_stream_create_masked(0, 0, SIMGPU_CU_FULL / 4, &quarter), 0);
	assert_int_equal(simgpu_stream_create_masked(0, 0, SIMGPU_CU_FULL, &full), 0);
	struct span sq = span_of(kernel(quarter, 5 * MS));
	struct span sf = span_of(kernel(full, 5 * MS));

	/* Restricted rates are rounded to the ns at every step of the model: a few ns off. */
	assert_true(sq.end - sq.start + 1000 >= 20 * MS && sq.end - sq.start <= 20 * MS + 1000);
	assert_int_equal(sf.end - sf.start, 5 * MS);
}

/* The child: a 60 ms kernel on a stream with the CU share it is sent. */
static void masked_child(int in, int out)
{
	uint32_t share = (uint32_t)get64(in);
	uint32_t st;

	check(simgpu_stream_create_masked(0, 0, share, &st) == 0);
	uint64_t k = kernel(st, 60 * MS);

	put64(out, k);
	simgpu_wait(k);
	get64(in);
}

/* The parent's 10 ms kernel beside the child's long one: returns its span in ns. */
static uint64_t beside_masked(uint32_t share)
{
	assert_int_equal(sim_fresh(SIMGPU_CONCURRENT, 2000), 0);
	struct child c = child_start(masked_child);

	put64(c.to, share);
	uint64_t k = get64(c.from);
	struct span sp = span_of(kernel(0, 10 * MS));
	struct span sc = span_of(k);

	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	/* The child's kernel ran through the parent's whole kernel. */
	assert_true(sc.start <= sp.start && sc.end >= sp.end);
	print_message("beside a child at %u/%u of the CUs: parent kernel %.3f ms\n", share,
	              SIMGPU_CU_FULL, (sp.end - sp.start) / 1e6);
	return sp.end - sp.start;
}

/* concurrent: a CU-restricted stream leaves the rest of the device to others: beside a
 * quarter-device child the parent's kernel runs at 3/4 speed, beside an unrestricted one
 * at 1/2. */
static void cu_mask_leaves_the_rest(void **state)
{
	(void)state;
	uint64_t masked = beside_masked(SIMGPU_CU_FULL / 4);

	teardown_segment(NULL);
	uint64_t shared = beside_masked(SIMGPU_CU_FULL);
	uint64_t want = 10 * MS * 4 / 3;

	assert_true(masked + 1000 >= want && masked <= want + 1000);
	assert_true(shared + 1000 >= 20 * MS && shared <= 20 * MS + 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(concurrent_priority_across_processes, teardown_segment),
		cmocka_unit_test_teardown(cu_mask_slows_its_stream, teardown_segment),
		cmocka_unit_test_teardown(cu_mask_leaves_the_rest, teardown_segment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
