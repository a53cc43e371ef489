/* SPDX-License-Identifier: MIT */
/*
 * What the core needs from CUDA: which device a stream belongs to, and completion markers.
 *
 * Streams: a real handle is looked up through cuStreamGetCtx once; NULL, CU_STREAM_LEGACY
 * and CU_STREAM_PER_THREAD name the current context's default streams, so they are keyed by
 * that context too (and the per-thread one by the thread). Devices are bound by UUID, so
 * every process agrees on which physical GPU it is, whatever CUDA_VISIBLE_DEVICES says.
 *
 * Markers are events without timing, recorded on the stream they follow, kept in a pool per
 * context (an event belongs to its context). When a context dies its pool is abandoned,
 * never touched again: the driver freed those events with it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cu_shim.h"
#include "xs_actu.h"
#include "xs_log.h"

#define POOLS       32
#define POOL_EVENTS 64

static struct {
	CUresult (*ctx_get_current)(CUcontext *);
	CUresult (*ctx_get_device)(CUdevice *);
	CUresult (*ctx_push)(CUcontext);
	CUresult (*ctx_pop)(CUcontext *);
	CUresult (*stream_get_ctx)(CUstream, CUcontext *);
	CUresult (*device_get_uuid)(CUuuid *, CUdevice);
	CUresult (*stream_is_capturing)(CUstream, CUstreamCaptureStatus *);
	CUresult (*event_create)(CUevent *, unsigned int);
	CUresult (*event_record)(CUevent, CUstream);
	CUresult (*event_query)(CUevent);
	CUresult (*event_sync)(CUevent);
	CUresult (*event_destroy)(CUevent);
} cu;

struct cu_pool {
	CUcontext ctx; /* NULL: free, or abandoned with its context */
	CUdevice dev;
	uint8_t uuid[16];
	bool dead;
	unsigned int refs; /* markers handed out */
	unsigned int nfree;
	CUevent free[POOL_EVENTS];
};

static struct cu_pool pools[POOLS];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

CUcontext cu_current_ctx(void)
{
	CUcontext c = NULL;
	if (cu.ctx_get_current(&c) != CUDA_SUCCESS)
		return NULL;
	return c;
}

/* Run with ctx current on this thread (pushed and popped if it is not). */
static bool push_if_needed(CUcontext ctx, bool *pushed)
{
	*pushed = false;
	if (cu_current_ctx() == ctx)
		return true;
	if (!cu.ctx_push || !cu.ctx_pop || cu.ctx_push(ctx) != CUDA_SUCCESS)
		return false;
	*pushed = true;
	return true;
}

static void pop_if_pushed(bool pushed)
{
	CUcontext c;
	if (pushed)
		cu.ctx_pop(&c);
}

/* pool_lock held */
static struct cu_pool *pool_get_locked(CUcontext ctx)
{
	struct cu_pool *p, *free_slot = NULL;
	for (p = pools; p < pools + POOLS; p++) {
		if (p->ctx == ctx)
			return p;
		if (!p->ctx && !p->refs && !free_slot)
			free_slot = p;
	}
	if (!free_slot)
		return NULL;
	bool pushed;
	CUdevice dev;
	if (!push_if_needed(ctx, &pushed))
		return NULL;
	CUresult r = cu.ctx_get_device(&dev);
	pop_if_pushed(pushed);
	if (r != CUDA_SUCCESS)
		return NULL;
	p = free_slot;
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	CUuuid u;
	if (cu.device_get_uuid && cu.device_get_uuid(&u, dev) == CUDA_SUCCESS) {
		memcpy(p->uuid, u.bytes, 16);
	} else {
		/* No UUID from this driver: the ordinal stands for the device. */
		memcpy(p->uuid, "xsched-ordinal", 14);
		p->uuid[14] = (uint8_t)(dev >> 8);
		p->uuid[15] = (uint8_t)dev;
	}
	p->ctx = ctx;
	return p;
}

static struct cu_pool *pool_get(CUcontext ctx)
{
	pthread_mutex_lock(&pool_lock);
	struct cu_pool *p = pool_get_locked(ctx);
	pthread_mutex_unlock(&pool_lock);
	return p;
}

