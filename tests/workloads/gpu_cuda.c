/* SPDX-License-Identifier: MIT */
/*
 * The CUDA driver API behind gpu_api.h. libcuda.so.1 is dlopen()ed, and by default every entry
 * point comes from cuGetProcAddress_v2 (itself found with dlsym on that handle), exactly as the
 * CUDA runtime and PyTorch do: a scheduler that only interposes exported symbols misses all of
 * these calls, which is what the tests must be able to show. --resolve dlsym takes the
 * versioned exported names instead (the names cuda.h maps each call to in CUDA 13).
 */
#include "gpu_api.h"

#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The toolkit version whose ABI we ask cuGetProcAddress for (CUDA 13.0). */
#define WL_CUDA_VERSION 13000
#define WL_MAX_DEVICES  16

#define PFN(name) __typeof__(name) *
static struct {
	PFN(cuInit) init;
	PFN(cuGetErrorName) get_error_name;
	PFN(cuDeviceGetCount) device_get_count;
	PFN(cuDeviceGet) device_get;
	PFN(cuDevicePrimaryCtxRetain) primary_ctx_retain;
	PFN(cuCtxSetCurrent) ctx_set_current;
	PFN(cuCtxGetStreamPriorityRange) ctx_get_stream_priority_range;
	/* At the CUDA 13 ABI cuGetProcAddress gives "cuCtxSynchronize" as cuCtxSynchronize_v2,
	 * which takes the context (NULL: the current one); called through the _v2 type with
	 * NULL, the void form that dlsym finds ignores the argument. */
	PFN(cuCtxSynchronize_v2) ctx_synchronize;
	PFN(cuModuleLoadData) module_load_data;
	PFN(cuModuleUnload) module_unload;
	PFN(cuModuleGetFunction) module_get_function;
	PFN(cuMemAlloc) mem_alloc;
	PFN(cuMemFree) mem_free;
	PFN(cuMemAllocHost) mem_alloc_host;
	PFN(cuMemFreeHost) mem_free_host;
	PFN(cuStreamCreateWithPriority) stream_create_with_priority;
	PFN(cuStreamDestroy) stream_destroy;
	PFN(cuStreamSynchronize) stream_synchronize;
	PFN(cuStreamQuery) stream_query;
	PFN(cuStreamWaitEvent) stream_wait_event;
	PFN(cuStreamGetPriority) stream_get_priority;
	PFN(cuEventCreate) event_create;
	PFN(cuEventDestroy) event_destroy;
	PFN(cuEventRecord) event_record;
	PFN(cuEventSynchronize) event_synchronize;
	PFN(cuEventQuery) event_query;
	PFN(cuEventElapsedTime) event_elapsed_time;
	PFN(cuLaunchKernel) launch_kernel;
	PFN(cuMemcpyHtoDAsync) memcpy_htod_async;
	PFN(cuMemcpyDtoHAsync) memcpy_dtoh_async;
	PFN(cuMemcpyDtoDAsync) memcpy_dtod_async;
	PFN(cuMemsetD32Async) memset_d32_async;
	PFN(cuMemcpyHtoD) memcpy_htod;
	PFN(cuMemcpyDtoH) memcpy_dtoh;
	PFN(cuMemsetD32) memset_d32;
	PFN(cuStreamBeginCapture) stream_begin_capture;
	PFN(cuStreamEndCapture) stream_end_capture;
	PFN(cuGraphInstantiateWithFlags) graph_instantiate_with_flags;
	PFN(cuGraphLaunch) graph_launch;
	PFN(cuGraphExecDestroy) graph_exec_destroy;
	PFN(cuGraphDestroy) graph_destroy;
} cu;

/*
 * One row per entry point: the name cuGetProcAddress takes (the unversioned API name), then
 * the exported symbol for legacy-stream and per-thread-stream semantics when resolving with
 * dlsym. Calls without stream semantics have the same symbol in both columns.
 */
struct cu_sym {
	const char *api;
	const char *legacy;
	const char *ptds;
	void **slot;
};

#define SYM(api, legacy, ptds, field)                                                              \
	{                                                                                          \
		api, legacy, ptds, (void **)&cu.field                                              \
	}
