/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the shim's core (no GPU API): the window gate, markers and crediting,
 * bursts and the latency ring, suspend/resume and fail-open, capture, streams and events.
 *
 * A fake backend stands in for the GPU: a marker on stream s after its first N commands
 * completes once the test (or a wait on it) moves s's "GPU progress" to N. That progress
 * is the ground truth the window is checked against. A second backend on the same fake GPU
 * and one whose runtime cannot be used check that the core serves several backends: each
 * settled on its first use, each stream's markers handled by its own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xs_config.h"
#include "xs_core.h"
#include "xs_internal.h"

/* ---- the fake GPU ---- */

struct fake_marker {
	struct xs_stream *s;
	uint64_t seq;
};

static struct fake_marker fmk[1 << 16];
static _Atomic unsigned int nfmk;
static _Atomic uint64_t gpu_done[XS_MAX_STREAMS];
static _Atomic int records, waits, releases;

static unsigned int sidx(const struct xs_stream *s)
{
	return (unsigned int)(s - xs.streams);
}

/* The GPU finished stream s's commands 1..n. */
static void gpu_advance(struct xs_stream *s, uint64_t n)
{
	uint64_t d = atomic_load(&gpu_done[sidx(s)]);
	while (d < n && !atomic_compare_exchange_weak(&gpu_done[sidx(s)], &d, n))
		;
}

/* Commands on the device that the GPU has not finished (what the window must bound). */
static uint64_t true_inflight(struct xs_dev *d)
{
	uint64_t n = 0;
	for (int i = 0; i < XS_MAX_STREAMS; i++) {
		struct xs_stream *s = &xs.streams[i];
		if (s->dev == d && atomic_load(&s->state) != XS_STREAM_EMPTY)
			n += atomic_load(&s->submitted) - atomic_load(&gpu_done[i]);
	}
	return n;
}

static int f_record(struct xs_stream *s, struct xs_mark *m)
{
	unsigned int i = atomic_fetch_add(&nfmk, 1);
	fmk[i].s = s;
	fmk[i].seq = atomic_load(&s->submitted);
	m->handle = i;
	m->pool = NULL;
	atomic_fetch_add(&records, 1);
	return 0;
}

static int f_query(const struct xs_mark *m)
{
	const struct fake_marker *f = &fmk[m->handle];
	return atomic_load(&gpu_done[sidx(f->s)]) >= f->seq;
}

static void f_wait(const struct xs_mark *m)
{
	const struct fake_marker *f = &fmk[m->handle];
	atomic_fetch_add(&waits, 1);
	gpu_advance(f->s, f->seq); /* time passes: the GPU gets there */
}

static void f_release(const struct xs_mark *m)
{
	(void)m;
	atomic_fetch_add(&releases, 1);
}

static bool f_can_record(const struct xs_stream *s)
{
	(void)s;
	return true;
}

static int f_init(char *why, unsigned long len)
{
	(void)why;
	(void)len;
	return 0;
}

static struct xs_backend fake = {
	.name = "fake",
	.marker_record = f_record,
	.marker_query = f_query,
	.marker_wait = f_wait,
	.marker_release = f_release,
	.can_record = f_can_record,
	.init = f_init,
};

/* The second backend: the same fake GPU, its own counts. */
static _Atomic int o_inits, o_records, o_queries, o_waits, o_releases;

static int o_record(struct xs_stream *s, struct xs_mark *m)
{
	atomic_fetch_add(&o_records, 1);
	return f_record(s, m);
}

static int o_query(const struct xs_mark *m)
{
	atomic_fetch_add(&o_queries, 1);
	return f_query(m);
}

static void o_wait(const struct xs_mark *m)
{
	atomic_fetch_add(&o_waits, 1);
	f_wait(m);
}

static void o_release(const struct xs_mark *m)
{
	atomic_fetch_add(&o_releases, 1);
	f_release(m);
}

static int o_init(char *why, unsigned long len)
{
	atomic_fetch_add(&o_inits, 1);
	return f_init(why, len);
}

static struct xs_backend other = {
	.name = "other",
	.marker_record = o_record,
	.marker_query = o_query,
	.marker_wait = o_wait,
	.marker_release = o_release,
	.can_record = f_can_record,
	.init = o_init,
};

/* A backend whose runtime lacks a symbol. */
static _Atomic int b_inits;

