/* SPDX-License-Identifier: MIT */
/*
 * The hooks. Each is exported under the runtime's exact symbol name (an asm label, so that
 * a header macro never renames it) and calls the runtime's function directly, in the
 * application's own thread, with the arguments untouched; its result is returned as is.
 *
 * Kinds:
 *  WORK   puts one command on a stream: gate, call, count (kernel launches, graph launches,
 *         async copies and memsets, host functions, stream waits: a wait is a barrier
 *         packet in the stream's hardware queue, a command like the others).
 *  DRAIN  a synchronous copy or memset: ROCm's return only once their own command (and so
 *         everything before it on the stream) completed, whatever the direction.
 *  the rest by hand: waits (stream/device/event sync and query), event records (to know
 *  what an event covers), launches that record events of their own, stream creation (to
 *  know a stream's device) and destruction, capture begin/end, device reset.
 * _spt variants take the same arguments, but NULL names the thread's per-thread stream.
 * Names only newer runtimes have (the _spt forms of event record, capture, graph launch,
 * host functions and some copies) are hooked too: the runtime's own symbol is used when
 * it has one, and a hook whose runtime function is missing returns hipErrorNotFound.
 */
#include "hip_shim.h"

#define LAUNCH_P (const void *f, dim3 g, dim3 b, void **args, size_t shmem, hipStream_t stream)
#define LAUNCH_A (f, g, b, args, shmem, stream)
#define COOP_P   (const void *f, dim3 g, dim3 b, void **args, unsigned int shmem, hipStream_t stream)
#define MODULE_P                                                                                   \
	(hipFunction_t f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,      \
	 unsigned int by, unsigned int bz, unsigned int shmem, hipStream_t stream, void **params,  \
	 void **extra)
#define MODULE_A (f, gx, gy, gz, bx, by, bz, shmem, stream, params, extra)
#define MCOOP_P                                                                                    \
	(hipFunction_t f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,      \
	 unsigned int by, unsigned int bz, unsigned int shmem, hipStream_t stream, void **params)
#define MCOOP_A (f, gx, gy, gz, bx, by, bz, shmem, stream, params)
#define CPYA_P  (void *dst, const void *src, size_t n, hipMemcpyKind kind, hipStream_t stream)
#define CPYA_A  (dst, src, n, kind, stream)
#define SETA_P  (void *dst, int v, size_t n, hipStream_t stream)
#define SETA_A  (dst, v, n, stream)
#define C2DA_P                                                                                     \
	(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h, hipMemcpyKind kind, \
	 hipStream_t stream)
#define C2DA_A (dst, dp, src, sp, w, h, kind, stream)
#define C3DA_P (const struct hipMemcpy3DParms *p, hipStream_t stream)
#define C3DA_A (p, stream)
#define S2DA_P (void *dst, size_t pitch, int v, size_t w, size_t h, hipStream_t stream)
#define S2DA_A (dst, pitch, v, w, h, stream)
#define S3DA_P (hipPitchedPtr p, int v, hipExtent e, hipStream_t stream)
#define S3DA_A (p, v, e, stream)
#define TOSYMA_P                                                                                   \
	(const void *sym, const void *src, size_t n, size_t off, hipMemcpyKind kind,               \
	 hipStream_t stream)
#define TOSYMA_A (sym, src, n, off, kind, stream)
#define FRSYMA_P                                                                                   \
	(void *dst, const void *sym, size_t n, size_t off, hipMemcpyKind kind, hipStream_t stream)
#define FRSYMA_A (dst, sym, n, off, kind, stream)
#define HOSTFN_P (hipStream_t stream, hipHostFn_t fn, void *data)
#define HOSTFN_A (stream, fn, data)
#define CALLBK_P (hipStream_t stream, hipStreamCallback_t cb, void *data, unsigned int flags)
#define CALLBK_A (stream, cb, data, flags)
#define WAIT_P   (hipStream_t stream, hipEvent_t e, unsigned int flags)
#define WAIT_A   (stream, e, flags)
#define GRAPH_P  (hipGraphExec_t g, hipStream_t stream)
#define GRAPH_A  (g, stream)

/* WORK(name, spt, ticket, stream expression, (params), (args)); the ticket describes the
 * command for its GPU time estimate (struct xs_ticket): a kernel by function and grid size,
 * a copy or memset by bytes. */