static const struct cu_sym cu_syms[] = {
	SYM("cuInit", "cuInit", "cuInit", init),
	SYM("cuGetErrorName", "cuGetErrorName", "cuGetErrorName", get_error_name),
	SYM("cuDeviceGetCount", "cuDeviceGetCount", "cuDeviceGetCount", device_get_count),
	SYM("cuDeviceGet", "cuDeviceGet", "cuDeviceGet", device_get),
	SYM("cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain",
	    primary_ctx_retain),
	SYM("cuCtxSetCurrent", "cuCtxSetCurrent", "cuCtxSetCurrent", ctx_set_current),
	SYM("cuCtxGetStreamPriorityRange", "cuCtxGetStreamPriorityRange",
	    "cuCtxGetStreamPriorityRange", ctx_get_stream_priority_range),
	SYM("cuCtxSynchronize", "cuCtxSynchronize", "cuCtxSynchronize", ctx_synchronize),
	SYM("cuModuleLoadData", "cuModuleLoadData", "cuModuleLoadData", module_load_data),
	SYM("cuModuleUnload", "cuModuleUnload", "cuModuleUnload", module_unload),
	SYM("cuModuleGetFunction", "cuModuleGetFunction", "cuModuleGetFunction",
	    module_get_function),
	SYM("cuMemAlloc", "cuMemAlloc_v2", "cuMemAlloc_v2", mem_alloc),
	SYM("cuMemFree", "cuMemFree_v2", "cuMemFree_v2", mem_free),
	SYM("cuMemAllocHost", "cuMemAllocHost_v2", "cuMemAllocHost_v2", mem_alloc_host),
	SYM("cuMemFreeHost", "cuMemFreeHost", "cuMemFreeHost", mem_free_host),
	SYM("cuStreamCreateWithPriority", "cuStreamCreateWithPriority",
	    "cuStreamCreateWithPriority", stream_create_with_priority),
	SYM("cuStreamDestroy", "cuStreamDestroy_v2", "cuStreamDestroy_v2", stream_destroy),
	SYM("cuStreamSynchronize", "cuStreamSynchronize", "cuStreamSynchronize_ptsz",
	    stream_synchronize),
	SYM("cuStreamQuery", "cuStreamQuery", "cuStreamQuery_ptsz", stream_query),
	SYM("cuStreamWaitEvent", "cuStreamWaitEvent", "cuStreamWaitEvent_ptsz", stream_wait_event),
	SYM("cuStreamGetPriority", "cuStreamGetPriority", "cuStreamGetPriority_ptsz",
	    stream_get_priority),
	SYM("cuEventCreate", "cuEventCreate", "cuEventCreate", event_create),
	SYM("cuEventDestroy", "cuEventDestroy_v2", "cuEventDestroy_v2", event_destroy),
	SYM("cuEventRecord", "cuEventRecord", "cuEventRecord_ptsz", event_record),
	SYM("cuEventSynchronize", "cuEventSynchronize", "cuEventSynchronize", event_synchronize),
	SYM("cuEventQuery", "cuEventQuery", "cuEventQuery", event_query),
	SYM("cuEventElapsedTime", "cuEventElapsedTime_v2", "cuEventElapsedTime_v2",
	    event_elapsed_time),
	SYM("cuLaunchKernel", "cuLaunchKernel", "cuLaunchKernel_ptsz", launch_kernel),
	SYM("cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", "cuMemcpyHtoDAsync_v2_ptsz",
	    memcpy_htod_async),
	SYM("cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoHAsync_v2_ptsz",
	    memcpy_dtoh_async),
	SYM("cuMemcpyDtoDAsync", "cuMemcpyDtoDAsync_v2", "cuMemcpyDtoDAsync_v2_ptsz",
	    memcpy_dtod_async),
	SYM("cuMemsetD32Async", "cuMemsetD32Async", "cuMemsetD32Async_ptsz", memset_d32_async),
	SYM("cuMemcpyHtoD", "cuMemcpyHtoD_v2", "cuMemcpyHtoD_v2_ptds", memcpy_htod),
	SYM("cuMemcpyDtoH", "cuMemcpyDtoH_v2", "cuMemcpyDtoH_v2_ptds", memcpy_dtoh),
	SYM("cuMemsetD32", "cuMemsetD32_v2", "cuMemsetD32_v2_ptds", memset_d32),
	SYM("cuStreamBeginCapture", "cuStreamBeginCapture_v2", "cuStreamBeginCapture_v2_ptsz",
	    stream_begin_capture),
	SYM("cuStreamEndCapture", "cuStreamEndCapture", "cuStreamEndCapture_ptsz",
	    stream_end_capture),
	SYM("cuGraphInstantiateWithFlags", "cuGraphInstantiateWithFlags",
	    "cuGraphInstantiateWithFlags", graph_instantiate_with_flags),
	SYM("cuGraphLaunch", "cuGraphLaunch", "cuGraphLaunch_ptsz", graph_launch),
	SYM("cuGraphExecDestroy", "cuGraphExecDestroy", "cuGraphExecDestroy", graph_exec_destroy),
	SYM("cuGraphDestroy", "cuGraphDestroy", "cuGraphDestroy", graph_destroy),
};