static int b_init(char *why, unsigned long len)
{
	atomic_fetch_add(&b_inits, 1);
	snprintf(why, len, "libbroken has no brokenEventCreate");
	return -1;
}

static struct xs_backend broken = {
	.name = "broken",
	.marker_record = f_record,
	.marker_query = f_query,
	.marker_wait = f_wait,
	.marker_release = f_release,
	.can_record = f_can_record,
	.init = b_init,
};

/* ---- helpers ---- */

static struct xs_dev *dev;
static uintptr_t next_handle = 0x1000;

static struct xs_stream *new_stream(uintptr_t ctx)
{
	struct xs_stream *s = xs_stream_add(&fake, next_handle, 0, 0, ctx, false, false, dev);
	next_handle += 0x10;
	assert_non_null(s);
	return s;
}

static uint64_t inflight(void)
{
	return atomic_load(&dev->reserved) - atomic_load(&dev->completed);
}

static void launch(struct xs_stream *s)
{
	struct xs_ticket t = XS_TICKET(0, 0);
	xs_launch_begin(s, &t);
	assert_true(t.tracked);
	xs_launch_end(&t, true);
}

/* A stream sync on s that the GPU finishes right away. */
static void sync_stream(struct xs_stream *s)
{
	uint64_t snap = xs_stream_snapshot(s);
	xs_sync_begin(s->dev, s);
	gpu_advance(s, snap);
	xs_stream_credit(s, snap);
	xs_sync_end(s->dev);
}

/* This test plays the controller: it owns the grant segment the shim maps read-only. */
static struct xsched_grant_map ctl;

static void beat(void)
{
	xsched_controller_beat(ctl.g, xs.shm, getpid());
}

static void grant(uint32_t busy, uint32_t idle)
{
	beat();
	xsched_grant_assign(ctl.g, xs.slot_index, xs.pid, xs.start_time);
	xsched_grant_windows(ctl.g, xs.shm, xs.slot_index, dev->gpu, xsched_grant_pack(busy, idle));
}

static void ungrant(void)
{
	xsched_grant_windows(ctl.g, xs.shm, xs.slot_index, dev->gpu, XSCHED_GRANT_NONE);
}

static size_t ring_count(struct xsched_lat *last)
{
	static struct xsched_lat buf[XSCHED_RING_LEN];
	size_t n = xsched_ring_read(&xs.slot->ring, buf, XSCHED_RING_LEN, false);
	if (n && last)
		*last = buf[n - 1];
	return n;
}

static uint64_t now_ms(void)
{
	return xs_now_ns() / 1000000;
}

/* ---- tests ---- */

static void test_unlimited_burst(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	int r0 = atomic_load(&records);
	size_t bursts0 = ring_count(NULL);
	struct xsched_gpu *g = dev->sg;
	for (int i = 0; i < 100; i++)
		launch(s);
	assert_int_equal(inflight(), 100);
	/* Sparse markers: one per XS_SPARSE_MARKERS commands when the window is open. */
	assert_int_equal(atomic_load(&records) - r0, 100 / XS_SPARSE_MARKERS);
	assert_int_equal(atomic_load(&dev->burst_open), 1);
	assert_int_equal(atomic_load(&g->busy[XSCHED_PRIO_NORMAL]), 1);
	sync_stream(s);
	assert_int_equal(inflight(), 0);
	assert_int_equal(atomic_load(&dev->burst_open), 0);
	assert_int_equal(atomic_load(&g->busy[XSCHED_PRIO_NORMAL]), 0);
	struct xsched_lat last;
	assert_int_equal(ring_count(&last), bursts0 + 1);
	assert_int_equal(last.commands, 100);
	assert_true(last.latency_ns > 0);
	assert_int_equal(atomic_load(&dev->pg->launches) >= 100, 1);
}

/* Launches one command of code handle kf (0: a copy) on s. */
static void launch_code(struct xs_stream *s, uintptr_t kf)
{
	struct xs_ticket t = kf ? XS_TICKET(kf, 1) : XS_TICKET(XS_KEY_COPY, 4096);
	xs_launch_begin(s, &t);
	xs_launch_end(&t, true);
}

/* A burst that launches code for the first time is marked cold in the ring; bursts of code
 * seen before, or of copies only, are not. */
