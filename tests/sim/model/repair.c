/* SPDX-License-Identifier: MIT */
/*
 * Repair after a process died holding the segment lock. It may have left any list half
 * linked, so every list is rebuilt from what each command and stream records about itself
 * (state, owner, stream, id, end time); counters are recounted. Commands that do not make
 * sense any more are freed: the dead owner's work is dropped right after anyway.
 */
#include "sim_shm.h"

#include <stdlib.h>

static const struct sim_shm *sort_shm;

static int by_id(const void *a, const void *b)
{
	uint64_t x = sort_shm->cmd[*(const uint32_t *)a].id;
	uint64_t y = sort_shm->cmd[*(const uint32_t *)b].id;

	return x < y ? -1 : x > y;
}

static int by_end(const void *a, const void *b)
{
	uint64_t x = sort_shm->cmd[*(const uint32_t *)a].end_ns;
	uint64_t y = sort_shm->cmd[*(const uint32_t *)b].end_ns;

	return x < y ? -1 : x > y;
}

static bool cmd_sane(const struct sim_shm *s, const struct sim_cmd *c)
{
	const struct sim_stream *st;

	if (c->proc >= SIMGPU_MAX_PROCS || s->proc[c->proc].state != PROC_ALIVE ||
	    c->dev >= s->cfg.devices || c->stream >= SIM_MAX_STREAMS || c->kind > SIMGPU_EVENT_WAIT)
		return false;
	st = &s->stream[c->stream];
	return st->state != STREAM_FREE && st->proc == c->proc && st->dev == c->dev;
}

static void reset_lists(struct sim_shm *s)
{
	s->free_head = SIM_NIL;
	s->retired_head = s->retired_tail = SIM_NIL;
	s->retired = 0;
	s->cmd_hwm = SIM_MAX_CMDS;
	s->stream_hwm = SIM_MAX_STREAMS;
	for (int d = 0; d < SIMGPU_MAX_DEVICES; d++)
		s->dev[d].fifo_head = s->dev[d].fifo_tail = SIM_NIL;
	for (uint32_t p = 0; p < SIMGPU_MAX_PROCS; p++) {
		struct sim_proc *pr = &s->proc[p];

		__atomic_store_n(&pr->done_head, SIM_NIL, __ATOMIC_RELAXED);
		pr->done_tail = SIM_NIL;
		__atomic_store_n(&pr->pending, 0, __ATOMIC_RELEASE);
		for (int d = 0; d < SIMGPU_MAX_DEVICES; d++) {
			pr->ctx[d].streams = SIM_NIL;
			pr->ctx[d].cur = SIM_NIL;
			pr->ctx[d].pending = 0;
			pr->ctx[d].inflight = 0;
		}
	}
	for (uint32_t i = 0; i < SIM_MAX_STREAMS; i++) {
		struct sim_stream *st = &s->stream[i];

		st->head = st->tail = st->ctx_next = SIM_NIL;
		if (st->state == STREAM_FREE)
			continue;
		if (st->proc >= SIMGPU_MAX_PROCS || s->proc[st->proc].state != PROC_ALIVE ||
		    st->dev >= s->cfg.devices) {
			st->state = STREAM_FREE;
			continue;
		}
		struct sim_ctx *x = &s->proc[st->proc].ctx[st->dev];

		st->ctx_next = x->streams;
		x->streams = i;
	}
}

static void link_pending(struct sim_shm *s, uint32_t i)
{
	struct sim_cmd *c = &s->cmd[i];
	struct sim_stream *st = &s->stream[c->stream];
	struct sim_proc *pr = &s->proc[c->proc];
	struct sim_ctx *x = &pr->ctx[c->dev];
	struct sim_dev *d = &s->dev[c->dev];

	c->next = c->fifo_next = SIM_NIL;
	if (st->tail != SIM_NIL)
		s->cmd[st->tail].next = i;
	else
		st->head = i;
	st->tail = i;
	if (s->cfg.mode == SIMGPU_FIFO) {
		if (d->fifo_tail != SIM_NIL)
			s->cmd[d->fifo_tail].fifo_next = i;
		else
			d->fifo_head = i;
		d->fifo_tail = i;
	}
	__atomic_add_fetch(&pr->pending, 1, __ATOMIC_RELAXED);
	x->pending++;
	if (sim_is_work(c->kind))
		x->inflight++;
	/* A started command at its stream's head was running or preempted: it resumes. */
	if (c->start_ns && st->head == i && sim_is_work(c->kind) && x->cur == SIM_NIL)
		x->cur = i;
}

static void link_done(struct sim_shm *s, uint32_t i)
{
	struct sim_proc *pr = &s->proc[s->cmd[i].proc];

	s->cmd[i].next = SIM_NIL;
	if (pr->done_tail != SIM_NIL)
		s->cmd[pr->done_tail].next = i;
	else
		__atomic_store_n(&pr->done_head, i, __ATOMIC_RELAXED);
	pr->done_tail = i;
}

void sim_rebuild(struct sim_shm *s)
{
	static uint32_t pending[SIM_MAX_CMDS], done[SIM_MAX_CMDS];
	uint32_t np = 0, nd = 0;

	reset_lists(s);
	for (uint32_t i = SIM_MAX_CMDS; i-- > 0;) {
		struct sim_cmd *c = &s->cmd[i];

		if ((c->state == CMD_PENDING || c->state == CMD_DONE) && !cmd_sane(s, c))
			c->state = CMD_FREE;
		switch (c->state) {
		case CMD_PENDING:
			pending[np++] = i;
			break;
		case CMD_DONE:
			done[nd++] = i;
			break;
		case CMD_RETIRED:
			s->retired++;
			c->next = SIM_NIL;
			if (s->retired_tail != SIM_NIL)
				s->cmd[s->retired_tail].next = i;
			else
				s->retired_head = i;
			s->retired_tail = i;
			break;
		default:
			sim_free_cmd(s, i);
			break;
		}
	}
	sort_shm = s;
	qsort(pending, np, sizeof(pending[0]), by_id);
	qsort(done, nd, sizeof(done[0]), by_end);
	for (uint32_t j = 0; j < np; j++)
		link_pending(s, pending[j]);
	for (uint32_t j = 0; j < nd; j++)
		link_done(s, done[j]);
	for (int d = 0; d < SIMGPU_MAX_DEVICES; d++) {
		int a = s->dev[d].active;

		if (a >= SIMGPU_MAX_PROCS || (a >= 0 && s->proc[a].state != PROC_ALIVE))
			s->dev[d].active = -1;
	}
	for (uint32_t p = 0; p < SIMGPU_MAX_PROCS; p++) {
		struct sim_proc *pr = &s->proc[p];

		for (int d = 0; d < SIMGPU_MAX_DEVICES; d++)
			if (pr->ctx[d].def_stream >= SIM_MAX_STREAMS ||
			    s->stream[pr->ctx[d].def_stream].state == STREAM_FREE ||
			    s->stream[pr->ctx[d].def_stream].proc != p)
				pr->ctx[d].def_stream = SIM_NIL;
	}
	for (uint32_t i = 0; i < SIM_MAX_STREAMS; i++) {
		struct sim_stream *st = &s->stream[i];

		/* Its last command completed while the lists were broken. */
		if (st->state == STREAM_ZOMBIE && st->head == SIM_NIL)
			sim_stream_release(s, i);
	}
}
