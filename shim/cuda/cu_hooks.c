/* SPDX-License-Identifier: MIT */
/*
 * The hooks. Each is exported under the driver's exact symbol name (an asm label, so that
 * cuda.h's macros never rename it) and calls the driver's function directly, in the
 * application's own thread, with the arguments untouched; its result is returned as is.
 *
 * Kinds:
 *  WORK   puts one command on a stream: gate, call, count (cuLaunchKernel, async copies and
 *         memsets, graph launches, host functions; also the synchronous memsets and
 *         device-side copies, which are asynchronous to the host and go to a default stream).
 *  DRAIN  a synchronous copy touching host memory: host-to-device returns once everything
 *         before it on the default stream finished; device-to-host also once the copy did.
 *  the rest by hand: waits (stream/context/event sync and query), event records (to know
 *  what an event covers), stream destroy, capture begin/end, context teardown, and
 *  cuGetProcAddress itself.
 * Every variant pair is legacy / per-thread default stream (_ptsz, _ptds): the same
 * arguments, but a NULL stream names a different stream.
 */
#include "cu_shim.h"

/* WORK(name, per-thread name, api, ticket, stream expression, (params), (args)); the ticket
 * describes the command for its GPU time estimate (struct xs_ticket): a kernel by function
 * and grid size, a copy or memset by bytes. */
#define KCOPY(bytes) XS_TICKET(XS_KEY_COPY, bytes)
#define KSET(bytes)  XS_TICKET(XS_KEY_MEMSET, bytes)
#define LAUNCH_PARAMS                                                                              \
	(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,         \
	 unsigned int by, unsigned int bz, unsigned int shmem, CUstream hStream, void **params,    \
	 void **extra)
#define COOP_PARAMS                                                                                \
	(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,         \
	 unsigned int by, unsigned int bz, unsigned int shmem, CUstream hStream, void **params)