static void test_cold_burst(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	struct xsched_lat last;
	size_t n0 = ring_count(NULL);
	launch_code(s, 0xc0de00);
	launch_code(s, 0);
	launch_code(s, 0xc0de00);
	sync_stream(s);
	assert_int_equal(ring_count(&last), n0 + 1);
	assert_int_equal(last.commands, XSCHED_LAT_COLD | 3);
	launch_code(s, 0xc0de00);
	launch_code(s, 0);
	sync_stream(s);
	assert_int_equal(ring_count(&last), n0 + 2);
	assert_int_equal(last.commands, 2);
	launch_code(s, 0);
	sync_stream(s);
	assert_int_equal(ring_count(&last), n0 + 3);
	assert_int_equal(last.commands, 1);
	/* One new kernel among known ones makes the burst cold. */
	launch_code(s, 0xc0de00);
	launch_code(s, 0xc0de40);
	sync_stream(s);
	assert_int_equal(ring_count(&last), n0 + 4);
	assert_int_equal(last.commands, XSCHED_LAT_COLD | 2);
	/* More handles than the table holds: never a wrong cold mark, and no hang. */
	for (uintptr_t f = 1; f <= 2 * XS_SEEN; f++) {
		launch_code(s, 0x100000 + f * 64);
		if (f % 32 == 0)
			sync_stream(s);
	}
	sync_stream(s);
	static struct xsched_lat drain[XSCHED_RING_LEN];
	while (xsched_ring_read(&xs.slot->ring, drain, XSCHED_RING_LEN, true) > 0)
		;
	launch_code(s, 0xc0de00);
	sync_stream(s);
	assert_int_equal(ring_count(&last), 1);
	assert_int_equal(last.commands, 1);
}

static void test_window_bound(void **state)
{
	(void)state;
	struct xs_stream *a = new_stream(1), *b = new_stream(1);
	grant(3, 3);
	int w0 = atomic_load(&waits);
	for (int i = 0; i < 30; i++) {
		struct xs_ticket t = XS_TICKET(0, 0);
		xs_launch_begin(i % 2 ? a : b, &t);
		/* Admitted: with this one, no more than 3 unfinished on the GPU. */
		assert_true(true_inflight(dev) + 1 <= 3);
		xs_launch_end(&t, true);
		assert_int_equal(t.window, 3);
	}
	assert_true(atomic_load(&waits) - w0 >= 27);
	assert_true(atomic_load(&dev->pg->blocked_ns) > 0);
	sync_stream(a);
	sync_stream(b);
	assert_int_equal(inflight(), 0);
	ungrant();
}

/* A granted time budget: every admission leaves the estimated GPU time in flight within the
 * budget unless the command runs alone; each command gets a marker that times it; the
 * estimate returns to zero when everything completed. */
static void test_time_budget(void **state)
{
	(void)state;
	struct xs_stream *a = new_stream(1);
	uint64_t short_key = xs_budget_key(0x1000, 1), long_key = xs_budget_key(0x1000, 64);
	assert_true(short_key != long_key);
	assert_true(xs_budget_key(XS_KEY_COPY, 4096) == xs_budget_key(XS_KEY_COPY, 5000));
	pthread_mutex_lock(&dev->lock);
	for (int i = 0; i < 3; i++) {
		xs_budget_learn(dev, short_key, 300000); /* 300 us */
		xs_budget_learn(dev, long_key, 5000000); /* 5 ms */
	}
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(xs_budget_estimate(dev, long_key, 1), 5000000);
	/* Unknown shapes: the mean of what was timed. */
	assert_in_range(xs_budget_estimate(dev, xs_budget_key(0x2000, 1), 1), 2649990, 2650010);
	beat();
	xsched_grant_assign(ctl.g, xs.slot_index, xs.pid, xs.start_time);
	xsched_grant_budget(ctl.g, xs.slot_index, dev->gpu, 1000);
	grant(XSCHED_WINDOW_UNLIMITED, XSCHED_WINDOW_UNLIMITED);
	int r0 = atomic_load(&records);
	for (int i = 0; i < 40; i++) {
		struct xs_ticket t = XS_TICKET(0x1000, i % 5 == 4 ? 64 : 1);
		xs_launch_begin(a, &t);
		/* Admitted (not yet submitted): within the budget, or alone on the GPU. */
		int64_t est = atomic_load(&dev->est_ns);
		assert_true(est <= 1000000 || true_inflight(dev) == 0);
		assert_true(t.est_ns > 0);
		xs_launch_end(&t, true);
	}
	/* A marker per command while a budget applies. */
	assert_true(atomic_load(&records) - r0 >= 39);
	assert_int_equal(atomic_load(&dev->pg->budget_applied_us), 1000);
	sync_stream(a);
	assert_int_equal(inflight(), 0);
	assert_true(atomic_load(&dev->est_ns) == 0);
	xsched_grant_budget(ctl.g, xs.slot_index, dev->gpu, 0);
	ungrant();
}

