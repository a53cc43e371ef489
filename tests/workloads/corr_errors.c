/* SPDX-License-Identifier: MIT */
/*
 * Error codes must reach the application unchanged through an interposed scheduler: unknown
 * kernels, bad frees, untimed events, the "not ready" answers of queries on busy work and,
 * on request, calls on destroyed streams and events. Each case compares the vendor's documented
 * code with what came back; afterwards ordinary work must still run (no error may stick to the
 * context).
 */
#include <stdio.h>

#include "corr.h"
#include "gpu_api.h"

struct tally {
	unsigned int cases, passed;
};

static void expect(struct tally *t, const char *what, int got, int want)
{
	t->cases++;
	if (got == want) {
		t->passed++;
		return;
	}
	fprintf(stderr, "%s: %s: got %s (%d), expected %s (%d)\n", wl_prog, what,
	        gpu->error_name(got), got, want ? gpu->error_name(want) : "success", want);
}

/* Handles used after destruction: undefined behaviour on real drivers (NVIDIA's 580 driver
 * answers CUDA_SUCCESS for a destroyed stream and crashes on a destroyed event), so these run
 * only when asked, against the simulator, where a scheduler must keep its answers. */
static void dangling_handles(struct tally *t, gpu_stream s)
{
	int handle = gpu->err_invalid_handle;
	gpu_stream dead_stream;
	gpu_event dead_event;

	gpu_check(gpu->stream_create(&dead_stream, false, 0), "stream create");
	gpu_check(gpu->stream_destroy(dead_stream), "stream destroy");
	gpu_check(gpu->event_create(&dead_event, false), "event create");
	gpu_check(gpu->event_destroy(dead_event), "event destroy");

	expect(t, "launch on a destroyed stream", gpu_launch_spin(dead_stream, 0), handle);
	expect(t, "synchronize a destroyed stream", gpu->stream_sync(dead_stream), handle);
	expect(t, "query a destroyed stream", gpu->stream_query(dead_stream), handle);
	expect(t, "record a destroyed event", gpu->event_record(dead_event, s), handle);
	expect(t, "synchronize a destroyed event", gpu->event_sync(dead_event), handle);
	expect(t, "query a destroyed event", gpu->event_query(dead_event), handle);
	expect(t, "stream wait on a destroyed event", gpu->stream_wait_event(s, dead_event),
	       handle);
}

void corr_expect_errors(const struct corr_args *a, unsigned int *cases, unsigned int *passed)
{
	struct tally t = { 0 };
	gpu_stream s;
	gpu_event untimed, e;
	gpu_func fn = NULL;
	gpu_ptr p;

	gpu_check(gpu->stream_create(&s, false, 0), "stream create");
	gpu_check(gpu->event_create(&untimed, false), "event create");
	gpu_check(gpu->event_create(&e, true), "event create");

	/* Elapsed time needs two timed events: the documented answer is "invalid handle". */
	gpu_check(gpu->event_record(untimed, s), "event record");
	gpu_check(gpu->event_record(e, s), "event record");
	gpu_check(gpu->stream_sync(s), "stream synchronize");
	float ms;
	expect(&t, "elapsed time of an event without timing",
	       gpu->event_elapsed_ms(&ms, untimed, e), gpu->err_invalid_handle);

	/* Queries of work still running answer "not ready", not an error nor success. */
	gpu_check(gpu_launch_spin(s, 200000), "kernel launch");
	gpu_check(gpu->event_record(e, s), "event record");
	expect(&t, "query a busy stream", gpu->stream_query(s), gpu->err_not_ready);
	expect(&t, "query a pending event", gpu->event_query(e), gpu->err_not_ready);
	expect(&t, "synchronize the busy stream", gpu->stream_sync(s), 0);
	expect(&t, "query the drained stream", gpu->stream_query(s), 0);
	expect(&t, "query the completed event", gpu->event_query(e), 0);

	expect(&t, "look up a kernel that does not exist",
	       gpu->module_function(gpu_current_module(), "no_such_kernel", &fn),
	       gpu->err_not_found);

	/* Frees of addresses that are not the start of a live allocation. */
	gpu_check(gpu->mem_alloc(&p, 4096), "device allocation");
	expect(&t, "free an address inside an allocation", gpu->mem_free(p + 64),
	       gpu->err_invalid_value);
	gpu_check(gpu->mem_free(p), "device free");
	expect(&t, "free an allocation twice", gpu->mem_free(p), gpu->err_invalid_value);

	if (a->dangling)
		dangling_handles(&t, s);

	/* After all of that, the context still works. */
	expect(&t, "launch after the errors", gpu_launch_spin(s, 10), 0);
	expect(&t, "synchronize after the errors", gpu->stream_sync(s), 0);

	gpu_check(gpu->event_destroy(e), "event destroy");
	gpu_check(gpu->event_destroy(untimed), "event destroy");
	gpu_check(gpu->stream_destroy(s), "stream destroy");
	*cases = t.cases;
	*passed = t.passed;
}
