// SPDX-License-Identifier: MIT
/*
 * The probe tables. A symbol missing from a library is skipped, so the tables list every
 * entry point a runtime version may have: the per-thread-default-stream forms (_ptsz,
 * _ptds, _spt) and the versioned names cuda.h maps calls to (cuMemcpyHtoD -> _v2).
 */
#include "probes.h"

#include <string.h>

#include "xobs_types.h"

#define PT  XOBS_CK_PER_THREAD
#define HIP XOBS_CK_HIP

/* Per process: launches, memory commands, event records, queries. Per file: the rest. */
#define LAUNCH(s, p, ck)                                                                           \
	{                                                                                          \
		s, p, ck, true, false                                                              \
	}
/* An asynchronous copy or memset whose stream is argument n (see XOBS_CK_STREAM_ARG). */
#define COPY(s, n, ck)                                                                             \
	{                                                                                          \
		s, PROG_COPY, (ck) | XOBS_CK_STREAM_ARG(n), true, false                            \
	}
/* The CUDA name and its per-thread-default-stream form. */
#define COPY2(s, n) COPY(s, n, 0), COPY(s "_ptsz", n, PT)
#define PER_PROC(s, p, ck, r)                                                                      \
	{                                                                                          \
		s, p, ck, true, r                                                                  \
	}
#define PER_FILE(s, p, ck, r)                                                                      \
	{                                                                                          \
		s, p, ck, false, r                                                                 \
	}