static bool cu_ptds;
static CUcontext cu_ctx[WL_MAX_DEVICES];
static pthread_mutex_t cu_ctx_lock = PTHREAD_MUTEX_INITIALIZER;

static int cu_resolve(void *lib, const struct gpu_options *opt, char *why, size_t why_len)
{
	bool getproc = opt->resolve != GPU_RESOLVE_DLSYM;
	PFN(cuGetProcAddress_v2) get_proc = NULL;
	cuuint64_t flags = opt->ptds ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM
	                             : CU_GET_PROC_ADDRESS_DEFAULT;

	if (getproc) {
		get_proc = (PFN(cuGetProcAddress_v2))dlsym(lib, "cuGetProcAddress_v2");
		if (!get_proc) {
			snprintf(why, why_len, "libcuda.so.1 has no cuGetProcAddress_v2");
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(cu_syms) / sizeof(cu_syms[0]); i++) {
		const struct cu_sym *s = &cu_syms[i];
		*s->slot = NULL;
		if (getproc) {
			CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
			CUresult rc = get_proc(s->api, s->slot, WL_CUDA_VERSION, flags, &status);
			if (rc != CUDA_SUCCESS || status != CU_GET_PROC_ADDRESS_SUCCESS) {
				snprintf(why, why_len,
				         "cuGetProcAddress_v2(\"%s\", %d) failed: error %d, status "
				         "%d",
				         s->api, WL_CUDA_VERSION, (int)rc, (int)status);
				return -1;
			}
		} else {
			*s->slot = dlsym(lib, opt->ptds ? s->ptds : s->legacy);
		}
		if (!*s->slot) {
			snprintf(why, why_len, "libcuda.so.1 has no %s",
			         getproc ? s->api : (opt->ptds ? s->ptds : s->legacy));
			return -1;
		}
	}
	return 0;
}

static int cu_open(const struct gpu_options *opt, char *why, size_t why_len)
{
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(why, why_len, "cannot load libcuda.so.1: %s", dlerror());
		return -1;
	}
	if (cu_resolve(lib, opt, why, why_len))
		return -1;
	cu_ptds = opt->ptds;
	CUresult rc = cu.init(0);
	if (rc != CUDA_SUCCESS) {
		snprintf(why, why_len, "cuInit failed: error %d", (int)rc);
		return (int)rc;
	}
	return 0;
}

static const char *cu_error_name(int err)
{
	const char *name = NULL;
	if (cu.get_error_name && cu.get_error_name((CUresult)err, &name) == CUDA_SUCCESS && name)
		return name;
	return "unknown CUDA error";
}

static int cu_device_count(int *count)
{
	return cu.device_get_count(count);
}

/* The primary context of each device, retained once per process and made current on
 * whichever thread asks: the CUDA runtime's model, and so PyTorch's. */
static int cu_set_device(int dev)
{
	if (dev < 0 || dev >= WL_MAX_DEVICES)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&cu_ctx_lock);
	CUresult rc = CUDA_SUCCESS;
	if (!cu_ctx[dev]) {
		CUdevice d;
		rc = cu.device_get(&d, dev);
		if (rc == CUDA_SUCCESS)
			rc = cu.primary_ctx_retain(&cu_ctx[dev], d);
	}
	CUcontext ctx = cu_ctx[dev];
	pthread_mutex_unlock(&cu_ctx_lock);
	if (rc != CUDA_SUCCESS)
		return rc;
	return cu.ctx_set_current(ctx);
}

