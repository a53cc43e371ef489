/* SPDX-License-Identifier: MIT */
/*
 * The HIP runtime behind gpu_api.h: libamdhip64 is dlopen()ed and its entry points taken with
 * dlsym (HIP 5.2 has no hipGetProcAddress). Kernels come from a module (hipModuleLoadData of
 * a code object), so no HIP compiler is needed at build time; the simulated runtime accepts
 * the embedded PTX as the image, a real AMD GPU needs a code object given with --module.
 *
 * Per-thread default stream: HIP exports _spt variants of the synchronous copies and of a
 * few stream calls only, so in that mode the NULL stream is passed as hipStreamPerThread to
 * the calls that have no _spt form.
 */
#include "gpu_api.h"

#include <dlfcn.h>
#include <stdio.h>

#ifndef __HIP_PLATFORM_AMD__
#define __HIP_PLATFORM_AMD__
#endif
#include <hip/hip_runtime_api.h>

#define PFN(name) __typeof__(name) *
static struct {
	PFN(hipInit) init;
	PFN(hipGetErrorName) get_error_name;
	PFN(hipGetDeviceCount) get_device_count;
	PFN(hipSetDevice) set_device;
	PFN(hipDeviceGetStreamPriorityRange) device_get_stream_priority_range;
	PFN(hipDeviceSynchronize) device_synchronize;
	PFN(hipModuleLoadData) module_load_data;
	PFN(hipModuleUnload) module_unload;
	PFN(hipModuleGetFunction) module_get_function;
	PFN(hipMalloc) malloc;
	PFN(hipFree) free;
	PFN(hipHostMalloc) host_malloc;
	PFN(hipHostFree) host_free;
	PFN(hipStreamCreateWithPriority) stream_create_with_priority;
	PFN(hipStreamDestroy) stream_destroy;
	PFN(hipStreamSynchronize) stream_synchronize;
	PFN(hipStreamQuery) stream_query;
	PFN(hipStreamWaitEvent) stream_wait_event;
	PFN(hipStreamGetPriority) stream_get_priority;
	PFN(hipEventCreateWithFlags) event_create_with_flags;
	PFN(hipEventDestroy) event_destroy;
	PFN(hipEventRecord) event_record;
	PFN(hipEventSynchronize) event_synchronize;
	PFN(hipEventQuery) event_query;
	PFN(hipEventElapsedTime) event_elapsed_time;
	PFN(hipModuleLaunchKernel) module_launch_kernel;
	PFN(hipMemcpyHtoDAsync) memcpy_htod_async;
	PFN(hipMemcpyDtoHAsync) memcpy_dtoh_async;
	PFN(hipMemcpyDtoDAsync) memcpy_dtod_async;
	PFN(hipMemcpyAsync_spt) memcpy_async_spt;
	PFN(hipMemsetD32Async) memset_d32_async;
	PFN(hipMemcpy) memcpy;
	PFN(hipMemsetD32) memset_d32;
	PFN(hipStreamBeginCapture) stream_begin_capture;
	PFN(hipStreamEndCapture) stream_end_capture;
	PFN(hipGraphInstantiate) graph_instantiate;
	PFN(hipGraphLaunch) graph_launch;
	PFN(hipGraphExecDestroy) graph_exec_destroy;
	PFN(hipGraphDestroy) graph_destroy;
} hip;

/* Exported name with the legacy default stream, and with the per-thread one (NULL: the
 * entry point is only needed in the other mode). */
struct hip_sym {
	const char *legacy;
	const char *spt;
	void **slot;
};

#define SYM(legacy, spt, field)                                                                    \
	{                                                                                          \
		legacy, spt, (void **)&hip.field                                                   \
	}
