/* SPDX-License-Identifier: MIT */
/*
 * GPU time per command of one process on one GPU, from the shim's counters alone
 * (completions and commands in flight, read once per interval).
 *
 * Over a span during which the process kept work in flight, span / completions is the
 * time the GPU took per command of this process, including any time it spent on other
 * processes' work: an upper bound of the command's own duration, exact for a process that
 * has the GPU to itself. Spans start again whenever the process ran dry. The estimate follows
 * a smaller sample at once and a larger one slowly (an EWMA with weight `up`), so it tracks
 * the lower envelope: the intervals in which the process ran alone. Long commands are
 * handled because a span lasts until something completes, however many intervals that takes.
 */
#ifndef XSCHED_CMDEST_H
#define XSCHED_CMDEST_H

#include <stdbool.h>
#include <stdint.h>

struct cmdest {
	bool primed;
	uint64_t span_start_ns;    /* start of the current span (work in flight since) */
	uint64_t span_completions; /* completions counter at span_start_ns */
	uint64_t last_inflight;
	double est_ns; /* 0: no estimate yet */
	uint64_t samples;
};

#define CMDEST_UP 0.05 /* weight of a larger sample */

void cmdest_init(struct cmdest *e);
/* Feed the counters read at now_ns. */
void cmdest_update(struct cmdest *e, uint64_t now_ns, uint64_t completions, uint64_t inflight);

#endif