#define CU_WORK_HOOKS(WORK)                                                                        \
	WORK(cuLaunchKernel, cuLaunchKernel_ptsz, "cuLaunchKernel",                                \
	     XS_TICKET(f, GRID3(gx, gy, gz)), hStream, LAUNCH_PARAMS,                              \
	     (f, gx, gy, gz, bx, by, bz, shmem, hStream, params, extra))                           \
	WORK(cuLaunchKernelEx, cuLaunchKernelEx_ptsz, "cuLaunchKernelEx",                          \
	     XS_TICKET(f,                                                                          \
	               config ? (uint64_t)config->gridDimX * config->gridDimY * config->gridDimZ   \
	                      : 0),                                                                \
	     config ? config->hStream : NULL,                                                      \
	     (const CUlaunchConfig *config, CUfunction f, void **params, void **extra),            \
	     (config, f, params, extra))                                                           \
	WORK(cuLaunchCooperativeKernel, cuLaunchCooperativeKernel_ptsz,                            \
	     "cuLaunchCooperativeKernel", XS_TICKET(f, GRID3(gx, gy, gz)), hStream, COOP_PARAMS,   \
	     (f, gx, gy, gz, bx, by, bz, shmem, hStream, params))                                  \
	WORK(cuGraphLaunch, cuGraphLaunch_ptsz, "cuGraphLaunch", XS_TICKET(g, 0), hStream,         \
	     (CUgraphExec g, CUstream hStream), (g, hStream))                                      \
	WORK(cuLaunchHostFunc, cuLaunchHostFunc_ptsz, "cuLaunchHostFunc", XS_TICKET(fn, 0),        \
	     hStream, (CUstream hStream, CUhostFn fn, void *data), (hStream, fn, data))            \
	WORK(cuMemcpyAsync, cuMemcpyAsync_ptsz, "cuMemcpyAsync", KCOPY(n), hStream,                \
	     (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream hStream),                       \
	     (dst, src, n, hStream))                                                               \
	WORK(cuMemcpyPeerAsync, cuMemcpyPeerAsync_ptsz, "cuMemcpyPeerAsync", KCOPY(n), hStream,    \
	     (CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx, size_t n,          \
	      CUstream hStream),                                                                   \
	     (dst, dctx, src, sctx, n, hStream))                                                   \
	WORK(cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync_v2_ptsz, "cuMemcpyHtoDAsync", KCOPY(n),       \
	     hStream, (CUdeviceptr dst, const void *src, size_t n, CUstream hStream),              \
	     (dst, src, n, hStream))                                                               \
	WORK(cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync_v2_ptsz, "cuMemcpyDtoHAsync", KCOPY(n),       \
	     hStream, (void *dst, CUdeviceptr src, size_t n, CUstream hStream),                    \
	     (dst, src, n, hStream))                                                               \
	WORK(cuMemcpyDtoDAsync_v2, cuMemcpyDtoDAsync_v2_ptsz, "cuMemcpyDtoDAsync", KCOPY(n),       \
	     hStream, (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream hStream),              \
	     (dst, src, n, hStream))                                                               \
	WORK(cuMemcpyHtoAAsync_v2, cuMemcpyHtoAAsync_v2_ptsz, "cuMemcpyHtoAAsync", KCOPY(n),       \
	     hStream, (CUarray dst, size_t off, const void *src, size_t n, CUstream hStream),      \
	     (dst, off, src, n, hStream))                                                          \
	WORK(cuMemcpyAtoHAsync_v2, cuMemcpyAtoHAsync_v2_ptsz, "cuMemcpyAtoHAsync", KCOPY(n),       \
	     hStream, (void *dst, CUarray src, size_t off, size_t n, CUstream hStream),            \
	     (dst, src, off, n, hStream))                                                          \
	WORK(cuMemcpy2DAsync_v2, cuMemcpy2DAsync_v2_ptsz, "cuMemcpy2DAsync",                       \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height : 0), hStream,                        \
	     (const CUDA_MEMCPY2D *c, CUstream hStream), (c, hStream))                             \
	WORK(cuMemcpy3DAsync_v2, cuMemcpy3DAsync_v2_ptsz, "cuMemcpy3DAsync",                       \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height * c->Depth : 0), hStream,             \
	     (const CUDA_MEMCPY3D *c, CUstream hStream), (c, hStream))                             \
	WORK(cuMemcpy3DPeerAsync, cuMemcpy3DPeerAsync_ptsz, "cuMemcpy3DPeerAsync",                 \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height * c->Depth : 0), hStream,             \
	     (const CUDA_MEMCPY3D_PEER *c, CUstream hStream), (c, hStream))                        \
	WORK(cuMemcpyBatchAsync_v2, cuMemcpyBatchAsync_v2_ptsz, "cuMemcpyBatchAsync", KCOPY(0),    \
	     hStream,                                                                              \
	     (CUdeviceptr * dsts, CUdeviceptr * srcs, size_t * sizes, size_t count,                \
	      CUmemcpyAttributes * attrs, size_t * attrsIdxs, size_t numAttrs, CUstream hStream),  \
	     (dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, hStream))                      \
	WORK(cuMemcpy3DBatchAsync_v2, cuMemcpy3DBatchAsync_v2_ptsz, "cuMemcpy3DBatchAsync",        \
	     KCOPY(0), hStream,                                                                    \
	     (size_t numOps, CUDA_MEMCPY3D_BATCH_OP * ops, unsigned long long flags,               \
	      CUstream hStream),                                                                   \
	     (numOps, ops, flags, hStream))                                                        \
	WORK(cuMemsetD8Async, cuMemsetD8Async_ptsz, "cuMemsetD8Async", KSET(n), hStream,           \
	     (CUdeviceptr d, unsigned char v, size_t n, CUstream hStream), (d, v, n, hStream))     \
	WORK(cuMemsetD16Async, cuMemsetD16Async_ptsz, "cuMemsetD16Async", KSET(n * 2), hStream,    \
	     (CUdeviceptr d, unsigned short v, size_t n, CUstream hStream), (d, v, n, hStream))    \
	WORK(cuMemsetD32Async, cuMemsetD32Async_ptsz, "cuMemsetD32Async", KSET(n * 4), hStream,    \
	     (CUdeviceptr d, unsigned int v, size_t n, CUstream hStream), (d, v, n, hStream))      \
	WORK(cuMemsetD2D8Async, cuMemsetD2D8Async_ptsz, "cuMemsetD2D8Async", KSET(w *h), hStream,  \
	     (CUdeviceptr d, size_t p, unsigned char v, size_t w, size_t h, CUstream hStream),     \
	     (d, p, v, w, h, hStream))                                                             \
	WORK(cuMemsetD2D16Async, cuMemsetD2D16Async_ptsz, "cuMemsetD2D16Async", KSET(w *h * 2),    \
	     hStream,                                                                              \
	     (CUdeviceptr d, size_t p, unsigned short v, size_t w, size_t h, CUstream hStream),    \
	     (d, p, v, w, h, hStream))                                                             \
	WORK(cuMemsetD2D32Async, cuMemsetD2D32Async_ptsz, "cuMemsetD2D32Async", KSET(w *h * 4),    \
	     hStream,                                                                              \
	     (CUdeviceptr d, size_t p, unsigned int v, size_t w, size_t h, CUstream hStream),      \
	     (d, p, v, w, h, hStream))                                                             \
	WORK(cuMemcpy, cuMemcpy_ptds, "cuMemcpy", KCOPY(n), NULL,                                  \
	     (CUdeviceptr dst, CUdeviceptr src, size_t n), (dst, src, n))                          \
	WORK(cuMemcpyPeer, cuMemcpyPeer_ptds, "cuMemcpyPeer", KCOPY(n), NULL,                      \
	     (CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx, size_t n),         \
	     (dst, dctx, src, sctx, n))                                                            \
	WORK(cuMemcpyDtoD_v2, cuMemcpyDtoD_v2_ptds, "cuMemcpyDtoD", KCOPY(n), NULL,                \
	     (CUdeviceptr dst, CUdeviceptr src, size_t n), (dst, src, n))                          \
	WORK(cuMemcpyDtoA_v2, cuMemcpyDtoA_v2_ptds, "cuMemcpyDtoA", KCOPY(n), NULL,                \
	     (CUarray dst, size_t off, CUdeviceptr src, size_t n), (dst, off, src, n))             \
	WORK(cuMemcpyAtoD_v2, cuMemcpyAtoD_v2_ptds, "cuMemcpyAtoD", KCOPY(n), NULL,                \
	     (CUdeviceptr dst, CUarray src, size_t off, size_t n), (dst, src, off, n))             \
	WORK(cuMemcpyAtoA_v2, cuMemcpyAtoA_v2_ptds, "cuMemcpyAtoA", KCOPY(n), NULL,                \
	     (CUarray dst, size_t doff, CUarray src, size_t soff, size_t n),                       \
	     (dst, doff, src, soff, n))                                                            \
	WORK(cuMemcpy2D_v2, cuMemcpy2D_v2_ptds, "cuMemcpy2D",                                      \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height : 0), NULL, (const CUDA_MEMCPY2D *c), \
	     (c))                                                                                  \
	WORK(cuMemcpy2DUnaligned_v2, cuMemcpy2DUnaligned_v2_ptds, "cuMemcpy2DUnaligned",           \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height : 0), NULL, (const CUDA_MEMCPY2D *c), \
	     (c))                                                                                  \
	WORK(cuMemcpy3D_v2, cuMemcpy3D_v2_ptds, "cuMemcpy3D",                                      \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height * c->Depth : 0), NULL,                \
	     (const CUDA_MEMCPY3D *c), (c))                                                        \
	WORK(cuMemcpy3DPeer, cuMemcpy3DPeer_ptds, "cuMemcpy3DPeer",                                \
	     KCOPY(c ? (uint64_t)c->WidthInBytes * c->Height * c->Depth : 0), NULL,                \
	     (const CUDA_MEMCPY3D_PEER *c), (c))                                                   \
	WORK(cuMemsetD8_v2, cuMemsetD8_v2_ptds, "cuMemsetD8", KSET(n), NULL,                       \
	     (CUdeviceptr d, unsigned char v, size_t n), (d, v, n))                                \
	WORK(cuMemsetD16_v2, cuMemsetD16_v2_ptds, "cuMemsetD16", KSET(n * 2), NULL,                \
	     (CUdeviceptr d, unsigned short v, size_t n), (d, v, n))                               \
	WORK(cuMemsetD32_v2, cuMemsetD32_v2_ptds, "cuMemsetD32", KSET(n * 4), NULL,                \
	     (CUdeviceptr d, unsigned int v, size_t n), (d, v, n))                                 \
	WORK(cuMemsetD2D8_v2, cuMemsetD2D8_v2_ptds, "cuMemsetD2D8", KSET(w *h), NULL,              \
	     (CUdeviceptr d, size_t p, unsigned char v, size_t w, size_t h), (d, p, v, w, h))      \
	WORK(cuMemsetD2D16_v2, cuMemsetD2D16_v2_ptds, "cuMemsetD2D16", KSET(w *h * 2), NULL,       \
	     (CUdeviceptr d, size_t p, unsigned short v, size_t w, size_t h), (d, p, v, w, h))     \
	WORK(cuMemsetD2D32_v2, cuMemsetD2D32_v2_ptds, "cuMemsetD2D32", KSET(w *h * 4), NULL,       \
	     (CUdeviceptr d, size_t p, unsigned int v, size_t w, size_t h), (d, p, v, w, h))