static void test_busy_and_idle_windows(void **state)
{
	(void)state;
	int prio;
	grant(1, 4);
	assert_int_equal(xs_window_now(dev, &prio, NULL), 4);
	assert_int_equal(prio, XSCHED_PRIO_NORMAL);
	/* A high-priority process enters a burst on this GPU: W_busy applies. */
	atomic_fetch_add(&dev->sg->busy[XSCHED_PRIO_HIGH], 1);
	assert_int_equal(xs_window_now(dev, &prio, NULL), 1);
	/* A process of the same priority does not count. */
	atomic_fetch_sub(&dev->sg->busy[XSCHED_PRIO_HIGH], 1);
	atomic_fetch_add(&dev->sg->busy[XSCHED_PRIO_NORMAL], 1);
	assert_int_equal(xs_window_now(dev, &prio, NULL), 4);
	/* The controller grants us high priority: nobody is above us any more. */
	atomic_fetch_sub(&dev->sg->busy[XSCHED_PRIO_NORMAL], 1);
	atomic_fetch_add(&dev->sg->busy[XSCHED_PRIO_HIGH], 1);
	xsched_grant_prio(ctl.g, xs.shm, xs.slot_index, XSCHED_PRIO_HIGH);
	assert_int_equal(xs_window_now(dev, &prio, NULL), 4);
	assert_int_equal(prio, XSCHED_PRIO_HIGH);
	/* A grant written for another identity in our slot (a recycled pid) is not ours. */
	xsched_grant_assign(ctl.g, xs.slot_index, xs.pid, xs.start_time + 1);
	xsched_grant_windows(ctl.g, xs.shm, xs.slot_index, dev->gpu, xsched_grant_pack(1, 2));
	xsched_grant_prio(ctl.g, xs.shm, xs.slot_index, XSCHED_PRIO_HIGH);
	assert_int_equal(xs_window_now(dev, &prio, NULL), xs.cfg.window);
	assert_int_equal(prio, xs.cfg.prio);
	grant(1, 4);
	xsched_grant_prio(ctl.g, xs.shm, xs.slot_index, -1);
	atomic_fetch_sub(&dev->sg->busy[XSCHED_PRIO_HIGH], 1);
	/* Grants count only while the controller's heartbeat is fresh. */
	atomic_store(&ctl.g->hdr.controller_heartbeat_ns,
	             xs_now_ns() - 2 * XSCHED_HEARTBEAT_STALE_NS);
	assert_int_equal(xs_window_now(dev, &prio, NULL), xs.cfg.window);
	ungrant();
}

struct bg_launch {
	struct xs_stream *s;
	_Atomic int done;
	uint64_t done_ms;
};

static void *bg(void *arg)
{
	struct bg_launch *b = arg;
	launch(b->s);
	b->done_ms = now_ms();
	atomic_store(&b->done, 1);
	return NULL;
}

static void test_suspend_resume(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	grant(0, 0);
	struct bg_launch b = { .s = s };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bg, &b), 0);
	usleep(300000);
	beat();
	assert_int_equal(atomic_load(&b.done), 0); /* held: W = 0 */
	assert_int_equal(atomic_load(&dev->pg->window), 0);
	assert_true(atomic_load(&dev->sg->waiters) >= 1);
	uint64_t t0 = now_ms();
	ungrant(); /* resume: the kick wakes it at once, not at the next recheck */
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&b.done), 1);
	assert_true(b.done_ms - t0 < 150);
	sync_stream(s);
}