#define KCOPY(bytes) XS_TICKET(XS_KEY_COPY, bytes)
#define KSET(bytes)  XS_TICKET(XS_KEY_MEMSET, bytes)
#define HIP_WORK_HOOKS(WORK)                                                                       \
	WORK(hipLaunchKernel, false, XS_TICKET(f, GRID3(g.x, g.y, g.z)), stream, LAUNCH_P,         \
	     LAUNCH_A)                                                                             \
	WORK(hipLaunchKernel_spt, true, XS_TICKET(f, GRID3(g.x, g.y, g.z)), stream, LAUNCH_P,      \
	     LAUNCH_A)                                                                             \
	WORK(hipLaunchCooperativeKernel, false, XS_TICKET(f, GRID3(g.x, g.y, g.z)), stream,        \
	     COOP_P, LAUNCH_A)                                                                     \
	WORK(hipLaunchCooperativeKernel_spt, true, XS_TICKET(f, GRID3(g.x, g.y, g.z)), stream,     \
	     COOP_P, LAUNCH_A)                                                                     \
	WORK(hipModuleLaunchKernel, false, XS_TICKET(f, GRID3(gx, gy, gz)), stream, MODULE_P,      \
	     MODULE_A)                                                                             \
	WORK(hipModuleLaunchCooperativeKernel, false, XS_TICKET(f, GRID3(gx, gy, gz)), stream,     \
	     MCOOP_P, MCOOP_A)                                                                     \
	WORK(hipGraphLaunch, false, XS_TICKET(g, 0), stream, GRAPH_P, GRAPH_A)                     \
	WORK(hipGraphLaunch_spt, true, XS_TICKET(g, 0), stream, GRAPH_P, GRAPH_A)                  \
	WORK(hipLaunchHostFunc, false, XS_TICKET(fn, 0), stream, HOSTFN_P, HOSTFN_A)               \
	WORK(hipLaunchHostFunc_spt, true, XS_TICKET(fn, 0), stream, HOSTFN_P, HOSTFN_A)            \
	WORK(hipStreamAddCallback, false, XS_TICKET(cb, 0), stream, CALLBK_P, CALLBK_A)            \
	WORK(hipStreamAddCallback_spt, true, XS_TICKET(cb, 0), stream, CALLBK_P, CALLBK_A)         \
	WORK(hipStreamWaitEvent, false, XS_TICKET(0, 0), stream, WAIT_P, WAIT_A)                   \
	WORK(hipStreamWaitEvent_spt, true, XS_TICKET(0, 0), stream, WAIT_P, WAIT_A)                \
	WORK(hipMemcpyAsync, false, KCOPY(n), stream, CPYA_P, CPYA_A)                              \
	WORK(hipMemcpyAsync_spt, true, KCOPY(n), stream, CPYA_P, CPYA_A)                           \
	WORK(hipMemcpyHtoDAsync, false, KCOPY(n), stream,                                          \
	     (hipDeviceptr_t dst, void *src, size_t n, hipStream_t stream), (dst, src, n, stream)) \
	WORK(hipMemcpyDtoHAsync, false, KCOPY(n), stream,                                          \
	     (void *dst, hipDeviceptr_t src, size_t n, hipStream_t stream), (dst, src, n, stream)) \
	WORK(hipMemcpyDtoDAsync, false, KCOPY(n), stream,                                          \
	     (hipDeviceptr_t dst, hipDeviceptr_t src, size_t n, hipStream_t stream),               \
	     (dst, src, n, stream))                                                                \
	WORK(hipMemcpyPeerAsync, false, KCOPY(n), stream,                                          \
	     (void *dst, int dd, const void *src, int sd, size_t n, hipStream_t stream),           \
	     (dst, dd, src, sd, n, stream))                                                        \
	WORK(hipMemcpy2DAsync, false, KCOPY((uint64_t)w *h), stream, C2DA_P, C2DA_A)               \
	WORK(hipMemcpy2DAsync_spt, true, KCOPY((uint64_t)w *h), stream, C2DA_P, C2DA_A)            \
	WORK(hipMemcpy3DAsync, false, KCOPY(0), stream, C3DA_P, C3DA_A)                            \
	WORK(hipMemcpy3DAsync_spt, true, KCOPY(0), stream, C3DA_P, C3DA_A)                         \
	WORK(hipMemcpyParam2DAsync, false, KCOPY(0), stream,                                       \
	     (const hip_Memcpy2D *p, hipStream_t stream), (p, stream))                             \
	WORK(hipMemcpy2DToArrayAsync, false, KCOPY((uint64_t)w *h), stream,                        \
	     (hipArray * dst, size_t wo, size_t ho, const void *src, size_t sp, size_t w,          \
	      size_t h, hipMemcpyKind kind, hipStream_t stream),                                   \
	     (dst, wo, ho, src, sp, w, h, kind, stream))                                           \
	WORK(hipMemcpyToSymbolAsync, false, KCOPY(n), stream, TOSYMA_P, TOSYMA_A)                  \
	WORK(hipMemcpyToSymbolAsync_spt, true, KCOPY(n), stream, TOSYMA_P, TOSYMA_A)               \
	WORK(hipMemcpyFromSymbolAsync, false, KCOPY(n), stream, FRSYMA_P, FRSYMA_A)                \
	WORK(hipMemcpyFromSymbolAsync_spt, true, KCOPY(n), stream, FRSYMA_P, FRSYMA_A)             \
	WORK(hipMemsetAsync, false, KSET(n), stream, SETA_P, SETA_A)                               \
	WORK(hipMemsetAsync_spt, true, KSET(n), stream, SETA_P, SETA_A)                            \
	WORK(hipMemsetD8Async, false, KSET(n), stream,                                             \
	     (hipDeviceptr_t d, unsigned char v, size_t n, hipStream_t stream), (d, v, n, stream)) \
	WORK(hipMemsetD16Async, false, KSET(n * 2), stream,                                        \
	     (hipDeviceptr_t d, unsigned short v, size_t n, hipStream_t stream),                   \
	     (d, v, n, stream))                                                                    \
	WORK(hipMemsetD32Async, false, KSET(n * 4), stream,                                        \
	     (hipDeviceptr_t d, int v, size_t n, hipStream_t stream), (d, v, n, stream))           \
	WORK(hipMemset2DAsync, false, KSET((uint64_t)w *h), stream, S2DA_P, S2DA_A)                \
	WORK(hipMemset2DAsync_spt, true, KSET((uint64_t)w *h), stream, S2DA_P, S2DA_A)             \
	WORK(hipMemset3DAsync, false, KSET((uint64_t)e.width *e.height *e.depth), stream, S3DA_P,  \
	     S3DA_A)                                                                               \
	WORK(hipMemset3DAsync_spt, true, KSET((uint64_t)e.width *e.height *e.depth), stream,       \
	     S3DA_P, S3DA_A)