void cu_pools_drop_ctx(CUcontext ctx)
{
	pthread_mutex_lock(&pool_lock);
	for (struct cu_pool *p = pools; p < pools + POOLS; p++)
		if (p->ctx == ctx) {
			p->ctx = NULL;
			p->dead = true;
			p->nfree = 0;
		}
	pthread_mutex_unlock(&pool_lock);
}

void cu_pools_drop_dev(CUdevice dev)
{
	pthread_mutex_lock(&pool_lock);
	for (struct cu_pool *p = pools; p < pools + POOLS; p++)
		if (p->ctx && p->dev == dev) {
			p->ctx = NULL;
			p->dead = true;
			p->nfree = 0;
		}
	pthread_mutex_unlock(&pool_lock);
}

/* ---- Streams ---- */

static inline uint64_t self_tid(void)
{
	return (uint64_t)pthread_self();
}

static inline bool implicit_handle(uintptr_t h)
{
	return h == (uintptr_t)CU_STREAM_LEGACY || h == (uintptr_t)CU_STREAM_PER_THREAD;
}

static struct xs_stream *stream_new(uintptr_t key, uintptr_t ctx, uint64_t tid)
{
	bool implicit = implicit_handle(key);
	CUcontext owner = (CUcontext)ctx;
	if (!implicit) {
		CUresult r = cu.stream_get_ctx ? cu.stream_get_ctx((CUstream)key, &owner)
		                               : cu.ctx_get_current(&owner);
		if (r != CUDA_SUCCESS || !owner)
			return NULL; /* not a valid stream: the real call will say so */
	}
	struct cu_pool *p = pool_get(owner);
	if (!p)
		return NULL;
	struct xs_dev *d = xs_dev_get((int)p->dev, p->uuid);
	if (!d)
		return NULL;
	return xs_stream_add(&cu_backend, key, ctx, tid, (uintptr_t)owner,
	                     key == (uintptr_t)CU_STREAM_PER_THREAD, implicit, d);
}

struct xs_stream *cu_stream(CUstream h, bool ptds)
{
	uintptr_t key = (uintptr_t)h, ctx = 0;
	uint64_t tid = 0;
	if (key == 0)
		key = ptds ? (uintptr_t)CU_STREAM_PER_THREAD : (uintptr_t)CU_STREAM_LEGACY;
	if (implicit_handle(key)) {
		ctx = (uintptr_t)cu_current_ctx();
		if (!ctx)
			return NULL;
		if (key == (uintptr_t)CU_STREAM_PER_THREAD)
			tid = self_tid();
	}
	struct xs_stream *s = xs_stream_find(&cu_backend, key, ctx, tid);
	return s ? s : stream_new(key, ctx, tid);
}

struct xs_stream *cu_stream_known(CUstream h)
{
	if (!h || implicit_handle((uintptr_t)h))
		return NULL;
	return xs_stream_find(&cu_backend, (uintptr_t)h, 0, 0);
}

uintptr_t cu_capture_key(CUstream h, bool ptds)
{
	uintptr_t key = (uintptr_t)h;
	if (key == 0)
		key = ptds ? (uintptr_t)CU_STREAM_PER_THREAD : (uintptr_t)CU_STREAM_LEGACY;
	/* A thread's own default stream: thread handles are aligned, the low bits free. */
	if (key == (uintptr_t)CU_STREAM_PER_THREAD)
		key = (uintptr_t)self_tid() | 3;
	return key;
}

bool cu_capture_over(CUstream h)
{
	CUstreamCaptureStatus st;
	if (!cu.stream_is_capturing)
		cu.stream_is_capturing = cu_driver_sym("cuStreamIsCapturing");
	if (!cu.stream_is_capturing || cu.stream_is_capturing(h, &st) != CUDA_SUCCESS)
		return false;
	return st == CU_STREAM_CAPTURE_STATUS_NONE;
}

/* ---- Markers ---- */

