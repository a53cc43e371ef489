/* SPDX-License-Identifier: MIT */
/*
 * Latencies over a sliding time window: a ring of `nslots` sub-histograms, each covering
 * `slot_ns` of sample time, and their running sum. A sample is filed by its own timestamp
 * (when its burst ended), so it expires when its slot leaves the window, however late the
 * controller read it.
 *
 * Coverage: after latwin_advance(w, now), the window holds the samples with timestamps in
 * [start, now] where start is now minus between (nslots - 1) and nslots slot lengths: old
 * samples expire with a granularity of one slot. Quantiles carry lathist.h's error bound.
 */
#ifndef XSCHED_LATWIN_H
#define XSCHED_LATWIN_H

#include "lathist.h"

struct latwin {
	uint64_t slot_ns;
	uint32_t nslots;
	uint32_t cur;       /* index of the newest slot */
	uint64_t cur_start; /* timestamp at which the newest slot begins */
	struct lathist total;
	struct lathist *slot;
};

/* A window of `span_ns` in `nslots` slots starting at `now_ns`. 0, or -1 (bad arguments,
 * no memory). Its slots are allocated here, resident at once (resident.h), and never again. */
int latwin_init(struct latwin *w, uint64_t span_ns, uint32_t nslots, uint64_t now_ns);
void latwin_free(struct latwin *w);
/* Forget every sample (keeps the geometry). */
void latwin_clear(struct latwin *w, uint64_t now_ns);
/* Move the window's end to now_ns, expiring slots that fell out. Time never goes back: an
 * earlier now_ns is ignored. */
void latwin_advance(struct latwin *w, uint64_t now_ns);
/* File a sample taken at t_ns. Samples newer than the newest slot go into it; false (and
 * nothing recorded) when t_ns is older than the window. */
bool latwin_add(struct latwin *w, uint64_t t_ns, uint64_t value);
uint64_t latwin_count(const struct latwin *w);
uint64_t latwin_quantile(const struct latwin *w, double q);
uint64_t latwin_max(const struct latwin *w);
/* The oldest timestamp the window still holds. */
uint64_t latwin_start(const struct latwin *w);

#endif