#define CPY_P   (void *dst, const void *src, size_t n, hipMemcpyKind kind)
#define CPY_A   (dst, src, n, kind)
#define TOSYM_P (const void *sym, const void *src, size_t n, size_t off, hipMemcpyKind kind)
#define TOSYM_A (sym, src, n, off, kind)
#define FRSYM_P (void *dst, const void *sym, size_t n, size_t off, hipMemcpyKind kind)
#define FRSYM_A (dst, sym, n, off, kind)
#define C2D_P                                                                                      \
	(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h, hipMemcpyKind kind)
#define C2D_A (dst, dp, src, sp, w, h, kind)
#define C2DTA_P                                                                                    \
	(hipArray * dst, size_t wo, size_t ho, const void *src, size_t sp, size_t w, size_t h,     \
	 hipMemcpyKind kind)
#define C2DTA_A (dst, wo, ho, src, sp, w, h, kind)
#define C2DFA_P                                                                                    \
	(void *dst, size_t dp, hipArray_const_t src, size_t wo, size_t ho, size_t w, size_t h,     \
	 hipMemcpyKind kind)
#define C2DFA_A (dst, dp, src, wo, ho, w, h, kind)
#define C3D_P   (const struct hipMemcpy3DParms *p)
#define C3D_A   (p)
#define SET_P   (void *dst, int v, size_t n)
#define SET_A   (dst, v, n)
#define S2D_P   (void *dst, size_t pitch, int v, size_t w, size_t h)
#define S2D_A   (dst, pitch, v, w, h)
#define S3D_P   (hipPitchedPtr p, int v, hipExtent e)
#define S3D_A   (p, v, e)

