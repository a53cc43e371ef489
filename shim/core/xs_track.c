/* SPDX-License-Identifier: MIT */
/*
 * The tables the backend fills as it sees the application's objects: devices (bound to a
 * shared GPU record by UUID), streams (open addressing, lock-free lookup, insert under a
 * lock), the events the application records (to know what an event sync drained), and the
 * streams being captured.
 */
#include <string.h>
#include <unistd.h>

#include "xs_internal.h"
#include "xs_log.h"

#define EV_SEQ_BITS 54
#define EV_SEQ_MASK ((1ull << EV_SEQ_BITS) - 1)
#define EV_PROBES   32

void xs_tables_reset(void)
{
	memset(xs.streams, 0, sizeof(xs.streams));
	memset(xs.events, 0, sizeof(xs.events));
}

struct xs_dev *xs_dev_get(int ordinal, const uint8_t uuid[16])
{
	static int warned;
	if (ordinal < 0 || ordinal >= XS_MAX_DEVS)
		return NULL;
	struct xs_dev *d = &xs.devs[ordinal];
	if (atomic_load_explicit(&d->ready, memory_order_acquire) == 1)
		return d;
	pthread_mutex_lock(&xs.dev_lock);
	if (atomic_load(&d->ready) == 0) {
		int g = xsched_gpu_find(xs.shm, uuid, true);
		if (g < 0) {
			atomic_store(&d->ready, -1);
			xs_warn_once(&warned,
			             "pid %d: shared GPU table full (%d GPUs); work on "
			             "device %d passes through",
			             (int)xs.pid, XSCHED_MAX_GPUS, ordinal);
		} else {
			d->ordinal = ordinal;
			d->gpu = g;
			d->sg = &xs.shm->gpus[g];
			d->pg = &xs.slot->gpu[g];
			atomic_store(&d->pg->used, 1);
			atomic_store(&d->pg->window, xs.cfg.window);
			atomic_store_explicit(&d->ready, 1, memory_order_release);
			xs_log(XS_LOG_DEBUG, "pid %d: device %d is GPU record %d", (int)xs.pid,
			       ordinal, g);
		}
	}
	pthread_mutex_unlock(&xs.dev_lock);
	return atomic_load(&d->ready) == 1 ? d : NULL;
}

/* ---- Streams ---- */

static inline uint32_t stream_hash(uintptr_t h, uintptr_t ctx, uint64_t tid)
{
	uint64_t x = (uint64_t)h * 0x9e3779b97f4a7c15ull;
	x ^= (uint64_t)ctx * 0xc2b2ae3d27d4eb4full;
	x ^= tid * 0x165667b19e3779f9ull;
	x ^= x >> 29;
	return (uint32_t)x & (XS_MAX_STREAMS - 1);
}

/* The backend is part of the key: one runtime's handle never names another's stream. */
static inline bool key_eq(const struct xs_stream *s, const struct xs_backend *be, uintptr_t h,
                          uintptr_t ctx, uint64_t tid)
{
	return s->handle == h && s->ctx == ctx && s->tid == tid && s->be == be;
}

struct xs_stream *xs_stream_find(const struct xs_backend *be, uintptr_t h, uintptr_t ctx,
                                 uint64_t tid)
{
	uint32_t i = stream_hash(h, ctx, tid);
	for (uint32_t n = 0; n < XS_MAX_STREAMS; n++, i = (i + 1) & (XS_MAX_STREAMS - 1)) {
		struct xs_stream *s = &xs.streams[i];
		uint32_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
		uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == XS_STREAM_EMPTY)
			return NULL;
		if (st != XS_STREAM_LIVE || !key_eq(s, be, h, ctx, tid))
			continue;
		/* A slot rewritten while we compared is not ours. */
		if (atomic_load_explicit(&s->gen, memory_order_acquire) == g)
			return s;
	}
	return NULL;
}

/* A dead slot can take a new stream once nothing refers to its commands any more. */
static bool quiescent(struct xs_stream *s)
{
	return atomic_load(&s->markers) == 0 && atomic_load(&s->done) == atomic_load(&s->submitted);
}