static int cu_stream_priority_range(int *least, int *greatest)
{
	return cu.ctx_get_stream_priority_range(least, greatest);
}

static int cu_module_load(const void *image, gpu_module *mod)
{
	return cu.module_load_data((CUmodule *)mod, image);
}

static int cu_module_unload(gpu_module mod)
{
	return cu.module_unload((CUmodule)mod);
}

static int cu_module_function(gpu_module mod, const char *name, gpu_func *fn)
{
	return cu.module_get_function((CUfunction *)fn, (CUmodule)mod, name);
}

static int cu_mem_alloc(gpu_ptr *ptr, size_t bytes)
{
	CUdeviceptr p = 0;
	CUresult rc = cu.mem_alloc(&p, bytes);
	*ptr = p;
	return rc;
}

static int cu_mem_free(gpu_ptr ptr)
{
	return cu.mem_free((CUdeviceptr)ptr);
}

static int cu_host_alloc(void **ptr, size_t bytes)
{
	return cu.mem_alloc_host(ptr, bytes);
}

static int cu_host_free(void *ptr)
{
	return cu.mem_free_host(ptr);
}

static int cu_stream_create(gpu_stream *s, bool non_blocking, int priority)
{
	return cu.stream_create_with_priority(
	        (CUstream *)s, non_blocking ? CU_STREAM_NON_BLOCKING : CU_STREAM_DEFAULT, priority);
}

static int cu_stream_destroy(gpu_stream s)
{
	return cu.stream_destroy((CUstream)s);
}

static int cu_stream_sync(gpu_stream s)
{
	return cu.stream_synchronize((CUstream)s);
}

static int cu_stream_query(gpu_stream s)
{
	return cu.stream_query((CUstream)s);
}

static int cu_stream_wait_event(gpu_stream s, gpu_event e)
{
	return cu.stream_wait_event((CUstream)s, (CUevent)e, 0);
}

static int cu_stream_get_priority(gpu_stream s, int *priority)
{
	return cu.stream_get_priority((CUstream)s, priority);
}

static int cu_event_create(gpu_event *e, bool timing)
{
	return cu.event_create((CUevent *)e, timing ? CU_EVENT_DEFAULT : CU_EVENT_DISABLE_TIMING);
}

static int cu_event_destroy(gpu_event e)
{
	return cu.event_destroy((CUevent)e);
}

static int cu_event_record(gpu_event e, gpu_stream s)
{
	return cu.event_record((CUevent)e, (CUstream)s);
}

static int cu_event_sync(gpu_event e)
{
	return cu.event_synchronize((CUevent)e);
}

static int cu_event_query(gpu_event e)
{
	return cu.event_query((CUevent)e);
}

static int cu_event_elapsed_ms(float *ms, gpu_event start, gpu_event end)
{
	return cu.event_elapsed_time(ms, (CUevent)start, (CUevent)end);
}

static int cu_launch(gpu_func fn, unsigned int grid, unsigned int block, gpu_stream s, void **args)
{
	return cu.launch_kernel((CUfunction)fn, grid, 1, 1, block, 1, 1, 0, (CUstream)s, args,
	                        NULL);
}

static int cu_memcpy_htod_async(gpu_ptr dst, const void *src, size_t bytes, gpu_stream s)
{
	return cu.memcpy_htod_async((CUdeviceptr)dst, src, bytes, (CUstream)s);
}

static int cu_memcpy_dtoh_async(void *dst, gpu_ptr src, size_t bytes, gpu_stream s)
{
	return cu.memcpy_dtoh_async(dst, (CUdeviceptr)src, bytes, (CUstream)s);
}

static int cu_memcpy_dtod_async(gpu_ptr dst, gpu_ptr src, size_t bytes, gpu_stream s)
{
	return cu.memcpy_dtod_async((CUdeviceptr)dst, (CUdeviceptr)src, bytes, (CUstream)s);
}

static int cu_memset32_async(gpu_ptr dst, uint32_t value, size_t count, gpu_stream s)
{
	return cu.memset_d32_async((CUdeviceptr)dst, value, count, (CUstream)s);
}

