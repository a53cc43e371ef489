/* SPDX-License-Identifier: MIT */
/*
 * The gate, the markers that tell it what completed, and burst latency.
 *
 * Window: W = (a process of higher priority is busy on this GPU) ? W_busy : W_idle, from
 * the controller's grant while its heartbeat is fresh, else from XSCHED_WINDOW; the time
 * budget B likewise from the grant's budget_us, else XSCHED_BUDGET. A launch is admitted
 * while reserved - completed < W (a CAS on `reserved`, so concurrent threads never
 * overshoot) and, when B > 0, the estimated GPU time in flight plus the command's own
 * estimate is at most B or nothing is in flight (a CAS on the estimate: threads launching
 * at once may overshoot by one command each). With B = 0 the time bound costs one branch.
 *
 * Blocking never polls. When the window is full the launching thread first reaps completed
 * markers, then blocks on the oldest outstanding one (the backend's marker_wait: the
 * driver wakes it when the command completes). With nothing marked to wait on it sleeps on
 * the process-local futex word that every marker record and credit bumps. W = 0 suspends:
 * the thread sleeps on the GPU's shared futex word, which every grant change, controller
 * exit and busy count falling to zero bumps. The timeouts on those sleeps
 * (NOTHING_WAIT_NS, SUSPEND_RECHECK_NS) are fail-safes only, for a waker that died: a
 * controller gone stale, a thread that left a command unmarked.
 *
 * Markers: with a finite window a marker follows every max(1, W/4) commands (every command
 * for W < 8, and every command while a budget applies: its completion gives the estimate
 * back and times the command), so a blocked thread always has something close to wait on;
 * with no limit one follows every XS_SPARSE_MARKERS commands, only to keep the in-flight
 * count current, and only if the device lock is free (the open-window path never waits for
 * a lock).
 *
 * Burst: opens at the first command admitted while the process had nothing in flight on
 * the GPU (timed from when that call came in), closes when a synchronising call returns
 * and nothing is left in flight. While open the process counts itself busy on the GPU at
 * its priority; the latency goes to its ring.
 */
#include <string.h>

#include "xs_internal.h"
#include "xs_log.h"

#define SUSPEND_RECHECK_NS 200000000ull  /* <= 250 ms, so a stale controller is seen */
#define RECLAIM_EVERY_NS   1000000000ull /* while suspended: drop dead processes' busy */
#define NOTHING_WAIT_NS    10000000ull   /* nothing to wait on: a kick comes, or recheck */
#define NOTHING_WAIT_MAX   100           /* ... then admit rather than risk a deadlock */

void xs_dev_reset(struct xs_dev *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
}

static inline uint64_t inflight(struct xs_dev *d)
{
	/* completed first: reserved read later is at least as new, so no underflow. */
	uint64_t c = atomic_load(&d->completed);
	uint64_t r = atomic_load(&d->reserved);
	return r - c;
}

static void kick_local(struct xs_dev *d)
{
	atomic_fetch_add(&d->kick, 1);
	if (atomic_load(&d->kick_waiters))
		xs_futex_wake(&d->kick, false);
}

/* The one place that reads the controller's time budget (us): ours only, from the grant
 * segment; read after the grant word, whose release store publishes it. */
static inline uint32_t budget_word(const struct xsched_grants *gs, const struct xs_dev *d)
{
	return xsched_grant_budget_us(gs, xs.slot_index, xs.pid, xs.start_time, d->gpu);
}

uint32_t xs_window_now(struct xs_dev *d, int *prio, uint32_t *budget_us)
{
	uint32_t w_busy = xs.cfg.window, w_idle = xs.cfg.window;
	uint32_t b = xs.cfg.budget_us;
	int p = xs.cfg.prio;
	const struct xsched_grants *gs = atomic_load_explicit(&xs.grants, memory_order_acquire);
	if (gs && xsched_controller_fresh(gs, xs_coarse_now_ns())) {
		/* What the controller granted, never what this process asked for: it enters
		 * busy at this priority too. */
		int gp = xsched_granted_prio(gs, xs.slot_index, xs.pid, xs.start_time);
		if (gp >= 0)
			p = gp;
		uint64_t g = xsched_grant_word(gs, xs.slot_index, xs.pid, xs.start_time, d->gpu);
		if (xsched_grant_set(g)) {
			w_busy = xsched_grant_busy(g);
			w_idle = xsched_grant_idle(g);
			b = budget_word(gs, d); /* published by the grant's release store */
		}
	}
	*prio = p;
	if (budget_us)
		*budget_us = b;
	if (w_busy == w_idle)
		return w_idle;
	return xsched_gpu_busy_above(d->sg, p) ? w_busy : w_idle;
}

