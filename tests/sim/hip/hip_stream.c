/* SPDX-License-Identifier: MIT */
/*
 * Streams, events and the synchronisation calls. Bad or destroyed handles answer
 * hipErrorInvalidHandle; queries of unfinished work answer hipErrorNotReady.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "hip_internal.h"

/* ---- streams ---- */

static hipError_t stream_create(hipStream_t *stream, unsigned int flags, int priority,
                                const uint32_t *mask)
{
	if (!stream || (flags & ~(unsigned int)hipStreamNonBlocking))
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	struct hip_stream *s;
	err = hip_stream_new(hip_current_device(), priority, flags, mask, &s);
	if (err != hipSuccess)
		return hip_ret(err);
	s->handle = hip_handle_new(HIP_H_STREAM, s);
	if (!s->handle) {
		hip_stream_free(s);
		return hip_ret(hipErrorOutOfMemory);
	}
	*stream = s->handle;
	return hipSuccess;
}

hipError_t hipStreamCreateWithPriority(hipStream_t *stream, unsigned int flags, int priority)
{
	return stream_create(stream, flags, priority, NULL);
}

hipError_t hipStreamCreateWithFlags(hipStream_t *stream, unsigned int flags)
{
	return stream_create(stream, flags, 0, NULL);
}

hipError_t hipStreamCreate(hipStream_t *stream)
{
	return stream_create(stream, hipStreamDefault, 0, NULL);
}

/* As ROCm: bit i of the mask enables CU i; bits beyond the device's CUs are ignored; a mask
 * enabling none of its CUs is refused. The stream has the default flags and priority. */
hipError_t hipExtStreamCreateWithCUMask(hipStream_t *stream, uint32_t cuMaskSize,
                                        const uint32_t *cuMask)
{
	if (!cuMask || !cuMaskSize)
		return hip_ret(hipErrorInvalidValue);
	uint32_t mask[HIP_CU_WORDS] = { 0 };
	bool any = false;
	for (uint32_t i = 0; i < cuMaskSize && i < HIP_CU_WORDS; i++) {
		mask[i] = cuMask[i];
		if (i == HIP_CU_WORDS - 1 && SIM_CUS % 32)
			mask[i] &= (1u << (SIM_CUS % 32)) - 1;
		any |= mask[i] != 0;
	}
	if (!any)
		return hip_ret(hipErrorInvalidValue);
	return stream_create(stream, hipStreamDefault, 0, mask);
}

/* The stream's CUs, as many words as asked for (words beyond the device's CUs read 0). */
hipError_t hipExtStreamGetCUMask(hipStream_t stream, uint32_t cuMaskSize, uint32_t *cuMask)
{
	if (!cuMask || !cuMaskSize)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	for (uint32_t i = 0; i < cuMaskSize; i++)
		cuMask[i] = i < HIP_CU_WORDS ? s->cu_mask[i] : 0;
	return hipSuccess;
}

/* The default streams are not the caller's to destroy. Work already queued still runs. */
hipError_t hipStreamDestroy(hipStream_t stream)
{
	if (!stream || stream == hipStreamPerThread)
		return hip_ret(hipErrorInvalidHandle);
	struct hip_stream *s = hip_handle_remove(HIP_H_STREAM, stream);
	if (!s)
		return hip_ret(hipErrorInvalidHandle);
	hip_stream_free(s);
	return hipSuccess;
}

static hipError_t stream_synchronize(hipStream_t stream, bool spt)
{
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return hip_ret(err);
	if (s->capture)
		return hip_ret(hipErrorStreamCaptureUnsupported);
	hip_wait_stream(s);
	return hipSuccess;
}

hipError_t hipStreamSynchronize(hipStream_t stream)
{
	return stream_synchronize(stream, false);
}

hipError_t hipStreamSynchronize_spt(hipStream_t stream)
{
	return stream_synchronize(stream, true);
}

