/* SPDX-License-Identifier: MIT */
/* Dead processes and waits: SIGKILL mid-command, death inside the model's lock, wait-up
 * accuracy, and completions postponed by a late arrival. */
#include "simtest.h"
#include "sim_shm.h"

#include <stdlib.h>
#include <string.h>

/* The child queues a 10 s kernel and sleeps waiting for it. */
static void long_child(int in, int out)
{
	(void)in;
	uint64_t k = kernel(0, 10000 * MS);

	put64(out, k);
	simgpu_wait(k);
}

static void sigkill_mid_command(void **state)
{
	struct simgpu_proc_stats st;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	struct child c = child_start(long_child);
	uint64_t ck = get64(c.from);
	uint32_t s = stream_new(0);
	/* Behind the child's kernel in the device queue, and waiting on it from a stream. */
	uint64_t mine = kernel(0, 5 * MS);
	uint64_t w = submit(SIMGPU_EVENT_WAIT, s, 0, ck);
	uint64_t after = kernel(s, MS);

	assert_false(simgpu_done(ck, NULL, NULL));
	assert_true(stats_of(c.pid, &st));
	assert_true(st.alive);
	kill(c.pid, SIGKILL);
	uint64_t t0 = simgpu_now_ns();

	simgpu_wait(mine);
	simgpu_wait(after);
	uint64_t waited = simgpu_now_ns() - t0;

	print_message("freed %.1f ms after the kill\n", waited / 1e6);
	assert_true(waited < 2000 * MS);
	assert_true(simgpu_done(ck, NULL, NULL)); /* dropped counts as done */
	assert_true(simgpu_done(w, NULL, NULL));
	assert_true(stats_of(c.pid, &st));
	assert_false(st.alive);
	assert_int_equal(st.submitted, 1);
	assert_int_equal(st.completed, 0);
	child_end(&c);
	assert_true(stats_of(c.pid, &st)); /* readable after it is reaped, too */
	assert_false(st.alive);
}

/* The child dies holding the segment's lock: the next caller repairs and goes on. */
static void lock_child(int in, int out)
{
	(void)in;
	uint64_t k = kernel(0, 10000 * MS);

	kernel(0, 5000 * MS);
	put64(out, k);
	struct sim_shm *s = sim_enter();

	if (!s)
		_exit(4);
	put64(out, 1);
	pause();
}

static void death_holding_lock(void **state)
{
	struct simgpu_proc_stats st;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_TIMESLICE, 2000), 0);
	uint64_t before = kernel(0, 3 * MS);
	struct child c = child_start(lock_child);
	uint64_t ck = get64(c.from);

	get64(c.from);
	kill(c.pid, SIGKILL);
	child_end(&c);
	uint64_t t0 = simgpu_now_ns();
	uint64_t mine = kernel(0, 5 * MS);
	struct span s = span_of(mine);

	assert_true(simgpu_now_ns() - t0 < 2000 * MS);
	assert_true(simgpu_done(before, NULL, NULL));
	assert_true(simgpu_done(ck, NULL, NULL));
	assert_int_equal(s.end - s.start, 5 * MS);
	assert_true(stats_of(c.pid, &st));
	assert_false(st.alive);
	/* The model still works for everybody afterwards. */
	uint32_t a = stream_new(0);
	struct span s2 = span_of(kernel(a, 2 * MS));

	assert_int_equal(s2.end - s2.start, 2 * MS);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* simgpu_wait returns soon after the model's completion time: the sleep is aimed at the
 * predicted completion, not polled. */
static void wait_accuracy(void **state)
{
	enum {
		N = 15
	};
	uint64_t err[N];

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_TIMESLICE, 2000), 0);
	for (int i = 0; i < N; i++) {
		uint64_t k = kernel(0, 3 * MS);
		uint64_t end;

		simgpu_wait(k);
		uint64_t now = simgpu_now_ns();

		assert_true(simgpu_done(k, NULL, &end));
		assert_true(now >= end);
		err[i] = now - end;
	}
	qsort(err, N, sizeof(err[0]), cmp_u64);
	print_message("wake-up error: median %.0f us, max %.0f us\n", err[N / 2] / 1e3,
	              err[N - 1] / 1e3);
	/* Typically tens of microseconds; the bound leaves room for a loaded CI machine. */
	assert_true(err[N / 2] < 2 * MS);
}

