/* SPDX-License-Identifier: MIT */
/*
 * Burst latencies of one process on one GPU, for the status segment (top, the exporter):
 * an all-time histogram in the segment's buckets, and the last ENTLAT_RECENT samples for a
 * recent P50/P99. The control law keeps its own per-service window (service.h); this is
 * only what is shown.
 */
#ifndef XSCHED_CTL_ENTLAT_H
#define XSCHED_CTL_ENTLAT_H

#include <stdint.h>

#include "ctl_pub.h"

#define ENTLAT_RECENT 128

struct entlat {
	uint64_t count, sum_ns;
	uint64_t bucket[CTL_PUB_LAT_BUCKETS]; /* per bucket, not cumulative */
	uint32_t next;                        /* ring index of the next sample */
	uint64_t end_ns[ENTLAT_RECENT], lat_ns[ENTLAT_RECENT];
	/* The recent quantiles as last computed: they change only when a sample arrives or
	 * one ages out (at c_expire_ns; 0 in a zeroed entlat: computed on first use), so most
	 * intervals reuse them. */
	uint64_t c_count, c_expire_ns, c_p50, c_p99;
	uint32_t c_n;
};

void entlat_add(struct entlat *l, uint64_t end_ns, uint64_t lat_ns);
/* Fill o's lat_* fields: the histogram, and P50/P99 of the samples that ended within
 * CTL_LAT_RECENT_NS before now. */
void entlat_put(struct entlat *l, uint64_t now, struct ctl_pub_entry *o);

#endif