static hipError_t stream_query(hipStream_t stream, bool spt)
{
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return hip_ret(err);
	if (s->capture)
		return hip_ret(hipErrorStreamCaptureUnsupported);
	pthread_mutex_lock(&hip_lock);
	uint64_t last = s->last_cmd;
	pthread_mutex_unlock(&hip_lock);
	if (last && !simgpu_done(last, NULL, NULL))
		return hipErrorNotReady;
	hip_drain();
	return hipSuccess;
}

hipError_t hipStreamQuery(hipStream_t stream)
{
	return stream_query(stream, false);
}

hipError_t hipStreamQuery_spt(hipStream_t stream)
{
	return stream_query(stream, true);
}

static hipError_t stream_get_priority(hipStream_t stream, int *priority, bool spt)
{
	hipError_t err;
	if (!priority)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return hip_ret(err);
	*priority = s->priority;
	return hipSuccess;
}

hipError_t hipStreamGetPriority(hipStream_t stream, int *priority)
{
	return stream_get_priority(stream, priority, false);
}

hipError_t hipStreamGetPriority_spt(hipStream_t stream, int *priority)
{
	return stream_get_priority(stream, priority, true);
}

static hipError_t stream_get_flags(hipStream_t stream, unsigned int *flags, bool spt)
{
	hipError_t err;
	if (!flags)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return hip_ret(err);
	*flags = s->flags;
	return hipSuccess;
}

hipError_t hipStreamGetFlags(hipStream_t stream, unsigned int *flags)
{
	return stream_get_flags(stream, flags, false);
}

hipError_t hipStreamGetFlags_spt(hipStream_t stream, unsigned int *flags)
{
	return stream_get_flags(stream, flags, true);
}

hipError_t hipDeviceSynchronize(void)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	hip_wait_device(hip_current_device());
	return hipSuccess;
}

/* ---- events ---- */

struct hip_event {
	unsigned int flags;
	uint64_t seq; /* recordings so far, under hip_lock */
	uint64_t cmd; /* the latest recording's command, 0 if never recorded */
	/* The latest completed recording and its time, written when its command drains. */
	_Atomic uint64_t done_seq;
	_Atomic uint64_t time_ns;
};

#define EVENT_FLAGS                                                                                \
	(hipEventDefault | hipEventBlockingSync | hipEventDisableTiming | hipEventInterprocess)

hipError_t hipEventCreateWithFlags(hipEvent_t *event, unsigned int flags)
{
	if (!event || (flags & ~(unsigned int)EVENT_FLAGS) ||
	    ((flags & hipEventInterprocess) && !(flags & hipEventDisableTiming)))
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	struct hip_event *e = calloc(1, sizeof(*e));
	if (!e)
		return hip_ret(hipErrorOutOfMemory);
	e->flags = flags;
	*event = hip_handle_new(HIP_H_EVENT, e);
	if (!*event) {
		free(e);
		return hip_ret(hipErrorOutOfMemory);
	}
	return hipSuccess;
}

hipError_t hipEventCreate(hipEvent_t *event)
{
	return hipEventCreateWithFlags(event, hipEventDefault);
}

hipError_t hipEventDestroy(hipEvent_t event)
{
	struct hip_event *e = hip_handle_remove(HIP_H_EVENT, event);
	if (!e)
		return hip_ret(hipErrorInvalidHandle);
	free(e);
	return hipSuccess;
}

void hip_event_completed(void *handle, uint64_t seq, uint64_t end_ns)
{
	/* The drain lock orders completions; the event may have been destroyed since. */
	struct hip_event *e = hip_handle_get(HIP_H_EVENT, handle);
	if (!e || seq <= atomic_load(&e->done_seq))
		return;
	atomic_store(&e->time_ns, end_ns);
	atomic_store(&e->done_seq, seq);
}