static void test_fail_open(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	grant(0, 0);
	/* The controller dies right after this grant: no more beats, nobody kicks. */
	uint64_t stale_at = now_ms() + XSCHED_HEARTBEAT_STALE_NS / 1000000;
	struct bg_launch b = { .s = s };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bg, &b), 0);
	usleep(200000);
	assert_int_equal(atomic_load(&b.done), 0);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&b.done), 1);
	/* Released once the beat is stale, within one recheck period (200 ms), plus slack
	 * for a loaded machine. */
	assert_true(b.done_ms + 20 >= stale_at);
	assert_true(b.done_ms <= stale_at + 700);
	ungrant();
	sync_stream(s);
}

static void test_failed_launch(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	uint64_t before = inflight();
	struct xs_ticket t = XS_TICKET(0, 0);
	xs_launch_begin(s, &t);
	assert_int_equal(inflight(), before + 1);
	xs_launch_end(&t, false); /* the driver refused it */
	assert_int_equal(inflight(), before);
	assert_int_equal(atomic_load(&s->submitted), 0);
	sync_stream(s);
}

static void test_capture_untracked(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1);
	grant(0, 0); /* would hold anything it tracked */
	xs_capture_begin(0x77);
	assert_true(xs_capturing());
	uint64_t r0 = atomic_load(&dev->reserved);
	int rec0 = atomic_load(&records);
	struct xs_ticket t = XS_TICKET(0, 0);
	xs_launch_begin(s, &t);
	assert_false(t.tracked);
	xs_launch_end(&t, true);
	assert_int_equal(atomic_load(&dev->reserved), r0);
	assert_int_equal(atomic_load(&records), rec0);
	xs_capture_undo(0x77);
	assert_false(xs_capturing());
	xs_capture_begin(0x78);
	xs_capture_begin(0x79);
	xs_capture_end(0x78);
	assert_true(xs_capturing());
	xs_capture_end(0x79);
	assert_false(xs_capturing());
	ungrant();
}

static void test_events(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(1), *got;
	uint64_t seq;
	for (int i = 0; i < 5; i++)
		launch(s);
	xs_event_note(0xe1, s, xs_stream_snapshot(s));
	launch(s);
	assert_true(xs_event_lookup(0xe1, &got, &seq));
	assert_ptr_equal(got, s);
	assert_int_equal(seq, 5);
	/* An event sync on it: the GPU did 5, the 6th may still run. */
	gpu_advance(s, 5);
	xs_stream_credit(s, seq);
	xs_sync_end(dev);
	assert_int_equal(atomic_load(&s->done), 5);
	assert_int_equal(atomic_load(&dev->burst_open), 1);
	xs_event_note(0xe1, s, 6); /* re-recorded */
	assert_true(xs_event_lookup(0xe1, &got, &seq));
	assert_int_equal(seq, 6);
	xs_event_forget(0xe1);
	assert_false(xs_event_lookup(0xe1, &got, &seq));
	assert_false(xs_event_lookup(0xe2, &got, &seq));
	sync_stream(s);
	assert_int_equal(atomic_load(&dev->burst_open), 0);
}

static void test_stream_destroy_and_reuse(void **state)
{
	(void)state;
	uintptr_t h = 0xabc0;
	struct xs_stream *s = xs_stream_add(&fake, h, 0, 0, 1, false, false, dev);
	assert_non_null(s);
	assert_ptr_equal(xs_stream_find(&fake, h, 0, 0), s);
	assert_ptr_equal(xs_stream_add(&fake, h, 0, 0, 1, false, false, dev), s);
	for (int i = 0; i < 5; i++)
		launch(s);
	int rec0 = atomic_load(&records);
	xs_stream_destroy(s);
	/* Its five unmarked commands got a marker: they are counted until it completes. */
	assert_int_equal(atomic_load(&records), rec0 + 1);
	assert_null(xs_stream_find(&fake, h, 0, 0));
	assert_int_equal(inflight(), 5);
	gpu_advance(s, 5);
	xs_sync_end(dev);
	assert_int_equal(inflight(), 0);
	/* A new stream with the handle reuses the quiescent slot; counters carry on. */
	struct xs_stream *n = xs_stream_add(&fake, h, 0, 0, 1, false, false, dev);
	assert_ptr_equal(n, s);
	assert_int_equal(atomic_load(&n->submitted), 5);
	assert_int_equal(atomic_load(&n->marked), 5);
	launch(n);
	sync_stream(n);
	assert_int_equal(atomic_load(&n->done), 6);
}