/* DRAIN(name, per-thread name, api, full, (params), (args)); full: the copy itself is
 * complete on return (device to host), else only what preceded it (host to device). */
#define CU_DRAIN_HOOKS(DRAIN)                                                                      \
	DRAIN(cuMemcpyHtoD_v2, cuMemcpyHtoD_v2_ptds, "cuMemcpyHtoD", false,                        \
	      (CUdeviceptr dst, const void *src, size_t n), (dst, src, n))                         \
	DRAIN(cuMemcpyHtoA_v2, cuMemcpyHtoA_v2_ptds, "cuMemcpyHtoA", false,                        \
	      (CUarray dst, size_t off, const void *src, size_t n), (dst, off, src, n))            \
	DRAIN(cuMemcpyDtoH_v2, cuMemcpyDtoH_v2_ptds, "cuMemcpyDtoH", true,                         \
	      (void *dst, CUdeviceptr src, size_t n), (dst, src, n))                               \
	DRAIN(cuMemcpyAtoH_v2, cuMemcpyAtoH_v2_ptds, "cuMemcpyAtoH", true,                         \
	      (void *dst, CUarray src, size_t off, size_t n), (dst, src, off, n))

/* Hooks written out by hand below: (name, api). */
#define CU_OTHER_HOOKS(OTHER)                                                                      \
	OTHER(cuStreamSynchronize, "cuStreamSynchronize")                                          \
	OTHER(cuStreamSynchronize_ptsz, "cuStreamSynchronize")                                     \
	OTHER(cuStreamQuery, "cuStreamQuery")                                                      \
	OTHER(cuStreamQuery_ptsz, "cuStreamQuery")                                                 \
	OTHER(cuCtxSynchronize, "cuCtxSynchronize")                                                \
	OTHER(cuCtxSynchronize_v2, "cuCtxSynchronize")                                             \
	OTHER(cuEventSynchronize, "cuEventSynchronize")                                            \
	OTHER(cuEventQuery, "cuEventQuery")                                                        \
	OTHER(cuEventRecord, "cuEventRecord")                                                      \
	OTHER(cuEventRecord_ptsz, "cuEventRecord")                                                 \
	OTHER(cuEventRecordWithFlags, "cuEventRecordWithFlags")                                    \
	OTHER(cuEventRecordWithFlags_ptsz, "cuEventRecordWithFlags")                               \
	OTHER(cuEventDestroy, "cuEventDestroy")                                                    \
	OTHER(cuEventDestroy_v2, "cuEventDestroy")                                                 \
	OTHER(cuStreamDestroy, "cuStreamDestroy")                                                  \
	OTHER(cuStreamDestroy_v2, "cuStreamDestroy")                                               \
	OTHER(cuStreamBeginCapture, "cuStreamBeginCapture")                                        \
	OTHER(cuStreamBeginCapture_ptsz, "cuStreamBeginCapture")                                   \
	OTHER(cuStreamBeginCapture_v2, "cuStreamBeginCapture")                                     \
	OTHER(cuStreamBeginCapture_v2_ptsz, "cuStreamBeginCapture")                                \
	OTHER(cuStreamBeginCaptureToGraph, "cuStreamBeginCaptureToGraph")                          \
	OTHER(cuStreamBeginCaptureToGraph_ptsz, "cuStreamBeginCaptureToGraph")                     \
	OTHER(cuStreamEndCapture, "cuStreamEndCapture")                                            \
	OTHER(cuStreamEndCapture_ptsz, "cuStreamEndCapture")                                       \
	OTHER(cuCtxDestroy, "cuCtxDestroy")                                                        \
	OTHER(cuCtxDestroy_v2, "cuCtxDestroy")                                                     \
	OTHER(cuDevicePrimaryCtxReset, "cuDevicePrimaryCtxReset")                                  \
	OTHER(cuDevicePrimaryCtxReset_v2, "cuDevicePrimaryCtxReset")                               \
	OTHER(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease")                              \
	OTHER(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease")                           \
	OTHER(cuGetProcAddress, "cuGetProcAddress")                                                \
	OTHER(cuGetProcAddress_v2, "cuGetProcAddress")

