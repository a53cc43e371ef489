/* SPDX-License-Identifier: MIT */
/*
 * The device model: an event-driven loop that moves the shared state from its last time to
 * "now". Between two events (a completion, a timeslice boundary) the set of executing
 * commands and their rates are constant, so the loop jumps from event to event. The same code
 * runs on a private copy of the state to predict when a command will complete.
 *
 * Rates: a command runs at full speed alone; in concurrent mode k unrestricted commands
 * share the device at 1/k each (kept as the exact integer k). A stream restricted to a share
 * of the compute units (a CU mask) is capped at that share; what it leaves is spread over the
 * others (water-filling), in SIMGPU_CU_FULL fixed point.
 */
#include "sim_shm.h"

#include <stdlib.h>
#include <string.h>

struct exec_set {
	uint32_t n, k; /* k: how many share the device, each at 1/k speed */
	bool capped;   /* a CU-restricted command runs: rate[] holds every command's speed */
	uint32_t cmd[SIMGPU_MAX_PROCS];
	uint32_t rate[SIMGPU_MAX_PROCS]; /* of SIMGPU_CU_FULL; only when capped */
};

uint32_t sim_cmd_lookup(const struct sim_shm *s, uint64_t id)
{
	uint32_t i = (uint32_t)(id & (SIM_MAX_CMDS - 1));

	if (!id || s->cmd[i].id != id || s->cmd[i].state == CMD_FREE)
		return SIM_NIL;
	return i;
}

/* A command whose slot was reused, or that was dropped with a dead process, is done. */
bool sim_cmd_done(const struct sim_shm *s, uint64_t id)
{
	uint32_t i = sim_cmd_lookup(s, id);

	return i == SIM_NIL || s->cmd[i].state != CMD_PENDING;
}

void sim_free_cmd(struct sim_shm *s, uint32_t i)
{
	struct sim_cmd *c = &s->cmd[i];

	c->state = CMD_FREE;
	c->id = 0;
	c->next = s->free_head;
	s->free_head = i;
}

void sim_stream_release(struct sim_shm *s, uint32_t si)
{
	struct sim_stream *st = &s->stream[si];
	struct sim_ctx *x = &s->proc[st->proc].ctx[st->dev];
	uint32_t *link = &x->streams;

	while (*link != SIM_NIL && *link != si)
		link = &s->stream[*link].ctx_next;
	if (*link == si)
		*link = st->ctx_next;
	st->state = STREAM_FREE;
	st->ctx_next = SIM_NIL;
	st->gen = (st->gen + 1) & ((1u << (32 - SIM_STREAM_BITS)) - 1);
	if (!st->gen)
		st->gen = 1;
}

static void complete(struct sim_shm *s, uint32_t i)
{
	struct sim_cmd *c = &s->cmd[i];
	struct sim_proc *p = &s->proc[c->proc];
	struct sim_ctx *x = &p->ctx[c->dev];
	struct sim_stream *st = &s->stream[c->stream];

	if (!c->start_ns)
		c->start_ns = s->now;
	c->end_ns = s->now;
	/* Only stream heads run, so the command is its stream's head (and, in fifo mode, the
	 * device queue's head too, since that queue is in id order). */
	st->head = c->next;
	if (st->head == SIM_NIL)
		st->tail = SIM_NIL;
	if (s->cfg.mode == SIMGPU_FIFO) {
		struct sim_dev *d = &s->dev[c->dev];

		d->fifo_head = c->fifo_next;
		if (d->fifo_head == SIM_NIL)
			d->fifo_tail = SIM_NIL;
	}
	if (x->cur == i)
		x->cur = SIM_NIL;
	c->state = CMD_DONE;
	c->next = SIM_NIL;
	x->pending--;
	if (sim_is_work(c->kind)) {
		x->completed++;
		x->inflight--;
		x->last_end_ns = s->now;
	}
	if (st->state == STREAM_ZOMBIE && st->head == SIM_NIL)
		sim_stream_release(s, c->stream);
	if (!s->dry) {
		if (p->done_tail != SIM_NIL)
			s->cmd[p->done_tail].next = i;
		else
			__atomic_store_n(&p->done_head, i, __ATOMIC_RELAXED);
		p->done_tail = i;
	}
	/* After the append: the owner's lock-free "anything to drain?" check reads pending
	 * first. */
	__atomic_store_n(&p->pending, p->pending - 1, __ATOMIC_RELEASE);
}