static const struct hip_sym hip_syms[] = {
	SYM("hipInit", "hipInit", init),
	SYM("hipGetErrorName", "hipGetErrorName", get_error_name),
	SYM("hipGetDeviceCount", "hipGetDeviceCount", get_device_count),
	SYM("hipSetDevice", "hipSetDevice", set_device),
	SYM("hipDeviceGetStreamPriorityRange", "hipDeviceGetStreamPriorityRange",
	    device_get_stream_priority_range),
	SYM("hipDeviceSynchronize", "hipDeviceSynchronize", device_synchronize),
	SYM("hipModuleLoadData", "hipModuleLoadData", module_load_data),
	SYM("hipModuleUnload", "hipModuleUnload", module_unload),
	SYM("hipModuleGetFunction", "hipModuleGetFunction", module_get_function),
	SYM("hipMalloc", "hipMalloc", malloc),
	SYM("hipFree", "hipFree", free),
	SYM("hipHostMalloc", "hipHostMalloc", host_malloc),
	SYM("hipHostFree", "hipHostFree", host_free),
	SYM("hipStreamCreateWithPriority", "hipStreamCreateWithPriority",
	    stream_create_with_priority),
	SYM("hipStreamDestroy", "hipStreamDestroy", stream_destroy),
	SYM("hipStreamSynchronize", "hipStreamSynchronize_spt", stream_synchronize),
	SYM("hipStreamQuery", "hipStreamQuery_spt", stream_query),
	SYM("hipStreamWaitEvent", "hipStreamWaitEvent_spt", stream_wait_event),
	SYM("hipStreamGetPriority", "hipStreamGetPriority_spt", stream_get_priority),
	SYM("hipEventCreateWithFlags", "hipEventCreateWithFlags", event_create_with_flags),
	SYM("hipEventDestroy", "hipEventDestroy", event_destroy),
	SYM("hipEventRecord", "hipEventRecord", event_record),
	SYM("hipEventSynchronize", "hipEventSynchronize", event_synchronize),
	SYM("hipEventQuery", "hipEventQuery", event_query),
	SYM("hipEventElapsedTime", "hipEventElapsedTime", event_elapsed_time),
	SYM("hipModuleLaunchKernel", "hipModuleLaunchKernel", module_launch_kernel),
	SYM("hipMemcpyHtoDAsync", NULL, memcpy_htod_async),
	SYM("hipMemcpyDtoHAsync", NULL, memcpy_dtoh_async),
	SYM("hipMemcpyDtoDAsync", NULL, memcpy_dtod_async),
	SYM(NULL, "hipMemcpyAsync_spt", memcpy_async_spt),
	SYM("hipMemsetD32Async", "hipMemsetD32Async", memset_d32_async),
	SYM("hipMemcpy", "hipMemcpy_spt", memcpy),
	SYM("hipMemsetD32", NULL, memset_d32),
	SYM("hipStreamBeginCapture", "hipStreamBeginCapture", stream_begin_capture),
	SYM("hipStreamEndCapture", "hipStreamEndCapture", stream_end_capture),
	SYM("hipGraphInstantiate", "hipGraphInstantiate", graph_instantiate),
	SYM("hipGraphLaunch", "hipGraphLaunch", graph_launch),
	SYM("hipGraphExecDestroy", "hipGraphExecDestroy", graph_exec_destroy),
	SYM("hipGraphDestroy", "hipGraphDestroy", graph_destroy),
};

static bool hip_ptds;

/* The stream a call without an _spt form must be given for "the default stream". */
static hipStream_t hs(gpu_stream s)
{
	return (!s && hip_ptds) ? hipStreamPerThread : (hipStream_t)s;
}

static int hip_open(const struct gpu_options *opt, char *why, size_t why_len)
{
	static const char *const names[] = { "libamdhip64.so", "libamdhip64.so.6",
		                             "libamdhip64.so.5" };
	void *lib = NULL;
	const char *first_error = NULL;

	if (opt->resolve == GPU_RESOLVE_GETPROC) {
		snprintf(why, why_len,
		         "--resolve getproc is CUDA-only (HIP 5.2 has no "
		         "hipGetProcAddress); use --resolve dlsym");
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !lib; i++) {
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!lib && !first_error)
			first_error = dlerror();
	}
	if (!lib) {
		snprintf(why, why_len, "cannot load libamdhip64.so (.so.6, .so.5): %s",
		         first_error ? first_error : "not found");
		return -1;
	}
	for (size_t i = 0; i < sizeof(hip_syms) / sizeof(hip_syms[0]); i++) {
		const struct hip_sym *s = &hip_syms[i];
		const char *name = opt->ptds ? s->spt : s->legacy;
		*s->slot = NULL;
		if (!name)
			continue;
		*s->slot = dlsym(lib, name);
		if (!*s->slot) {
			snprintf(why, why_len, "libamdhip64 has no %s", name);
			return -1;
		}
	}
	hip_ptds = opt->ptds;
	hipError_t rc = hip.init(0);
	if (rc != hipSuccess) {
		snprintf(why, why_len, "hipInit failed: error %d", (int)rc);
		return (int)rc;
	}
	return 0;
}

static const char *hip_error_name(int err)
{
	const char *name = hip.get_error_name ? hip.get_error_name((hipError_t)err) : NULL;
	return name ? name : "unknown HIP error";
}

static int hip_device_count(int *count)
{
	return hip.get_device_count(count);
}

static int hip_set_device(int dev)
{
	return hip.set_device(dev);
}

static int hip_stream_priority_range(int *least, int *greatest)
{
	return hip.device_get_stream_priority_range(least, greatest);
}

static int hip_module_load(const void *image, gpu_module *mod)
{
	return hip.module_load_data((hipModule_t *)mod, image);
}

