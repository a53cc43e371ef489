/* SPDX-License-Identifier: MIT */
/*
 * Streams as the runtime sees them, command submission to the device model, the effects of
 * completed commands, and blocking waits.
 *
 * Ordering rules kept here, as HIP (and CUDA's legacy default stream) define them: a command
 * on the null stream waits for all work already submitted to the device's blocking streams,
 * and a command on a blocking stream waits for the null stream's work submitted before it.
 * Non-blocking streams are ordered only by their own events. The rules become explicit
 * EVENT_WAIT markers in the model, submitted only when the work waited for is not done yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

static struct hip_stream null_streams[SIMGPU_MAX_DEVICES];
/* Every stream created (explicitly or per-thread) and not destroyed, under hip_lock. */
static struct hip_stream *live_streams;
static __thread struct hip_stream *per_thread[SIMGPU_MAX_DEVICES];
static pthread_key_t per_thread_key;
static pthread_once_t per_thread_once = PTHREAD_ONCE_INIT;
/* Effects are applied by one thread at a time, in completion order. */
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

static hipError_t from_errno(int e)
{
	return e == ENOSPC || e == ENOMEM ? hipErrorOutOfMemory : hipErrorInvalidValue;
}

hipError_t hip_stream_new(int dev, int priority, unsigned int flags, const uint32_t *mask,
                          struct hip_stream **out)
{
	struct hip_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return hipErrorOutOfMemory;
	/* HIP clamps a priority outside its range instead of failing. */
	s->priority = priority < -1 ? -1 : priority > 1 ? 1 : priority;
	s->dev = dev;
	s->flags = flags;
	unsigned int cus = 0;
	for (int i = 0; i < SIM_CUS; i++) {
		bool on = !mask || (mask[i / 32] >> (i % 32) & 1u);
		if (on)
			s->cu_mask[i / 32] |= 1u << (i % 32);
		cus += on;
	}
	/* The model runs the stream at the share of the device's CUs it may use. */
	uint32_t share = (uint32_t)((uint64_t)cus * SIMGPU_CU_FULL / SIM_CUS);
	int rc = share ? simgpu_stream_create_masked(dev, s->priority, share, &s->sim_id) : -EINVAL;
	if (rc) {
		free(s);
		return from_errno(-rc);
	}
	hip_kfd_create_queue(dev, s->priority);
	s->kfd_queue = s->sim_id;
	pthread_mutex_lock(&hip_lock);
	s->next_live = live_streams;
	live_streams = s;
	pthread_mutex_unlock(&hip_lock);
	*out = s;
	return hipSuccess;
}

void hip_stream_free(struct hip_stream *s)
{
	pthread_mutex_lock(&hip_lock);
	for (struct hip_stream **p = &live_streams; *p; p = &(*p)->next_live) {
		if (*p == s) {
			*p = s->next_live;
			break;
		}
	}
	pthread_mutex_unlock(&hip_lock);
	/* The model keeps a destroyed stream's queued work running to completion. */
	simgpu_stream_destroy(s->sim_id);
	hip_kfd_destroy_queue((uint32_t)s->kfd_queue);
	free(s->capture);
	free(s);
}

static void per_thread_exit(void *arg)
{
	(void)arg;
	for (int d = 0; d < SIMGPU_MAX_DEVICES; d++) {
		if (per_thread[d]) {
			hip_stream_free(per_thread[d]);
			per_thread[d] = NULL;
		}
	}
}

static void per_thread_key_init(void)
{
	pthread_key_create(&per_thread_key, per_thread_exit);
}

/* The calling thread's own default stream on dev, created on first use (a blocking stream,
 * freed when the thread exits). */
static struct hip_stream *per_thread_stream(int dev, hipError_t *err)
{
	if (!per_thread[dev]) {
		pthread_once(&per_thread_once, per_thread_key_init);
		*err = hip_stream_new(dev, 0, hipStreamDefault, NULL, &per_thread[dev]);
		if (*err != hipSuccess)
			return NULL;
		per_thread[dev]->handle = hipStreamPerThread;
		pthread_setspecific(per_thread_key, per_thread);
	}
	return per_thread[dev];
}