void xs_stream_credit(struct xs_stream *s, uint64_t upto)
{
	uint64_t sub = atomic_load(&s->submitted);
	if (upto > sub)
		upto = sub;
	uint64_t done = atomic_load(&s->done);
	while (done < upto) {
		if (atomic_compare_exchange_weak(&s->done, &done, upto)) {
			struct xs_dev *d = s->dev;
			atomic_fetch_add(&d->completed, upto - done);
			atomic_fetch_add_explicit(&d->pg->completions, upto - done,
			                          memory_order_relaxed);
			kick_local(d);
			return;
		}
	}
}

/* ---- Markers (device lock held) ---- */

static void marker_free(struct xs_dev *d, struct xs_marker *mk)
{
	mk->be->marker_release(&mk->m);
	atomic_fetch_sub(&mk->s->markers, 1);
	mk->used = false;
	d->nmarkers--;
}

/* mk is complete, seen at now_ns at most unc_ns late (UINT64_MAX: not seen, inferred). */
static void marker_done(struct xs_dev *d, struct xs_marker *mk, uint64_t now_ns, uint64_t unc_ns)
{
	if (mk->done)
		return;
	mk->done = true;
	if (mk->est_ns) {
		atomic_fetch_sub(&d->est_ns, (int64_t)mk->est_ns);
		mk->est_ns = 0;
	}
	xs_budget_observe(d, mk, now_ns, unc_ns);
	xs_stream_credit(mk->s, mk->seq_end);
}

void xs_stream_drop_est(struct xs_stream *s)
{
	uint64_t e = atomic_exchange(&s->est_unmarked, 0);
	if (e)
		atomic_fetch_sub(&s->dev->est_ns, (int64_t)e);
}

static uint64_t est_inflight(struct xs_dev *d)
{
	int64_t e = atomic_load(&d->est_ns);
	return e > 0 ? (uint64_t)e : 0;
}

/* Credit every marker found complete. A stream's markers complete in order, so once one of
 * a stream is found pending the others of that stream are not asked about this time: an
 * unthrottled process may have many markers out, and the reap stays a few queries.
 * Completion times: a marker found done now completed since the previous reap, except on
 * `woke` (the stream of the marker a thread just saw complete at woke_ns), whose later
 * markers completed after woke_ns. */
static void reap_locked_from(struct xs_dev *d, const struct xs_stream *woke, uint64_t woke_ns)
{
	struct xs_stream *pending[8];
	unsigned int npending = 0;
	uint64_t now = 0;
	for (unsigned int i = 0, seen = 0; i < XS_MARKERS && seen < d->nmarkers; i++) {
		struct xs_marker *mk = &d->mk[i];
		if (!mk->used)
			continue;
		seen++;
		if (!mk->done) {
			bool skip = false;
			for (unsigned int k = 0; k < npending && !skip; k++)
				skip = pending[k] == mk->s;
			if (skip)
				continue;
			if (mk->be->marker_query(&mk->m)) {
				if (!now)
					now = xs_now_ns();
				uint64_t since = mk->s == woke ? woke_ns : d->last_reap_ns;
				marker_done(d, mk, now,
				            since && now > since ? now - since : UINT64_MAX);
			} else if (npending < sizeof(pending) / sizeof(pending[0]))
				pending[npending++] = mk->s;
		}
		if (mk->done && mk->waiters == 0) {
			marker_free(d, mk);
			seen--;
		}
	}
	atomic_store_explicit(&d->pg->inflight, inflight(d), memory_order_relaxed);
	atomic_store_explicit(&d->pg->est_inflight_us, (uint32_t)(est_inflight(d) / 1000),
	                      memory_order_relaxed);
	d->last_reap_ns = now ? now : xs_now_ns();
}

static void reap_locked(struct xs_dev *d)
{
	reap_locked_from(d, NULL, 0);
}