struct xs_stream *xs_stream_add(const struct xs_backend *be, uintptr_t h, uintptr_t ctx,
                                uint64_t tid, uintptr_t owner_ctx, bool per_thread, bool implicit,
                                struct xs_dev *dev)
{
	static int warned;
	struct xs_stream *found = NULL, *slot = NULL;
	pthread_mutex_lock(&xs.table_lock);
	uint32_t i = stream_hash(h, ctx, tid);
	for (uint32_t n = 0; n < XS_MAX_STREAMS; n++, i = (i + 1) & (XS_MAX_STREAMS - 1)) {
		struct xs_stream *s = &xs.streams[i];
		uint32_t st = atomic_load(&s->state);
		if (st == XS_STREAM_LIVE && key_eq(s, be, h, ctx, tid)) {
			found = s;
			break;
		}
		if (st == XS_STREAM_EMPTY) {
			if (!slot)
				slot = s;
			break;
		}
		if (st == XS_STREAM_DEAD && !slot && quiescent(s))
			slot = s;
	}
	if (!found && slot) {
		atomic_fetch_add(&slot->gen, 1);
		atomic_store(&slot->state, XS_STREAM_WRITING);
		slot->handle = h;
		slot->ctx = ctx;
		slot->tid = tid;
		slot->be = be;
		slot->owner_ctx = owner_ctx;
		slot->per_thread = per_thread;
		slot->implicit = implicit;
		slot->dev = dev;
		/* Counters carry on from the slot's last stream: a late credit naming the old
		 * stream then finds nothing left to credit. */
		atomic_store(&slot->marked, atomic_load(&slot->submitted));
		slot->prev_obs_ns = 0;
		slot->prev_unc_ns = 0;
		atomic_fetch_add(&slot->gen, 1);
		atomic_store_explicit(&slot->state, XS_STREAM_LIVE, memory_order_release);
		found = slot;
	}
	pthread_mutex_unlock(&xs.table_lock);
	if (!found)
		xs_warn_once(&warned,
		             "pid %d: stream table full (%d); work on further streams "
		             "passes through unscheduled",
		             (int)xs.pid, XS_MAX_STREAMS);
	return found;
}

void xs_stream_destroy(struct xs_stream *s)
{
	struct xs_dev *d = s->dev;
	if (atomic_load(&s->submitted) > atomic_load(&s->marked)) {
		if (!xs_capturing() && s->be->can_record(s)) {
			pthread_mutex_lock(&d->lock);
			xs_record_marker_locked(d, s);
			pthread_mutex_unlock(&d->lock);
		}
		/* Could not cover them: count them done rather than in flight forever. */
		if (atomic_load(&s->submitted) > atomic_load(&s->marked)) {
			xs_stream_credit(s, atomic_load(&s->submitted));
			xs_stream_drop_est(s);
		}
	}
	pthread_mutex_lock(&xs.table_lock);
	if (atomic_load(&s->state) == XS_STREAM_LIVE)
		atomic_store(&s->state, XS_STREAM_DEAD);
	pthread_mutex_unlock(&xs.table_lock);
}

void xs_ctx_gone(uintptr_t ctx)
{
	for (int i = 0; i < XS_MAX_DEVS; i++) {
		struct xs_dev *d = &xs.devs[i];
		if (atomic_load(&d->ready) != 1)
			continue;
		pthread_mutex_lock(&d->lock);
		xs_forget_ctx_markers(d, ctx);
		pthread_mutex_unlock(&d->lock);
	}
	pthread_mutex_lock(&xs.table_lock);
	for (int i = 0; i < XS_MAX_STREAMS; i++) {
		struct xs_stream *s = &xs.streams[i];
		if (atomic_load(&s->state) != XS_STREAM_LIVE || s->owner_ctx != ctx)
			continue;
		xs_stream_credit(s, atomic_load(&s->submitted));
		xs_stream_drop_est(s);
		atomic_store(&s->state, XS_STREAM_DEAD);
	}
	pthread_mutex_unlock(&xs.table_lock);
	xs_sync_end_all();
}

unsigned int xs_dev_ctxs(const struct xs_backend *be, int ordinal, uintptr_t *out, unsigned int max)
{
	unsigned int n = 0;
	for (int i = 0; i < XS_MAX_STREAMS && n < max; i++) {
		struct xs_stream *s = &xs.streams[i];
		if (atomic_load(&s->state) != XS_STREAM_LIVE || s->be != be || !s->dev ||
		    s->dev->ordinal != ordinal)
			continue;
		bool dup = false;
		for (unsigned int k = 0; k < n; k++)
			dup |= out[k] == s->owner_ctx;
		if (!dup)
			out[n++] = s->owner_ctx;
	}
	return n;
}

void xs_ctx_snapshot(uintptr_t ctx, struct xs_ctx_snap *snap)
{
	snap->n = 0;
	snap->dev = NULL;
	for (int i = 0; i < XS_MAX_STREAMS; i++) {
		struct xs_stream *s = &xs.streams[i];
		if (atomic_load(&s->state) != XS_STREAM_LIVE || s->owner_ctx != ctx)
			continue;
		snap->dev = s->dev;
		if (snap->n == sizeof(snap->e) / sizeof(snap->e[0]))
			break; /* the rest stay counted in flight: safe, if pessimistic */
		snap->e[snap->n].s = s;
		snap->e[snap->n].seq = atomic_load(&s->submitted);
		snap->n++;
	}
}