static const struct probe_spec cuda_specs[] = {
	LAUNCH("cuLaunchKernel", PROG_LAUNCH_STACK24, 0),
	LAUNCH("cuLaunchKernel_ptsz", PROG_LAUNCH_STACK24, PT),
	LAUNCH("cuLaunchKernelEx", PROG_LAUNCH_CFG32, 0),
	LAUNCH("cuLaunchKernelEx_ptsz", PROG_LAUNCH_CFG32, PT),
	LAUNCH("cuLaunchCooperativeKernel", PROG_LAUNCH_STACK24, 0),
	LAUNCH("cuLaunchCooperativeKernel_ptsz", PROG_LAUNCH_STACK24, PT),
	LAUNCH("cuGraphLaunch", PROG_LAUNCH_ARG2, 0),
	LAUNCH("cuGraphLaunch_ptsz", PROG_LAUNCH_ARG2, PT),
	/* Memory commands, with the argument position of the stream as cuda.h declares them. */
	COPY2("cuMemcpyAsync", 4),        /* (dst, src, n, stream) */
	COPY2("cuMemcpyHtoDAsync_v2", 4), /* (dst, src, n, stream) */
	COPY2("cuMemcpyDtoHAsync_v2", 4),
	COPY2("cuMemcpyDtoDAsync_v2", 4),
	COPY2("cuMemcpyPeerAsync", 6),  /* (dst, dctx, src, sctx, n, stream) */
	COPY2("cuMemcpy2DAsync_v2", 2), /* (const CUDA_MEMCPY2D *, stream) */
	COPY2("cuMemcpy3DAsync_v2", 2),
	COPY2("cuMemsetD8Async", 4), /* (dst, value, n, stream) */
	COPY2("cuMemsetD16Async", 4),
	COPY2("cuMemsetD32Async", 4),
	COPY2("cuMemsetD2D8Async", 6), /* (dst, pitch, value, width, height, stream) */
	COPY2("cuMemsetD2D16Async", 6),
	COPY2("cuMemsetD2D32Async", 6),
	PER_PROC("cuEventRecord", PROG_EVENT_RECORD, 0, false),
	PER_PROC("cuEventRecord_ptsz", PROG_EVENT_RECORD, PT, false),
	PER_PROC("cuEventRecordWithFlags", PROG_EVENT_RECORD, 0, false),
	PER_PROC("cuEventRecordWithFlags_ptsz", PROG_EVENT_RECORD, PT, false),
	PER_PROC("cuStreamQuery", PROG_QUERY_STREAM, 0, true),
	PER_PROC("cuStreamQuery_ptsz", PROG_QUERY_STREAM, PT, true),
	PER_PROC("cuEventQuery", PROG_QUERY_EVENT, 0, true),
	PER_FILE("cuStreamSynchronize", PROG_SYNC_STREAM, 0, true),
	PER_FILE("cuStreamSynchronize_ptsz", PROG_SYNC_STREAM, PT, true),
	PER_FILE("cuCtxSynchronize", PROG_SYNC_CTX, 0, true),
	PER_FILE("cuCtxSynchronize_v2", PROG_SYNC_CTX, 0, true),
	PER_FILE("cuEventSynchronize", PROG_SYNC_EVENT, 0, true),
	PER_FILE("cuMemcpy", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpy_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpyPeer", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyPeer_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpyHtoD_v2", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyHtoD_v2_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpyDtoH_v2", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyDtoH_v2_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpyDtoD_v2", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyDtoD_v2_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpy2D_v2", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpy2D_v2_ptds", PROG_SYNC_COPY, PT, true),
	PER_FILE("cuMemcpy3D_v2", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpy3D_v2_ptds", PROG_SYNC_COPY, PT, true),
	/* Pre-CUDA-3.2 ABI names, still exported. */
	PER_FILE("cuMemcpyHtoD", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyDtoH", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuMemcpyDtoD", PROG_SYNC_COPY, 0, true),
	PER_FILE("cuStreamCreate", PROG_STREAM_CREATE, XOBS_CK_FLAGS_ARG, true),
	PER_FILE("cuStreamCreateWithPriority", PROG_STREAM_CREATE,
	         XOBS_CK_FLAGS_ARG | XOBS_CK_PRIO_ARG, true),
	PER_FILE("cuStreamDestroy_v2", PROG_STREAM_DESTROY, 0, false),
	PER_FILE("cuStreamDestroy", PROG_STREAM_DESTROY, 0, false),
};

static const struct probe_spec hip_specs[] = {
	LAUNCH("hipLaunchKernel", PROG_LAUNCH_STACK16, HIP),
	LAUNCH("hipLaunchKernel_spt", PROG_LAUNCH_STACK16, HIP | PT),
	LAUNCH("hipLaunchCooperativeKernel", PROG_LAUNCH_STACK16, HIP),
	LAUNCH("hipLaunchCooperativeKernel_spt", PROG_LAUNCH_STACK16, HIP | PT),
	LAUNCH("hipExtLaunchKernel", PROG_LAUNCH_STACK16, HIP),
	LAUNCH("hipModuleLaunchKernel", PROG_LAUNCH_STACK24, HIP),
	LAUNCH("hipExtModuleLaunchKernel", PROG_LAUNCH_STACK24, HIP),
	LAUNCH("hipHccModuleLaunchKernel", PROG_LAUNCH_STACK24, HIP),
	LAUNCH("hipModuleLaunchCooperativeKernel", PROG_LAUNCH_STACK24, HIP),
	LAUNCH("hipLaunchKernelExC", PROG_LAUNCH_CFG32, HIP),
	LAUNCH("hipDrvLaunchKernelEx", PROG_LAUNCH_CFG32, HIP),
	LAUNCH("hipGraphLaunch", PROG_LAUNCH_ARG2, HIP),
	LAUNCH("hipGraphLaunch_spt", PROG_LAUNCH_ARG2, HIP | PT),
	/* Memory commands, with the argument position of the stream as hip_runtime_api.h
	 * declares them; only these have _spt forms. */
	COPY("hipMemcpyAsync", 5, HIP), /* (dst, src, n, kind, stream) */
	COPY("hipMemcpyAsync_spt", 5, HIP | PT),
	COPY("hipMemcpyHtoDAsync", 4, HIP), /* (dst, src, n, stream) */
	COPY("hipMemcpyDtoHAsync", 4, HIP),
	COPY("hipMemcpyDtoDAsync", 4, HIP),
	COPY("hipMemcpyPeerAsync", 6, HIP), /* (dst, ddev, src, sdev, n, stream) */
	COPY("hipMemcpy2DAsync", 8, HIP),   /* (dst, dpitch, src, spitch, w, h, kind, stream) */
	COPY("hipMemcpy2DAsync_spt", 8, HIP | PT),
	COPY("hipMemsetAsync", 4, HIP), /* (dst, value, n, stream) */
	COPY("hipMemsetAsync_spt", 4, HIP | PT),
	COPY("hipMemsetD8Async", 4, HIP),
	COPY("hipMemsetD16Async", 4, HIP),
	COPY("hipMemsetD32Async", 4, HIP),
	PER_PROC("hipEventRecord", PROG_EVENT_RECORD, HIP, false),
	PER_PROC("hipEventRecord_spt", PROG_EVENT_RECORD, HIP | PT, false),
	PER_PROC("hipEventRecordWithFlags", PROG_EVENT_RECORD, HIP, false),
	PER_PROC("hipStreamQuery", PROG_QUERY_STREAM, HIP, true),
	PER_PROC("hipStreamQuery_spt", PROG_QUERY_STREAM, HIP | PT, true),
	PER_PROC("hipEventQuery", PROG_QUERY_EVENT, HIP, true),
	PER_FILE("hipStreamSynchronize", PROG_SYNC_STREAM, HIP, true),
	PER_FILE("hipStreamSynchronize_spt", PROG_SYNC_STREAM, HIP | PT, true),
	PER_FILE("hipDeviceSynchronize", PROG_SYNC_CTX, HIP, true),
	PER_FILE("hipCtxSynchronize", PROG_SYNC_CTX, HIP, true),
	PER_FILE("hipEventSynchronize", PROG_SYNC_EVENT, HIP, true),
	PER_FILE("hipMemcpy", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpy_spt", PROG_SYNC_COPY, HIP | PT, true),
	PER_FILE("hipMemcpyHtoD", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpyDtoH", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpyDtoD", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpyPeer", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpy2D", PROG_SYNC_COPY, HIP, true),
	PER_FILE("hipMemcpy2D_spt", PROG_SYNC_COPY, HIP | PT, true),
	PER_FILE("hipStreamCreate", PROG_STREAM_CREATE, HIP, true),
	PER_FILE("hipStreamCreateWithFlags", PROG_STREAM_CREATE, HIP | XOBS_CK_FLAGS_ARG, true),
	PER_FILE("hipStreamCreateWithPriority", PROG_STREAM_CREATE,
	         HIP | XOBS_CK_FLAGS_ARG | XOBS_CK_PRIO_ARG, true),
	PER_FILE("hipStreamDestroy", PROG_STREAM_DESTROY, HIP, false),
};

const struct probe_spec *probe_specs(enum runtime rt, size_t *n)
{
	if (rt == RUNTIME_HIP) {
		*n = sizeof(hip_specs) / sizeof(hip_specs[0]);
		return hip_specs;
	}
	*n = sizeof(cuda_specs) / sizeof(cuda_specs[0]);
	return cuda_specs;
}

static int lib_prefix(const char *base, const char *lib)
{
	size_t n = strlen(lib);

	return strncmp(base, lib, n) == 0 && (base[n] == 0 || base[n] == '.');
}

int runtime_of_name(const char *basename)
{
	if (lib_prefix(basename, "libcuda.so"))
		return RUNTIME_CUDA;
	if (lib_prefix(basename, "libamdhip64.so"))
		return RUNTIME_HIP;
	return -1;
}