static bool marker_ready(const struct sim_shm *s, const struct sim_cmd *c)
{
	return c->kind != SIMGPU_EVENT_WAIT || sim_cmd_done(s, c->wait_cmd);
}

/* A work command starts for the first time: it was ready (submitted, and its own
 * context's previous command finished) since `ready`, so it waited now - ready for the
 * device, i.e. for other processes' work (in fifo and timeslice modes the device runs one
 * context at a time and never idles while a command is ready). */
static void start(struct sim_shm *s, uint32_t i)
{
	struct sim_cmd *c = &s->cmd[i];

	if (c->start_ns)
		return;
	c->start_ns = s->now;
	if (sim_is_work(c->kind)) {
		struct sim_ctx *x = &s->proc[c->proc].ctx[c->dev];
		uint64_t ready = c->submit_ns > x->last_end_ns ? c->submit_ns : x->last_end_ns;
		uint64_t w = s->now > ready ? s->now - ready : 0;

		x->started++;
		x->wait_total_ns += w;
		if (w > x->wait_max_ns)
			x->wait_max_ns = w;
	}
}

static bool ctx_live(const struct sim_shm *s, uint32_t p, int dev)
{
	return s->proc[p].state == PROC_ALIVE && s->proc[p].ctx[dev].pending;
}

/* The most urgent ready work at the head of one of the context's streams. */
static uint32_t best_head(const struct sim_shm *s, uint32_t p, int dev)
{
	const struct sim_ctx *x = &s->proc[p].ctx[dev];
	uint32_t best = SIM_NIL;
	int best_prio = 0;

	for (uint32_t si = x->streams; si != SIM_NIL; si = s->stream[si].ctx_next) {
		const struct sim_stream *st = &s->stream[si];
		uint32_t h = st->head;

		if (h == SIM_NIL || !sim_is_work(s->cmd[h].kind))
			continue;
		if (best == SIM_NIL || st->prio < best_prio ||
		    (st->prio == best_prio && s->cmd[h].id < s->cmd[best].id)) {
			best = h;
			best_prio = st->prio;
		}
	}
	return best;
}

static bool runnable(const struct sim_shm *s, uint32_t p, int dev)
{
	return ctx_live(s, p, dev) &&
	       (s->proc[p].ctx[dev].cur != SIM_NIL || best_head(s, p, dev) != SIM_NIL);
}

/* Round robin: the first runnable context after `from`, `from` itself last if allowed. */
static int rr_next(const struct sim_shm *s, int dev, int from, bool self_ok)
{
	uint32_t n = s->proc_hwm;

	for (uint32_t i = 1; i <= n; i++) {
		uint32_t p = (uint32_t)((from + (int)i) % (int)n);

		if ((int)p == from && !self_ok)
			continue;
		if (runnable(s, p, dev))
			return (int)p;
	}
	return -1;
}

static bool settle_fifo(struct sim_shm *s, int dev)
{
	struct sim_dev *d = &s->dev[dev];
	bool changed = false;
	uint32_t h;

	while ((h = d->fifo_head) != SIM_NIL) {
		struct sim_cmd *c = &s->cmd[h];

		if (sim_is_work(c->kind)) {
			start(s, h);
			break;
		}
		if (!marker_ready(s, c))
			break;
		complete(s, h);
		changed = true;
	}
	return changed;
}

/* Markers take no device time: they complete as soon as they head their stream. */
static bool settle_markers(struct sim_shm *s, int dev)
{
	bool changed = false;

	for (uint32_t p = 0; p < s->proc_hwm; p++) {
		if (!ctx_live(s, p, dev))
			continue;
		uint32_t si = s->proc[p].ctx[dev].streams;

		while (si != SIM_NIL) {
			uint32_t next = s->stream[si].ctx_next;
			uint32_t h;

			/* complete() may free a zombie stream; `next` was read before. */
			while ((h = s->stream[si].head) != SIM_NIL &&
			       !sim_is_work(s->cmd[h].kind) && marker_ready(s, &s->cmd[h])) {
				complete(s, h);
				changed = true;
			}
			si = next;
		}
	}
	return changed;
}