#define ENUM2(l, p, ...) CU_##l, CU_##p,
#define ENUM1(n, api)    CU_##n,
enum {
	CU_WORK_HOOKS(ENUM2) CU_DRAIN_HOOKS(ENUM2) CU_OTHER_HOOKS(ENUM1) CU_NHOOKS
};

#define REAL_(idx, params) ((CUresult(*) params)cu_real(idx))
#define REAL(name, params) REAL_(CU_##name, params)

/* ---- Work ---- */

static inline void work_begin(CUstream h, bool ptds, struct xs_ticket *t)
{
	t->tracked = false;
	if (!cu_on() || xs_capturing())
		return;
	xs_launch_begin(cu_stream(h, ptds), t);
}

/* Names reach the *_ macros already pasted (fn, index, string): some hooked names are
 * macros in cuda.h, and a name passed on unpasted would be expanded on the way. */
#define DEF_WORK_(fn, idx, sym, ptds, ticket, stream, params, args)                                \
	CU_EXPORT CUresult fn params __asm__(sym);                                                 \
	CUresult fn params                                                                         \
	{                                                                                          \
		CUresult(*real) params = REAL_(idx, params);                                       \
		if (!real)                                                                         \
			return CUDA_ERROR_NOT_FOUND;                                               \
		struct xs_ticket t = ticket;                                                       \
		work_begin((CUstream)(stream), ptds, &t);                                          \
		CUresult r = real args;                                                            \
		xs_launch_end(&t, r == CUDA_SUCCESS);                                              \
		return r;                                                                          \
	}
