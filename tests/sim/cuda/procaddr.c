/* SPDX-License-Identifier: MIT */
/*
 * cuGetProcAddress: the API name without version suffix, the CUDA version the caller was
 * built for, and the default-stream flavour it wants. Each row is the version at which an
 * exported form became the API's meaning (the suffix of cudaTypedefs.h's PFN_ names); the
 * newest row not newer than the request wins.
 */
#include "cuda_sim.h"

#include <string.h>

struct sym {
	const char *name;
	int version;
	void *fn;
	void *ptds; /* the _ptsz/_ptds form, if the call takes a stream */
};

#define S(name, ver, fn)                                                                           \
	{                                                                                          \
		name, ver, (void *)fn, NULL                                                        \
	}
#define P(name, ver, fn, pt)                                                                       \
	{                                                                                          \
		name, ver, (void *)fn, (void *)pt                                                  \
	}
#define PT(name, ver, fn) P(name, ver, fn, fn##_ptsz)
#define PD(name, ver, fn) P(name, ver, fn, fn##_ptds)

static const struct sym syms[] = {
	S("cuInit", 2000, cuInit),
	S("cuDriverGetVersion", 2020, cuDriverGetVersion),
	S("cuGetErrorString", 6000, cuGetErrorString),
	S("cuGetErrorName", 6000, cuGetErrorName),
	S("cuGetProcAddress", 11030, cuGetProcAddress),
	S("cuGetProcAddress", 12000, cuGetProcAddress_v2),
	S("cuDeviceGet", 2000, cuDeviceGet),
	S("cuDeviceGetCount", 2000, cuDeviceGetCount),
	S("cuDeviceGetName", 2000, cuDeviceGetName),
	S("cuDeviceGetUuid", 9020, cuDeviceGetUuid),
	S("cuDeviceGetUuid", 11040, cuDeviceGetUuid_v2),
	S("cuDeviceTotalMem", 3020, cuDeviceTotalMem_v2),
	S("cuDeviceGetAttribute", 2000, cuDeviceGetAttribute),
	S("cuDeviceGetPCIBusId", 4010, cuDeviceGetPCIBusId),
	S("cuDeviceCanAccessPeer", 4000, cuDeviceCanAccessPeer),
	S("cuDevicePrimaryCtxRetain", 7000, cuDevicePrimaryCtxRetain),
	S("cuDevicePrimaryCtxRelease", 7000, cuDevicePrimaryCtxRelease),
	S("cuDevicePrimaryCtxRelease", 11000, cuDevicePrimaryCtxRelease_v2),
	S("cuDevicePrimaryCtxReset", 7000, cuDevicePrimaryCtxReset),
	S("cuDevicePrimaryCtxReset", 11000, cuDevicePrimaryCtxReset_v2),
	S("cuDevicePrimaryCtxSetFlags", 7000, cuDevicePrimaryCtxSetFlags),
	S("cuDevicePrimaryCtxSetFlags", 11000, cuDevicePrimaryCtxSetFlags_v2),
	S("cuDevicePrimaryCtxGetState", 7000, cuDevicePrimaryCtxGetState),
	S("cuCtxCreate", 3020, cuCtxCreate_v2),
	S("cuCtxCreate", 11040, cuCtxCreate_v3),
	S("cuCtxCreate", 12050, cuCtxCreate_v4),
	S("cuCtxDestroy", 4000, cuCtxDestroy_v2),
	S("cuCtxSetCurrent", 4000, cuCtxSetCurrent),
	S("cuCtxGetCurrent", 4000, cuCtxGetCurrent),
	S("cuCtxPushCurrent", 4000, cuCtxPushCurrent_v2),
	S("cuCtxPopCurrent", 4000, cuCtxPopCurrent_v2),
	S("cuCtxGetDevice", 2000, cuCtxGetDevice),
	S("cuCtxGetDevice", 13000, cuCtxGetDevice_v2),
	S("cuCtxSynchronize", 2000, cuCtxSynchronize),
	S("cuCtxSynchronize", 13000, cuCtxSynchronize_v2),
	S("cuCtxGetStreamPriorityRange", 5050, cuCtxGetStreamPriorityRange),
	S("cuCtxGetFlags", 7000, cuCtxGetFlags),
	S("cuCtxGetApiVersion", 3020, cuCtxGetApiVersion),
	S("cuCtxGetId", 12000, cuCtxGetId),
	S("cuModuleLoad", 2000, cuModuleLoad),
	S("cuModuleLoadData", 2000, cuModuleLoadData),
	S("cuModuleLoadDataEx", 2010, cuModuleLoadDataEx),
	S("cuModuleLoadFatBinary", 2000, cuModuleLoadFatBinary),
	S("cuModuleUnload", 2000, cuModuleUnload),
	S("cuModuleGetFunction", 2000, cuModuleGetFunction),
	S("cuLibraryLoadData", 12000, cuLibraryLoadData),
	S("cuLibraryLoadFromFile", 12000, cuLibraryLoadFromFile),
	S("cuLibraryUnload", 12000, cuLibraryUnload),
	S("cuLibraryGetKernel", 12000, cuLibraryGetKernel),
	S("cuLibraryGetModule", 12000, cuLibraryGetModule),
	S("cuKernelGetFunction", 12000, cuKernelGetFunction),
	S("cuMemAlloc", 3020, cuMemAlloc_v2),
	S("cuMemFree", 3020, cuMemFree_v2),
	S("cuMemAllocHost", 3020, cuMemAllocHost_v2),
	S("cuMemFreeHost", 2000, cuMemFreeHost),
	S("cuMemHostAlloc", 2020, cuMemHostAlloc),
	S("cuMemGetInfo", 3020, cuMemGetInfo_v2),
	PD("cuMemcpy", 4000, cuMemcpy),
	PT("cuMemcpyAsync", 4000, cuMemcpyAsync),
	PD("cuMemcpyHtoD", 3020, cuMemcpyHtoD_v2),
	PD("cuMemcpyDtoH", 3020, cuMemcpyDtoH_v2),
	PD("cuMemcpyDtoD", 3020, cuMemcpyDtoD_v2),
	PT("cuMemcpyHtoDAsync", 3020, cuMemcpyHtoDAsync_v2),
	PT("cuMemcpyDtoHAsync", 3020, cuMemcpyDtoHAsync_v2),
	PT("cuMemcpyDtoDAsync", 3020, cuMemcpyDtoDAsync_v2),
	PD("cuMemsetD8", 3020, cuMemsetD8_v2),
	PD("cuMemsetD32", 3020, cuMemsetD32_v2),
	PT("cuMemsetD8Async", 3020, cuMemsetD8Async),
	PT("cuMemsetD32Async", 3020, cuMemsetD32Async),
	S("cuStreamCreate", 2000, cuStreamCreate),
	S("cuStreamCreateWithPriority", 5050, cuStreamCreateWithPriority),
	S("cuStreamDestroy", 4000, cuStreamDestroy_v2),
	PT("cuStreamSynchronize", 2000, cuStreamSynchronize),
	PT("cuStreamQuery", 2000, cuStreamQuery),
	PT("cuStreamWaitEvent", 3020, cuStreamWaitEvent),
	PT("cuStreamGetPriority", 5050, cuStreamGetPriority),
	PT("cuStreamGetFlags", 5050, cuStreamGetFlags),
	PT("cuStreamGetId", 12000, cuStreamGetId),
	PT("cuStreamGetCtx", 9020, cuStreamGetCtx),
	PT("cuStreamGetCtx", 12050, cuStreamGetCtx_v2),
	PT("cuStreamBeginCapture", 10000, cuStreamBeginCapture),
	PT("cuStreamBeginCapture", 10010, cuStreamBeginCapture_v2),
	PT("cuStreamEndCapture", 10000, cuStreamEndCapture),
	PT("cuStreamIsCapturing", 10000, cuStreamIsCapturing),
	PT("cuStreamGetCaptureInfo", 10010, cuStreamGetCaptureInfo),
	PT("cuStreamGetCaptureInfo", 11030, cuStreamGetCaptureInfo_v2),
	PT("cuStreamGetCaptureInfo", 12030, cuStreamGetCaptureInfo_v3),
	S("cuEventCreate", 2000, cuEventCreate),
	S("cuEventDestroy", 4000, cuEventDestroy_v2),
	PT("cuEventRecord", 2000, cuEventRecord),
	PT("cuEventRecordWithFlags", 11010, cuEventRecordWithFlags),
	S("cuEventQuery", 2000, cuEventQuery),
	S("cuEventSynchronize", 2000, cuEventSynchronize),
	S("cuEventElapsedTime", 2000, cuEventElapsedTime),
	S("cuEventElapsedTime", 12080, cuEventElapsedTime_v2),
	PT("cuLaunchKernel", 4000, cuLaunchKernel),
	PT("cuLaunchKernelEx", 11060, cuLaunchKernelEx),
	PT("cuLaunchCooperativeKernel", 9000, cuLaunchCooperativeKernel),
	S("cuGraphCreate", 10000, cuGraphCreate),
	S("cuGraphDestroy", 10000, cuGraphDestroy),
	S("cuGraphInstantiate", 10000, cuGraphInstantiate),
	S("cuGraphInstantiate", 11000, cuGraphInstantiate_v2),
	/* From 12.0 the header maps cuGraphInstantiate to the flags form. */
	S("cuGraphInstantiate", 12000, cuGraphInstantiateWithFlags),
	S("cuGraphInstantiateWithFlags", 11040, cuGraphInstantiateWithFlags),
	S("cuGraphExecDestroy", 10000, cuGraphExecDestroy),
	PT("cuGraphLaunch", 10000, cuGraphLaunch),
};

static CUresult lookup(const char *symbol, void **pfn, int version, cuuint64_t flags,
                       CUdriverProcAddressQueryResult *status)
{
	const struct sym *best = NULL;
	bool named = false;

	if (!symbol || !pfn)
		return CUDA_ERROR_INVALID_VALUE;
	if (flags & ~(cuuint64_t)(CU_GET_PROC_ADDRESS_LEGACY_STREAM |
	                          CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM))
		return CUDA_ERROR_INVALID_VALUE;
	*pfn = NULL;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (strcmp(syms[i].name, symbol))
			continue;
		named = true;
		if (syms[i].version <= version && (!best || syms[i].version > best->version))
			best = &syms[i];
	}
	if (!best) {
		if (status)
			*status = named ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
			                : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
		return CUDA_ERROR_NOT_FOUND;
	}
	*pfn = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) && best->ptds ? best->ptds
	                                                                             : best->fn;
	if (status)
		*status = CU_GET_PROC_ADDRESS_SUCCESS;
	return CUDA_SUCCESS;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status)
{
	return lookup(symbol, pfn, version, flags, status);
}

CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, cuuint64_t flags)
{
	return lookup(symbol, pfn, version, flags, NULL);
}