static int hip_module_unload(gpu_module mod)
{
	return hip.module_unload((hipModule_t)mod);
}

static int hip_module_function(gpu_module mod, const char *name, gpu_func *fn)
{
	return hip.module_get_function((hipFunction_t *)fn, (hipModule_t)mod, name);
}

static int hip_mem_alloc(gpu_ptr *ptr, size_t bytes)
{
	void *p = NULL;
	hipError_t rc = hip.malloc(&p, bytes);
	*ptr = (gpu_ptr)(uintptr_t)p;
	return rc;
}

static int hip_mem_free(gpu_ptr ptr)
{
	return hip.free((void *)(uintptr_t)ptr);
}

static int hip_host_alloc(void **ptr, size_t bytes)
{
	return hip.host_malloc(ptr, bytes, hipHostMallocDefault);
}

static int hip_host_free(void *ptr)
{
	return hip.host_free(ptr);
}

static int hip_stream_create(gpu_stream *s, bool non_blocking, int priority)
{
	return hip.stream_create_with_priority(
	        (hipStream_t *)s, non_blocking ? hipStreamNonBlocking : hipStreamDefault, priority);
}

static int hip_stream_destroy(gpu_stream s)
{
	return hip.stream_destroy((hipStream_t)s);
}

static int hip_stream_sync(gpu_stream s)
{
	return hip.stream_synchronize((hipStream_t)s);
}

static int hip_stream_query(gpu_stream s)
{
	return hip.stream_query((hipStream_t)s);
}

static int hip_stream_wait_event(gpu_stream s, gpu_event e)
{
	return hip.stream_wait_event((hipStream_t)s, (hipEvent_t)e, 0);
}

static int hip_stream_get_priority(gpu_stream s, int *priority)
{
	return hip.stream_get_priority((hipStream_t)s, priority);
}

static int hip_event_create(gpu_event *e, bool timing)
{
	return hip.event_create_with_flags((hipEvent_t *)e,
	                                   timing ? hipEventDefault : hipEventDisableTiming);
}

static int hip_event_destroy(gpu_event e)
{
	return hip.event_destroy((hipEvent_t)e);
}

static int hip_event_record(gpu_event e, gpu_stream s)
{
	return hip.event_record((hipEvent_t)e, hs(s));
}

static int hip_event_sync(gpu_event e)
{
	return hip.event_synchronize((hipEvent_t)e);
}

static int hip_event_query(gpu_event e)
{
	return hip.event_query((hipEvent_t)e);
}

static int hip_event_elapsed_ms(float *ms, gpu_event start, gpu_event end)
{
	return hip.event_elapsed_time(ms, (hipEvent_t)start, (hipEvent_t)end);
}

static int hip_launch(gpu_func fn, unsigned int grid, unsigned int block, gpu_stream s, void **args)
{
	return hip.module_launch_kernel((hipFunction_t)fn, grid, 1, 1, block, 1, 1, 0, hs(s), args,
	                                NULL);
}

static int hip_memcpy_htod_async(gpu_ptr dst, const void *src, size_t bytes, gpu_stream s)
{
	if (hip_ptds)
		return hip.memcpy_async_spt((void *)(uintptr_t)dst, src, bytes,
		                            hipMemcpyHostToDevice, (hipStream_t)s);
	return hip.memcpy_htod_async((hipDeviceptr_t)(uintptr_t)dst, (void *)src, bytes,
	                             (hipStream_t)s);
}

static int hip_memcpy_dtoh_async(void *dst, gpu_ptr src, size_t bytes, gpu_stream s)
{
	if (hip_ptds)
		return hip.memcpy_async_spt(dst, (const void *)(uintptr_t)src, bytes,
		                            hipMemcpyDeviceToHost, (hipStream_t)s);
	return hip.memcpy_dtoh_async(dst, (hipDeviceptr_t)(uintptr_t)src, bytes, (hipStream_t)s);
}

static int hip_memcpy_dtod_async(gpu_ptr dst, gpu_ptr src, size_t bytes, gpu_stream s)
{
	if (hip_ptds)
		return hip.memcpy_async_spt((void *)(uintptr_t)dst, (const void *)(uintptr_t)src,
		                            bytes, hipMemcpyDeviceToDevice, (hipStream_t)s);
	return hip.memcpy_dtod_async((hipDeviceptr_t)(uintptr_t)dst, (hipDeviceptr_t)(uintptr_t)src,
	                             bytes, (hipStream_t)s);
}

static int hip_memset32_async(gpu_ptr dst, uint32_t value, size_t count, gpu_stream s)
{
	return hip.memset_d32_async((hipDeviceptr_t)(uintptr_t)dst, (int)value, count, hs(s));
}

