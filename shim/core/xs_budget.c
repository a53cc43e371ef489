/* SPDX-License-Identifier: MIT */
/*
 * Per-kernel GPU time, learned from the completion of the gate's own markers, for the time
 * bound of the window.
 *
 * Why markers and not timing events: a timing event per launch costs a second record and an
 * elapsed-time query per command. While a budget applies every command gets a marker anyway
 * (so that its estimate leaves the in-flight total as soon as it completes), and the gate
 * usually sees a marker complete the moment it does: the thread the budget holds back is
 * blocked on the oldest one. A command's time is then its marker's completion minus the
 * later of its submission (the marker's record time, just after the launch returned) and
 * the completion of the marker before it on the same stream. Completions the shim noticed
 * late (a query long after the fact) are not used: `unc` bounds how late; a sample is taken
 * only when both ends are known within UNC_MAX or an eighth of the sample. On a shared
 * device the time includes other processes' work that ran in between: the estimate errs
 * long, which only makes the gate more careful.
 *
 * Per shape the estimate is the median of its last three samples (robust to one late
 * wake-up on a loaded machine, either end). The table: open addressing over XS_KDUR slots, keys
 * never removed (a process image has a bounded set of kernel shapes; when full, new shapes use the
 * mean). Written under the device lock, read lock-free by the gate: the duration is stored before
 * the key is published.
 */
#include "xs_internal.h"

#define UNC_MAX_NS 50000ull /* completions seen within 50 us count as seen at once */
#define PROBES     8
#define MEAN_MIN   4 /* timed commands before the mean stands in for unknown shapes */

uint64_t xs_budget_key(uintptr_t kf, uint64_t kn)
{
	uint64_t n = kn;
	if (kf == XS_KEY_COPY || kf == XS_KEY_MEMSET) {
		/* Bytes: one key per power of two. */
		n = 0;
		while (kn > 1) {
			kn >>= 1;
			n++;
		}
	}
	uint64_t k = (uint64_t)kf * 0x9e3779b97f4a7c15ull ^ (n + 1) * 0xc2b2ae3d27d4eb4full;
	k ^= k >> 29;
	return k ? k : 1;
}

static struct xs_kdur *slot_of(struct xs_dev *d, uint64_t key, bool add)
{
	for (unsigned int i = 0; i < PROBES; i++) {
		struct xs_kdur *e = &d->kd[(key + i * 0x9e37u) & (XS_KDUR - 1)];
		uint64_t k = atomic_load_explicit(&e->key, memory_order_acquire);
		if (k == key)
			return e;
		if (k == 0)
			return add ? e : NULL;
	}
	return NULL;
}

uint64_t xs_budget_estimate(struct xs_dev *d, uint64_t key, uint64_t cold_ns)
{
	struct xs_kdur *e = slot_of(d, key, false);
	if (e)
		return atomic_load_explicit(&e->ns, memory_order_relaxed);
	if (atomic_load_explicit(&d->timed, memory_order_relaxed) >= MEAN_MIN)
		return atomic_load_explicit(&d->mean_ns, memory_order_relaxed);
	return cold_ns;
}

static uint64_t med3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	return c < lo ? lo : c > hi ? hi : c;
}

/* The longest estimate in the table (device lock held). */
static void rescan_max(struct xs_dev *d)
{
	uint64_t m = 0, mk = 0;
	for (unsigned int i = 0; i < XS_KDUR; i++) {
		uint64_t k = atomic_load_explicit(&d->kd[i].key, memory_order_relaxed);
		uint64_t v = atomic_load_explicit(&d->kd[i].ns, memory_order_relaxed);
		if (k && v > m) {
			m = v;
			mk = k;
		}
	}
	atomic_store_explicit(&d->max_ns, m, memory_order_relaxed);
	d->max_key = mk;
}

void xs_budget_learn(struct xs_dev *d, uint64_t key, uint64_t ns)
{
	if (ns == 0)
		ns = 1;
	struct xs_kdur *e = slot_of(d, key, true);
	uint64_t v = ns;
	if (e) {
		if (atomic_load_explicit(&e->key, memory_order_relaxed) == key) {
			/* The median of the last three samples: one sample stretched by a late
			 * wake-up (a loaded machine) or squeezed by a late predecessor moves
			 * nothing; a real change shows in two. */
			e->s[e->n++ % 3] = ns;
			v = e->n >= 3 ? med3(e->s[0], e->s[1], e->s[2])
			              : (e->s[0] > e->s[1] ? e->s[0] : e->s[1]);
			atomic_store_explicit(&e->ns, v, memory_order_relaxed);
		} else {
			e->s[0] = ns;
			e->s[1] = e->s[2] = 0;
			e->n = 1;
			atomic_store_explicit(&e->ns, ns, memory_order_relaxed);
			atomic_store_explicit(&e->key, key, memory_order_release);
		}
	}
	uint32_t n = atomic_load_explicit(&d->timed, memory_order_relaxed);
	uint64_t mean = atomic_load_explicit(&d->mean_ns, memory_order_relaxed);
	/* Of the filtered estimates, so that outliers stay out of it too: a plain average over
	 * the first commands, then an EWMA of weight 1/64 (the mix of a job's kernels, not the
	 * last one). */
	if (n < 64)
		mean = (mean * n + v) / (n + 1);
	else
		mean = mean - mean / 64 + v / 64;
	atomic_store_explicit(&d->mean_ns, mean, memory_order_relaxed);
	atomic_store_explicit(&d->timed, n + 1, memory_order_relaxed);
	uint64_t max = atomic_load_explicit(&d->max_ns, memory_order_relaxed);
	if (v >= max) {
		atomic_store_explicit(&d->max_ns, v, memory_order_relaxed);
		d->max_key = key;
	} else if (key == d->max_key) {
		rescan_max(d);
	}
	atomic_store_explicit(&d->pg->cmd_mean_us, (uint32_t)((mean + 999) / 1000),
	                      memory_order_relaxed);
	atomic_store_explicit(&d->pg->cmd_max_us,
	                      (uint32_t)((atomic_load(&d->max_ns) + 999) / 1000),
	                      memory_order_relaxed);
}

static uint64_t tolerance(uint64_t sample)
{
	return sample / 8 > UNC_MAX_NS ? sample / 8 : UNC_MAX_NS;
}

void xs_budget_observe(struct xs_dev *d, const struct xs_marker *mk, uint64_t now_ns,
                       uint64_t unc_ns)
{
	struct xs_stream *s = mk->s;
	uint64_t prev = s->prev_obs_ns, prev_unc = s->prev_unc_ns;
	s->prev_obs_ns = now_ns;
	s->prev_unc_ns = unc_ns;
	if (!mk->key || !mk->rec_ns)
		return;
	/* Submitted after the predecessor was seen done: the start is the submission, however
	 * late that sighting was. Else the predecessor's completion, if seen promptly. */
	uint64_t start = mk->rec_ns;
	bool start_ok = true;
	if (prev > start) {
		start = prev;
		start_ok = prev != 0 && prev_unc != UINT64_MAX;
	}
	if (!start_ok || now_ns <= start)
		return;
	uint64_t ns = now_ns - start;
	if (unc_ns > tolerance(ns) || (start == prev && prev_unc > tolerance(ns)))
		return;
	xs_budget_learn(d, mk->key, ns);
}