struct hip_stream *hip_stream_resolve(hipStream_t h, bool spt, hipError_t *err)
{
	*err = hip_ensure_init();
	if (*err != hipSuccess)
		return NULL;
	int dev = hip_current_device();
	if (dev < 0) {
		*err = hipErrorInvalidDevice;
		return NULL;
	}
	if (h == hipStreamPerThread || (!h && spt))
		return per_thread_stream(dev, err);
	if (!h) {
		struct hip_stream *n = &null_streams[dev];
		n->dev = dev;
		n->is_null = true;
		return n;
	}
	struct hip_stream *s = hip_handle_get(HIP_H_STREAM, h);
	if (!s)
		*err = hipErrorInvalidHandle;
	return s;
}

/* ---- effects ---- */

void hip_effect_apply(const struct hip_effect *fx, uint64_t end_ns)
{
	switch (fx->kind) {
	case HIP_FX_NONE:
		break;
	case HIP_FX_COPY:
		memmove(fx->dst, fx->src, fx->count);
		break;
	case HIP_FX_MEMSET8:
		memset(fx->dst, (int)(fx->value & 0xff), fx->count);
		break;
	case HIP_FX_MEMSET16:
		for (uint64_t i = 0; i < fx->count; i++)
			((uint16_t *)fx->dst)[i] = (uint16_t)fx->value;
		break;
	case HIP_FX_MEMSET32:
		for (uint64_t i = 0; i < fx->count; i++)
			((uint32_t *)fx->dst)[i] = fx->value;
		break;
	case HIP_FX_AFFINE:
		for (uint64_t i = 0; i < fx->count; i++)
			((uint32_t *)fx->dst)[i] = ((uint32_t *)fx->dst)[i] * fx->a + fx->b;
		break;
	case HIP_FX_EVENT:
		hip_event_completed(fx->event_handle, fx->event_seq, end_ns);
		break;
	case HIP_FX_GRAPH:
		hip_graph_exec_apply(fx->exec, end_ns);
		break;
	}
}

static void on_completed(uint64_t tag, uint64_t start_ns, uint64_t end_ns, void *arg)
{
	struct hip_effect *fx = (struct hip_effect *)(uintptr_t)tag;
	(void)start_ns;
	(void)arg;
	if (!fx)
		return;
	hip_effect_apply(fx, end_ns);
	if (fx->kind == HIP_FX_GRAPH)
		hip_graph_exec_release(fx->exec);
	free(fx);
}

void hip_drain(void)
{
	pthread_mutex_lock(&drain_lock);
	simgpu_drain_completed_times(on_completed, NULL);
	pthread_mutex_unlock(&drain_lock);
}

/* ---- submission ---- */

static hipError_t submit_raw(struct hip_stream *s, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                             uint64_t wait_cmd, struct hip_effect *fx, uint64_t *id)
{
	struct simgpu_cmd cmd = {
		.kind = kind,
		.dev = s->dev,
		.stream = s->sim_id,
		.duration_ns = duration_ns,
		.wait_cmd = wait_cmd,
		.tag = (uint64_t)(uintptr_t)fx,
	};
	uint64_t got = simgpu_submit(&cmd);
	if (!got)
		return errno == EINVAL ? hipErrorInvalidHandle : hipErrorUnknown;
	pthread_mutex_lock(&hip_lock);
	if (got > s->last_cmd)
		s->last_cmd = got; /* ids grow with submission order */
	pthread_mutex_unlock(&hip_lock);
	if (id)
		*id = got;
	return hipSuccess;
}

/* The commands s must wait for under the null-stream rules, into ids[] (up to max). */
static size_t implicit_waits(struct hip_stream *s, uint64_t *ids, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&hip_lock);
	if (s->is_null) {
		for (struct hip_stream *b = live_streams; b && n < max; b = b->next_live)
			if (b->dev == s->dev && !(b->flags & hipStreamNonBlocking) && b->last_cmd &&
			    !b->capture)
				ids[n++] = b->last_cmd;
	} else if (!(s->flags & hipStreamNonBlocking)) {
		uint64_t last_null = null_streams[s->dev].last_cmd;
		if (last_null > s->null_seen) {
			ids[n++] = last_null;
			s->null_seen = last_null;
		}
	}
	pthread_mutex_unlock(&hip_lock);
	return n;
}