void xs_record_marker_locked(struct xs_dev *d, struct xs_stream *s)
{
	uint64_t seq = atomic_load(&s->submitted);
	uint64_t marked = atomic_load(&s->marked);
	/* Nothing to learn about commands already known complete (a sync credited them): a
	 * marker recorded now would only put a command of ours into a stream the application
	 * has just drained, and its next query of that stream could answer "not ready". */
	if (seq <= marked || seq <= atomic_load(&s->done))
		return;
	if (d->nmarkers == XS_MARKERS)
		reap_locked(d);
	if (d->nmarkers == XS_MARKERS)
		return; /* the commands stay unmarked; a later marker covers them */
	struct xs_marker *mk = NULL;
	for (unsigned int i = 0; i < XS_MARKERS; i++)
		if (!d->mk[i].used) {
			mk = &d->mk[i];
			break;
		}
	/* `seq` was read before the record: every command it counts precedes the marker. */
	if (s->be->marker_record(s, &mk->m)) {
		/* No marker possible (a dead context): counting them done beats counting them in
		 * flight forever. */
		atomic_store(&s->marked, seq);
		xs_stream_credit(s, seq);
		xs_stream_drop_est(s);
		return;
	}
	mk->be = s->be;
	mk->s = s;
	mk->seq_end = seq;
	mk->order = d->order++;
	/* Read after `seq`: an estimate added by a command counted in seq is in it or in the
	 * next marker's, so it leaves the total no earlier than its command completes. */
	mk->est_ns = atomic_exchange(&s->est_unmarked, 0);
	/* Timed only when it covers one command whose key is known. */
	mk->key = seq - marked == 1 ? atomic_load(&s->last_key) : 0;
	mk->rec_ns = mk->key ? xs_now_ns() : 0;
	mk->waiters = 0;
	mk->done = false;
	mk->used = true;
	d->nmarkers++;
	atomic_fetch_add(&s->markers, 1);
	atomic_store(&s->marked, seq);
	kick_local(d);
}

void xs_forget_ctx_markers(struct xs_dev *d, uintptr_t ctx)
{
	for (unsigned int i = 0; i < XS_MARKERS; i++) {
		struct xs_marker *mk = &d->mk[i];
		if (!mk->used || mk->s->owner_ctx != ctx)
			continue;
		marker_done(d, mk, 0, UINT64_MAX);
		if (mk->waiters == 0)
			marker_free(d, mk);
	}
}

static struct xs_marker *oldest_locked(struct xs_dev *d)
{
	struct xs_marker *best = NULL;
	for (unsigned int i = 0; i < XS_MARKERS; i++) {
		struct xs_marker *mk = &d->mk[i];
		if (mk->used && !mk->done && (!best || mk->order < best->order))
			best = mk;
	}
	return best;
}

/* Cover unmarked commands on d's streams (except `skip`) that this thread may mark. */
static void flush_locked(struct xs_dev *d, struct xs_stream *skip)
{
	for (int i = 0; i < XS_MAX_STREAMS; i++) {
		struct xs_stream *s = &xs.streams[i];
		if (s == skip || atomic_load(&s->state) != XS_STREAM_LIVE || s->dev != d ||
		    atomic_load(&s->draining))
			continue;
		if (atomic_load(&s->submitted) > atomic_load(&s->marked) && s->be->can_record(s))
			xs_record_marker_locked(d, s);
	}
}

/* ---- The gate ---- */

static bool try_reserve(struct xs_dev *d, uint32_t w)
{
	uint64_t c = atomic_load(&d->completed);
	uint64_t r = atomic_load(&d->reserved);
	for (;;) {
		if (r - c >= w)
			return false;
		if (atomic_compare_exchange_weak(&d->reserved, &r, r + 1))
			return true;
	}
}

/* Whether a command of estimate e fits budget b (ns) now. */
static bool budget_fits(struct xs_dev *d, uint64_t e, uint64_t b)
{
	return est_inflight(d) + e <= b || inflight(d) == 0;
}

/* Admit one command against window w and, when b_ns > 0, budget b_ns for estimate e (added
 * to the estimate in flight on success). */
static bool try_admit(struct xs_dev *d, uint32_t w, uint64_t b_ns, uint64_t e)
{
	if (!b_ns)
		return w >= XSCHED_WINDOW_UNLIMITED ? (atomic_fetch_add(&d->reserved, 1), true)
		                                    : try_reserve(d, w);
	int64_t cur = atomic_load(&d->est_ns);
	for (;;) {
		uint64_t c = cur > 0 ? (uint64_t)cur : 0;
		if (c + e > b_ns && inflight(d) != 0)
			return false;
		if (atomic_compare_exchange_weak(&d->est_ns, &cur, cur + (int64_t)e))
			break;
	}
	if (w >= XSCHED_WINDOW_UNLIMITED) {
		atomic_fetch_add(&d->reserved, 1);
		return true;
	}
	if (try_reserve(d, w))
		return true;
	atomic_fetch_sub(&d->est_ns, (int64_t)e);
	return false;
}