static void marker_release(const struct xs_mark *m)
{
	struct cu_pool *p = m->pool;
	CUevent destroy = NULL;
	pthread_mutex_lock(&pool_lock);
	p->refs--;
	if (p->dead)
		; /* gone with its context */
	else if (p->nfree < POOL_EVENTS)
		p->free[p->nfree++] = (CUevent)m->handle;
	else
		destroy = (CUevent)m->handle;
	pthread_mutex_unlock(&pool_lock);
	if (destroy)
		cu.event_destroy(destroy);
}

static int marker_record(struct xs_stream *s, struct xs_mark *m)
{
	CUevent ev = NULL;
	pthread_mutex_lock(&pool_lock);
	struct cu_pool *p = pool_get_locked((CUcontext)s->owner_ctx);
	if (p && p->nfree) {
		ev = p->free[--p->nfree];
	} else if (p) {
		bool pushed;
		if (push_if_needed(p->ctx, &pushed)) {
			if (cu.event_create(&ev, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
				ev = NULL;
			pop_if_pushed(pushed);
		}
	}
	if (ev)
		p->refs++;
	pthread_mutex_unlock(&pool_lock);
	if (!ev)
		return -1;
	m->handle = (uintptr_t)ev;
	m->pool = p;
	if (cu.event_record(ev, (CUstream)s->handle) == CUDA_SUCCESS)
		return 0;
	xs_log(XS_LOG_DEBUG, "marker record on stream %p failed", (void *)s->handle);
	marker_release(m);
	return -1;
}

static int marker_query(const struct xs_mark *m)
{
	return cu.event_query((CUevent)m->handle) != CUDA_ERROR_NOT_READY;
}

static void marker_wait(const struct xs_mark *m)
{
	cu.event_sync((CUevent)m->handle);
}

static bool can_record(const struct xs_stream *s)
{
	if (s->per_thread && s->tid != self_tid())
		return false;
	if (s->implicit)
		return cu_current_ctx() == (CUcontext)s->owner_ctx;
	return true;
}

/* ---- Setup ---- */

#define NEED(field, name)                                                                          \
	do {                                                                                       \
		if (!(cu.field = (__typeof__(cu.field))cu_driver_sym(name))) {                     \
			snprintf(why, why_len, "libcuda.so.1 has no %s", name);                    \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)
#define WANT(field, name) (cu.field = (__typeof__(cu.field))cu_driver_sym(name))

static int backend_init(char *why, unsigned long why_len)
{
	NEED(ctx_get_current, "cuCtxGetCurrent");
	NEED(ctx_get_device, "cuCtxGetDevice");
	NEED(event_create, "cuEventCreate");
	NEED(event_record, "cuEventRecord");
	NEED(event_query, "cuEventQuery");
	NEED(event_sync, "cuEventSynchronize");
	if (!WANT(event_destroy, "cuEventDestroy_v2"))
		NEED(event_destroy, "cuEventDestroy");
	WANT(ctx_push, "cuCtxPushCurrent_v2");
	WANT(ctx_pop, "cuCtxPopCurrent_v2");
	WANT(stream_get_ctx, "cuStreamGetCtx");
	if (!WANT(device_get_uuid, "cuDeviceGetUuid_v2"))
		WANT(device_get_uuid, "cuDeviceGetUuid");
	WANT(stream_is_capturing, "cuStreamIsCapturing");
	/* An MPS client's priority is fixed when it connects: report it if one is in effect. */
	if (!xs_mps_running(NULL, 0))
		xs_actuator_note(XSCHED_ACT_TIME_SLICED); /* no MPS: contexts take time slices */
	else if (xs_mps_client_prio_set())
		xs_actuator_note(XSCHED_ACT_MPS_PRIO);
	return 0;
}

static void backend_fork_child(void)
{
	memset(pools, 0, sizeof(pools));
	pthread_mutex_init(&pool_lock, NULL);
}

struct xs_backend cu_backend = {
	.name = "cuda",
	.marker_record = marker_record,
	.marker_query = marker_query,
	.marker_wait = marker_wait,
	.marker_release = marker_release,
	.can_record = can_record,
	.init = backend_init,
	.fork_child = backend_fork_child,
};

__attribute__((constructor)) static void cu_backend_register(void)
{
	xs_backend_register(&cu_backend);
}