/* DRAIN(name, spt, stream expression, (params), (args)) */
#define HIP_DRAIN_HOOKS(DRAIN)                                                                     \
	DRAIN(hipMemcpy, false, NULL, CPY_P, CPY_A)                                                \
	DRAIN(hipMemcpy_spt, true, NULL, CPY_P, CPY_A)                                             \
	DRAIN(hipMemcpyWithStream, false, stream,                                                  \
	      (void *dst, const void *src, size_t n, hipMemcpyKind kind, hipStream_t stream),      \
	      (dst, src, n, kind, stream))                                                         \
	DRAIN(hipMemcpyHtoD, false, NULL, (hipDeviceptr_t dst, void *src, size_t n),               \
	      (dst, src, n))                                                                       \
	DRAIN(hipMemcpyDtoH, false, NULL, (void *dst, hipDeviceptr_t src, size_t n),               \
	      (dst, src, n))                                                                       \
	DRAIN(hipMemcpyDtoD, false, NULL, (hipDeviceptr_t dst, hipDeviceptr_t src, size_t n),      \
	      (dst, src, n))                                                                       \
	DRAIN(hipMemcpyPeer, false, NULL, (void *dst, int dd, const void *src, int sd, size_t n),  \
	      (dst, dd, src, sd, n))                                                               \
	DRAIN(hipMemcpy2D, false, NULL, C2D_P, C2D_A)                                              \
	DRAIN(hipMemcpy2D_spt, true, NULL, C2D_P, C2D_A)                                           \
	DRAIN(hipMemcpy2DToArray, false, NULL, C2DTA_P, C2DTA_A)                                   \
	DRAIN(hipMemcpy2DToArray_spt, true, NULL, C2DTA_P, C2DTA_A)                                \
	DRAIN(hipMemcpy2DFromArray, false, NULL, C2DFA_P, C2DFA_A)                                 \
	DRAIN(hipMemcpy2DFromArray_spt, true, NULL, C2DFA_P, C2DFA_A)                              \
	DRAIN(hipMemcpy3D, false, NULL, C3D_P, C3D_A)                                              \
	DRAIN(hipMemcpy3D_spt, true, NULL, C3D_P, C3D_A)                                           \
	DRAIN(hipMemcpyParam2D, false, NULL, (const hip_Memcpy2D *p), (p))                         \
	DRAIN(hipMemcpyToSymbol, false, NULL, TOSYM_P, TOSYM_A)                                    \
	DRAIN(hipMemcpyToSymbol_spt, true, NULL, TOSYM_P, TOSYM_A)                                 \
	DRAIN(hipMemcpyFromSymbol, false, NULL, FRSYM_P, FRSYM_A)                                  \
	DRAIN(hipMemcpyFromSymbol_spt, true, NULL, FRSYM_P, FRSYM_A)                               \
	DRAIN(hipMemcpyHtoA, false, NULL, (hipArray * dst, size_t off, const void *src, size_t n), \
	      (dst, off, src, n))                                                                  \
	DRAIN(hipMemcpyAtoH, false, NULL, (void *dst, hipArray *src, size_t off, size_t n),        \
	      (dst, src, off, n))                                                                  \
	DRAIN(hipMemset, false, NULL, SET_P, SET_A)                                                \
	DRAIN(hipMemset_spt, true, NULL, SET_P, SET_A)                                             \
	DRAIN(hipMemsetD8, false, NULL, (hipDeviceptr_t d, unsigned char v, size_t n), (d, v, n))  \
	DRAIN(hipMemsetD16, false, NULL, (hipDeviceptr_t d, unsigned short v, size_t n),           \
	      (d, v, n))                                                                           \
	DRAIN(hipMemsetD32, false, NULL, (hipDeviceptr_t d, int v, size_t n), (d, v, n))           \
	DRAIN(hipMemset2D, false, NULL, S2D_P, S2D_A)                                              \
	DRAIN(hipMemset2D_spt, true, NULL, S2D_P, S2D_A)                                           \
	DRAIN(hipMemset3D, false, NULL, S3D_P, S3D_A)                                              \
	DRAIN(hipMemset3D_spt, true, NULL, S3D_P, S3D_A)

/* Hooks written out by hand below. */
#define HIP_OTHER_HOOKS(OTHER)                                                                     \
	OTHER(hipExtLaunchKernel)                                                                  \
	OTHER(hipExtModuleLaunchKernel)                                                            \
	OTHER(hipHccModuleLaunchKernel)                                                            \
	OTHER(hipStreamSynchronize)                                                                \
	OTHER(hipStreamSynchronize_spt)                                                            \
	OTHER(hipStreamQuery)                                                                      \
	OTHER(hipStreamQuery_spt)                                                                  \
	OTHER(hipDeviceSynchronize)                                                                \
	OTHER(hipEventSynchronize)                                                                 \
	OTHER(hipEventQuery)                                                                       \
	OTHER(hipEventRecord)                                                                      \
	OTHER(hipEventRecord_spt)                                                                  \
	OTHER(hipEventDestroy)                                                                     \
	OTHER(hipStreamCreate)                                                                     \
	OTHER(hipStreamCreateWithFlags)                                                            \
	OTHER(hipStreamCreateWithPriority)                                                         \
	OTHER(hipExtStreamCreateWithCUMask)                                                        \
	OTHER(hipStreamDestroy)                                                                    \
	OTHER(hipStreamBeginCapture)                                                               \
	OTHER(hipStreamBeginCapture_spt)                                                           \
	OTHER(hipStreamEndCapture)                                                                 \
	OTHER(hipStreamEndCapture_spt)                                                             \
	OTHER(hipDeviceReset)