static int cu_memcpy_htod(gpu_ptr dst, const void *src, size_t bytes)
{
	return cu.memcpy_htod((CUdeviceptr)dst, src, bytes);
}

static int cu_memcpy_dtoh(void *dst, gpu_ptr src, size_t bytes)
{
	return cu.memcpy_dtoh(dst, (CUdeviceptr)src, bytes);
}

static int cu_memset32(gpu_ptr dst, uint32_t value, size_t count)
{
	return cu.memset_d32((CUdeviceptr)dst, value, count);
}

static int cu_device_sync(void)
{
	return cu.ctx_synchronize(NULL);
}

/* Thread-local mode: other threads may keep allocating and synchronising while one thread
 * captures, which the global mode would turn into errors. */
static int cu_capture_begin(gpu_stream s)
{
	return cu.stream_begin_capture((CUstream)s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
}

static int cu_capture_end(gpu_stream s, gpu_graph *g)
{
	return cu.stream_end_capture((CUstream)s, (CUgraph *)g);
}

static int cu_graph_instantiate(gpu_graph_exec *x, gpu_graph g)
{
	return cu.graph_instantiate_with_flags((CUgraphExec *)x, (CUgraph)g, 0);
}

static int cu_graph_launch(gpu_graph_exec x, gpu_stream s)
{
	return cu.graph_launch((CUgraphExec)x, (CUstream)s);
}

static int cu_graph_exec_destroy(gpu_graph_exec x)
{
	return cu.graph_exec_destroy((CUgraphExec)x);
}

static int cu_graph_destroy(gpu_graph g)
{
	return cu.graph_destroy((CUgraph)g);
}

/* CUDA names both default streams with special handles, valid in either mode. */
static bool cu_legacy_stream(gpu_stream *s)
{
	*s = (gpu_stream)CU_STREAM_LEGACY;
	return true;
}

static bool cu_per_thread_stream(gpu_stream *s)
{
	*s = (gpu_stream)CU_STREAM_PER_THREAD;
	return true;
}

const struct gpu_ops gpu_cuda_ops = {
	.vendor = "cuda",
	.err_invalid_value = CUDA_ERROR_INVALID_VALUE,
	.err_invalid_handle = CUDA_ERROR_INVALID_HANDLE,
	.err_not_found = CUDA_ERROR_NOT_FOUND,
	.err_not_ready = CUDA_ERROR_NOT_READY,
	.open = cu_open,
	.error_name = cu_error_name,
	.device_count = cu_device_count,
	.set_device = cu_set_device,
	.stream_priority_range = cu_stream_priority_range,
	.module_load = cu_module_load,
	.module_unload = cu_module_unload,
	.module_function = cu_module_function,
	.mem_alloc = cu_mem_alloc,
	.mem_free = cu_mem_free,
	.host_alloc = cu_host_alloc,
	.host_free = cu_host_free,
	.stream_create = cu_stream_create,
	.stream_destroy = cu_stream_destroy,
	.stream_sync = cu_stream_sync,
	.stream_query = cu_stream_query,
	.stream_wait_event = cu_stream_wait_event,
	.stream_get_priority = cu_stream_get_priority,
	.event_create = cu_event_create,
	.event_destroy = cu_event_destroy,
	.event_record = cu_event_record,
	.event_sync = cu_event_sync,
	.event_query = cu_event_query,
	.event_elapsed_ms = cu_event_elapsed_ms,
	.launch = cu_launch,
	.memcpy_htod_async = cu_memcpy_htod_async,
	.memcpy_dtoh_async = cu_memcpy_dtoh_async,
	.memcpy_dtod_async = cu_memcpy_dtod_async,
	.memset32_async = cu_memset32_async,
	.memcpy_htod = cu_memcpy_htod,
	.memcpy_dtoh = cu_memcpy_dtoh,
	.memset32 = cu_memset32,
	.device_sync = cu_device_sync,
	.capture_begin = cu_capture_begin,
	.capture_end = cu_capture_end,
	.graph_instantiate = cu_graph_instantiate,
	.graph_launch = cu_graph_launch,
	.graph_exec_destroy = cu_graph_exec_destroy,
	.graph_destroy = cu_graph_destroy,
	.legacy_stream = cu_legacy_stream,
	.per_thread_stream = cu_per_thread_stream,
};
