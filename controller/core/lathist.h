/* SPDX-License-Identifier: MIT */
/*
 * A log-linear latency histogram (HDR style) with a stated error bound.
 *
 * Values are nanoseconds. Values below 2^(LATHIST_SUB_BITS + 1) each have their own bucket;
 * above that every power of two is split into LATHIST_SUB equal buckets, so a bucket is never
 * wider than 1/LATHIST_SUB of its lower edge. Values of 2^LATHIST_MAX_BITS ns (68.7 s) and
 * more are counted in the last bucket (and in `clamped`).
 *
 * Error bound: lathist_quantile() returns the upper edge of the bucket holding the exact
 * nearest-rank quantile q of the recorded values (never above the largest value recorded),
 * so for every q in (0, 1]:
 *
 *	exact_q <= lathist_quantile(h, q) < exact_q * (1 + 1/LATHIST_SUB)   (1.5625 %)
 *
 * The estimate never underestimates: a controller comparing it with a target errs on the
 * side of the target. The exact nearest-rank q-quantile of n values is the value of rank
 * ceil(q * n) (1-based) in ascending order. Values clamped at the top are the exception:
 * they are reported as at most the largest recorded value.
 */
#ifndef XSCHED_LATHIST_H
#define XSCHED_LATHIST_H

#include <stdbool.h>
#include <stdint.h>

#define LATHIST_SUB_BITS 6
#define LATHIST_SUB      (1u << LATHIST_SUB_BITS)
#define LATHIST_MAX_BITS 36
#define LATHIST_BUCKETS  ((LATHIST_MAX_BITS - LATHIST_SUB_BITS + 1) * LATHIST_SUB)
/* The relative error bound above, for tests and documentation. */
#define LATHIST_REL_ERR (1.0 / LATHIST_SUB)

struct lathist {
	uint64_t count;   /* values recorded */
	uint64_t max;     /* largest value recorded (0 when empty) */
	uint64_t clamped; /* values at or above 2^LATHIST_MAX_BITS */
	uint32_t bucket[LATHIST_BUCKETS];
};

void lathist_reset(struct lathist *h);
void lathist_add(struct lathist *h, uint64_t value);
/* h += o. max becomes the larger of the two. */
void lathist_merge(struct lathist *h, const struct lathist *o);
/*
 * h -= o, where o's values were all added to h before (the sliding window removes an expired
 * sub-histogram from its running total). h->max is left alone: the caller recomputes it.
 */
void lathist_subtract(struct lathist *h, const struct lathist *o);
/* The nearest-rank q-quantile, q in (0, 1] (clamped), within the bound above; 0 when empty. */
uint64_t lathist_quantile(const struct lathist *h, double q);

/* Bucket arithmetic, exposed for the tests. */
uint32_t lathist_index(uint64_t value);
uint64_t lathist_lower(uint32_t index);
uint64_t lathist_upper(uint32_t index); /* largest value that lands in `index` */

#endif