static void pick_timeslice(struct sim_shm *s, int dev)
{
	struct sim_dev *d = &s->dev[dev];
	uint64_t slice = (uint64_t)s->cfg.slice_us * 1000;
	int a = d->active;

	if (a < 0 || !runnable(s, (uint32_t)a, dev)) {
		a = rr_next(s, dev, a, false);
		d->active = a;
		if (a < 0)
			return;
		d->slice_end = s->now + slice;
	} else if (d->slice_end <= s->now) {
		int b = rr_next(s, dev, a, false);

		if (b >= 0) {
			/* The running kernel of `a` is preempted: it stays a's current command
			 * with its remaining work, and resumes on a's next turn. */
			a = b;
			d->active = a;
			d->slice_end = s->now + slice;
		} else {
			/* Alone: keep the slice phase, so that a newcomer waits for the
			 * current boundary, not for a whole fresh slice. */
			d->slice_end += ((s->now - d->slice_end) / slice + 1) * slice;
		}
	}
	struct sim_ctx *x = &s->proc[a].ctx[dev];

	if (x->cur == SIM_NIL)
		x->cur = best_head(s, (uint32_t)a, dev);
	if (x->cur != SIM_NIL)
		start(s, x->cur);
}

static int cmd_prio(const struct sim_shm *s, uint32_t i)
{
	return s->stream[s->cmd[i].stream].prio;
}

/* Stream priorities hold across contexts too, as under MPS: at a kernel boundary a context
 * whose next command is less urgent than another context's running or ready command does
 * not start it. Running commands are never preempted; equal priorities share the device. */
static void pick_concurrent(struct sim_shm *s, int dev)
{
	bool any = false;
	int urgent = 0;

	for (uint32_t p = 0; p < s->proc_hwm; p++) {
		if (!ctx_live(s, p, dev))
			continue;
		const struct sim_ctx *x = &s->proc[p].ctx[dev];
		uint32_t c = x->cur != SIM_NIL ? x->cur : best_head(s, p, dev);

		if (c != SIM_NIL && (!any || cmd_prio(s, c) < urgent)) {
			urgent = cmd_prio(s, c);
			any = true;
		}
	}
	for (uint32_t p = 0; p < s->proc_hwm; p++) {
		if (!ctx_live(s, p, dev))
			continue;
		struct sim_ctx *x = &s->proc[p].ctx[dev];

		if (x->cur == SIM_NIL) {
			uint32_t h = best_head(s, p, dev);

			if (h != SIM_NIL && cmd_prio(s, h) <= urgent)
				x->cur = h;
		}
		if (x->cur != SIM_NIL)
			start(s, x->cur);
	}
}

/* Resolve everything that happens at s->now without taking time: markers complete, idle
 * engines pick their next command. */
void sim_settle(struct sim_shm *s)
{
	int ndev = (int)s->cfg.devices;
	bool changed;

	do {
		changed = false;
		for (int dev = 0; dev < ndev; dev++) {
			if (s->cfg.mode == SIMGPU_FIFO)
				changed |= settle_fifo(s, dev);
			else
				changed |= settle_markers(s, dev);
		}
	} while (changed);
	for (int dev = 0; dev < ndev; dev++) {
		if (s->cfg.mode == SIMGPU_TIMESLICE)
			pick_timeslice(s, dev);
		else if (s->cfg.mode == SIMGPU_CONCURRENT)
			pick_concurrent(s, dev);
	}
}