void xs_ctx_credit(const struct xs_ctx_snap *snap)
{
	for (unsigned int i = 0; i < snap->n; i++)
		xs_stream_credit(snap->e[i].s, snap->e[i].seq);
}

/* ---- Events ---- */

static inline uint32_t event_hash(uintptr_t ev)
{
	uint64_t x = (uint64_t)ev * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 40) & (XS_MAX_EVENTS - 1);
}

void xs_event_note(uintptr_t ev, struct xs_stream *s, uint64_t seq)
{
	if (!ev)
		return;
	uint64_t val = ((uint64_t)(s - xs.streams) + 1) << EV_SEQ_BITS | (seq & EV_SEQ_MASK);
	uint32_t first = event_hash(ev), i = first;
	/* Re-recording a known event: lock-free. */
	for (int n = 0; n < EV_PROBES; n++, i = (i + 1) & (XS_MAX_EVENTS - 1)) {
		struct xs_event_slot *e = &xs.events[i];
		uintptr_t k = atomic_load(&e->key);
		if (k == 0)
			break;
		if (k == ev) {
			atomic_store_explicit(&e->val, val, memory_order_release);
			return;
		}
	}
	/* A new event takes an empty slot or that of a destroyed one; under the lock, so a
	 * slot is never handed to two events at once. */
	pthread_mutex_lock(&xs.event_lock);
	i = first;
	for (int n = 0; n < EV_PROBES; n++, i = (i + 1) & (XS_MAX_EVENTS - 1)) {
		struct xs_event_slot *e = &xs.events[i];
		uintptr_t k = atomic_load(&e->key);
		if (k == ev || k == 0 || atomic_load(&e->val) == 0) {
			atomic_store(&e->val, 0);
			atomic_store(&e->key, ev);
			atomic_store_explicit(&e->val, val, memory_order_release);
			break;
		}
	}
	pthread_mutex_unlock(&xs.event_lock);
}

void xs_event_forget(uintptr_t ev)
{
	uint32_t i = event_hash(ev);
	for (int n = 0; n < EV_PROBES; n++, i = (i + 1) & (XS_MAX_EVENTS - 1)) {
		struct xs_event_slot *e = &xs.events[i];
		if (atomic_load(&e->key) == ev)
			atomic_store(&e->val, 0);
	}
}

bool xs_event_lookup(uintptr_t ev, struct xs_stream **s, uint64_t *seq)
{
	uint32_t i = event_hash(ev);
	for (int n = 0; n < EV_PROBES; n++, i = (i + 1) & (XS_MAX_EVENTS - 1)) {
		struct xs_event_slot *e = &xs.events[i];
		uintptr_t k = atomic_load(&e->key);
		if (k == 0)
			return false;
		if (k != ev)
			continue;
		uint64_t v = atomic_load_explicit(&e->val, memory_order_acquire);
		uint64_t idx = v >> EV_SEQ_BITS;
		if (idx == 0 || idx > XS_MAX_STREAMS)
			return false;
		*s = &xs.streams[idx - 1];
		*seq = v & EV_SEQ_MASK;
		return true;
	}
	return false;
}

/* ---- Captures ---- */

void xs_capture_begin(uintptr_t key)
{
	pthread_mutex_lock(&xs.capture_lock);
	/* Beyond the set's size the count still goes up (and so stays on: fail-open). */
	if (xs.ncapture < sizeof(xs.capture_keys) / sizeof(xs.capture_keys[0]))
		xs.capture_keys[xs.ncapture] = key;
	xs.ncapture++;
	atomic_store(&xs_captures, (int)xs.ncapture);
	pthread_mutex_unlock(&xs.capture_lock);
}

static void capture_remove(uintptr_t key)
{
	const unsigned int cap = sizeof(xs.capture_keys) / sizeof(xs.capture_keys[0]);
	pthread_mutex_lock(&xs.capture_lock);
	unsigned int n = xs.ncapture < cap ? xs.ncapture : cap;
	for (unsigned int i = 0; i < n; i++) {
		if (xs.capture_keys[i] != key)
			continue;
		xs.capture_keys[i] = xs.capture_keys[n - 1];
		xs.ncapture--;
		break;
	}
	atomic_store(&xs_captures, (int)xs.ncapture);
	pthread_mutex_unlock(&xs.capture_lock);
}

void xs_capture_undo(uintptr_t key)
{
	capture_remove(key);
}

void xs_capture_end(uintptr_t key)
{
	capture_remove(key);
}
