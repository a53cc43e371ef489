/* SPDX-License-Identifier: MIT */
/*
 * The correctness workload's parts: the GPU sequences (corr_work.c), the error-code checks
 * (corr_errors.c) and the driver (correctness.c). Every GPU operation has a CPU twin applied
 * in the order the dependencies force, so the result of the whole run is known exactly.
 */
#ifndef XSCHED_WL_CORR_H
#define XSCHED_WL_CORR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wl_common.h"

struct corr_args {
	struct wl_gpu_args g;
	unsigned int threads;
	unsigned int rounds;
	uint32_t elems;
	uint64_t kernel_us;
	unsigned int devices;
	unsigned int graph_launches;
	bool fork;
	bool expect_error;
	bool dangling; /* also use destroyed handles (simulator only) */
};

/* What one process's run found. */
struct corr_result {
	uint64_t digest;   /* FNV-1a over every final buffer read back from the GPU */
	uint64_t expected; /* the same over the CPU's results */
	uint64_t mismatches;
	uint64_t buffers;
	uint64_t launches;       /* kernel launch calls, captured ones included */
	uint64_t graph_launches; /* graph launch calls */
};

/* Runs the multi-stream, multi-thread phase and the graph phase; `salt` makes a forked
 * child's data differ from its parent's. */
void corr_run(const struct corr_args *a, uint32_t salt, struct corr_result *out);

/* Runs the bad-handle cases; prints one line per failed case on stderr. */
void corr_expect_errors(const struct corr_args *a, unsigned int *cases, unsigned int *passed);

/* splitmix64: deterministic data and kernel parameters from a few integers. */
static inline uint64_t corr_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t corr_fnv(uint64_t h, const void *data, uint64_t bytes)
{
	const unsigned char *p = data;
	for (uint64_t i = 0; i < bytes; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define CORR_FNV_INIT 0xcbf29ce484222325ull

#endif
