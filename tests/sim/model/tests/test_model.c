/* SPDX-License-Identifier: MIT */
/* The device model's scheduling: each mode's ordering, priorities, markers, ground truth. */
#include "simtest.h"

#include <errno.h>
#include <string.h>

/* fifo: one queue in global submission order, across processes and regardless of stream
 * priority. The parent's first kernel, then the child's, then the parent's urgent one. */
static void fifo_child(int in, int out)
{
	get64(in);
	uint64_t c1 = kernel(0, 10 * MS);

	put64(out, c1);
	simgpu_wait(c1);
	get64(in);
}

static void fifo_global_order(void **state)
{
	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	uint32_t urgent = stream_new(-5);
	uint64_t p1 = kernel(0, 60 * MS);
	struct child c = child_start(fifo_child);

	put64(c.to, 1);
	uint64_t c1 = get64(c.from);
	uint64_t p2 = kernel(urgent, 5 * MS);
	struct span s1 = span_of(p1), s2 = span_of(c1), s3 = span_of(p2);

	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	assert_true(s2.start >= s1.end);
	assert_true(s3.start >= s2.end);
	assert_int_equal(s3.end - s3.start, 5 * MS);
}

/* timeslice: two contexts with one long kernel each take turns; each kernel's own time
 * stays exact, but its span covers the other's turns too. */
static void ts_child(int in, int out)
{
	get64(in);
	uint64_t k = kernel(0, 30 * MS);

	put64(out, k);
	simgpu_wait(k);
	get64(in);
}

static void timeslice_alternation(void **state)
{
	struct simgpu_proc_stats ps, cs;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_TIMESLICE, 2000), 0);
	uint64_t p = kernel(0, 30 * MS);
	struct child c = child_start(ts_child);

	put64(c.to, 1);
	uint64_t k = get64(c.from);
	struct span sp = span_of(p), sc = span_of(k);

	assert_true(stats_of(getpid(), &ps));
	assert_true(stats_of(c.pid, &cs));
	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	print_message("timeslice: parent ends at %.1f ms, child runs %.1f..%.1f ms\n",
	              (sp.end - sp.start) / 1e6, (sc.start - sp.start) / 1e6,
	              (sc.end - sp.start) / 1e6);
	/* Unless the child came late, both are stretched by the other's turns. */
	if (sc.start < sp.start + 20 * MS) {
		assert_true(sp.end - sp.start >= 30 * MS + (sp.end - sc.start) / 3);
		assert_true(sp.end > sc.start + 2 * MS);
	}
	/* Busy time counts only turns on the device: exactly each kernel's duration. */
	assert_int_equal(ps.busy_ns, 30 * MS);
	assert_int_equal(cs.busy_ns, 30 * MS);
	assert_int_equal(ps.completed, 1);
	assert_int_equal(cs.completed, 1);
}

/* Two contexts alone on the device each get all of it; together, alternation is forced:
 * the slice boundaries are where the switches happen. */
static void timeslice_switches_at_slices(void **state)
{
	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_TIMESLICE, 5000), 0);
	uint64_t p = kernel(0, 20 * MS);
	struct child c = child_start(ts_child);

	put64(c.to, 1);
	uint64_t k = get64(c.from);
	struct span sp = span_of(p), sc = span_of(k);

	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	/* The child started at a slice boundary of the parent's turn, a multiple of 5 ms
	 * after the parent's start, and only after the parent had its first full slice. */
	if (sc.start < sp.end) {
		assert_int_equal((sc.start - sp.start) % (5 * MS), 0);
		assert_true(sc.start - sp.start >= 5 * MS);
	}
}

/* concurrent: both run at half speed while they overlap. */
static void conc_child(int in, int out)
{
	get64(in);
	uint64_t k = kernel(0, 30 * MS);

	put64(out, k);
	simgpu_wait(k);
	get64(in);
}

static void concurrent_sharing(void **state)
{
	struct simgpu_proc_stats ps;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_CONCURRENT, 2000), 0);
	uint64_t p = kernel(0, 30 * MS);
	struct child c = child_start(conc_child);

	put64(c.to, 1);
	uint64_t k = get64(c.from);
	struct span sp = span_of(p), sc = span_of(k);

	assert_true(stats_of(getpid(), &ps));
	put64(c.to, 1);
	assert_int_equal(child_end(&c), 0);
	print_message("concurrent: parent %.1f ms, child %.1f ms (overlap from %.1f ms)\n",
	              (sp.end - sp.start) / 1e6, (sc.end - sc.start) / 1e6,
	              (sc.start - sp.start) / 1e6);
	if (sc.start < sp.start + 20 * MS) {
		uint64_t overlap = sp.end - sc.start;

		/* While overlapping, each progressed at half speed. */
		assert_true(sp.end - sp.start >= 30 * MS + overlap / 2 - 1000);
		assert_true(sc.end - sc.start > 30 * MS);
		assert_true(sc.start < sp.end);
	}
	/* Busy is wall time with work running, here the whole span. */
	assert_int_equal(ps.busy_ns, sp.end - sp.start);
}