static void exec_set(const struct sim_shm *s, int dev, struct exec_set *e)
{
	const struct sim_dev *d = &s->dev[dev];

	e->n = 0;
	switch (s->cfg.mode) {
	case SIMGPU_FIFO:
		if (d->fifo_head != SIM_NIL && sim_is_work(s->cmd[d->fifo_head].kind))
			e->cmd[e->n++] = d->fifo_head;
		break;
	case SIMGPU_TIMESLICE:
		if (d->active >= 0 && s->proc[d->active].ctx[dev].cur != SIM_NIL)
			e->cmd[e->n++] = s->proc[d->active].ctx[dev].cur;
		break;
	case SIMGPU_CONCURRENT:
		for (uint32_t p = 0; p < s->proc_hwm; p++)
			if (ctx_live(s, p, dev) && s->proc[p].ctx[dev].cur != SIM_NIL)
				e->cmd[e->n++] = s->proc[p].ctx[dev].cur;
		break;
	}
	e->k = s->cfg.mode == SIMGPU_CONCURRENT && e->n ? e->n : 1;
	e->capped = false;
	for (uint32_t j = 0; j < e->n; j++) {
		uint32_t share = s->stream[s->cmd[e->cmd[j]].stream].share;

		e->rate[j] = share && share < SIMGPU_CU_FULL ? share : 0;
		e->capped |= e->rate[j] != 0;
	}
	if (!e->capped)
		return;
	/* Water-filling: capped commands below the fair share keep their cap, the others split
	 * what is left equally. */
	uint64_t left = SIMGPU_CU_FULL;
	uint32_t open = e->n;
	bool fixed[SIMGPU_MAX_PROCS] = { false };
	bool again = true;

	while (again && open) {
		again = false;
		for (uint32_t j = 0; j < e->n; j++) {
			if (fixed[j] || !e->rate[j] || e->rate[j] > left / open)
				continue;
			fixed[j] = true;
			left -= e->rate[j];
			open--;
			again = true;
		}
	}
	for (uint32_t j = 0; j < e->n; j++)
		if (!fixed[j])
			e->rate[j] = (uint32_t)(left / open ? left / open : 1);
}

/* Time command j of e needs at its current rate to finish `rem` ns of full-speed work. */
static uint64_t time_to_finish(const struct exec_set *e, uint32_t j, uint64_t rem)
{
	if (!e->capped)
		return rem * e->k;
	return (rem * SIMGPU_CU_FULL + e->rate[j] - 1) / e->rate[j];
}

/* Full-speed work command j of e does in dt ns (never all of it before time_to_finish). */
static uint64_t work_in(const struct exec_set *e, uint32_t j, uint64_t dt, uint64_t rem)
{
	if (!e->capped)
		return dt / e->k;
	if (dt >= time_to_finish(e, j, rem))
		return rem;
	return dt * e->rate[j] / SIMGPU_CU_FULL;
}

/* The next time anything changes by itself; call after sim_settle(). */
uint64_t sim_next_event(struct sim_shm *s)
{
	uint64_t t = SIM_NEVER;
	struct exec_set e;

	for (int dev = 0; dev < (int)s->cfg.devices; dev++) {
		exec_set(s, dev, &e);
		for (uint32_t j = 0; j < e.n; j++) {
			uint64_t done = s->now + time_to_finish(&e, j, s->cmd[e.cmd[j]].remaining);

			if (done < t)
				t = done;
		}
		const struct sim_dev *d = &s->dev[dev];

		if (s->cfg.mode == SIMGPU_TIMESLICE && d->active >= 0 && d->slice_end < t &&
		    rr_next(s, dev, d->active, false) >= 0)
			t = d->slice_end > s->now ? d->slice_end : s->now;
	}
	return t;
}

static void progress(struct sim_shm *s, uint64_t dt)
{
	struct exec_set e;

	if (!dt)
		return;
	for (int dev = 0; dev < (int)s->cfg.devices; dev++) {
		exec_set(s, dev, &e);
		for (uint32_t j = 0; j < e.n; j++) {
			struct sim_cmd *c = &s->cmd[e.cmd[j]];
			uint64_t w = work_in(&e, j, dt, c->remaining);

			c->remaining = c->remaining > w ? c->remaining - w : 0;
			s->proc[c->proc].ctx[dev].busy_ns += dt;
		}
	}
}

