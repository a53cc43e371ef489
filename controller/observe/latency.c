// SPDX-License-Identifier: MIT
#include "latency.h"

#include <math.h>
#include <stdlib.h>

void lat_init(struct lat_samples *s, size_t max)
{
	*s = (struct lat_samples){ .max = max };
}

/* xorshift64*: reservoir positions need not be cryptographic, only cheap and uniform. */
static uint64_t next_random(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 0x2545f4914f6cdd1dULL;
}

void lat_add(struct lat_samples *s, uint64_t ns)
{
	s->seen++;
	if (ns > s->max_ns)
		s->max_ns = ns;
	if (s->n == s->max) {
		uint64_t j = next_random() % s->seen;

		if (j < s->n)
			s->v[j] = ns;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint64_t *v;

		if (cap > s->max)
			cap = s->max;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t lat_percentile(struct lat_samples *s, double p)
{
	size_t rank;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	rank = (size_t)ceil(p / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

unsigned int lat_slot(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int slot = 0;

	while (us > 1 && slot < LAT_HIST_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	return slot;
}

void lat_hist(const struct lat_samples *s, uint64_t hist[LAT_HIST_SLOTS])
{
	for (size_t i = 0; i < LAT_HIST_SLOTS; i++)
		hist[i] = 0;
	for (size_t i = 0; i < s->n; i++)
		hist[lat_slot(s->v[i])]++;
}

void lat_clear(struct lat_samples *s)
{
	s->n = 0;
	s->seen = 0;
	s->max_ns = 0;
}

void lat_free(struct lat_samples *s)
{
	free(s->v);
	*s = (struct lat_samples){ 0 };
}