/* Within a context the most urgent ready stream head goes next; an event wait holds its
 * stream until the waited command is done. */
static void priorities_and_event_wait(void **state)
{
	enum simgpu_mode mode = *(enum simgpu_mode *)*state;

	assert_int_equal(sim_fresh(mode, 2000), 0);
	uint32_t a = stream_new(0), b = stream_new(-1), c = stream_new(-1);
	uint64_t k1 = kernel(a, 10 * MS);
	uint64_t k3 = kernel(a, 10 * MS);
	uint64_t r = submit(SIMGPU_EVENT_RECORD, a, 0, 0);
	uint64_t w = submit(SIMGPU_EVENT_WAIT, b, 0, r);
	uint64_t k2 = kernel(b, 5 * MS);
	uint64_t k4 = kernel(c, 5 * MS);
	struct span s1 = span_of(k1), s2 = span_of(k2), s3 = span_of(k3), s4 = span_of(k4);
	struct span sr = span_of(r), sw = span_of(w);

	if (mode == SIMGPU_FIFO) {
		/* Submission order, whatever the priorities. */
		assert_int_equal(s3.start, s1.end);
		assert_int_equal(s2.start, s3.end);
		assert_int_equal(s4.start, s2.end);
	} else {
		/* k4 (urgent, ready) overtakes k3; k2 (urgent) waits for the record after k3. */
		assert_int_equal(s4.start, s1.end);
		assert_int_equal(s3.start, s4.end);
		assert_int_equal(sr.end, s3.end);
		assert_int_equal(sw.end, sr.end);
		assert_int_equal(s2.start, s3.end);
	}
	assert_true(sw.end >= sr.end);
	assert_true(s2.start >= sr.end);
}

/* An event record completes when the work before it in its stream does. */
static void event_record_timing(void **state)
{
	struct simgpu_proc_stats st;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	uint32_t s = stream_new(0);
	uint64_t r0 = submit(SIMGPU_EVENT_RECORD, s, 0, 0);
	uint64_t k = kernel(s, 10 * MS);
	uint64_t r1 = submit(SIMGPU_EVENT_RECORD, s, 0, 0);

	assert_false(simgpu_done(r1, NULL, NULL));
	struct span a = span_of(r0), sk = span_of(k), b = span_of(r1);

	assert_int_equal(b.end, sk.end);
	assert_int_equal(sk.end - sk.start, 10 * MS);
	assert_true(b.end - a.end >= 10 * MS);
	assert_true(sk.start >= a.end);
	assert_true(stats_of(getpid(), &st));
	assert_int_equal(st.submitted, 1); /* markers are not work */
	assert_int_equal(st.completed, 1);
}

struct drained {
	uint64_t tags[16];
	int n;
};

static void collect(uint64_t tag, uint64_t start, uint64_t end, void *arg)
{
	struct drained *d = arg;

	(void)start;
	(void)end;
	if (d->n < 16)
		d->tags[d->n++] = tag;
}