static int hip_memcpy_htod(gpu_ptr dst, const void *src, size_t bytes)
{
	return hip.memcpy((void *)(uintptr_t)dst, src, bytes, hipMemcpyHostToDevice);
}

static int hip_memcpy_dtoh(void *dst, gpu_ptr src, size_t bytes)
{
	return hip.memcpy(dst, (const void *)(uintptr_t)src, bytes, hipMemcpyDeviceToHost);
}

/* hipMemsetD32 has no _spt form: with a per-thread default stream, queue the memset there and
 * wait for it, which is what the synchronous form means in that mode. */
static int hip_memset32(gpu_ptr dst, uint32_t value, size_t count)
{
	if (!hip_ptds)
		return hip.memset_d32((hipDeviceptr_t)(uintptr_t)dst, (int)value, count);
	hipError_t rc = hip.memset_d32_async((hipDeviceptr_t)(uintptr_t)dst, (int)value, count,
	                                     hipStreamPerThread);
	return rc != hipSuccess ? rc : hip.stream_synchronize(NULL);
}

static int hip_device_sync(void)
{
	return hip.device_synchronize();
}

static int hip_capture_begin(gpu_stream s)
{
	return hip.stream_begin_capture((hipStream_t)s, hipStreamCaptureModeThreadLocal);
}

static int hip_capture_end(gpu_stream s, gpu_graph *g)
{
	return hip.stream_end_capture((hipStream_t)s, (hipGraph_t *)g);
}

static int hip_graph_instantiate(gpu_graph_exec *x, gpu_graph g)
{
	return hip.graph_instantiate((hipGraphExec_t *)x, (hipGraph_t)g, NULL, NULL, 0);
}

static int hip_graph_launch(gpu_graph_exec x, gpu_stream s)
{
	return hip.graph_launch((hipGraphExec_t)x, hs(s));
}

static int hip_graph_exec_destroy(gpu_graph_exec x)
{
	return hip.graph_exec_destroy((hipGraphExec_t)x);
}

static int hip_graph_destroy(gpu_graph g)
{
	return hip.graph_destroy((hipGraph_t)g);
}

/* HIP has no handle for the legacy stream: it is the NULL stream given to non-_spt calls,
 * which in per-thread mode this layer does not make. */
static bool hip_legacy_stream(gpu_stream *s)
{
	*s = NULL;
	return !hip_ptds;
}

static bool hip_per_thread_stream(gpu_stream *s)
{
	*s = (gpu_stream)hipStreamPerThread;
	return true;
}

const struct gpu_ops gpu_hip_ops = {
	.vendor = "hip",
	.err_invalid_value = hipErrorInvalidValue,
	.err_invalid_handle = hipErrorInvalidHandle,
	.err_not_found = hipErrorNotFound,
	.err_not_ready = hipErrorNotReady,
	.open = hip_open,
	.error_name = hip_error_name,
	.device_count = hip_device_count,
	.set_device = hip_set_device,
	.stream_priority_range = hip_stream_priority_range,
	.module_load = hip_module_load,
	.module_unload = hip_module_unload,
	.module_function = hip_module_function,
	.mem_alloc = hip_mem_alloc,
	.mem_free = hip_mem_free,
	.host_alloc = hip_host_alloc,
	.host_free = hip_host_free,
	.stream_create = hip_stream_create,
	.stream_destroy = hip_stream_destroy,
	.stream_sync = hip_stream_sync,
	.stream_query = hip_stream_query,
	.stream_wait_event = hip_stream_wait_event,
	.stream_get_priority = hip_stream_get_priority,
	.event_create = hip_event_create,
	.event_destroy = hip_event_destroy,
	.event_record = hip_event_record,
	.event_sync = hip_event_sync,
	.event_query = hip_event_query,
	.event_elapsed_ms = hip_event_elapsed_ms,
	.launch = hip_launch,
	.memcpy_htod_async = hip_memcpy_htod_async,
	.memcpy_dtoh_async = hip_memcpy_dtoh_async,
	.memcpy_dtod_async = hip_memcpy_dtod_async,
	.memset32_async = hip_memset32_async,
	.memcpy_htod = hip_memcpy_htod,
	.memcpy_dtoh = hip_memcpy_dtoh,
	.memset32 = hip_memset32,
	.device_sync = hip_device_sync,
	.capture_begin = hip_capture_begin,
	.capture_end = hip_capture_end,
	.graph_instantiate = hip_graph_instantiate,
	.graph_launch = hip_graph_launch,
	.graph_exec_destroy = hip_graph_exec_destroy,
	.graph_destroy = hip_graph_destroy,
	.legacy_stream = hip_legacy_stream,
	.per_thread_stream = hip_per_thread_stream,
};
