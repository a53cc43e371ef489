// SPDX-License-Identifier: MIT
/* Lower processes of a time-sliced GPU take turns (turns.h). */
#include "turns.h"

#include <stdbool.h>

#define QUIET_TICKS 2 /* intervals a holder may be idle before the turn passes on */

void turns_init(struct turn_gpu *g, size_t ngpus)
{
	for (size_t i = 0; i < ngpus; i++)
		g[i] = (struct turn_gpu){ .holder = -1 };
}

static bool candidate(const struct plan_svc *svcs, size_t nsvcs, const struct plan_entry *e)
{
	if (!e->sliced)
		return false;
	for (size_t i = 0; i < nsvcs; i++)
		if (plan_under(&svcs[i], e))
			return true;
	return false;
}

/* Index of the member of gpu g holding key k, -1: none. */
static long member_of(const struct plan_entry *e, size_t ne, int g, int k)
{
	for (size_t j = 0; j < ne; j++)
		if (e[j].gpu == g && e[j].member && e[j].key == k)
			return (long)j;
	return -1;
}

/* The member after key k in key order, wrapping around (the first member when k is -1). */
static int next_member(const struct plan_entry *e, size_t ne, int g, int k)
{
	int after = -1, first = -1;

	for (size_t j = 0; j < ne; j++) {
		if (e[j].gpu != g || !e[j].member)
			continue;
		if (first < 0 || e[j].key < first)
			first = e[j].key;
		if (e[j].key > k && (after < 0 || e[j].key < after))
			after = e[j].key;
	}
	return after >= 0 ? after : first;
}

static void pass(struct turn_gpu *t, const struct plan_entry *e, size_t ne, int g, uint64_t now)
{
	t->holder = next_member(e, ne, g, t->holder);
	t->since_ns = now;
	t->quiet = 0;
}

static void gpu_tick(struct turn_gpu *t, int g, const struct plan_svc *svcs, size_t nsvcs,
                     struct plan_entry *e, size_t ne, uint64_t now, uint64_t quantum)
{
	size_t members = 0;
	long h;

	for (size_t j = 0; j < ne; j++) {
		if (e[j].gpu != g)
			continue;
		e[j].turn = PLAN_TURN_NONE;
		if (!candidate(svcs, nsvcs, &e[j]))
			e[j].member = false;
		else if (e[j].busy_now && e[j].active)
			e[j].member = true;
		members += e[j].member;
	}
	h = member_of(e, ne, g, t->holder);
	if (h >= 0 && members >= 2) {
		t->quiet = e[h].busy_now ? 0 : t->quiet + 1;
		if (t->quiet >= QUIET_TICKS) {
			/* Nothing to do with its turn: out of the rotation until it launches. */
			e[h].member = false;
			members--;
			h = -1;
		}
	}
	if (members < 2) {
		/* Nobody to take turns with: the one member, if any, runs as usual. */
		h = -1;
		for (size_t j = 0; j < ne; j++)
			if (e[j].gpu == g && e[j].member)
				h = (long)j;
		t->holder = h >= 0 ? e[h].key : -1;
		t->since_ns = now;
		t->quiet = 0;
		return;
	}
	if (h < 0 || now - t->since_ns >= quantum)
		pass(t, e, ne, g, now);
	for (size_t j = 0; j < ne; j++) {
		if (e[j].gpu != g || !e[j].member)
			continue;
		if (e[j].key == t->holder) {
			e[j].turn = PLAN_TURN_HOLD;
			e[j].active = true; /* its share of the ladder is the whole of it */
		} else {
			e[j].turn = PLAN_TURN_WAIT;
		}
	}
}

void turns_tick(struct turn_gpu *gpus, size_t ngpus, const struct plan_svc *svcs, size_t nsvcs,
                struct plan_entry *e, size_t ne, uint64_t now_ns, uint64_t quantum_ns)
{
	for (size_t g = 0; g < ngpus; g++) {
		if (!quantum_ns) {
			for (size_t j = 0; j < ne; j++) {
				if (e[j].gpu == (int)g) {
					e[j].turn = PLAN_TURN_NONE;
					e[j].member = false;
				}
			}
			gpus[g].holder = -1;
			continue;
		}
		gpu_tick(&gpus[g], (int)g, svcs, nsvcs, e, ne, now_ns, quantum_ns);
	}
}
