// SPDX-License-Identifier: MIT
/* Per-entry burst latencies for the status segment (entlat.h). */
#include "entlat.h"

#include <stdlib.h>

void entlat_add(struct entlat *l, uint64_t end_ns, uint64_t lat_ns)
{
	l->count++;
	l->sum_ns += lat_ns;
	l->bucket[ctl_pub_lat_bucket(lat_ns)]++;
	l->end_ns[l->next] = end_ns;
	l->lat_ns[l->next] = lat_ns;
	l->next = (l->next + 1) % ENTLAT_RECENT;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, as the controller's estimator (lathist.h) defines its quantiles. */
static uint64_t rank(const uint64_t *v, uint32_t n, double q)
{
	uint32_t r = (uint32_t)(q * n + 0.999999);

	if (r < 1)
		r = 1;
	return v[(r > n ? n : r) - 1];
}

void entlat_put(struct entlat *l, uint64_t now, struct ctl_pub_entry *o)
{
	uint64_t v[ENTLAT_RECENT], cum = 0, expire = UINT64_MAX;
	uint32_t n = 0;

	o->lat_count = l->count;
	o->lat_sum_ns = l->sum_ns;
	for (unsigned int i = 0; i < CTL_PUB_LAT_BUCKETS; i++) {
		cum += l->bucket[i];
		o->lat_bucket[i] = cum;
	}
	if (l->c_count != l->count || now >= l->c_expire_ns) {
		for (uint32_t i = 0; i < ENTLAT_RECENT && i < l->count; i++) {
			if (l->end_ns[i] + CTL_LAT_RECENT_NS >= now) {
				v[n++] = l->lat_ns[i];
				if (l->end_ns[i] + CTL_LAT_RECENT_NS < expire)
					expire = l->end_ns[i] + CTL_LAT_RECENT_NS + 1;
			}
		}
		l->c_n = n;
		l->c_p50 = l->c_p99 = 0;
		if (n) {
			qsort(v, n, sizeof(v[0]), cmp_u64);
			l->c_p50 = rank(v, n, 0.50);
			l->c_p99 = rank(v, n, 0.99);
		}
		l->c_count = l->count;
		l->c_expire_ns = expire;
	}
	o->lat_recent_n = l->c_n;
	o->lat_p50_ns = l->c_p50;
	o->lat_p99_ns = l->c_p99;
}
