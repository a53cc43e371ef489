// SPDX-License-Identifier: MIT
/* Per-command GPU time from completion counts (cmdest.h). */
#include "cmdest.h"

#include <string.h>

void cmdest_init(struct cmdest *e)
{
	memset(e, 0, sizeof(*e));
}

void cmdest_update(struct cmdest *e, uint64_t now_ns, uint64_t completions, uint64_t inflight)
{
	uint64_t dc;
	double sample;

	if (!e->primed || !e->last_inflight || completions < e->span_completions ||
	    now_ns <= e->span_start_ns) {
		/* Nothing was in flight at the last look (or the counters restarted): the
		 * GPU may have been idle for this process, so the span starts now. */
		e->primed = true;
		e->span_start_ns = now_ns;
		e->span_completions = completions;
		e->last_inflight = inflight;
		return;
	}
	e->last_inflight = inflight;
	dc = completions - e->span_completions;
	if (!dc)
		return; /* the span goes on until something completes */
	sample = (double)(now_ns - e->span_start_ns) / (double)dc;
	if (!e->samples || sample < e->est_ns)
		e->est_ns = sample;
	else
		e->est_ns += CMDEST_UP * (sample - e->est_ns);
	e->samples++;
	e->span_start_ns = now_ns;
	e->span_completions = completions;
}
