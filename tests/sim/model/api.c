/* SPDX-License-Identifier: MIT */
/*
 * The public calls of simgpu.h: streams, submission, completion, waiting, ground truth.
 * Each one enters the model (which advances it to now) and leaves before it sleeps.
 */
#include "sim_shm.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define STREAM_GEN_MASK ((1u << (32 - SIM_STREAM_BITS)) - 1)
#define DRAIN_BATCH     64
/* When nothing predicts a change, a blocked caller looks again this soon. */
#define IDLE_POLL_NS (1000ull * 1000)

static uint32_t stream_id(const struct sim_shm *s, uint32_t si)
{
	return ((s->stream[si].gen & STREAM_GEN_MASK) << SIM_STREAM_BITS) | si;
}

uint32_t sim_stream_index(const struct sim_shm *s, int p, uint32_t id)
{
	uint32_t si = id & (SIM_MAX_STREAMS - 1);
	const struct sim_stream *st = &s->stream[si];

	if (!id || st->state != STREAM_LIVE || st->proc != p ||
	    (st->gen & STREAM_GEN_MASK) != id >> SIM_STREAM_BITS)
		return SIM_NIL;
	return si;
}

uint32_t sim_stream_alloc(struct sim_shm *s, int p, int dev, int prio)
{
	struct sim_ctx *x = &s->proc[p].ctx[dev];

	for (uint32_t si = 0; si < SIM_MAX_STREAMS; si++) {
		struct sim_stream *st = &s->stream[si];

		if (st->state != STREAM_FREE)
			continue;
		st->proc = (uint16_t)p;
		st->dev = (uint8_t)dev;
		st->prio = prio;
		st->share = 0;
		st->head = st->tail = SIM_NIL;
		st->last_id = 0;
		st->state = STREAM_LIVE;
		if (si >= s->stream_hwm)
			s->stream_hwm = si + 1;
		st->ctx_next = x->streams;
		x->streams = si;
		x->used = 1;
		return si;
	}
	return SIM_NIL;
}

static uint32_t default_stream(struct sim_shm *s, int p, int dev)
{
	struct sim_ctx *x = &s->proc[p].ctx[dev];

	if (x->def_stream == SIM_NIL)
		x->def_stream = sim_stream_alloc(s, p, dev, 0);
	return x->def_stream;
}

int simgpu_stream_create_masked(int dev, int priority, uint32_t share, uint32_t *stream)
{
	if (share < 1 || share > SIMGPU_CU_FULL)
		return -EINVAL;
	struct sim_shm *s = sim_enter();
	uint32_t si;

	if (!s)
		return -errno;
	if (dev < 0 || (unsigned int)dev >= s->cfg.devices || !stream) {
		sim_leave(s);
		return -EINVAL;
	}
	si = sim_stream_alloc(s, sim_self(), dev, priority);
	if (si != SIM_NIL) {
		s->stream[si].share = share < SIMGPU_CU_FULL ? share : 0;
		*stream = stream_id(s, si);
	}
	sim_leave(s);
	return si == SIM_NIL ? -ENOSPC : 0;
}

int simgpu_stream_create(int dev, int priority, uint32_t *stream)
{
	return simgpu_stream_create_masked(dev, priority, SIMGPU_CU_FULL, stream);
}

int simgpu_stream_destroy(uint32_t stream)
{
	struct sim_shm *s = sim_enter();
	uint32_t si;

	if (!s)
		return -errno;
	si = sim_stream_index(s, sim_self(), stream);
	if (si == SIM_NIL) {
		sim_leave(s);
		return -EINVAL;
	}
	if (s->stream[si].head == SIM_NIL)
		sim_stream_release(s, si);
	else
		s->stream[si].state = STREAM_ZOMBIE; /* its work still completes */
	sim_leave(s);
	return 0;
}