static void test_ctx_gone(void **state)
{
	(void)state;
	struct xs_stream *s = new_stream(99);
	grant(2, 2);
	launch(s);
	launch(s);
	assert_int_equal(inflight(), 2);
	uintptr_t ctxs[4];
	assert_true(xs_dev_ctxs(&fake, dev->ordinal, ctxs, 4) >= 1);
	xs_ctx_gone(99);
	assert_int_equal(inflight(), 0);
	assert_int_equal(atomic_load(&s->state), XS_STREAM_DEAD);
	for (unsigned int i = 0; i < XS_MARKERS; i++)
		assert_false(dev->mk[i].used && dev->mk[i].s == s);
	ungrant();
}

/* Several backends in one process: each settles once, on its first use; one that cannot be
 * settled passes its calls through and leaves the others alone; a stream is keyed by its
 * backend and every marker on it is that backend's. */
static void test_backends(void **state)
{
	(void)state;
	/* Registered but unused so far: nothing of it ran. */
	assert_int_equal(atomic_load(&other.state), XS_BE_IDLE);
	assert_int_equal(atomic_load(&o_inits), 0);
	struct xsched_proc *slot = xs.slot;
	assert_true(xs_backend_on(&other));
	assert_true(xs_backend_on(&other));
	assert_int_equal(atomic_load(&o_inits), 1);
	assert_int_equal(atomic_load(&other.state), XS_BE_ON);
	assert_ptr_equal(xs.slot, slot); /* the process registered once */
	assert_false(xs_backend_on(&broken));
	assert_false(xs_backend_on(&broken));
	assert_int_equal(atomic_load(&b_inits), 1);
	assert_int_equal(atomic_load(&broken.state), XS_BE_FAILED);
	assert_true(xs_backend_on(&fake));

	/* One handle value in two runtimes: two streams. */
	uintptr_t h = 0x7770;
	struct xs_stream *a = xs_stream_add(&fake, h, 0, 0, 41, false, false, dev);
	struct xs_stream *b = xs_stream_add(&other, h, 0, 0, 42, false, false, dev);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(xs_stream_find(&fake, h, 0, 0), a);
	assert_ptr_equal(xs_stream_find(&other, h, 0, 0), b);
	uintptr_t ctxs[8];
	assert_int_equal(xs_dev_ctxs(&other, dev->ordinal, ctxs, 8), 1);
	assert_int_equal(ctxs[0], 42);

	/* Window 1: each command of b gets a marker, each launch after the first waits on one;
	 * all of it through b's backend. */
	grant(1, 1);
	int r0 = atomic_load(&records), or0 = atomic_load(&o_records);
	int ow0 = atomic_load(&o_waits), orl0 = atomic_load(&o_releases);
	for (int i = 0; i < 4; i++)
		launch(b);
	assert_int_equal(atomic_load(&records) - r0, 4);
	assert_int_equal(atomic_load(&o_records) - or0, 4);
	assert_int_equal(atomic_load(&o_waits) - ow0, 3);
	sync_stream(b);
	assert_int_equal(inflight(), 0);
	assert_int_equal(atomic_load(&o_releases) - orl0, 4);
	/* a's markers are the first backend's. */
	or0 = atomic_load(&o_records);
	int oq0 = atomic_load(&o_queries);
	r0 = atomic_load(&records);
	launch(a);
	launch(a);
	sync_stream(a);
	assert_int_equal(atomic_load(&records) - r0, 2);
	assert_int_equal(atomic_load(&o_records), or0);
	assert_int_equal(atomic_load(&o_queries), oq0);
	assert_int_equal(inflight(), 0);
	ungrant();
	xs_stream_destroy(a);
	xs_stream_destroy(b);
}