static void finish(struct sim_shm *s)
{
	struct exec_set e;

	for (int dev = 0; dev < (int)s->cfg.devices; dev++) {
		exec_set(s, dev, &e);
		for (uint32_t j = 0; j < e.n; j++)
			if (!s->cmd[e.cmd[j]].remaining)
				complete(s, e.cmd[j]);
	}
}

/* Step to `until`, or until command `stop` is done (0: no such condition). Returns the
 * model time reached, SIM_NEVER if `stop` can never complete without new submissions. */
static uint64_t run(struct sim_shm *s, uint64_t until, uint64_t stop)
{
	if (until < s->now)
		until = s->now;
	for (;;) {
		sim_settle(s);
		if (stop && sim_cmd_done(s, stop))
			return s->now;
		uint64_t t = sim_next_event(s);

		if (t == SIM_NEVER || t > until) {
			if (until == SIM_NEVER)
				return SIM_NEVER;
			progress(s, until - s->now);
			s->now = until;
			return s->now;
		}
		progress(s, t - s->now);
		s->now = t;
		finish(s);
	}
}

void sim_advance(struct sim_shm *s, uint64_t now)
{
	run(s, now, 0);
}

/* A private copy per process: predictions run under the segment lock, one at a time. */
static struct sim_shm *dry_copy;

uint64_t sim_predict(const struct sim_shm *s, uint64_t id)
{
	if (sim_cmd_done(s, id))
		return s->now;
	if (!dry_copy) {
		dry_copy = malloc(sizeof(*dry_copy));
		if (!dry_copy)
			return sim_next_event((struct sim_shm *)s);
	}
	/* Only the used prefix of each table: nothing links beyond it. */
	memcpy((char *)dry_copy + SIM_STATE_OFFSET, (const char *)s + SIM_STATE_OFFSET,
	       offsetof(struct sim_shm, proc) - SIM_STATE_OFFSET);
	memcpy(dry_copy->proc, s->proc, s->proc_hwm * sizeof(s->proc[0]));
	memcpy(dry_copy->stream, s->stream, s->stream_hwm * sizeof(s->stream[0]));
	memcpy(dry_copy->cmd, s->cmd, s->cmd_hwm * sizeof(s->cmd[0]));
	dry_copy->dry = 1;
	return run(dry_copy, SIM_NEVER, id);
}

/* Forget a dead process's queued work so that nobody waits behind it; its statistics stay. */
void sim_drop_proc(struct sim_shm *s, int p)
{
	struct sim_proc *pr = &s->proc[p];

	for (int dev = 0; dev < (int)s->cfg.devices; dev++) {
		struct sim_dev *d = &s->dev[dev];
		uint32_t *link = &d->fifo_head;

		d->fifo_tail = SIM_NIL;
		while (*link != SIM_NIL) {
			if (s->cmd[*link].proc == p) {
				*link = s->cmd[*link].fifo_next;
				continue;
			}
			d->fifo_tail = *link;
			link = &s->cmd[*link].fifo_next;
		}
		if (d->active == p)
			d->active = -1;
		struct sim_ctx *x = &pr->ctx[dev];

		x->cur = SIM_NIL;
		x->streams = SIM_NIL;
		x->def_stream = SIM_NIL;
		x->pending = 0;
		x->inflight = 0;
	}
	for (uint32_t i = 0; i < SIM_MAX_CMDS; i++) {
		struct sim_cmd *c = &s->cmd[i];

		if (c->proc == p && (c->state == CMD_PENDING || c->state == CMD_DONE))
			sim_free_cmd(s, i);
	}
	for (uint32_t i = 0; i < SIM_MAX_STREAMS; i++) {
		struct sim_stream *st = &s->stream[i];

		if (st->state != STREAM_FREE && st->proc == p)
			sim_stream_release(s, i);
	}
	__atomic_store_n(&pr->done_head, SIM_NIL, __ATOMIC_RELAXED);
	pr->done_tail = SIM_NIL;
	__atomic_store_n(&pr->pending, 0, __ATOMIC_RELEASE);
	pr->state = PROC_DEAD;
}