#define ENUM(name, ...) HIP_##name,
enum {
	HIP_WORK_HOOKS(ENUM) HIP_DRAIN_HOOKS(ENUM) HIP_OTHER_HOOKS(ENUM) HIP_NHOOKS
};

#define REAL_(idx, params) ((hipError_t(*) params)hip_real(idx))

/* ---- Work ---- */

static inline void work_begin(hipStream_t h, bool spt, struct xs_ticket *t)
{
	t->tracked = false;
	if (!hip_on() || xs_capturing())
		return;
	xs_launch_begin(hip_stream(h, spt), t);
}

/* Names reach the *_ macros already pasted (fn, index, string), so that a name which is
 * also a header macro is never expanded on the way. */
#define DEF_WORK_(fn, idx, sym, spt, ticket, stream, params, args)                                 \
	XS_EXPORT hipError_t fn params __asm__(sym);                                               \
	hipError_t fn params                                                                       \
	{                                                                                          \
		hipError_t(*real) params = REAL_(idx, params);                                     \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		struct xs_ticket t = ticket;                                                       \
		work_begin((hipStream_t)(stream), spt, &t);                                        \
		hipError_t r = real args;                                                          \
		xs_launch_end(&t, r == hipSuccess);                                                \
		return r;                                                                          \
	}