/* Ground truth and the drain: completion order, in-flight maximum, busy time. */
static void ground_truth_and_drain(void **state)
{
	struct simgpu_proc_stats st;
	struct drained d = { .n = 0 };
	uint64_t last = 0;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	for (int i = 0; i < 5; i++) {
		struct simgpu_cmd c = {
			.kind = SIMGPU_KERNEL, .dev = 0, .duration_ns = 2 * MS, .tag = 100 + i
		};

		last = simgpu_submit(&c);
		assert_true(last != 0);
	}
	simgpu_wait_stream(0);
	assert_true(simgpu_done(last, NULL, NULL));
	simgpu_drain_completed_times(collect, &d);
	assert_int_equal(d.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(d.tags[i], 100 + i);
	d.n = 0;
	simgpu_drain_completed_times(collect, &d);
	assert_int_equal(d.n, 0);
	assert_true(stats_of(getpid(), &st));
	assert_int_equal(st.submitted, 5);
	assert_int_equal(st.completed, 5);
	assert_int_equal(st.max_inflight, 5);
	assert_int_equal(st.busy_ns, 10 * MS);
	assert_true(st.alive);
	assert_string_equal(st.comm, "test_simgpu_mod");
}

/* Bad streams and devices are refused; destroyed streams finish their work. */
static void bad_handles(void **state)
{
	struct simgpu_cmd c = { .kind = SIMGPU_KERNEL, .dev = 0, .duration_ns = MS };
	uint32_t s;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	assert_int_equal(simgpu_stream_create(1, 0, &s), -EINVAL);
	assert_int_equal(simgpu_stream_create(-1, 0, &s), -EINVAL);
	c.stream = 12345;
	assert_int_equal(simgpu_submit(&c), 0);
	assert_int_equal(errno, EINVAL);
	c.stream = 0;
	c.dev = 3;
	assert_int_equal(simgpu_submit(&c), 0);
	assert_int_equal(errno, EINVAL);
	c.dev = 0;
	c.kind = (enum simgpu_cmd_kind)42;
	assert_int_equal(simgpu_submit(&c), 0);
	s = stream_new(0);
	uint64_t k = kernel(s, 5 * MS);

	assert_int_equal(simgpu_stream_destroy(s), 0);
	assert_int_equal(simgpu_stream_destroy(s), -EINVAL);
	c.kind = SIMGPU_KERNEL;
	c.stream = s;
	assert_int_equal(simgpu_submit(&c), 0);
	simgpu_wait(k);
	assert_true(simgpu_done(k, NULL, NULL));
	/* The slot of a destroyed stream is reused under another id. */
	uint32_t s2 = stream_new(0);

	assert_true(s2 != s);
	assert_int_equal(simgpu_stream_destroy(s2), 0);
}

/* A process may have at most 1024 commands pending; the next submission blocks until one
 * completes, like a full hardware queue. */
static void full_queue_blocks(void **state)
{
	struct simgpu_proc_stats st;
	uint64_t last = 0;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	for (int i = 0; i < 1100; i++)
		last = kernel(0, 100 * US);
	simgpu_wait(last);
	assert_true(stats_of(getpid(), &st));
	assert_int_equal(st.submitted, 1100);
	assert_int_equal(st.completed, 1100);
	assert_int_equal(st.max_inflight, 1024);
}

/* The simgpu tool reports the same ground truth as one JSON object per line. */
static void tool_stats_json(void **state)
{
	char cmd[512], line[512], want[64];
	bool found = false;
	FILE *f;

	(void)state;
	assert_int_equal(sim_fresh(SIMGPU_FIFO, 2000), 0);
	simgpu_wait(kernel(0, MS));
	snprintf(cmd, sizeof(cmd), "%s stats --json", SIMGPU_TOOL);
	f = popen(cmd, "r");
	assert_non_null(f);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"dev\":0,", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		found = true;
		/* One command, alone: it waited for nobody, and no refill gap was seen. */
		assert_non_null(strstr(line,
		                       "\"alive\":true,\"submitted\":1,\"completed\":1,"
		                       "\"max_inflight\":1,\"busy_us\":1000,\"started\":1,"
		                       "\"wait_max_us\":0.0,\"wait_total_us\":0.0,\"gaps\":0,"));
	}
	assert_int_equal(pclose(f), 0);
	assert_true(found);
	snprintf(cmd, sizeof(cmd), "%s create --mode lifo 2>&1", SIMGPU_TOOL);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "bad --mode 'lifo'"));
	assert_int_equal(WEXITSTATUS(pclose(f)), 2);
}

int main(void)
{
	static enum simgpu_mode fifo = SIMGPU_FIFO, ts = SIMGPU_TIMESLICE, conc = SIMGPU_CONCURRENT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(fifo_global_order, teardown_segment),
		cmocka_unit_test_teardown(timeslice_alternation, teardown_segment),
		cmocka_unit_test_teardown(timeslice_switches_at_slices, teardown_segment),
		cmocka_unit_test_teardown(concurrent_sharing, teardown_segment),
		cmocka_unit_test_prestate_setup_teardown(priorities_and_event_wait, NULL,
		                                         teardown_segment, &fifo),
		cmocka_unit_test_prestate_setup_teardown(priorities_and_event_wait, NULL,
		                                         teardown_segment, &ts),
		cmocka_unit_test_prestate_setup_teardown(priorities_and_event_wait, NULL,
		                                         teardown_segment, &conc),
		cmocka_unit_test_teardown(event_record_timing, teardown_segment),
		cmocka_unit_test_teardown(ground_truth_and_drain, teardown_segment),
		cmocka_unit_test_teardown(bad_handles, teardown_segment),
		cmocka_unit_test_teardown(full_queue_blocks, teardown_segment),
		cmocka_unit_test_teardown(tool_stats_json, teardown_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
