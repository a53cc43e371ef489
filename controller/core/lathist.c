// SPDX-License-Identifier: MIT
/* The log-linear histogram: index arithmetic, merge and the nearest-rank quantile. */
#include "lathist.h"

#include <string.h>

#define LATHIST_TOP ((1ull << LATHIST_MAX_BITS) - 1)

uint32_t lathist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v > LATHIST_TOP)
		v = LATHIST_TOP;
	if (v < 2ull * LATHIST_SUB)
		return (uint32_t)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - LATHIST_SUB_BITS;
	/* v >> shift lies in [SUB, 2 SUB): octave `shift` starts at index SUB * (shift + 1). */
	return (uint32_t)(shift * LATHIST_SUB + (v >> shift));
}

uint64_t lathist_lower(uint32_t i)
{
	unsigned int shift;

	if (i >= LATHIST_BUCKETS)
		i = LATHIST_BUCKETS - 1;
	if (i < 2 * LATHIST_SUB)
		return i;
	shift = i / LATHIST_SUB - 1;
	return (uint64_t)(i - shift * LATHIST_SUB) << shift;
}

uint64_t lathist_upper(uint32_t i)
{
	unsigned int shift;

	if (i >= LATHIST_BUCKETS)
		i = LATHIST_BUCKETS - 1;
	if (i < 2 * LATHIST_SUB)
		return i;
	shift = i / LATHIST_SUB - 1;
	return lathist_lower(i) + (1ull << shift) - 1;
}

void lathist_reset(struct lathist *h)
{
	memset(h, 0, sizeof(*h));
}

void lathist_add(struct lathist *h, uint64_t v)
{
	if (v > LATHIST_TOP)
		h->clamped++;
	h->bucket[lathist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void lathist_merge(struct lathist *h, const struct lathist *o)
{
	if (!o->count)
		return;
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
		h->bucket[i] += o->bucket[i];
	h->count += o->count;
	h->clamped += o->clamped;
	if (o->max > h->max)
		h->max = o->max;
}

void lathist_subtract(struct lathist *h, const struct lathist *o)
{
	if (!o->count)
		return;
	/* Saturate instead of wrapping: a caller's mistake must not turn into huge counts. */
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
		h->bucket[i] = h->bucket[i] > o->bucket[i] ? h->bucket[i] - o->bucket[i] : 0;
	h->count = h->count > o->count ? h->count - o->count : 0;
	h->clamped = h->clamped > o->clamped ? h->clamped - o->clamped : 0;
}

/* ceil(q * n) for q in (0, 1], robust to q * n landing a hair off an integer in binary. */
static uint64_t nearest_rank(double q, uint64_t n)
{
	double x = q * (double)n;
	uint64_t r = (uint64_t)x;

	if ((double)r < x - x * 1e-12)
		r++;
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return r;
}

uint64_t lathist_quantile(const struct lathist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (!(q > 0.0)) /* also NaN */
		q = 0.0;
	if (q > 1.0)
		q = 1.0;
	rank = nearest_rank(q, h->count);
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t up = lathist_upper(i);
			return up < h->max ? up : h->max;
		}
	}
	return h->max; /* counts and buckets disagree (cannot happen through this API) */
}