static void sleep_until(uint64_t t)
{
	static __thread bool slack_set;
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
		               .tv_nsec = (long)(t % 1000000000ull) };

	/* The default 50 us timer slack alone would eat most of the wake-up budget. */
	if (!slack_set) {
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
		slack_set = true;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Sleep until the next event, at most until the next look for dead processes. */
static void sleep_for_event(struct sim_shm *s, uint64_t t)
{
	uint64_t now = s->now;

	sim_leave(s);
	if (t == SIM_NEVER)
		t = now + IDLE_POLL_NS;
	if (t > now + SIM_REAP_NS)
		t = now + SIM_REAP_NS;
	sleep_until(t);
}

static uint32_t alloc_cmd(struct sim_shm *s)
{
	uint32_t i = s->free_head;

	if (i != SIM_NIL) {
		s->free_head = s->cmd[i].next;
		if (i >= s->cmd_hwm)
			s->cmd_hwm = i + 1;
		return i;
	}
	i = s->retired_head;
	if (i != SIM_NIL) {
		s->retired_head = s->cmd[i].next;
		if (s->retired_head == SIM_NIL)
			s->retired_tail = SIM_NIL;
		s->retired--;
	}
	return i;
}

static void enqueue(struct sim_shm *s, int p, uint32_t si, uint32_t i, const struct simgpu_cmd *in)
{
	struct sim_cmd *c = &s->cmd[i];
	struct sim_stream *st = &s->stream[si];
	struct sim_proc *pr = &s->proc[p];
	struct sim_ctx *x = &pr->ctx[in->dev];
	struct sim_dev *d = &s->dev[in->dev];

	c->id = (s->seq++ << SIM_CMD_BITS) | i;
	c->tag = in->tag;
	c->wait_cmd = in->kind == SIMGPU_EVENT_WAIT ? in->wait_cmd : 0;
	c->remaining = sim_is_work((uint8_t)in->kind) ? in->duration_ns : 0;
	c->start_ns = c->end_ns = 0;
	c->submit_ns = s->now;
	c->next = c->fifo_next = SIM_NIL;
	c->proc = (uint16_t)p;
	c->stream = (uint16_t)si;
	c->dev = (uint8_t)in->dev;
	c->kind = (uint8_t)in->kind;
	c->state = CMD_PENDING;
	if (st->tail != SIM_NIL)
		s->cmd[st->tail].next = i;
	else
		st->head = i;
	st->tail = i;
	st->last_id = c->id;
	if (s->cfg.mode == SIMGPU_FIFO) {
		if (d->fifo_tail != SIM_NIL)
			s->cmd[d->fifo_tail].fifo_next = i;
		else
			d->fifo_head = i;
		d->fifo_tail = i;
	}
	/* Atomic: sim_nothing_to_drain() reads it without the lock. */
	__atomic_add_fetch(&pr->pending, 1, __ATOMIC_RELAXED);
	x->pending++;
	x->used = 1;
	if (sim_is_work(c->kind)) {
		if (x->inflight == 0 && x->completed && s->now >= x->last_end_ns) {
			unsigned int b = sim_gap_bucket(s->now - x->last_end_ns);

			x->gap_hist[b]++;
			x->gaps++;
		}
		x->submitted++;
		if (++x->inflight > x->max_inflight)
			x->max_inflight = x->inflight;
	}
}

uint64_t simgpu_submit(const struct simgpu_cmd *in)
{
	if (!in || (unsigned int)in->kind > SIMGPU_EVENT_WAIT) {
		errno = EINVAL;
		return 0;
	}
	for (;;) {
		struct sim_shm *s = sim_enter();
		uint32_t si, i = SIM_NIL;
		int p;

		if (!s)
			return 0;
		p = sim_self();
		if (in->dev < 0 || (unsigned int)in->dev >= s->cfg.devices) {
			sim_leave(s);
			errno = EINVAL;
			return 0;
		}
		si = in->stream ? sim_stream_index(s, p, in->stream)
		                : default_stream(s, p, in->dev);
		if (si == SIM_NIL || s->stream[si].dev != in->dev) {
			sim_leave(s);
			errno = in->stream ? EINVAL : ENOSPC;
			return 0;
		}
		if (s->proc[p].pending < SIM_PROC_CAP)
			i = alloc_cmd(s);
		if (i == SIM_NIL) {
			/* Like a full hardware queue: wait for something to complete. */
			sleep_for_event(s, sim_next_event(s));
			continue;
		}
		enqueue(s, p, si, i, in);
		uint64_t id = s->cmd[i].id;

		sim_settle(s);
		sim_leave(s);
		return id;
	}
}

bool simgpu_done(uint64_t id, uint64_t *start_ns, uint64_t *end_ns)
{
	struct sim_shm *s = sim_enter_observer();
	uint64_t start = 0, end = 0;
	bool done = true;

	if (s) {
		uint32_t i = sim_cmd_lookup(s, id);

		if (i != SIM_NIL) {
			done = s->cmd[i].state != CMD_PENDING;
			if (done) {
				start = s->cmd[i].start_ns;
				end = s->cmd[i].end_ns;
			}
		}
		sim_leave(s);
	}
	if (start_ns)
		*start_ns = start;
	if (end_ns)
		*end_ns = end;
	return done;
}

void simgpu_wait(uint64_t id)
{
	for (;;) {
		struct sim_shm *s = sim_enter();

		if (!s)
			return;
		if (sim_cmd_done(s, id)) {
			sim_leave(s);
			return;
		}
		sleep_for_event(s, sim_predict(s, id));
	}
}

void simgpu_wait_stream(uint32_t stream)
{
	for (int dev = 0;; dev++) {
		struct sim_shm *s = sim_enter();
		uint64_t last = 0;

		if (!s)
			return;
		if (stream) {
			uint32_t si = sim_stream_index(s, sim_self(), stream);

			if (si != SIM_NIL)
				last = s->stream[si].last_id;
		} else if ((unsigned int)dev < s->cfg.devices) {
			uint32_t si = s->proc[sim_self()].ctx[dev].def_stream;

			if (si != SIM_NIL)
				last = s->stream[si].last_id;
		}
		bool more = !stream && (unsigned int)dev + 1 < s->cfg.devices;

		sim_leave(s);
		if (last)
			simgpu_wait(last);
		if (!more)
			return;
	}
}

void simgpu_wait_device(int dev)
{
	for (;;) {
		struct sim_shm *s = sim_enter();
		uint64_t last = 0;

		if (!s)
			return;
		if (dev >= 0 && (unsigned int)dev < s->cfg.devices) {
			const struct sim_ctx *x = &s->proc[sim_self()].ctx[dev];

			for (uint32_t si = x->streams; si != SIM_NIL && !last;
			     si = s->stream[si].ctx_next)
				if (!sim_cmd_done(s, s->stream[si].last_id))
					last = s->stream[si].last_id;
		}
		sim_leave(s);
		if (!last)
			return;
		simgpu_wait(last);
	}
}

struct drained {
	uint64_t tag, start, end;
};

static void retire(struct sim_shm *s, uint32_t i)
{
	struct sim_cmd *c = &s->cmd[i];

	c->state = CMD_RETIRED;
	c->next = SIM_NIL;
	if (s->retired_tail != SIM_NIL)
		s->cmd[s->retired_tail].next = i;
	else
		s->retired_head = i;
	s->retired_tail = i;
	/* Retention is bounded so that the free stack, which hands out the lowest slots
	 * first, keeps the pool's used part (and a dry run's copy) small. */
	if (++s->retired > SIM_RETAIN) {
		uint32_t old = s->retired_head;

		s->retired_head = s->cmd[old].next;
		s->retired--;
		sim_free_cmd(s, old);
	}
}

void simgpu_drain_completed_times(simgpu_drain_fn fn, void *arg)
{
	struct drained batch[DRAIN_BATCH];
	uint32_t n;

	if (sim_nothing_to_drain())
		return;
	do {
		struct sim_shm *s = sim_enter();

		if (!s)
			return;
		struct sim_proc *pr = &s->proc[sim_self()];

		for (n = 0; n < DRAIN_BATCH && pr->done_head != SIM_NIL; n++) {
			uint32_t i = pr->done_head;
			struct sim_cmd *c = &s->cmd[i];

			batch[n] = (struct drained){ c->tag, c->start_ns, c->end_ns };
			__atomic_store_n(&pr->done_head, c->next, __ATOMIC_RELAXED);
			if (pr->done_head == SIM_NIL)
				pr->done_tail = SIM_NIL;
			retire(s, i);
		}
		sim_leave(s);
		for (uint32_t j = 0; j < n; j++)
			fn(batch[j].tag, batch[j].start, batch[j].end, arg);
	} while (n == DRAIN_BATCH);
}

struct plain_drain {
	void (*fn)(uint64_t tag, void *arg);
	void *arg;
};

static void plain_cb(uint64_t tag, uint64_t start_ns, uint64_t end_ns, void *arg)
{
	struct plain_drain *pd = arg;

	(void)start_ns;
	(void)end_ns;
	pd->fn(tag, pd->arg);
}

void simgpu_drain_completed(void (*fn)(uint64_t tag, void *arg), void *arg)
{
	struct plain_drain pd = { fn, arg };

	simgpu_drain_completed_times(plain_cb, &pd);
}

unsigned int sim_gap_bucket(uint64_t ns)
{
	/* floor(4 log2 ns): the octave, then the quarter from the next two bits. */
	if (ns < 2)
		return 0;
	unsigned int o = 63u - (unsigned int)__builtin_clzll(ns);
	unsigned int q =
	        o >= 2 ? (unsigned int)(ns >> (o - 2)) & 3u : (unsigned int)(ns << (2 - o)) & 3u;
	unsigned int b = o * 4 + q;

	return b < SIM_GAP_BUCKETS ? b : SIM_GAP_BUCKETS - 1;
}

/* Upper edge of the bucket holding quantile q. */
uint64_t sim_gap_quantile(const struct sim_ctx *x, double q)
{
	uint64_t need = (uint64_t)((double)x->gaps * q + 0.999999), seen = 0;

	if (!x->gaps)
		return 0;
	for (unsigned int b = 0; b < SIM_GAP_BUCKETS; b++) {
		seen += x->gap_hist[b];
		if (seen >= need) {
			unsigned int o = (b + 1) / 4, r = (b + 1) % 4;

			return (1ull << o) + (r ? ((1ull << o) * r) / 4 : 0);
		}
	}
	return UINT64_MAX;
}

static void fill_stats(const struct sim_shm *s, uint32_t p, int dev, struct simgpu_proc_stats *o)
{
	const struct sim_proc *pr = &s->proc[p];
	const struct sim_ctx *x = &pr->ctx[dev];

	memset(o, 0, sizeof(*o));
	o->pid = pr->pid;
	o->dev = dev;
	o->alive = pr->state == PROC_ALIVE;
	memcpy(o->comm, pr->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = 0;
	o->submitted = x->submitted;
	o->completed = x->completed;
	o->max_inflight = x->max_inflight;
	o->busy_ns = x->busy_ns;
	o->wait_max_ns = x->wait_max_ns;
	o->wait_total_ns = x->wait_total_ns;
	o->started = x->started;
	o->gaps = x->gaps;
	o->gap_p50_ns = sim_gap_quantile(x, 0.50);
	o->gap_p90_ns = sim_gap_quantile(x, 0.90);
	o->gap_p99_ns = sim_gap_quantile(x, 0.99);
}

int simgpu_stats(pid_t pid, struct simgpu_proc_stats *out, int max)
{
	struct sim_shm *s = sim_enter_observer();
	int n = 0;

	if (!s)
		return 0;
	/* Ground truth should say at once that a killed process is dead. */
	sim_reap(s, true);
	for (uint32_t p = 0; p < s->proc_hwm && n < max; p++) {
		const struct sim_proc *pr = &s->proc[p];
		bool any = false;

		if (pr->state == PROC_FREE || (pid && pr->pid != pid))
			continue;
		for (int dev = 0; dev < (int)s->cfg.devices && n < max; dev++) {
			if (!pr->ctx[dev].used)
				continue;
			fill_stats(s, p, dev, &out[n++]);
			any = true;
		}
		if (!any && n < max)
			fill_stats(s, p, 0, &out[n++]);
	}
	sim_leave(s);
	return n;
}