/* W = 0: sleep on the GPU's epoch until a kick or the recheck period. */
static void suspend_wait(struct xs_dev *d)
{
	int prio;
	uint32_t e = atomic_load(&d->sg->epoch);
	xs_grants_poll(); /* a controller that left for good: notice within a second */
	if (xs_window_now(d, &prio, NULL) != 0)
		return;
	atomic_store_explicit(&d->pg->window, 0, memory_order_relaxed);
	atomic_fetch_add(&d->sg->waiters, 1);
	xs_futex_wait(&d->sg->epoch, e, SUSPEND_RECHECK_NS, true);
	atomic_fetch_sub(&d->sg->waiters, 1);
	/* A process that died mid-burst would keep us at W_busy for good. */
	uint64_t now = xs_now_ns(), last = atomic_load(&xs.last_reclaim_ns);
	if (now - last > RECLAIM_EVERY_NS &&
	    atomic_compare_exchange_strong(&xs.last_reclaim_ns, &last, now)) {
		for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
			struct xsched_proc *p = xsched_proc_at(xs.shm, i);
			if (p && p != xs.slot && !xsched_proc_alive(p->pid, p->start_time))
				xsched_proc_drop_busy(xs.shm, p);
		}
	}
}

/* W > 0 and full, or the budget spent: wait for the oldest command in flight to complete.
 * Returns false when there was nothing to wait on for too long (then the caller admits). */
