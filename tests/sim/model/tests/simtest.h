/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the device model's tests: a fresh segment per test, submissions in
 * milliseconds, and child processes that talk to the parent through a pipe. Ordering is
 * asserted on the model's own timestamps, which do not depend on how loaded the machine is;
 * only wall-clock checks get tolerances.
 */
#ifndef XSCHED_SIM_TEST_H
#define XSCHED_SIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simgpu.h"

#define MS 1000000ull
#define US 1000ull

/* In a forked child a failed check must end the child, not unwind into cmocka's runner
 * (which would go on running the remaining tests in the child). */
static bool in_child;

#define check(cond)                                                                                \
	do {                                                                                       \
		if (in_child && !(cond)) {                                                         \
			fprintf(stderr, "child %d: check failed at %s:%d: %s\n", getpid(),         \
			        __FILE__, __LINE__, #cond);                                        \
			_exit(5);                                                                  \
		}                                                                                  \
		assert_true(cond);                                                                 \
	} while (0)

static inline int sim_fresh(enum simgpu_mode mode, uint32_t slice_us)
{
	struct simgpu_config cfg = { .mode = mode, .devices = 1, .slice_us = slice_us };

	return simgpu_create(&cfg);
}

static inline uint64_t submit(enum simgpu_cmd_kind kind, uint32_t stream, uint64_t ns,
                              uint64_t wait_cmd)
{
	struct simgpu_cmd c = {
		.kind = kind,
		.dev = 0,
		.stream = stream,
		.duration_ns = ns,
		.wait_cmd = wait_cmd,
	};
	uint64_t id = simgpu_submit(&c);

	check(id != 0);
	return id;
}

static inline uint64_t kernel(uint32_t stream, uint64_t ns)
{
	return submit(SIMGPU_KERNEL, stream, ns, 0);
}

struct span {
	uint64_t start, end;
};

/* Wait for `id` and return its model times. */
static inline struct span span_of(uint64_t id)
{
	struct span s;

	simgpu_wait(id);
	check(simgpu_done(id, &s.start, &s.end));
	return s;
}

static inline uint32_t stream_new(int prio)
{
	uint32_t s;

	check(simgpu_stream_create(0, prio, &s) == 0);
	return s;
}

static inline bool stats_of(pid_t pid, struct simgpu_proc_stats *out)
{
	return simgpu_stats(pid, out, 1) == 1;
}

/* A child process running fn(in, out): `in` reads what the parent sends, `out` writes to
 * it. The child never returns into cmocka. */
struct child {
	pid_t pid;
	int to, from; /* parent's ends */
};

static inline struct child child_start(void (*fn)(int in, int out))
{
	int down[2], up[2];
	struct child c;

	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (!c.pid) {
		in_child = true;
		/* If the parent's test fails before it releases us, do not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(down[1]);
		close(up[0]);
		fn(down[0], up[1]);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	c.to = down[1];
	c.from = up[0];
	return c;
}

static inline void put64(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		_exit(3);
}

static inline uint64_t get64(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		_exit(3);
	return v;
}

static inline int child_end(struct child *c)
{
	int status = 0;

	close(c->to);
	close(c->from);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	return status;
}

static inline int teardown_segment(void **state)
{
	(void)state;
	simgpu_destroy();
	return 0;
}

#endif