/* In timeslice mode a context arriving after the wait began postpones the completion; the
 * waiter neither returns early nor sleeps far past the new completion. */
static void late_child(int in, int out)
{
	get64(in);
	uint64_t k = kernel(0, 20 * MS);

	put64(out, k);
	simgpu_wait(k);
}

static void wait_postponed_by_late_arrival(void **state)
{
	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_TIMESLICE, 2000), 0);
	struct child c = child_start(late_child);

	/* The child is attached and ready before the parent's kernel starts. */
	simgpu_attach();
	uint64_t k = kernel(0, 10 * MS);

	put64(c.to, 1);
	simgpu_wait(k);
	uint64_t now = simgpu_now_ns();
	uint64_t ck = get64(c.from);
	struct span s;

	assert_true(simgpu_done(k, &s.start, &s.end));
	struct span sc = span_of(ck);

	child_end(&c);
	print_message("kernel of 10 ms took %.1f ms, woke %.0f us after its end\n",
	              (s.end - s.start) / 1e6, (now - s.end) / 1e3);
	assert_true(now >= s.end);
	assert_true(now - s.end < 50 * MS); /* loaded CI: the median check is wait_accuracy's */
	if (sc.start < s.start + 8 * MS)
		assert_true(s.end - s.start > 10 * MS);
}

/* A process killed while a waiter sleeps on a command queued behind it: the waiter looks
 * for dead processes at least every 50 ms, so it is not stuck for the 10 s. */
static void waiter_notices_death(void **state)
{
	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	struct child c = child_start(long_child);

	get64(c.from);
	uint64_t mine = kernel(0, MS);
	pid_t killer = fork();

	assert_true(killer >= 0);
	if (!killer) {
		in_child = true;
		usleep(100 * 1000);
		kill(c.pid, SIGKILL);
		_exit(0);
	}
	uint64_t t0 = simgpu_now_ns();

	simgpu_wait(mine);
	assert_true(simgpu_now_ns() - t0 < 3000 * MS);
	waitpid(killer, NULL, 0);
	child_end(&c);
}

/* exec() keeps the pid: the new image gets a clean slate (no stale completions, whose
 * tags belonged to the old image) and the process's ground truth carries on. */
static void count_drained(uint64_t tag, uint64_t start, uint64_t end, void *arg)
{
	(void)tag;
	(void)start;
	(void)end;
	++*(int *)arg;
}

static int exec_stage(void)
{
	struct simgpu_proc_stats st;
	int drained = 0;

	simgpu_drain_completed_times(count_drained, &drained);
	if (drained)
		return 10;
	struct simgpu_cmd c = { .kind = SIMGPU_KERNEL, .dev = 0, .duration_ns = MS };
	uint64_t k = simgpu_submit(&c);

	if (!k)
		return 11;
	simgpu_wait(k);
	simgpu_drain_completed_times(count_drained, &drained);
	if (drained != 1)
		return 12;
	if (simgpu_stats(getpid(), &st, 1) != 1 || !st.alive || st.submitted != 3 ||
	    st.completed != 2)
		return 13;
	return 0;
}

static void exec_keeps_pid_drops_image(void **state)
{
	char self[256];
	ssize_t n;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct simgpu_cmd c = {
			.kind = SIMGPU_KERNEL, .dev = 0, .duration_ns = 10 * US, .tag = 0xdead
		};
		uint64_t done = simgpu_submit(&c);

		simgpu_wait(done); /* completed, never drained */
		c.duration_ns = 10000 * MS;
		if (!done || !simgpu_submit(&c)) /* still pending at the exec */
			_exit(20);
		execl(self, self, "--exec-stage", (char *)NULL);
		_exit(21);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exec-stage"))
		return exec_stage();

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(sigkill_mid_command, teardown_segment),
		cmocka_unit_test_teardown(death_holding_lock, teardown_segment),
		cmocka_unit_test_teardown(wait_accuracy, teardown_segment),
		cmocka_unit_test_teardown(wait_postponed_by_late_arrival, teardown_segment),
		cmocka_unit_test_teardown(waiter_notices_death, teardown_segment),
		cmocka_unit_test_teardown(exec_keeps_pid_drops_image, teardown_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
