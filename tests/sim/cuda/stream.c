/* SPDX-License-Identifier: MIT */
/*
 * Streams and events. An event record is a marker command in the model; its time is the
 * marker's completion time, taken when the completion is drained.
 */
#include "cuda_sim.h"
#include "nv_ioctl_numbers.h"

#include <stdlib.h>

static CUresult stream_create(CUstream *ph, unsigned int flags, int prio)
{
	struct cu_ctx *ctx = cs_current();
	CUresult r = cs_enter();

	if (r)
		return r;
	r = cs_ctx_check(ctx);
	if (r)
		return r;
	if (!ph || (flags & ~(unsigned int)CU_STREAM_NON_BLOCKING))
		return CUDA_ERROR_INVALID_VALUE;
	/* As the driver does: out-of-range priorities are clamped, not refused. */
	if (prio > SIM_PRIO_LEAST)
		prio = SIM_PRIO_LEAST;
	if (prio < SIM_PRIO_GREATEST)
		prio = SIM_PRIO_GREATEST;
	struct cu_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (simgpu_stream_create(ctx->dev, prio, &st->sim)) {
		free(st);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	st->prio = prio;
	st->flags = flags;
	cs_ioctl_alloc(HOPPER_CHANNEL_GPFIFO_A);
	pthread_mutex_lock(&cs_g.lock);
	cs_stream_link(ctx, st);
	reg_add(st, OBJ_STREAM);
	pthread_mutex_unlock(&cs_g.lock);
	*ph = (CUstream)st;
	return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream *ph, unsigned int flags)
{
	return stream_create(ph, flags, 0);
}

CUresult cuStreamCreateWithPriority(CUstream *ph, unsigned int flags, int priority)
{
	return stream_create(ph, flags, priority);
}

static void capture_leave(struct cu_stream *st);

CUresult cuStreamDestroy_v2(CUstream h)
{
	struct cu_stream *st = (struct cu_stream *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(st, OBJ_STREAM)) {
		pthread_mutex_unlock(&cs_g.lock);
		return CUDA_ERROR_INVALID_HANDLE;
	}
	if (st->cap)
		capture_leave(st);
	cs_stream_free(st);
	pthread_mutex_unlock(&cs_g.lock);
	return CUDA_SUCCESS;
}

/* Resolve under the lock and copy out what the caller needs. */
static CUresult stream_peek(CUstream h, bool ptds, struct cu_stream *copy)
{
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r)
		*copy = *st;
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

/* Synchronising a capturing stream is illegal and ends the capture as invalid. */
static CUresult stream_sync_or_query(CUstream h, bool ptds, bool sync)
{
	struct cu_stream *st;
	uint64_t last;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r && st->cap) {
		st->cap->invalidated = true;
		r = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	}
	last = r ? 0 : st->last;
	pthread_mutex_unlock(&cs_g.lock);
	if (r)
		return r;
	if (sync)
		return cs_wait_cmd(last);
	return !last || simgpu_done(last, NULL, NULL) ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

CUresult cuStreamSynchronize(CUstream h)
{
	return stream_sync_or_query(h, false, true);
}

CUresult cuStreamSynchronize_ptsz(CUstream h)
{
	return stream_sync_or_query(h, true, true);
}

CUresult cuStreamQuery(CUstream h)
{
	return stream_sync_or_query(h, false, false);
}

CUresult cuStreamQuery_ptsz(CUstream h)
{
	return stream_sync_or_query(h, true, false);
}

static CUresult stream_wait_event(CUstream h, CUevent he, unsigned int flags, bool ptds)
{
	struct cu_event *ev = (struct cu_event *)he;
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (flags & ~(unsigned int)CU_EVENT_WAIT_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r && !reg_has(ev, OBJ_EVENT))
		r = CUDA_ERROR_INVALID_HANDLE;
	if (r)
		goto out;
	struct capture *cap = ev->cap_id ? cs_capture_find(ev->cap_id) : NULL;

	if (cap) {
		/* Waiting on an event recorded in a capture joins that capture (fork). */
		if (!st->cap)
			st->cap = cap;
		goto out;
	}
	if (st->cap)
		goto out; /* the dependency precedes the capture: already satisfied on replay */
	if (ev->cmd && !simgpu_done(ev->cmd, NULL, NULL))
		r = cs_submit(st, SIMGPU_EVENT_WAIT, 0, ev->cmd, NULL, NULL);
out:
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuStreamWaitEvent(CUstream h, CUevent ev, unsigned int flags)
{
	return stream_wait_event(h, ev, flags, false);
}

CUresult cuStreamWaitEvent_ptsz(CUstream h, CUevent ev, unsigned int flags)
{
	return stream_wait_event(h, ev, flags, true);
}

#define STREAM_GETTER(name, type, expr)                                                            \
	static CUresult name##_impl(CUstream h, type *out, bool ptds)                              \
	{                                                                                          \
		struct cu_stream st;                                                               \
		CUresult r = stream_peek(h, ptds, &st);                                            \
                                                                                                   \
		if (r)                                                                             \
			return r;                                                                  \
		if (!out)                                                                          \
			return CUDA_ERROR_INVALID_VALUE;                                           \
		*out = (expr);                                                                     \
		return CUDA_SUCCESS;                                                               \
	}                                                                                          \
	CUresult name(CUstream h, type *out)                                                       \
	{                                                                                          \
		return name##_impl(h, out, false);                                                 \
	}                                                                                          \
	CUresult name##_ptsz(CUstream h, type *out)                                                \
	{                                                                                          \
		return name##_impl(h, out, true);                                                  \
	}

STREAM_GETTER(cuStreamGetPriority, int, st.prio)
STREAM_GETTER(cuStreamGetFlags, unsigned int, st.flags)
STREAM_GETTER(cuStreamGetId, unsigned long long, st.legacy ? 0x1 : st.id)
STREAM_GETTER(cuStreamGetCtx, CUcontext, (CUcontext)st.ctx)

static CUresult stream_get_ctx2(CUstream h, CUcontext *pctx, CUgreenCtx *green, bool ptds)
{
	CUresult r = cuStreamGetCtx_impl(h, pctx, ptds);

	if (!r && green)
		*green = NULL;
	return r;
}

CUresult cuStreamGetCtx_v2(CUstream h, CUcontext *pctx, CUgreenCtx *green)
{
	return stream_get_ctx2(h, pctx, green, false);
}

CUresult cuStreamGetCtx_v2_ptsz(CUstream h, CUcontext *pctx, CUgreenCtx *green)
{
	return stream_get_ctx2(h, pctx, green, true);
}

/* Events. */

CUresult cuEventCreate(CUevent *ph, unsigned int flags)
{
	struct cu_ctx *ctx = cs_current();
	CUresult r = cs_enter();

	if (r)
		return r;
	r = cs_ctx_check(ctx);
	if (r)
		return r;
	if (!ph || (flags & ~0x7u))
		return CUDA_ERROR_INVALID_VALUE;
	if ((flags & CU_EVENT_INTERPROCESS) && !(flags & CU_EVENT_DISABLE_TIMING))
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return CUDA_ERROR_OUT_OF_MEMORY;
	ev->ctx = ctx;
	ev->flags = flags;
	reg_add(ev, OBJ_EVENT);
	*ph = (CUevent)ev;
	return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent h)
{
	struct cu_event *ev = (struct cu_event *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(ev, OBJ_EVENT)) {
		pthread_mutex_unlock(&cs_g.lock);
		return CUDA_ERROR_INVALID_HANDLE;
	}
	/* A record still queued finds the event gone when it completes. */
	reg_del(ev);
	pthread_mutex_unlock(&cs_g.lock);
	free(ev);
	return CUDA_SUCCESS;
}

static CUresult event_record(CUevent he, CUstream h, unsigned int flags, bool ptds)
{
	struct cu_event *ev = (struct cu_event *)he;
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (flags & ~(unsigned int)CU_EVENT_RECORD_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(ev, OBJ_EVENT))
		r = CUDA_ERROR_INVALID_HANDLE;
	if (!r)
		r = cs_stream_get(h, ptds, &st);
	if (!r) {
		if (st->cap) {
			ev->cap_id = st->cap->id;
		} else {
			ev->cap_id = 0;
			r = cs_submit_record(st, ev);
		}
	}
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuEventRecord(CUevent ev, CUstream h)
{
	return event_record(ev, h, 0, false);
}

CUresult cuEventRecord_ptsz(CUevent ev, CUstream h)
{
	return event_record(ev, h, 0, true);
}

CUresult cuEventRecordWithFlags(CUevent ev, CUstream h, unsigned int flags)
{
	return event_record(ev, h, flags, false);
}

CUresult cuEventRecordWithFlags_ptsz(CUevent ev, CUstream h, unsigned int flags)
{
	return event_record(ev, h, flags, true);
}

/* The event's last record command, or an error for a handle that cannot be waited on. */
static CUresult event_cmd(CUevent he, uint64_t *cmd)
{
	struct cu_event *ev = (struct cu_event *)he;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(ev, OBJ_EVENT))
		r = CUDA_ERROR_INVALID_HANDLE;
	else if (ev->cap_id && cs_capture_find(ev->cap_id))
		r = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	else
		*cmd = ev->cmd;
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuEventQuery(CUevent he)
{
	uint64_t cmd = 0;
	CUresult r = event_cmd(he, &cmd);

	if (r)
		return r;
	return !cmd || simgpu_done(cmd, NULL, NULL) ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

CUresult cuEventSynchronize(CUevent he)
{
	uint64_t cmd = 0;
	CUresult r = event_cmd(he, &cmd);

	return r ? r : cs_wait_cmd(cmd);
}

/* The completion time of the event's last record: 0 with NOT_READY if it is pending. */
static CUresult event_time(struct cu_event *ev, uint64_t *t)
{
	uint64_t cmd = ev->cmd, end = ev->end_ns;

	if (!cmd || (ev->flags & CU_EVENT_DISABLE_TIMING))
		return CUDA_ERROR_INVALID_HANDLE;
	if (end) {
		*t = end;
		return CUDA_SUCCESS;
	}
	if (!simgpu_done(cmd, NULL, &end))
		return CUDA_ERROR_NOT_READY;
	*t = end;
	return end ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

static CUresult elapsed(float *ms, CUevent hstart, CUevent hend)
{
	struct cu_event *a = (struct cu_event *)hstart, *b = (struct cu_event *)hend;
	uint64_t ta = 0, tb = 0;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!ms)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(a, OBJ_EVENT) || !reg_has(b, OBJ_EVENT))
		r = CUDA_ERROR_INVALID_HANDLE;
	if (!r)
		r = event_time(a, &ta);
	if (!r)
		r = event_time(b, &tb);
	pthread_mutex_unlock(&cs_g.lock);
	if (!r)
		*ms = (float)((double)((int64_t)(tb - ta)) / 1e6);
	return r;
}

CUresult cuEventElapsedTime_v2(float *ms, CUevent hstart, CUevent hend)
{
	return elapsed(ms, hstart, hend);
}

CUresult cuEventElapsedTime(float *ms, CUevent hstart, CUevent hend)
{
	return elapsed(ms, hstart, hend);
}

/* Stream capture. */

static void capture_leave(struct cu_stream *st)
{
	struct capture *cap = st->cap;

	st->cap = NULL;
	if (cap->origin == st)
		cap->invalidated = true; /* its origin is gone: EndCapture cannot happen */
}

static CUresult begin_capture(CUstream h, CUstreamCaptureMode mode, bool ptds)
{
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (mode != CU_STREAM_CAPTURE_MODE_GLOBAL && mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
	    mode != CU_STREAM_CAPTURE_MODE_RELAXED)
		return CUDA_ERROR_INVALID_VALUE;
	struct capture *cap = calloc(1, sizeof(*cap));
	struct cu_graph *graph = calloc(1, sizeof(*graph));

	if (!cap || !graph) {
		free(cap);
		free(graph);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r && st->legacy)
		r = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	if (!r && st->cap)
		r = CUDA_ERROR_ILLEGAL_STATE;
	if (!r) {
		cap->id = ++cs_g.next_id;
		cap->mode = mode;
		cap->thread = pthread_self();
		cap->origin = st;
		cap->graph = graph;
		cap->next = cs_g.captures;
		cs_g.captures = cap;
		st->cap = cap;
	}
	pthread_mutex_unlock(&cs_g.lock);
	if (r) {
		free(cap);
		free(graph);
	}
	return r;
}

CUresult cuStreamBeginCapture_v2(CUstream h, CUstreamCaptureMode mode)
{
	return begin_capture(h, mode, false);
}

CUresult cuStreamBeginCapture_v2_ptsz(CUstream h, CUstreamCaptureMode mode)
{
	return begin_capture(h, mode, true);
}

CUresult cuStreamBeginCapture(CUstream h)
{
	return begin_capture(h, CU_STREAM_CAPTURE_MODE_GLOBAL, false);
}

CUresult cuStreamBeginCapture_ptsz(CUstream h)
{
	return begin_capture(h, CU_STREAM_CAPTURE_MODE_GLOBAL, true);
}

static void unlink_capture(struct capture *cap)
{
	struct capture **link = &cs_g.captures;

	while (*link && *link != cap)
		link = &(*link)->next;
	if (*link)
		*link = cap->next;
}

/* Every stream that joined the capture leaves it. */
static void end_members(struct capture *cap, struct cu_ctx *ctx)
{
	for (struct cu_stream *s = ctx->streams; s; s = s->next)
		if (s->cap == cap)
			s->cap = NULL;
	for (int d = 0; d < cs_g.devices; d++)
		for (struct cu_stream *s = cs_g.primary[d]->streams; s; s = s->next)
			if (s->cap == cap)
				s->cap = NULL;
}

static CUresult end_capture(CUstream h, CUgraph *out, bool ptds)
{
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!out)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (r)
		goto out;
	struct capture *cap = st->cap;

	if (!cap) {
		r = CUDA_ERROR_ILLEGAL_STATE;
		goto out;
	}
	if (cap->origin != st) {
		r = CUDA_ERROR_STREAM_CAPTURE_UNMATCHED;
		goto out;
	}
	if (cap->mode != CU_STREAM_CAPTURE_MODE_RELAXED &&
	    !pthread_equal(cap->thread, pthread_self())) {
		r = CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
		goto out;
	}
	end_members(cap, st->ctx);
	unlink_capture(cap);
	if (cap->invalidated) {
		cs_graph_free(cap->graph);
		*out = NULL;
		r = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
	} else {
		reg_add(cap->graph, OBJ_GRAPH);
		*out = (CUgraph)cap->graph;
	}
	free(cap);
out:
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuStreamEndCapture(CUstream h, CUgraph *out)
{
	return end_capture(h, out, false);
}

CUresult cuStreamEndCapture_ptsz(CUstream h, CUgraph *out)
{
	return end_capture(h, out, true);
}

static CUresult capture_info(CUstream h, bool ptds, CUstreamCaptureStatus *status, cuuint64_t *id,
                             CUgraph *graph, const CUgraphNode **deps,
                             const CUgraphEdgeData **edges, size_t *ndeps)
{
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!status)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r) {
		struct capture *cap = st->cap;

		*status = !cap               ? CU_STREAM_CAPTURE_STATUS_NONE
		          : cap->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED
		                             : CU_STREAM_CAPTURE_STATUS_ACTIVE;
		if (cap && id)
			*id = cap->id;
		if (cap && graph)
			*graph = (CUgraph)cap->graph;
		/* Captured work is kept as one sequence: no node handles to hand out. */
		if (deps)
			*deps = NULL;
		if (edges)
			*edges = NULL;
		if (ndeps)
			*ndeps = 0;
	}
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuStreamIsCapturing(CUstream h, CUstreamCaptureStatus *status)
{
	return capture_info(h, false, status, NULL, NULL, NULL, NULL, NULL);
}

CUresult cuStreamIsCapturing_ptsz(CUstream h, CUstreamCaptureStatus *status)
{
	return capture_info(h, true, status, NULL, NULL, NULL, NULL, NULL);
}

CUresult cuStreamGetCaptureInfo(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id)
{
	return capture_info(h, false, status, id, NULL, NULL, NULL, NULL);
}

CUresult cuStreamGetCaptureInfo_ptsz(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id)
{
	return capture_info(h, true, status, id, NULL, NULL, NULL, NULL);
}

CUresult cuStreamGetCaptureInfo_v2(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id,
                                   CUgraph *graph, const CUgraphNode **deps, size_t *ndeps)
{
	return capture_info(h, false, status, id, graph, deps, NULL, ndeps);
}

CUresult cuStreamGetCaptureInfo_v2_ptsz(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id,
                                        CUgraph *graph, const CUgraphNode **deps, size_t *ndeps)
{
	return capture_info(h, true, status, id, graph, deps, NULL, ndeps);
}

CUresult cuStreamGetCaptureInfo_v3(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id,
                                   CUgraph *graph, const CUgraphNode **deps,
                                   const CUgraphEdgeData **edges, size_t *ndeps)
{
	return capture_info(h, false, status, id, graph, deps, edges, ndeps);
}

CUresult cuStreamGetCaptureInfo_v3_ptsz(CUstream h, CUstreamCaptureStatus *status, cuuint64_t *id,
                                        CUgraph *graph, const CUgraphNode **deps,
                                        const CUgraphEdgeData **edges, size_t *ndeps)
{
	return capture_info(h, true, status, id, graph, deps, edges, ndeps);
}
