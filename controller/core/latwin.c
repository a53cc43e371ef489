// SPDX-License-Identifier: MIT
/* The sliding window: slot rotation, expiry and filing by timestamp. */
#include "latwin.h"

#include <stdlib.h>

#include "resident.h"

int latwin_init(struct latwin *w, uint64_t span_ns, uint32_t nslots, uint64_t now_ns)
{
	if (!nslots || span_ns < nslots)
		return -1;
	/* Resident at once: otherwise the window's memory would creep up over hours as
	 * samples reach buckets of each slot for the first time. */
	w->slot = resident_calloc(nslots, sizeof(*w->slot));
	if (!w->slot)
		return -1;
	w->nslots = nslots;
	w->slot_ns = span_ns / nslots;
	w->cur = 0;
	w->cur_start = now_ns;
	lathist_reset(&w->total);
	return 0;
}

void latwin_free(struct latwin *w)
{
	free(w->slot);
	w->slot = NULL;
	w->nslots = 0;
}

void latwin_clear(struct latwin *w, uint64_t now_ns)
{
	for (uint32_t i = 0; i < w->nslots; i++)
		lathist_reset(&w->slot[i]);
	lathist_reset(&w->total);
	w->cur = 0;
	w->cur_start = now_ns;
}

/* The running total's max cannot be un-merged: recompute it from the live slots. */
static void refresh_max(struct latwin *w)
{
	uint64_t m = 0;

	for (uint32_t i = 0; i < w->nslots; i++)
		if (w->slot[i].max > m)
			m = w->slot[i].max;
	w->total.max = m;
}

void latwin_advance(struct latwin *w, uint64_t now_ns)
{
	uint64_t steps;
	bool expired = false;

	if (now_ns < w->cur_start + w->slot_ns)
		return;
	steps = (now_ns - w->cur_start) / w->slot_ns;
	if (steps >= w->nslots) {
		/* Everything expired: keep the slot phase so that filing stays consistent. */
		latwin_clear(w, w->cur_start + steps * w->slot_ns);
		return;
	}
	for (uint64_t s = 0; s < steps; s++) {
		w->cur = (w->cur + 1) % w->nslots;
		if (w->slot[w->cur].count) {
			lathist_subtract(&w->total, &w->slot[w->cur]);
			lathist_reset(&w->slot[w->cur]);
			expired = true;
		}
	}
	w->cur_start += steps * w->slot_ns;
	if (expired)
		refresh_max(w);
}

uint64_t latwin_start(const struct latwin *w)
{
	uint64_t back = (uint64_t)(w->nslots - 1) * w->slot_ns;

	return w->cur_start > back ? w->cur_start - back : 0;
}

bool latwin_add(struct latwin *w, uint64_t t_ns, uint64_t value)
{
	uint32_t back = 0, i;

	if (t_ns < w->cur_start) {
		uint64_t b = (w->cur_start - t_ns + w->slot_ns - 1) / w->slot_ns;

		if (b >= w->nslots)
			return false;
		back = (uint32_t)b;
	}
	i = (w->cur + w->nslots - back) % w->nslots;
	lathist_add(&w->slot[i], value);
	lathist_add(&w->total, value);
	return true;
}

uint64_t latwin_count(const struct latwin *w)
{
	return w->total.count;
}

uint64_t latwin_quantile(const struct latwin *w, double q)
{
	return lathist_quantile(&w->total, q);
}

uint64_t latwin_max(const struct latwin *w)
{
	return w->total.max;
}