#define DEF_WORK(name, spt, ticket, stream, params, args)                                          \
	DEF_WORK_(hk_##name, HIP_##name, #name, spt, ticket, stream, params, args)
HIP_WORK_HOOKS(DEF_WORK)

/* ---- Synchronous copies and memsets ---- */

static inline void drain_begin(hipStream_t h, bool spt, struct xs_ticket *t, uint64_t *snap)
{
	work_begin(h, spt, t);
	if (!t->tracked)
		return;
	*snap = xs_stream_snapshot(t->s);
	xs_sync_begin(t->s->dev, t->s);
}

static inline void drain_end(struct xs_ticket *t, uint64_t snap, hipError_t r)
{
	if (!t->tracked)
		return;
	if (r == hipSuccess)
		xs_stream_credit(t->s, snap);
	xs_launch_end_completed(t, r == hipSuccess);
	xs_sync_end_drained(t->s);
}

#define DEF_DRAIN_(fn, idx, sym, spt, stream, params, args)                                        \
	XS_EXPORT hipError_t fn params __asm__(sym);                                               \
	hipError_t fn params                                                                       \
	{                                                                                          \
		hipError_t(*real) params = REAL_(idx, params);                                     \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		struct xs_ticket t = KCOPY(0);                                                     \
		uint64_t snap = 0;                                                                 \
		drain_begin((hipStream_t)(stream), spt, &t, &snap);                                \
		hipError_t r = real args;                                                          \
		drain_end(&t, snap, r);                                                            \
		return r;                                                                          \
	}
#define DEF_DRAIN(name, spt, stream, params, args)                                                 \
	DEF_DRAIN_(hk_##name, HIP_##name, #name, spt, stream, params, args)
HIP_DRAIN_HOOKS(DEF_DRAIN)

/* ---- Launches that record events of their own ---- */

/* The runtime records start before the kernel and stop after it: both cover at least what
 * preceded the launch (the kernel itself is left in flight: safe, if pessimistic). */
static inline void launch_events(const struct xs_ticket *t, uint64_t snap, hipError_t r,
                                 hipEvent_t start, hipEvent_t stop)
{
	hipEvent_t ev[2] = { start, stop };
	for (int i = 0; i < 2; i++) {
		if (!ev[i])
			continue;
		if (t->tracked && r == hipSuccess)
			xs_event_note((uintptr_t)ev[i], t->s, snap);
		else if (r == hipSuccess)
			xs_event_forget((uintptr_t)ev[i]);
	}
}

#define DEF_EVWORK_(fn, idx, sym, params, args)                                                    \
	XS_EXPORT hipError_t fn params __asm__(sym);                                               \
	hipError_t fn params                                                                       \
	{                                                                                          \
		hipError_t(*real) params = REAL_(idx, params);                                     \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		struct xs_ticket t = XS_TICKET(f, 0);                                              \
		work_begin(stream, false, &t);                                                     \
		uint64_t snap = t.tracked ? xs_stream_snapshot(t.s) : 0;                           \
		hipError_t r = real args;                                                          \
		launch_events(&t, snap, r, start, stop);                                           \
		xs_launch_end(&t, r == hipSuccess);                                                \
		return r;                                                                          \
	}
#define DEF_EVWORK(name, params, args) DEF_EVWORK_(hk_##name, HIP_##name, #name, params, args)
DEF_EVWORK(hipExtLaunchKernel,
           (const void *f, dim3 g, dim3 b, void **args, size_t shmem, hipStream_t stream,
            hipEvent_t start, hipEvent_t stop, int flags),
           (f, g, b, args, shmem, stream, start, stop, flags))
DEF_EVWORK(hipExtModuleLaunchKernel,
           (hipFunction_t f, uint32_t gx, uint32_t gy, uint32_t gz, uint32_t lx, uint32_t ly,
            uint32_t lz, size_t shmem, hipStream_t stream, void **params, void **extra,
            hipEvent_t start, hipEvent_t stop, uint32_t flags),
           (f, gx, gy, gz, lx, ly, lz, shmem, stream, params, extra, start, stop, flags))
DEF_EVWORK(hipHccModuleLaunchKernel,
           (hipFunction_t f, uint32_t gx, uint32_t gy, uint32_t gz, uint32_t lx, uint32_t ly,
            uint32_t lz, size_t shmem, hipStream_t stream, void **params, void **extra,
            hipEvent_t start, hipEvent_t stop),
           (f, gx, gy, gz, lx, ly, lz, shmem, stream, params, extra, start, stop))

/* ---- Waits ---- */

#define HOOK(name, params) XS_EXPORT hipError_t hk_##name params __asm__(#name)
#define CALL_REAL(name, params, args)                                                              \
	hipError_t(*real) params = REAL_(HIP_##name, params);                                      \
	if (!real)                                                                                 \
		return hipErrorNotFound;                                                           \
	if (!hip_on())                                                                             \
		return real args;

static inline hipError_t stream_sync(hipError_t (*real)(hipStream_t), hipStream_t h, bool spt)
{
	struct xs_stream *s = hip_stream(h, spt);
	if (!s)
		return real(h);
	uint64_t snap = xs_stream_snapshot(s);
	xs_sync_begin(s->dev, s);
	hipError_t r = real(h);
	if (r == hipSuccess)
		xs_stream_credit(s, snap);
	xs_sync_end_drained(s);
	return r;
}

HOOK(hipStreamSynchronize, (hipStream_t h));
hipError_t hk_hipStreamSynchronize(hipStream_t h)
{
	CALL_REAL(hipStreamSynchronize, (hipStream_t), (h));
	return stream_sync(real, h, false);
}

HOOK(hipStreamSynchronize_spt, (hipStream_t h));
hipError_t hk_hipStreamSynchronize_spt(hipStream_t h)
{
	CALL_REAL(hipStreamSynchronize_spt, (hipStream_t), (h));
	return stream_sync(real, h, true);
}

/* A query that finds the stream idle drained it, like a sync. */
static inline hipError_t stream_query(hipError_t (*real)(hipStream_t), hipStream_t h, bool spt)
{
	struct xs_stream *s = xs_capturing() ? NULL : hip_stream(h, spt);
	uint64_t snap = s ? xs_stream_snapshot(s) : 0;
	hipError_t r = real(h);
	if (s && r == hipSuccess) {
		xs_stream_credit(s, snap);
		xs_sync_end(s->dev);
	}
	return r;
}

HOOK(hipStreamQuery, (hipStream_t h));
hipError_t hk_hipStreamQuery(hipStream_t h)
{
	CALL_REAL(hipStreamQuery, (hipStream_t), (h));
	return stream_query(real, h, false);
}

HOOK(hipStreamQuery_spt, (hipStream_t h));
hipError_t hk_hipStreamQuery_spt(hipStream_t h)
{
	CALL_REAL(hipStreamQuery_spt, (hipStream_t), (h));
	return stream_query(real, h, true);
}

HOOK(hipDeviceSynchronize, (void));
hipError_t hk_hipDeviceSynchronize(void)
{
	CALL_REAL(hipDeviceSynchronize, (void), ());
	struct xs_ctx_snap snap;
	xs_ctx_snapshot(hip_current_dev_key(), &snap);
	hipError_t r = real();
	if (r == hipSuccess)
		xs_ctx_credit(&snap);
	if (snap.dev)
		xs_sync_end(snap.dev);
	else
		xs_sync_end_all();
	return r;
}

HOOK(hipEventSynchronize, (hipEvent_t e));
hipError_t hk_hipEventSynchronize(hipEvent_t e)
{
	CALL_REAL(hipEventSynchronize, (hipEvent_t), (e));
	struct xs_stream *s;
	uint64_t seq;
	if (!xs_event_lookup((uintptr_t)e, &s, &seq)) {
		hipError_t r = real(e);
		xs_sync_end_all();
		return r;
	}
	xs_sync_begin(s->dev, NULL);
	hipError_t r = real(e);
	if (r == hipSuccess)
		xs_stream_credit(s, seq);
	xs_sync_end(s->dev);
	return r;
}

HOOK(hipEventQuery, (hipEvent_t e));
hipError_t hk_hipEventQuery(hipEvent_t e)
{
	CALL_REAL(hipEventQuery, (hipEvent_t), (e));
	hipError_t r = real(e);
	struct xs_stream *s;
	uint64_t seq;
	if (r == hipSuccess && xs_event_lookup((uintptr_t)e, &s, &seq)) {
		xs_stream_credit(s, seq);
		xs_sync_end(s->dev);
	}
	return r;
}

/* ---- Events recorded by the application ---- */

/* Before the record: what the event will cover (NULL while capturing: a captured record
 * means nothing at run time). */
static inline struct xs_stream *record_begin(hipEvent_t e, hipStream_t h, bool spt, uint64_t *snap)
{
	if (xs_capturing()) {
		xs_event_forget((uintptr_t)e);
		return NULL;
	}
	struct xs_stream *s = hip_stream(h, spt);
	*snap = s ? xs_stream_snapshot(s) : 0;
	return s;
}

#define DEF_RECORD_(fn, idx, sym, spt)                                                             \
	XS_EXPORT hipError_t fn(hipEvent_t e, hipStream_t h) __asm__(sym);                         \
	hipError_t fn(hipEvent_t e, hipStream_t h)                                                 \
	{                                                                                          \
		hipError_t (*real)(hipEvent_t, hipStream_t) =                                      \
		        REAL_(idx, (hipEvent_t, hipStream_t));                                     \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		if (!hip_on())                                                                     \
			return real(e, h);                                                         \
		uint64_t snap = 0;                                                                 \
		struct xs_stream *s = record_begin(e, h, spt, &snap);                              \
		hipError_t r = real(e, h);                                                         \
		if (r == hipSuccess && s)                                                          \
			xs_event_note((uintptr_t)e, s, snap);                                      \
		return r;                                                                          \
	}
#define DEF_RECORD(name, spt) DEF_RECORD_(hk_##name, HIP_##name, #name, spt)
DEF_RECORD(hipEventRecord, false)
DEF_RECORD(hipEventRecord_spt, true)

HOOK(hipEventDestroy, (hipEvent_t e));
hipError_t hk_hipEventDestroy(hipEvent_t e)
{
	CALL_REAL(hipEventDestroy, (hipEvent_t), (e));
	xs_event_forget((uintptr_t)e);
	return real(e);
}

/* ---- Streams: their device is the one current when they are created; the actuators
 * (hip_prio.c) may create them restricted or with a mapped priority ---- */

#define CREATED(r, pstream)                                                                        \
	do {                                                                                       \
		if ((r) == hipSuccess && (pstream) && hip_on())                                    \
			hip_stream_created(*(pstream));                                            \
	} while (0)

HOOK(hipStreamCreate, (hipStream_t * p));
hipError_t hk_hipStreamCreate(hipStream_t *p)
{
	hipError_t (*real)(hipStream_t *) = REAL_(HIP_hipStreamCreate, (hipStream_t *));
	if (!real)
		return hipErrorNotFound;
	hipError_t r = hip_actu_create(p, hipStreamDefault, 0) ? hipSuccess : real(p);
	CREATED(r, p);
	return r;
}

HOOK(hipStreamCreateWithFlags, (hipStream_t * p, unsigned int flags));
hipError_t hk_hipStreamCreateWithFlags(hipStream_t *p, unsigned int flags)
{
	hipError_t (*real)(hipStream_t *, unsigned int) =
	        REAL_(HIP_hipStreamCreateWithFlags, (hipStream_t *, unsigned int));
	if (!real)
		return hipErrorNotFound;
	hipError_t r = hip_actu_create(p, flags, 0) ? hipSuccess : real(p, flags);
	CREATED(r, p);
	return r;
}

HOOK(hipStreamCreateWithPriority, (hipStream_t * p, unsigned int flags, int prio));
hipError_t hk_hipStreamCreateWithPriority(hipStream_t *p, unsigned int flags, int prio)
{
	hipError_t (*real)(hipStream_t *, unsigned int, int) =
	        REAL_(HIP_hipStreamCreateWithPriority, (hipStream_t *, unsigned int, int));
	if (!real)
		return hipErrorNotFound;
	hipError_t r = hip_actu_create(p, flags, prio) ? hipSuccess : real(p, flags, prio);
	CREATED(r, p);
	return r;
}

HOOK(hipExtStreamCreateWithCUMask, (hipStream_t * p, uint32_t n, const uint32_t *mask));
hipError_t hk_hipExtStreamCreateWithCUMask(hipStream_t *p, uint32_t n, const uint32_t *mask)
{
	hipError_t (*real)(hipStream_t *, uint32_t, const uint32_t *) = REAL_(
	        HIP_hipExtStreamCreateWithCUMask, (hipStream_t *, uint32_t, const uint32_t *));
	if (!real)
		return hipErrorNotFound;
	hipError_t r = real(p, n, mask);
	CREATED(r, p);
	return r;
}

HOOK(hipStreamDestroy, (hipStream_t h));
hipError_t hk_hipStreamDestroy(hipStream_t h)
{
	CALL_REAL(hipStreamDestroy, (hipStream_t), (h));
	struct xs_stream *s = hip_stream_known(h);
	if (s)
		xs_stream_destroy(s);
	xs_capture_end(hip_capture_key(h, false));
	return real(h);
}

/* ---- Capture: counted before it starts, so no marker can slip into it ---- */

#define DEF_CAPTURE_BEGIN_(fn, idx, sym, spt)                                                      \
	XS_EXPORT hipError_t fn(hipStream_t h, hipStreamCaptureMode mode) __asm__(sym);            \
	hipError_t fn(hipStream_t h, hipStreamCaptureMode mode)                                    \
	{                                                                                          \
		hipError_t (*real)(hipStream_t, hipStreamCaptureMode) =                            \
		        REAL_(idx, (hipStream_t, hipStreamCaptureMode));                           \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		if (!hip_on())                                                                     \
			return real(h, mode);                                                      \
		uintptr_t key = hip_capture_key(h, spt);                                           \
		xs_capture_begin(key);                                                             \
		hipError_t r = real(h, mode);                                                      \
		if (r != hipSuccess)                                                               \
			xs_capture_undo(key);                                                      \
		return r;                                                                          \
	}
#define DEF_CAPTURE_BEGIN(name, spt) DEF_CAPTURE_BEGIN_(hk_##name, HIP_##name, #name, spt)
DEF_CAPTURE_BEGIN(hipStreamBeginCapture, false)
DEF_CAPTURE_BEGIN(hipStreamBeginCapture_spt, true)

#define DEF_CAPTURE_END_(fn, idx, sym, spt)                                                        \
	XS_EXPORT hipError_t fn(hipStream_t h, hipGraph_t *g) __asm__(sym);                        \
	hipError_t fn(hipStream_t h, hipGraph_t *g)                                                \
	{                                                                                          \
		hipError_t (*real)(hipStream_t, hipGraph_t *) =                                    \
		        REAL_(idx, (hipStream_t, hipGraph_t *));                                   \
		if (!real)                                                                         \
			return hipErrorNotFound;                                                   \
		if (!hip_on())                                                                     \
			return real(h, g);                                                         \
		hipError_t r = real(h, g);                                                         \
		if (r == hipSuccess || hip_capture_over(h))                                        \
			xs_capture_end(hip_capture_key(h, spt));                                   \
		return r;                                                                          \
	}
#define DEF_CAPTURE_END(name, spt) DEF_CAPTURE_END_(hk_##name, HIP_##name, #name, spt)
DEF_CAPTURE_END(hipStreamEndCapture, false)
DEF_CAPTURE_END(hipStreamEndCapture_spt, true)

/* ---- A device reset frees its streams and events, our markers among them ---- */

HOOK(hipDeviceReset, (void));
hipError_t hk_hipDeviceReset(void)
{
	CALL_REAL(hipDeviceReset, (void), ());
	int dev;
	hip_device_reset_begin(&dev);
	hipError_t r = real();
	hip_device_reset_end(dev);
	return r;
}

/* ---- The table ---- */

#define TAB(name, ...) { #name, (void *)hk_##name, NULL },
struct hip_hook hip_hooks[] = { HIP_WORK_HOOKS(TAB) HIP_DRAIN_HOOKS(TAB) HIP_OTHER_HOOKS(TAB) };
const unsigned int hip_nhooks = HIP_NHOOKS;
_Static_assert(sizeof(hip_hooks) / sizeof(hip_hooks[0]) == HIP_NHOOKS, "hook table");