static void test_config_parsers(void **state)
{
	(void)state;
	int p;
	uint32_t w;
	assert_int_equal(xs_parse_priority("high", &p), 0);
	assert_int_equal(p, XSCHED_PRIO_HIGH);
	assert_int_equal(xs_parse_priority("low", &p), 0);
	assert_int_equal(p, XSCHED_PRIO_LOW);
	assert_int_equal(xs_parse_priority("7", &p), 0);
	assert_int_equal(p, 7);
	assert_int_equal(xs_parse_priority("8", &p), -1);
	assert_int_equal(xs_parse_priority("-1", &p), -1);
	assert_int_equal(xs_parse_priority("High", &p), -1);
	assert_int_equal(xs_parse_priority("", &p), -1);
	uint32_t b;
	assert_int_equal(xs_parse_budget("6ms", &b), 0);
	assert_int_equal(b, 6000);
	assert_int_equal(xs_parse_budget("250us", &b), 0);
	assert_int_equal(b, 250);
	assert_int_equal(xs_parse_budget("1.5ms", &b), 0);
	assert_int_equal(b, 1500);
	assert_int_equal(xs_parse_budget("2s", &b), 0);
	assert_int_equal(b, 2000000);
	assert_int_equal(xs_parse_budget("none", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(xs_parse_budget("6", &b), -1);     /* no unit */
	assert_int_equal(xs_parse_budget("0us", &b), -1);   /* below 1us */
	assert_int_equal(xs_parse_budget("61s", &b), -1);   /* above 60s */
	assert_int_equal(xs_parse_budget("0.4us", &b), -1); /* rounds to 0 */
	assert_int_equal(xs_parse_budget("-1ms", &b), -1);
	assert_int_equal(xs_parse_budget("1.ms", &b), -1);
	assert_int_equal(xs_parse_budget("5ns", &b), -1);
	assert_int_equal(xs_parse_budget("", &b), -1);
	assert_int_equal(xs_parse_window("1", &w), 0);
	assert_int_equal(w, 1);
	assert_int_equal(xs_parse_window("unlimited", &w), 0);
	assert_int_equal(w, XSCHED_WINDOW_UNLIMITED);
	assert_int_equal(xs_parse_window("0", &w), -1);
	assert_int_equal(xs_parse_window("2147483647", &w), -1);
	assert_int_equal(xs_parse_window("4x", &w), -1);
	assert_int_equal(xs_parse_window(" 4", &w), -1);
	assert_int_equal(xs_parse_log("debug", &p), 0);
	assert_int_equal(p, XS_LOG_DEBUG);
	assert_int_equal(xs_parse_log("loud", &p), -1);
	char why[256];
	struct xs_config c;
	setenv("XSCHED_WINDOW", "zero", 1);
	assert_int_equal(xs_config_from_env(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "XSCHED_WINDOW 'zero'"));
	setenv("XSCHED_WINDOW", "8", 1);
	setenv("XSCHED_PRIORITY", "low", 1);
	assert_int_equal(xs_config_from_env(&c, why, sizeof(why)), 0);
	assert_int_equal(c.window, 8);
	assert_int_equal(c.prio, XSCHED_PRIO_LOW);
	unsetenv("XSCHED_WINDOW");
	unsetenv("XSCHED_PRIORITY");
}

int main(void)
{
	char shm[64];
	snprintf(shm, sizeof(shm), "xs-unit-gate-%d", (int)getpid());
	setenv("XSCHED_SHM", shm, 1);
	setenv("XSCHED_LOG", "quiet", 1);
	unsetenv("XSCHED_WINDOW");
	unsetenv("XSCHED_PRIORITY");
	xsched_shm_unlink(shm);
	if (xsched_grant_create(shm, 0644, 0, false, &ctl) != XSCHED_SHM_OK) {
		fprintf(stderr, "cannot create the grant segment\n");
		return 1;
	}
	xs_backend_register(&fake);
	xs_backend_register(&other);
	xs_backend_register(&broken);
	if (!xs_backend_on(&fake)) {
		fprintf(stderr, "core did not register\n");
		return 1;
	}
	uint8_t uuid[16] = "unit-test-gpu-0";
	dev = xs_dev_get(0, uuid);
	if (!dev)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited_burst),
		cmocka_unit_test(test_cold_burst),
		cmocka_unit_test(test_window_bound),
		cmocka_unit_test(test_time_budget),
		cmocka_unit_test(test_busy_and_idle_windows),
		cmocka_unit_test(test_suspend_resume),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_failed_launch),
		cmocka_unit_test(test_capture_untracked),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_stream_destroy_and_reuse),
		cmocka_unit_test(test_ctx_gone),
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_config_parsers),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char gp[128];
	xsched_grant_path(shm, gp, sizeof(gp));
	unlink(gp);
	xsched_shm_unlink(shm);
	return rc;
}
