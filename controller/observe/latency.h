/* SPDX-License-Identifier: MIT */
/* Latency samples: percentiles and log2 histograms. */
#ifndef XSCHED_OBSERVE_LATENCY_H
#define XSCHED_OBSERVE_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#define LAT_HIST_SLOTS 32 /* slot i: [2^i, 2^(i+1)) microseconds, as the BPF side counts */

/*
 * Up to `max` samples; past that a uniform random subset of everything added is kept
 * (reservoir sampling), so percentiles stay unbiased however long the run.
 */
struct lat_samples {
	uint64_t *v;
	size_t n, cap, max;
	uint64_t seen; /* samples ever added */
	uint64_t max_ns;
};

void lat_init(struct lat_samples *s, size_t max);
void lat_add(struct lat_samples *s, uint64_t ns);
/* Nearest-rank percentile p in (0, 100]; 0 without samples. Sorts the samples. */
uint64_t lat_percentile(struct lat_samples *s, double p);
void lat_hist(const struct lat_samples *s, uint64_t hist[LAT_HIST_SLOTS]);
void lat_clear(struct lat_samples *s);
void lat_free(struct lat_samples *s);

unsigned int lat_slot(uint64_t ns);

#endif