static bool wait_slot(struct xs_dev *d, uint32_t w, uint64_t b_ns, uint64_t e,
                      unsigned int *nothing)
{
	xs_grants_poll();
	pthread_mutex_lock(&d->lock);
	reap_locked(d);
	if (inflight(d) < w && (!b_ns || budget_fits(d, e, b_ns))) {
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	struct xs_marker *mk = oldest_locked(d);
	if (!mk) {
		flush_locked(d, NULL);
		mk = oldest_locked(d);
	}
	if (!mk) {
		/* In flight but unmarked: launches other threads are completing right now, or
		 * another thread's per-thread stream. Their marker will kick us. */
		uint32_t k = atomic_load(&d->kick);
		pthread_mutex_unlock(&d->lock);
		if (++*nothing > NOTHING_WAIT_MAX)
			return false;
		atomic_fetch_add(&d->kick_waiters, 1);
		xs_futex_wait(&d->kick, k, NOTHING_WAIT_NS, false);
		atomic_fetch_sub(&d->kick_waiters, 1);
		return true;
	}
	mk->waiters++;
	struct xs_stream *ms = mk->s;
	pthread_mutex_unlock(&d->lock);
	mk->be->marker_wait(&mk->m);
	uint64_t woke = xs_now_ns();
	pthread_mutex_lock(&d->lock);
	mk->waiters--;
	marker_done(d, mk, woke, 0);
	reap_locked_from(d, ms, woke);
	pthread_mutex_unlock(&d->lock);
	return true;
}

/* The estimate of t's command under budget b_us (0: none, nothing estimated). */
static void estimate(struct xs_dev *d, struct xs_ticket *t, uint32_t b_us)
{
	if (!b_us) {
		t->key = 0;
		t->est_ns = 0;
		return;
	}
	if (!t->key)
		t->key = xs_budget_key(t->kf, t->kn);
	t->est_ns = xs_budget_estimate(d, t->key, (uint64_t)b_us * 1000);
}

static uint32_t gate_block(struct xs_dev *d, int *prio, struct xs_ticket *t)
{
	unsigned int nothing = 0;
	for (;;) {
		uint32_t b_us;
		uint32_t w = xs_window_now(d, prio, &b_us);
		estimate(d, t, b_us);
		uint64_t b_ns = (uint64_t)b_us * 1000;
		if (w > 0 && try_admit(d, w, b_ns, t->est_ns))
			return w;
		if (xs_capturing()) { /* never wait while a capture is open */
			atomic_fetch_add(&d->reserved, 1);
			t->est_ns = 0;
			return w;
		}
		if (w == 0) {
			suspend_wait(d);
		} else if (!wait_slot(d, w, b_ns, t->est_ns, &nothing)) {
			atomic_fetch_add(&d->reserved, 1);
			t->est_ns = 0;
			return w;
		}
	}
}

/* ---- Bursts ---- */

static void burst_open(struct xs_dev *d, int prio, uint64_t t0)
{
	uint32_t closed = 0;
	if (!atomic_compare_exchange_strong(&d->burst_open, &closed, 1))
		return;
	atomic_store(&d->burst_start_ns, t0);
	atomic_store(&d->burst_reserved0, atomic_load(&d->reserved) - 1);
	atomic_store_explicit(&d->burst_cold, 0, memory_order_relaxed);
	xsched_proc_busy_enter(xs.shm, xs.slot, d->gpu, prio);
}

/* Whether code handle kf is launched on d for the first time (and now recorded). Lock-free:
 * two threads racing on one new handle may both say so, which only marks the burst cold. */
static bool first_launch(struct xs_dev *d, uintptr_t kf)
{
	uint64_t h = (uint64_t)kf * 0x9e3779b97f4a7c15ull;

	for (unsigned int i = 0; i < 8; i++) {
		_Atomic uintptr_t *e = &d->seen[((h >> 40) + i) & (XS_SEEN - 1)];
		uintptr_t k = atomic_load_explicit(e, memory_order_relaxed), zero = 0;

		if (k == kf)
			return false;
		if (k == 0) {
			if (atomic_compare_exchange_strong_explicit(
			            e, &zero, kf, memory_order_relaxed, memory_order_relaxed))
				return true;
			if (zero == kf)
				return false;
		}
	}
	return false; /* full: counted as seen (xs_internal.h) */
}

void xs_burst_try_close(struct xs_dev *d)
{
	if (!atomic_load(&d->burst_open))
		return;
	uint64_t c = atomic_load(&d->completed);
	uint64_t r = atomic_load(&d->reserved);
	if (r != c)
		return;
	uint32_t open = 1;
	if (!atomic_compare_exchange_strong(&d->burst_open, &open, 0))
		return;
	uint64_t now = xs_now_ns();
	uint64_t start = atomic_load(&d->burst_start_ns);
	xsched_proc_busy_leave(xs.shm, xs.slot, d->gpu);
	uint64_t cmds = r - atomic_load(&d->burst_reserved0);
	struct xsched_lat lat = {
		.end_ns = now,
		.latency_ns = now > start ? now - start : 0,
		.gpu = (uint32_t)d->gpu,
		.commands = (uint32_t)(cmds < XSCHED_LAT_CMDS_MASK ? cmds : XSCHED_LAT_CMDS_MASK) |
		            (atomic_load_explicit(&d->burst_cold, memory_order_relaxed)
		                     ? XSCHED_LAT_COLD
		                     : 0),
	};
	pthread_mutex_lock(&xs.ring_lock);
	xsched_ring_push(&xs.slot->ring, &lat);
	pthread_mutex_unlock(&xs.ring_lock);
	atomic_fetch_add_explicit(&d->pg->bursts, 1, memory_order_relaxed);
	/* A launch that checked burst_open just before we closed it did not open one. */
	if (atomic_load(&d->reserved) != r) {
		int prio;
		xs_window_now(d, &prio, NULL);
		burst_open(d, prio, now);
	}
}

/* ---- Launch path ---- */

void xs_launch_begin(struct xs_stream *s, struct xs_ticket *t)
{
	t->s = s;
	t->tracked = false;
	if (!s || xs_capturing())
		return;
	struct xs_dev *d = s->dev;
	bool opening = !atomic_load_explicit(&d->burst_open, memory_order_relaxed);
	uint64_t t0 = opening ? xs_now_ns() : 0;
	int prio;
	uint32_t b_us;
	uint32_t w = xs_window_now(d, &prio, &b_us);
	t->key = 0;
	t->est_ns = 0;
	if (__builtin_expect(b_us != 0, 0)) {
		estimate(d, t, b_us);
		if (w == 0 || !try_admit(d, w, (uint64_t)b_us * 1000, t->est_ns)) {
			uint64_t b0 = t0 ? t0 : xs_now_ns();
			w = gate_block(d, &prio, t);
			atomic_fetch_add_explicit(&d->pg->blocked_ns, xs_now_ns() - b0,
			                          memory_order_relaxed);
		}
	} else if (w >= XSCHED_WINDOW_UNLIMITED) {
		atomic_fetch_add(&d->reserved, 1);
	} else if (w == 0 || !try_reserve(d, w)) {
		uint64_t b0 = t0 ? t0 : xs_now_ns();
		w = gate_block(d, &prio, t);
		atomic_fetch_add_explicit(&d->pg->blocked_ns, xs_now_ns() - b0,
		                          memory_order_relaxed);
	}
	t->window = w;
	t->tracked = true;
	if (!atomic_load(&d->burst_open))
		burst_open(d, prio, t0 ? t0 : xs_now_ns());
	/* Copies and memsets load no code; a burst already cold need not look further. */
	if (t->kf > XS_KEY_MEMSET && !atomic_load_explicit(&d->burst_cold, memory_order_relaxed) &&
	    first_launch(d, t->kf))
		atomic_store_explicit(&d->burst_cold, 1, memory_order_relaxed);
	if (atomic_load_explicit(&d->pg->window, memory_order_relaxed) != w)
		atomic_store_explicit(&d->pg->window, w, memory_order_relaxed);
	if (atomic_load_explicit(&d->pg->budget_applied_us, memory_order_relaxed) != b_us)
		atomic_store_explicit(&d->pg->budget_applied_us, b_us, memory_order_relaxed);
}

static uint32_t marker_spacing(uint32_t w)
{
	if (w >= XSCHED_WINDOW_UNLIMITED)
		return XS_SPARSE_MARKERS;
	uint32_t k = w / 4;
	return k < 1 ? 1 : k > XS_SPARSE_MARKERS ? XS_SPARSE_MARKERS : k;
}

void xs_launch_end(struct xs_ticket *t, bool ok)
{
	if (!t->tracked)
		return;
	struct xs_stream *s = t->s;
	struct xs_dev *d = s->dev;
	if (!ok) {
		if (t->est_ns)
			atomic_fetch_sub(&d->est_ns, (int64_t)t->est_ns);
		atomic_fetch_add(&d->completed, 1); /* the driver refused it: never in flight */
		kick_local(d);
		return;
	}
	uint64_t n = atomic_fetch_add(&s->submitted, 1) + 1;
	atomic_fetch_add_explicit(&d->pg->launches, 1, memory_order_relaxed);
	uint32_t spacing = marker_spacing(t->window);
	if (__builtin_expect(t->key != 0, 0)) {
		atomic_fetch_add(&s->est_unmarked, t->est_ns);
		atomic_store(&s->last_key, t->key);
		spacing = 1;
	}
	if (n - atomic_load(&s->marked) < spacing || xs_capturing())
		return;
	if (t->window < XSCHED_WINDOW_UNLIMITED || t->key) {
		pthread_mutex_lock(&d->lock);
	} else if (pthread_mutex_trylock(&d->lock)) {
		return;
	}
	reap_locked(d);
	xs_record_marker_locked(d, s);
	pthread_mutex_unlock(&d->lock);
}

void xs_launch_end_completed(struct xs_ticket *t, bool ok)
{
	if (!t->tracked)
		return;
	struct xs_dev *d = t->s->dev;
	if (t->est_ns)
		atomic_fetch_sub(&d->est_ns, (int64_t)t->est_ns);
	atomic_fetch_add(&d->completed, 1);
	if (ok) {
		atomic_fetch_add_explicit(&d->pg->launches, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&d->pg->completions, 1, memory_order_relaxed);
	}
	kick_local(d);
}

/* ---- Sync path ---- */

void xs_sync_begin(struct xs_dev *d, struct xs_stream *drained)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (drained)
		atomic_fetch_add(&drained->draining, 1);
	if (!xs_capturing())
		flush_locked(d, drained);
	pthread_mutex_unlock(&d->lock);
}

void xs_sync_end_drained(struct xs_stream *drained)
{
	struct xs_dev *d = drained->dev;
	pthread_mutex_lock(&d->lock);
	atomic_fetch_sub(&drained->draining, 1);
	pthread_mutex_unlock(&d->lock);
	xs_sync_end(d);
}

void xs_sync_end(struct xs_dev *d)
{
	if (!d)
		return;
	atomic_fetch_add_explicit(&d->pg->syncs, 1, memory_order_relaxed);
	xs_grants_poll();
	if (!xs_capturing()) {
		pthread_mutex_lock(&d->lock);
		reap_locked(d);
		pthread_mutex_unlock(&d->lock);
	}
	xs_burst_try_close(d);
}

void xs_sync_end_all(void)
{
	for (int i = 0; i < XS_MAX_DEVS; i++)
		if (atomic_load(&xs.devs[i].ready) == 1 && atomic_load(&xs.devs[i].burst_open))
			xs_sync_end(&xs.devs[i]);
}