hipError_t hip_event_record(hipEvent_t event, struct hip_stream *s)
{
	struct hip_event *e = hip_handle_get(HIP_H_EVENT, event);
	if (!e)
		return hipErrorInvalidHandle;
	if (s->capture)
		return hipErrorStreamCaptureUnsupported;
	pthread_mutex_lock(&hip_lock);
	uint64_t seq = ++e->seq;
	pthread_mutex_unlock(&hip_lock);
	struct hip_effect fx = { .kind = HIP_FX_EVENT, .event_handle = event, .event_seq = seq };
	uint64_t id;
	hipError_t err = hip_submit(s, SIMGPU_EVENT_RECORD, 0, &fx, &id);
	if (err != hipSuccess)
		return err;
	pthread_mutex_lock(&hip_lock);
	if (e == hip_handle_get(HIP_H_EVENT, event) && e->seq == seq)
		e->cmd = id;
	pthread_mutex_unlock(&hip_lock);
	return hipSuccess;
}

hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream)
{
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	return hip_ret(hip_event_record(event, s));
}

/* The command of the event's latest recording (0: never recorded), or an error. */
static hipError_t event_cmd(hipEvent_t event, struct hip_event **ep, uint64_t *cmd)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return err;
	pthread_mutex_lock(&hip_lock);
	struct hip_event *e = hip_handle_get(HIP_H_EVENT, event);
	if (e)
		*cmd = e->cmd;
	pthread_mutex_unlock(&hip_lock);
	if (ep)
		*ep = e;
	return e ? hipSuccess : hipErrorInvalidHandle;
}

hipError_t hipEventQuery(hipEvent_t event)
{
	uint64_t cmd = 0;
	hipError_t err = event_cmd(event, NULL, &cmd);
	if (err != hipSuccess)
		return hip_ret(err);
	if (cmd && !simgpu_done(cmd, NULL, NULL))
		return hipErrorNotReady;
	hip_drain();
	return hipSuccess;
}

hipError_t hipEventSynchronize(hipEvent_t event)
{
	uint64_t cmd = 0;
	hipError_t err = event_cmd(event, NULL, &cmd);
	if (err != hipSuccess)
		return hip_ret(err);
	hip_wait_cmd(cmd);
	return hipSuccess;
}

/* Both events must be timed and recorded; the answer is the time between the moments their
 * recordings completed on the device. */
hipError_t hipEventElapsedTime(float *ms, hipEvent_t start, hipEvent_t stop)
{
	struct hip_event *a, *b;
	uint64_t ca = 0, cb = 0;
	hipError_t err = event_cmd(start, &a, &ca);
	if (err == hipSuccess)
		err = event_cmd(stop, &b, &cb);
	if (err != hipSuccess)
		return hip_ret(err);
	if (!ms)
		return hip_ret(hipErrorInvalidValue);
	if ((a->flags | b->flags) & hipEventDisableTiming || !ca || !cb)
		return hip_ret(hipErrorInvalidHandle);
	if (!simgpu_done(ca, NULL, NULL) || !simgpu_done(cb, NULL, NULL))
		return hipErrorNotReady;
	hip_drain();
	double diff = (double)atomic_load(&b->time_ns) - (double)atomic_load(&a->time_ns);
	*ms = (float)(diff / 1e6);
	return hipSuccess;
}

static hipError_t stream_wait_event(hipStream_t stream, hipEvent_t event, unsigned int flags,
                                    bool spt)
{
	hipError_t err;
	if (flags != 0)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return hip_ret(err);
	uint64_t cmd = 0;
	err = event_cmd(event, NULL, &cmd);
	if (err != hipSuccess)
		return hip_ret(err);
	if (!cmd)
		return hipSuccess; /* never recorded: nothing to wait for */
	return hip_ret(hip_submit_wait(s, cmd));
}

hipError_t hipStreamWaitEvent(hipStream_t stream, hipEvent_t event, unsigned int flags)
{
	return stream_wait_event(stream, event, flags, false);
}

hipError_t hipStreamWaitEvent_spt(hipStream_t stream, hipEvent_t event, unsigned int flags)
{
	return stream_wait_event(stream, event, flags, true);
}