static hipError_t submit_ordered(struct hip_stream *s, enum simgpu_cmd_kind kind,
                                 uint64_t duration_ns, uint64_t wait_cmd, struct hip_effect *fx,
                                 uint64_t *id)
{
	uint64_t waits[64];
	size_t n;

	/* Applying finished effects first also frees the model's slots of our completed
	 * commands, so a long queue of ours never starves the pool. */
	hip_drain();
	do {
		n = implicit_waits(s, waits, sizeof(waits) / sizeof(waits[0]));
		for (size_t i = 0; i < n; i++) {
			if (simgpu_done(waits[i], NULL, NULL))
				continue;
			hipError_t err = submit_raw(s, SIMGPU_EVENT_WAIT, 0, waits[i], NULL, NULL);
			if (err != hipSuccess)
				return err;
		}
	} while (n == sizeof(waits) / sizeof(waits[0]));
	return submit_raw(s, kind, duration_ns, wait_cmd, fx, id);
}

hipError_t hip_submit(struct hip_stream *s, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                      const struct hip_effect *fx, uint64_t *id)
{
	if (id)
		*id = 0;
	if (s->capture) {
		if (kind == SIMGPU_EVENT_RECORD || kind == SIMGPU_EVENT_WAIT)
			return hipErrorStreamCaptureUnsupported;
		return hip_capture_add(s->capture, duration_ns, fx);
	}
	struct hip_effect *copy = NULL;
	if (fx && fx->kind != HIP_FX_NONE) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return hipErrorOutOfMemory;
		*copy = *fx;
	}
	hipError_t err = submit_ordered(s, kind, duration_ns, 0, copy, id);
	if (err != hipSuccess)
		free(copy);
	return err;
}

hipError_t hip_submit_wait(struct hip_stream *s, uint64_t cmd)
{
	if (s->capture)
		return hipErrorStreamCaptureUnsupported;
	return submit_ordered(s, SIMGPU_EVENT_WAIT, 0, cmd, NULL, NULL);
}

/* ---- waits ---- */

void hip_wait_cmd(uint64_t id)
{
	if (id && !simgpu_done(id, NULL, NULL)) {
		hip_kfd_wait_events();
		simgpu_wait(id);
	}
	hip_drain();
}

void hip_wait_stream(struct hip_stream *s)
{
	pthread_mutex_lock(&hip_lock);
	uint64_t last = s->last_cmd;
	pthread_mutex_unlock(&hip_lock);
	hip_wait_cmd(last);
}

void hip_wait_device(int dev)
{
	bool busy = false;
	pthread_mutex_lock(&hip_lock);
	uint64_t last_null = null_streams[dev].last_cmd;
	for (struct hip_stream *s = live_streams; s && !busy; s = s->next_live)
		busy = s->dev == dev && s->last_cmd && !simgpu_done(s->last_cmd, NULL, NULL);
	pthread_mutex_unlock(&hip_lock);
	busy = busy || (last_null && !simgpu_done(last_null, NULL, NULL));
	if (busy) {
		hip_kfd_wait_events();
		simgpu_wait_device(dev);
	}
	hip_drain();
}

/* ---- durations ---- */

/* PCIe 4.0 x16 to and from the host (~25 GB/s), HBM2e on the device (~1 TB/s, read and
 * write), plus a fixed cost per command. Bytes per nanosecond = GB/s. */
uint64_t hip_copy_ns(hipMemcpyKind kind, uint64_t bytes)
{
	switch (kind) {
	case hipMemcpyHostToDevice:
	case hipMemcpyDeviceToHost:
		return 2000 + bytes / 25;
	case hipMemcpyDeviceToDevice:
		return 1000 + bytes / 500;
	default:
		return 1000 + bytes / 10;
	}
}

uint64_t hip_memset_ns(uint64_t bytes)
{
	return 1000 + bytes / 1000;
}