#define DEF_WORK(l, p, api, ticket, stream, params, args)                                          \
	DEF_WORK_(hk_##l, CU_##l, #l, false, ticket, stream, params, args)                         \
	DEF_WORK_(hk_##p, CU_##p, #p, true, ticket, stream, params, args)
CU_WORK_HOOKS(DEF_WORK)

/* ---- Synchronous copies ---- */

static inline void drain_begin(bool ptds, bool full, struct xs_ticket *t, uint64_t *snap)
{
	work_begin(NULL, ptds, t);
	if (!t->tracked)
		return;
	*snap = xs_stream_snapshot(t->s);
	if (full)
		xs_sync_begin(t->s->dev, t->s);
}

static inline void drain_end(bool full, struct xs_ticket *t, uint64_t snap, CUresult r)
{
	if (!t->tracked)
		return;
	if (r == CUDA_SUCCESS)
		xs_stream_credit(t->s, snap);
	if (!full) {
		xs_launch_end(t, r == CUDA_SUCCESS);
		return;
	}
	xs_launch_end_completed(t, r == CUDA_SUCCESS);
	xs_sync_end_drained(t->s);
}

#define DEF_DRAIN_(fn, idx, sym, ptds, full, params, args)                                         \
	CU_EXPORT CUresult fn params __asm__(sym);                                                 \
	CUresult fn params                                                                         \
	{                                                                                          \
		CUresult(*real) params = REAL_(idx, params);                                       \
		if (!real)                                                                         \
			return CUDA_ERROR_NOT_FOUND;                                               \
		struct xs_ticket t = KCOPY(n);                                                     \
		uint64_t snap = 0;                                                                 \
		drain_begin(ptds, full, &t, &snap);                                                \
		CUresult r = real args;                                                            \
		drain_end(full, &t, snap, r);                                                      \
		return r;                                                                          \
	}
#define DEF_DRAIN(l, p, api, full, params, args)                                                   \
	DEF_DRAIN_(hk_##l, CU_##l, #l, false, full, params, args)                                  \
	DEF_DRAIN_(hk_##p, CU_##p, #p, true, full, params, args)
CU_DRAIN_HOOKS(DEF_DRAIN)

/* ---- Waits ---- */

#define HOOK(name, params) CU_EXPORT CUresult hk_##name params __asm__(#name)
#define CALL_REAL_(idx, params, args)                                                              \
	CUresult(*real) params = REAL_(idx, params);                                               \
	if (!real)                                                                                 \
		return CUDA_ERROR_NOT_FOUND;                                                       \
	if (!cu_on())                                                                              \
		return real args;
#define CALL_REAL(name, params, args) CALL_REAL_(CU_##name, params, args)

static inline CUresult stream_sync(CUresult (*real)(CUstream), CUstream h, bool ptds)
{
	struct xs_stream *s = cu_stream(h, ptds);
	if (!s)
		return real(h);
	uint64_t snap = xs_stream_snapshot(s);
	xs_sync_begin(s->dev, s);
	CUresult r = real(h);
	if (r == CUDA_SUCCESS)
		xs_stream_credit(s, snap);
	xs_sync_end_drained(s);
	return r;
}

HOOK(cuStreamSynchronize, (CUstream h));
CUresult hk_cuStreamSynchronize(CUstream h)
{
	CALL_REAL(cuStreamSynchronize, (CUstream), (h));
	return stream_sync(real, h, false);
}

HOOK(cuStreamSynchronize_ptsz, (CUstream h));
CUresult hk_cuStreamSynchronize_ptsz(CUstream h)
{
	CALL_REAL(cuStreamSynchronize_ptsz, (CUstream), (h));
	return stream_sync(real, h, true);
}

/* A query that finds the stream idle drained it, like a sync. */
static inline CUresult stream_query(CUresult (*real)(CUstream), CUstream h, bool ptds)
{
	struct xs_stream *s = xs_capturing() ? NULL : cu_stream(h, ptds);
	uint64_t snap = s ? xs_stream_snapshot(s) : 0;
	CUresult r = real(h);
	if (s && r == CUDA_SUCCESS) {
		xs_stream_credit(s, snap);
		xs_sync_end(s->dev);
	}
	return r;
}

HOOK(cuStreamQuery, (CUstream h));
CUresult hk_cuStreamQuery(CUstream h)
{
	CALL_REAL(cuStreamQuery, (CUstream), (h));
	return stream_query(real, h, false);
}

HOOK(cuStreamQuery_ptsz, (CUstream h));
CUresult hk_cuStreamQuery_ptsz(CUstream h)
{
	CALL_REAL(cuStreamQuery_ptsz, (CUstream), (h));
	return stream_query(real, h, true);
}

static inline void ctx_sync_end(CUresult r, const struct xs_ctx_snap *snap)
{
	if (r == CUDA_SUCCESS)
		xs_ctx_credit(snap);
	if (snap->dev)
		xs_sync_end(snap->dev);
	else
		xs_sync_end_all();
}

HOOK(cuCtxSynchronize, (void));
CUresult hk_cuCtxSynchronize(void)
{
	CALL_REAL(cuCtxSynchronize, (void), ());
	struct xs_ctx_snap snap;
	xs_ctx_snapshot((uintptr_t)cu_current_ctx(), &snap);
	CUresult r = real();
	ctx_sync_end(r, &snap);
	return r;
}

HOOK(cuCtxSynchronize_v2, (CUcontext ctx));
CUresult hk_cuCtxSynchronize_v2(CUcontext ctx)
{
	CALL_REAL(cuCtxSynchronize_v2, (CUcontext), (ctx));
	struct xs_ctx_snap snap;
	xs_ctx_snapshot((uintptr_t)(ctx ? ctx : cu_current_ctx()), &snap);
	CUresult r = real(ctx);
	ctx_sync_end(r, &snap);
	return r;
}

HOOK(cuEventSynchronize, (CUevent e));
CUresult hk_cuEventSynchronize(CUevent e)
{
	CALL_REAL(cuEventSynchronize, (CUevent), (e));
	struct xs_stream *s;
	uint64_t seq;
	if (!xs_event_lookup((uintptr_t)e, &s, &seq)) {
		CUresult r = real(e);
		xs_sync_end_all();
		return r;
	}
	xs_sync_begin(s->dev, NULL);
	CUresult r = real(e);
	if (r == CUDA_SUCCESS)
		xs_stream_credit(s, seq);
	xs_sync_end(s->dev);
	return r;
}

HOOK(cuEventQuery, (CUevent e));
CUresult hk_cuEventQuery(CUevent e)
{
	CALL_REAL(cuEventQuery, (CUevent), (e));
	CUresult r = real(e);
	struct xs_stream *s;
	uint64_t seq;
	if (r == CUDA_SUCCESS && xs_event_lookup((uintptr_t)e, &s, &seq)) {
		xs_stream_credit(s, seq);
		xs_sync_end(s->dev);
	}
	return r;
}

/* ---- Events recorded by the application ---- */

/* Before the record: what the event will cover (NULL while capturing: a captured record
 * means nothing at run time). */
static inline struct xs_stream *record_begin(CUevent e, CUstream h, bool ptds, uint64_t *snap)
{
	if (xs_capturing()) {
		xs_event_forget((uintptr_t)e);
		return NULL;
	}
	struct xs_stream *s = cu_stream(h, ptds);
	*snap = s ? xs_stream_snapshot(s) : 0;
	return s;
}

static inline void record_end(CUresult r, CUevent e, struct xs_stream *s, uint64_t snap)
{
	if (r == CUDA_SUCCESS && s)
		xs_event_note((uintptr_t)e, s, snap);
}

#define DEF_RECORD_(fn, idx, sym, ptds)                                                            \
	CU_EXPORT CUresult fn(CUevent e, CUstream h) __asm__(sym);                                 \
	CUresult fn(CUevent e, CUstream h)                                                         \
	{                                                                                          \
		CALL_REAL_(idx, (CUevent, CUstream), (e, h));                                      \
		uint64_t snap = 0;                                                                 \
		struct xs_stream *s = record_begin(e, h, ptds, &snap);                             \
		CUresult r = real(e, h);                                                           \
		record_end(r, e, s, snap);                                                         \
		return r;                                                                          \
	}
#define DEF_RECORD(name, ptds) DEF_RECORD_(hk_##name, CU_##name, #name, ptds)
DEF_RECORD(cuEventRecord, false)
DEF_RECORD(cuEventRecord_ptsz, true)

#define DEF_RECORD_FLAGS_(fn, idx, sym, ptds)                                                      \
	CU_EXPORT CUresult fn(CUevent e, CUstream h, unsigned int flags) __asm__(sym);             \
	CUresult fn(CUevent e, CUstream h, unsigned int flags)                                     \
	{                                                                                          \
		CALL_REAL_(idx, (CUevent, CUstream, unsigned int), (e, h, flags));                 \
		uint64_t snap = 0;                                                                 \
		struct xs_stream *s = record_begin(e, h, ptds, &snap);                             \
		CUresult r = real(e, h, flags);                                                    \
		record_end(r, e, s, snap);                                                         \
		return r;                                                                          \
	}
#define DEF_RECORD_FLAGS(name, ptds) DEF_RECORD_FLAGS_(hk_##name, CU_##name, #name, ptds)
DEF_RECORD_FLAGS(cuEventRecordWithFlags, false)
DEF_RECORD_FLAGS(cuEventRecordWithFlags_ptsz, true)

#define DEF_EVENT_DESTROY_(fn, idx, sym)                                                           \
	CU_EXPORT CUresult fn(CUevent e) __asm__(sym);                                             \
	CUresult fn(CUevent e)                                                                     \
	{                                                                                          \
		CALL_REAL_(idx, (CUevent), (e));                                                   \
		xs_event_forget((uintptr_t)e);                                                     \
		return real(e);                                                                    \
	}
#define DEF_EVENT_DESTROY(name) DEF_EVENT_DESTROY_(hk_##name, CU_##name, #name)
DEF_EVENT_DESTROY(cuEventDestroy)
DEF_EVENT_DESTROY(cuEventDestroy_v2)

#define DEF_STREAM_DESTROY_(fn, idx, sym)                                                          \
	CU_EXPORT CUresult fn(CUstream h) __asm__(sym);                                            \
	CUresult fn(CUstream h)                                                                    \
	{                                                                                          \
		CALL_REAL_(idx, (CUstream), (h));                                                  \
		struct xs_stream *s = cu_stream_known(h);                                          \
		if (s)                                                                             \
			xs_stream_destroy(s);                                                      \
		xs_capture_end(cu_capture_key(h, false));                                          \
		return real(h);                                                                    \
	}
#define DEF_STREAM_DESTROY(name) DEF_STREAM_DESTROY_(hk_##name, CU_##name, #name)
DEF_STREAM_DESTROY(cuStreamDestroy)
DEF_STREAM_DESTROY(cuStreamDestroy_v2)

/* ---- Capture: counted before it starts, so no marker can slip into it ---- */

#define DEF_CAPTURE_BEGIN_(fn, idx, sym, ptds, params, args)                                       \
	CU_EXPORT CUresult fn params __asm__(sym);                                                 \
	CUresult fn params                                                                         \
	{                                                                                          \
		CUresult(*real) params = REAL_(idx, params);                                       \
		if (!real)                                                                         \
			return CUDA_ERROR_NOT_FOUND;                                               \
		uintptr_t key = cu_capture_key(hStream, ptds);                                     \
		xs_capture_begin(key);                                                             \
		CUresult r = real args;                                                            \
		if (r != CUDA_SUCCESS)                                                             \
			xs_capture_undo(key);                                                      \
		return r;                                                                          \
	}
#define DEF_CAPTURE_BEGIN(name, ptds, params, args)                                                \
	DEF_CAPTURE_BEGIN_(hk_##name, CU_##name, #name, ptds, params, args)
#define TO_GRAPH_PARAMS                                                                            \
	(CUstream hStream, CUgraph g, const CUgraphNode *deps, const CUgraphEdgeData *data,        \
	 size_t n, CUstreamCaptureMode mode)
DEF_CAPTURE_BEGIN(cuStreamBeginCapture, false, (CUstream hStream), (hStream))
DEF_CAPTURE_BEGIN(cuStreamBeginCapture_ptsz, true, (CUstream hStream), (hStream))
DEF_CAPTURE_BEGIN(cuStreamBeginCapture_v2, false, (CUstream hStream, CUstreamCaptureMode mode),
                  (hStream, mode))
DEF_CAPTURE_BEGIN(cuStreamBeginCapture_v2_ptsz, true, (CUstream hStream, CUstreamCaptureMode mode),
                  (hStream, mode))
DEF_CAPTURE_BEGIN(cuStreamBeginCaptureToGraph, false, TO_GRAPH_PARAMS,
                  (hStream, g, deps, data, n, mode))
DEF_CAPTURE_BEGIN(cuStreamBeginCaptureToGraph_ptsz, true, TO_GRAPH_PARAMS,
                  (hStream, g, deps, data, n, mode))

#define DEF_CAPTURE_END_(fn, idx, sym, ptds)                                                       \
	CU_EXPORT CUresult fn(CUstream h, CUgraph *g) __asm__(sym);                                \
	CUresult fn(CUstream h, CUgraph *g)                                                        \
	{                                                                                          \
		CUresult (*real)(CUstream, CUgraph *) = REAL_(idx, (CUstream, CUgraph *));         \
		if (!real)                                                                         \
			return CUDA_ERROR_NOT_FOUND;                                               \
		CUresult r = real(h, g);                                                           \
		if (r == CUDA_SUCCESS || cu_capture_over(h))                                       \
			xs_capture_end(cu_capture_key(h, ptds));                                   \
		return r;                                                                          \
	}
#define DEF_CAPTURE_END(name, ptds) DEF_CAPTURE_END_(hk_##name, CU_##name, #name, ptds)
DEF_CAPTURE_END(cuStreamEndCapture, false)
DEF_CAPTURE_END(cuStreamEndCapture_ptsz, true)

/* ---- Contexts going away: their events (our markers among them) die with them ---- */

#define DEF_CTX_DESTROY_(fn, idx, sym)                                                             \
	CU_EXPORT CUresult fn(CUcontext c) __asm__(sym);                                           \
	CUresult fn(CUcontext c)                                                                   \
	{                                                                                          \
		CALL_REAL_(idx, (CUcontext), (c));                                                 \
		cu_pools_drop_ctx(c);                                                              \
		xs_ctx_gone((uintptr_t)c);                                                         \
		return real(c);                                                                    \
	}
#define DEF_CTX_DESTROY(name) DEF_CTX_DESTROY_(hk_##name, CU_##name, #name)
DEF_CTX_DESTROY(cuCtxDestroy)
DEF_CTX_DESTROY(cuCtxDestroy_v2)

static void dev_ctxs_gone(CUdevice dev)
{
	uintptr_t ctxs[16];
	cu_pools_drop_dev(dev);
	unsigned int n = xs_dev_ctxs(&cu_backend, (int)dev, ctxs, 16);
	for (unsigned int i = 0; i < n; i++)
		xs_ctx_gone(ctxs[i]);
}

#define DEF_PRIMARY_(fn, idx, sym)                                                                 \
	CU_EXPORT CUresult fn(CUdevice d) __asm__(sym);                                            \
	CUresult fn(CUdevice d)                                                                    \
	{                                                                                          \
		CALL_REAL_(idx, (CUdevice), (d));                                                  \
		dev_ctxs_gone(d);                                                                  \
		return real(d);                                                                    \
	}
#define DEF_PRIMARY(name) DEF_PRIMARY_(hk_##name, CU_##name, #name)
DEF_PRIMARY(cuDevicePrimaryCtxReset)
DEF_PRIMARY(cuDevicePrimaryCtxReset_v2)
DEF_PRIMARY(cuDevicePrimaryCtxRelease)
DEF_PRIMARY(cuDevicePrimaryCtxRelease_v2)

/* ---- cuGetProcAddress: hand out our hooks ---- */

HOOK(cuGetProcAddress, (const char *sym, void **pfn, int ver, cuuint64_t flags));
CUresult hk_cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags)
{
	CUresult (*real)(const char *, void **, int, cuuint64_t) =
	        REAL(cuGetProcAddress, (const char *, void **, int, cuuint64_t));
	if (!real)
		return CUDA_ERROR_NOT_FOUND;
	CUresult r = real(sym, pfn, ver, flags);
	if (r == CUDA_SUCCESS && pfn && *pfn)
		*pfn = cu_substitute(sym, *pfn);
	return r;
}

HOOK(cuGetProcAddress_v2, (const char *sym, void **pfn, int ver, cuuint64_t flags,
                           CUdriverProcAddressQueryResult *status));
CUresult hk_cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
                                CUdriverProcAddressQueryResult *status)
{
	CUresult (*real)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *) =
	        REAL(cuGetProcAddress_v2,
	             (const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *));
	if (!real)
		return CUDA_ERROR_NOT_FOUND;
	CUresult r = real(sym, pfn, ver, flags, status);
	if (r == CUDA_SUCCESS && pfn && *pfn)
		*pfn = cu_substitute(sym, *pfn);
	return r;
}

/* ---- The table ---- */

#define TAB2(l, p, api, ...) { #l, api, (void *)hk_##l, NULL }, { #p, api, (void *)hk_##p, NULL },
#define TAB1(n, api)         { #n, api, (void *)hk_##n, NULL },
struct cu_hook cu_hooks[] = { CU_WORK_HOOKS(TAB2) CU_DRAIN_HOOKS(TAB2) CU_OTHER_HOOKS(TAB1) };
const unsigned int cu_nhooks = CU_NHOOKS;
_Static_assert(sizeof(cu_hooks) / sizeof(cu_hooks[0]) == CU_NHOOKS, "hook table");
