/* SPDX-License-Identifier: MIT */
/*
 * The simulated libcuda.so.1 through its exported symbols, dlopen()ed by path as the CUDA
 * runtime would: error codes for bad handles and states, side effects in completion order,
 * events, the default streams, capture and graphs, cuGetProcAddress. Ground truth comes from
 * the device model directly.
 */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nv_ioctl_numbers.h"
#include "simgpu.h"

#define N_ELEMS 1024

static void *lib;

/* clang-format off */
#define API(X) \
	X(cuInit) \
	X(cuDriverGetVersion) \
	X(cuDeviceGet) \
	X(cuDeviceGetCount) \
	X(cuDeviceGetName) \
	X(cuDeviceGetAttribute) \
	X(cuDevicePrimaryCtxRetain) \
	X(cuDevicePrimaryCtxRelease_v2) \
	X(cuCtxSetCurrent) \
	X(cuCtxGetCurrent) \
	X(cuCtxSynchronize) \
	X(cuCtxCreate_v4) \
	X(cuCtxDestroy_v2) \
	X(cuModuleLoadData) \
	X(cuModuleGetFunction) \
	X(cuModuleUnload) \
	X(cuMemAlloc_v2) \
	X(cuMemFree_v2) \
	X(cuMemcpyHtoD_v2) \
	X(cuMemcpyHtoDAsync_v2) \
	X(cuMemcpyDtoHAsync_v2) \
	X(cuMemcpyDtoH_v2) \
	X(cuMemsetD32Async) \
	X(cuMemcpyDtoDAsync_v2) \
	X(cuStreamCreate) \
	X(cuStreamCreateWithPriority) \
	X(cuStreamDestroy_v2) \
	X(cuStreamSynchronize) \
	X(cuStreamSynchronize_ptsz) \
	X(cuStreamQuery) \
	X(cuStreamGetPriority) \
	X(cuStreamBeginCapture_v2) \
	X(cuStreamEndCapture) \
	X(cuStreamIsCapturing) \
	X(cuStreamGetCaptureInfo_v3) \
	X(cuEventCreate) \
	X(cuEventDestroy_v2) \
	X(cuEventRecord) \
	X(cuEventQuery) \
	X(cuEventSynchronize) \
	X(cuEventElapsedTime_v2) \
	X(cuLaunchKernel) \
	X(cuLaunchKernel_ptsz) \
	X(cuLaunchKernelEx) \
	X(cuGraphInstantiateWithFlags) \
	X(cuGraphLaunch) \
	X(cuGraphExecDestroy) \
	X(cuGraphDestroy) \
	X(cuGetErrorName) \
	X(cuGetErrorString) \
	X(cuGetProcAddress_v2)
/* clang-format on */

#define DECLARE(f) static __typeof__(f) *p_##f;
API(DECLARE)

static CUcontext ctx;
static CUmodule mod;
static CUfunction spin, affine;

static int group_setup(void **state)
{
	struct simgpu_config cfg = { .mode = SIMGPU_TIMESLICE, .devices = 1, .slice_us = 2000 };

	(void)state;
	if (simgpu_create(&cfg))
		return -1;
	lib = dlopen(SIMCUDA_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "dlopen %s: %s\n", SIMCUDA_PATH, dlerror());
		return -1;
	}
#define LOAD(f)                                                                                    \
	p_##f = (__typeof__(f) *)dlsym(lib, #f);                                                   \
	if (!p_##f) {                                                                              \
		fprintf(stderr, "no symbol %s\n", #f);                                             \
		return -1;                                                                         \
	}
	API(LOAD)
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	simgpu_destroy();
	return 0;
}

static void launch_spin(CUstream s, unsigned long long us)
{
	void *args[] = { &us };

	assert_int_equal(p_cuLaunchKernel(spin, 1, 1, 1, 32, 1, 1, 0, s, args, NULL), 0);
}

static void launch_affine(CUstream s, CUdeviceptr buf, unsigned int a, unsigned int b,
                          unsigned long long us)
{
	unsigned int n = N_ELEMS;
	void *args[] = { &buf, &n, &a, &b, &us };

	assert_int_equal(p_cuLaunchKernel(affine, 4, 1, 1, 256, 1, 1, 0, s, args, NULL), 0);
}

static uint64_t my_submitted(void)
{
	struct simgpu_proc_stats st;

	assert_int_equal(simgpu_stats(getpid(), &st, 1), 1);
	return st.submitted;
}

/* Before cuInit, everything but version and error queries says NOT_INITIALIZED. */
static void before_init(void **state)
{
	int n = 0, v = 0;
	CUdeviceptr p;
	const char *s;

	(void)state;
	assert_int_equal(p_cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(p_cuMemAlloc_v2(&p, 64), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(p_cuStreamSynchronize(NULL), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(p_cuDriverGetVersion(&v), 0);
	assert_int_equal(v, 13000);
	assert_int_equal(p_cuGetErrorName(CUDA_ERROR_NOT_INITIALIZED, &s), 0);
	assert_string_equal(s, "CUDA_ERROR_NOT_INITIALIZED");
	assert_int_equal(p_cuInit(1), CUDA_ERROR_INVALID_VALUE);
}

static void init_and_device(void **state)
{
	char name[64];
	int n = 0, v = 0;
	CUdevice dev;

	(void)state;
	assert_int_equal(p_cuInit(0), 0);
	assert_int_equal(p_cuDeviceGetCount(&n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p_cuDeviceGet(&dev, 0), 0);
	assert_int_equal(p_cuDeviceGet(&dev, 1), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(p_cuDeviceGetName(name, sizeof(name), 0), 0);
	assert_int_equal(p_cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0),
	                 0);
	assert_int_equal(v, 132);
	assert_int_equal(
	        p_cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0), 0);
	assert_int_equal(v, 9);
	assert_int_equal(p_cuDeviceGetAttribute(&v, (CUdevice_attribute)100000, 0),
	                 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 7),
	                 CUDA_ERROR_INVALID_DEVICE);
	/* The fake control node the ioctls go to. */
	char path[256];
	const char *seg = getenv("XSCHED_SIM_NAME");

	snprintf(path, sizeof(path), "/dev/shm/%s.nvidiactl", seg);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(NV_IOCTL_RM_ALLOC, 0xc020462bu);
	assert_int_equal(NV_IOCTL_RM_CONTROL, 0xc020462au);
}

/* Without a current context, context-bound calls say INVALID_CONTEXT. */
static void no_context(void **state)
{
	CUdeviceptr p;
	CUstream s;
	CUevent e;
	CUcontext cur = (CUcontext)1;

	(void)state;
	assert_int_equal(p_cuCtxGetCurrent(&cur), 0);
	assert_null(cur);
	assert_int_equal(p_cuMemAlloc_v2(&p, 64), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(p_cuStreamCreate(&s, 0), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(p_cuEventCreate(&e, 0), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(p_cuStreamSynchronize(NULL), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(p_cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(p_cuCtxSetCurrent((CUcontext)0x1234), CUDA_ERROR_INVALID_CONTEXT);
}

static void context_and_module(void **state)
{
	static const char image[] = "// any image loads: kernels are found by name";
	CUfunction f;

	(void)state;
	assert_int_equal(p_cuDevicePrimaryCtxRetain(&ctx, 0), 0);
	assert_int_equal(p_cuCtxSetCurrent(ctx), 0);
	assert_int_equal(p_cuModuleLoadData(&mod, image), 0);
	assert_int_equal(p_cuModuleGetFunction(&spin, mod, "spin"), 0);
	assert_int_equal(p_cuModuleGetFunction(&affine, mod, "affine"), 0);
	assert_int_equal(p_cuModuleGetFunction(&f, mod, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(p_cuModuleGetFunction(&f, (CUmodule)0x10, "spin"),
	                 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuModuleLoadData(NULL, image), CUDA_ERROR_INVALID_VALUE);
}

static void bad_handles(void **state)
{
	CUstream bogus = (CUstream)(uintptr_t)0xdeadbeef, s;
	CUevent bad_event = (CUevent)(uintptr_t)0xfeedface, e;
	unsigned long long us = 10;
	void *args[] = { &us };
	const char *str;
	float ms;
	int prio;

	(void)state;
	assert_int_equal(p_cuStreamSynchronize(bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuStreamQuery(bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuStreamDestroy_v2(bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuStreamGetPriority(bogus, &prio), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventRecord(bad_event, NULL), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventQuery(bad_event), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventSynchronize(bad_event), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventDestroy_v2(bad_event), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuLaunchKernel((CUfunction)0x99, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL),
	                 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, bogus, args, NULL),
	                 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuLaunchKernel(spin, 0, 1, 1, 1, 1, 1, 0, NULL, args, NULL),
	                 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuLaunchKernel(spin, 1, 1, 1, 2048, 1, 1, 0, NULL, args, NULL),
	                 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
	                 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuMemFree_v2((CUdeviceptr)0x1000), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuGraphLaunch((CUgraphExec)0x77, NULL), CUDA_ERROR_INVALID_VALUE);
	/* A destroyed handle is a bad handle. */
	assert_int_equal(p_cuStreamCreate(&s, 0), 0);
	assert_int_equal(p_cuStreamDestroy_v2(s), 0);
	assert_int_equal(p_cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventCreate(&e, 0), 0);
	assert_int_equal(p_cuEventDestroy_v2(e), 0);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e, e), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuStreamCreate(&s, 0x10), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuGetErrorName(CUDA_ERROR_INVALID_HANDLE, &str), 0);
	assert_string_equal(str, "CUDA_ERROR_INVALID_HANDLE");
	assert_int_equal(p_cuGetErrorString(CUDA_ERROR_NOT_READY, &str), 0);
	assert_string_equal(str, "device not ready");
	assert_int_equal(p_cuGetErrorName((CUresult)12345, &str), CUDA_ERROR_INVALID_VALUE);
}

/* Queries say NOT_READY while work is queued; events time it in milliseconds. */
static void events_and_queries(void **state)
{
	CUstream s;
	CUevent e0, e1, untimed, never;
	float ms = 0;

	(void)state;
	assert_int_equal(p_cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), 0);
	assert_int_equal(p_cuEventCreate(&e0, 0), 0);
	assert_int_equal(p_cuEventCreate(&e1, CU_EVENT_BLOCKING_SYNC), 0);
	assert_int_equal(p_cuEventCreate(&untimed, CU_EVENT_DISABLE_TIMING), 0);
	assert_int_equal(p_cuEventCreate(&never, 0), 0);
	assert_int_equal(p_cuEventQuery(never), 0);
	assert_int_equal(p_cuEventRecord(e0, s), 0);
	launch_spin(s, 20000);
	assert_int_equal(p_cuEventRecord(e1, s), 0);
	assert_int_equal(p_cuEventRecord(untimed, s), 0);
	assert_int_equal(p_cuStreamQuery(s), CUDA_ERROR_NOT_READY);
	assert_int_equal(p_cuEventQuery(e1), CUDA_ERROR_NOT_READY);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e0, e1), CUDA_ERROR_NOT_READY);
	assert_int_equal(p_cuEventSynchronize(e1), 0);
	assert_int_equal(p_cuEventQuery(e1), 0);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e0, e1), 0);
	print_message("20 ms kernel timed at %.3f ms\n", ms);
	assert_true(ms >= 20.0f && ms < 21.0f);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e0, untimed), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e0, never), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(p_cuStreamSynchronize(s), 0);
	assert_int_equal(p_cuStreamQuery(s), 0);
	p_cuEventDestroy_v2(e0);
	p_cuEventDestroy_v2(e1);
	p_cuEventDestroy_v2(untimed);
	p_cuEventDestroy_v2(never);
	assert_int_equal(p_cuStreamDestroy_v2(s), 0);
}

/* Effects land when the device completes the commands, in order; host-to-device copies use
 * the source as it was at the call. */
static void effects_in_order(void **state)
{
	static unsigned int host[N_ELEMS], back[N_ELEMS];
	CUdeviceptr buf, buf2;
	CUstream s;

	(void)state;
	for (unsigned int i = 0; i < N_ELEMS; i++)
		host[i] = i;
	assert_int_equal(p_cuStreamCreate(&s, 0), 0);
	assert_int_equal(p_cuMemAlloc_v2(&buf, sizeof(host)), 0);
	assert_int_equal(p_cuMemAlloc_v2(&buf2, sizeof(host)), 0);
	launch_spin(s, 5000);
	assert_int_equal(p_cuMemcpyHtoDAsync_v2(buf, host, sizeof(host), s), 0);
	memset(host, 0xff, sizeof(host)); /* too late to change what is copied */
	launch_affine(s, buf, 3, 1, 1000);
	assert_int_equal(p_cuMemcpyDtoDAsync_v2(buf2, buf, sizeof(host), s), 0);
	launch_affine(s, buf2, 2, 0, 1000);
	memset(back, 0, sizeof(back));
	assert_int_equal(p_cuMemcpyDtoHAsync_v2(back, buf2, sizeof(back), s), 0);
	assert_int_equal(back[5], 0); /* nothing has completed yet */
	assert_int_equal(p_cuStreamSynchronize(s), 0);
	for (unsigned int i = 0; i < N_ELEMS; i++)
		assert_int_equal(back[i], (i * 3 + 1) * 2);
	assert_int_equal(p_cuMemsetD32Async(buf, 7, N_ELEMS, s), 0);
	assert_int_equal(p_cuMemcpyDtoH_v2(back, buf, sizeof(back)), 0); /* legacy: waits for s */
	assert_int_equal(back[N_ELEMS - 1], 7);
	assert_int_equal(p_cuMemcpyHtoD_v2(buf, NULL, 4), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuMemcpyHtoD_v2(buf + sizeof(host), host, 4), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuMemFree_v2(buf), 0);
	assert_int_equal(p_cuMemFree_v2(buf), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(p_cuMemFree_v2(buf2), 0);
	assert_int_equal(p_cuStreamDestroy_v2(s), 0);
}

/* Within the process, an urgent stream overtakes, unless the legacy stream orders it. */
static void default_stream_semantics(void **state)
{
	CUstream blocking, nonblocking;
	CUevent e_first, e_legacy, e_block, e_nonblock;
	float ms;

	(void)state;
	assert_int_equal(p_cuStreamCreateWithPriority(&blocking, 0, -1), 0);
	assert_int_equal(p_cuStreamCreateWithPriority(&nonblocking, CU_STREAM_NON_BLOCKING, -1), 0);
	assert_int_equal(p_cuEventCreate(&e_first, 0), 0);
	assert_int_equal(p_cuEventCreate(&e_legacy, 0), 0);
	assert_int_equal(p_cuEventCreate(&e_block, 0), 0);
	assert_int_equal(p_cuEventCreate(&e_nonblock, 0), 0);
	launch_spin(blocking, 10000);
	assert_int_equal(p_cuEventRecord(e_first, blocking), 0);
	launch_spin(NULL, 5000); /* legacy: after the blocking stream's work */
	assert_int_equal(p_cuEventRecord(e_legacy, NULL), 0);
	launch_spin(blocking, 3000); /* blocking: after the legacy stream's work */
	assert_int_equal(p_cuEventRecord(e_block, blocking), 0);
	launch_spin(nonblocking, 3000); /* urgent and free: overtakes the legacy work */
	assert_int_equal(p_cuEventRecord(e_nonblock, nonblocking), 0);
	assert_int_equal(p_cuCtxSynchronize(), 0);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e_first, e_legacy), 0);
	assert_true(ms >= 5.0f);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e_legacy, e_block), 0);
	assert_true(ms >= 3.0f);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, e_nonblock, e_legacy), 0);
	assert_true(ms >= 5.0f);
	/* Per-thread default stream: NULL in a _ptsz call, or CU_STREAM_PER_THREAD. */
	unsigned long long us = 10000;
	void *args[] = { &us };

	assert_int_equal(p_cuLaunchKernel_ptsz(spin, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL), 0);
	assert_int_equal(p_cuStreamQuery(CU_STREAM_PER_THREAD), CUDA_ERROR_NOT_READY);
	assert_int_equal(p_cuStreamQuery(CU_STREAM_LEGACY), 0);
	assert_int_equal(p_cuStreamSynchronize_ptsz(NULL), 0);
	assert_int_equal(p_cuStreamQuery(CU_STREAM_PER_THREAD), 0);
	p_cuEventDestroy_v2(e_first);
	p_cuEventDestroy_v2(e_legacy);
	p_cuEventDestroy_v2(e_block);
	p_cuEventDestroy_v2(e_nonblock);
	p_cuStreamDestroy_v2(blocking);
	p_cuStreamDestroy_v2(nonblocking);
}

/* Nothing runs while capturing; a graph launch is one command that runs the captured work
 * once, in order. */
static void capture_and_graph(void **state)
{
	static unsigned int host[N_ELEMS], back[N_ELEMS];
	CUstreamCaptureStatus st;
	CUstream s;
	CUdeviceptr buf;
	CUgraph g;
	CUgraphExec x;
	CUevent a, b;
	cuuint64_t id = 0;
	float ms;

	(void)state;
	for (unsigned int i = 0; i < N_ELEMS; i++)
		host[i] = i;
	assert_int_equal(p_cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), 0);
	assert_int_equal(p_cuEventCreate(&a, 0), 0);
	assert_int_equal(p_cuEventCreate(&b, 0), 0);
	assert_int_equal(p_cuMemAlloc_v2(&buf, sizeof(host)), 0);
	assert_int_equal(p_cuMemcpyHtoD_v2(buf, host, sizeof(host)), 0);
	uint64_t before = my_submitted();

	assert_int_equal(p_cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_RELAXED), 0);
	launch_affine(s, buf, 2, 3, 1000);
	launch_affine(s, buf, 5, 7, 1000);
	launch_spin(s, 2000);
	assert_int_equal(p_cuStreamIsCapturing(s, &st), 0);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_ACTIVE);
	assert_int_equal(p_cuStreamGetCaptureInfo_v3(s, &st, &id, NULL, NULL, NULL, NULL), 0);
	assert_true(id != 0);
	assert_int_equal(p_cuCtxSynchronize(), 0);
	assert_int_equal(my_submitted(), before);
	assert_int_equal(p_cuStreamEndCapture(s, &g), 0);
	assert_non_null(g);
	assert_int_equal(p_cuStreamIsCapturing(s, &st), 0);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_NONE);
	assert_int_equal(p_cuMemcpyDtoH_v2(back, buf, sizeof(back)), 0);
	assert_int_equal(back[10], 10); /* still untouched */
	assert_int_equal(p_cuGraphInstantiateWithFlags(&x, g, 0), 0);
	before = my_submitted();
	assert_int_equal(p_cuEventRecord(a, s), 0);
	assert_int_equal(p_cuGraphLaunch(x, s), 0);
	assert_int_equal(p_cuEventRecord(b, s), 0);
	assert_int_equal(p_cuStreamSynchronize(s), 0);
	assert_int_equal(my_submitted(), before + 1);
	assert_int_equal(p_cuEventElapsedTime_v2(&ms, a, b), 0);
	assert_true(ms >= 4.0f && ms < 4.5f);
	assert_int_equal(p_cuMemcpyDtoH_v2(back, buf, sizeof(back)), 0);
	for (unsigned int i = 0; i < N_ELEMS; i++)
		assert_int_equal(back[i], (i * 2 + 3) * 5 + 7);
	assert_int_equal(p_cuGraphLaunch(x, s), 0);
	assert_int_equal(p_cuStreamSynchronize(s), 0);
	assert_int_equal(p_cuMemcpyDtoH_v2(back, buf, sizeof(back)), 0);
	assert_int_equal(back[1], (((1 * 2 + 3) * 5 + 7) * 2 + 3) * 5 + 7);
	assert_int_equal(p_cuGraphExecDestroy(x), 0);
	assert_int_equal(p_cuGraphDestroy(g), 0);
	assert_int_equal(p_cuGraphDestroy(g), CUDA_ERROR_INVALID_VALUE);
	p_cuMemFree_v2(buf);
	p_cuEventDestroy_v2(a);
	p_cuEventDestroy_v2(b);
	p_cuStreamDestroy_v2(s);
}

static void capture_errors(void **state)
{
	CUstreamCaptureStatus st;
	CUstream s, other;
	CUdeviceptr p;
	CUgraph g = (CUgraph)1;

	(void)state;
	assert_int_equal(p_cuStreamCreate(&s, 0), 0);
	assert_int_equal(p_cuStreamCreate(&other, CU_STREAM_NON_BLOCKING), 0);
	assert_int_equal(p_cuStreamEndCapture(s, &g), CUDA_ERROR_ILLEGAL_STATE);
	assert_int_equal(p_cuStreamBeginCapture_v2(NULL, CU_STREAM_CAPTURE_MODE_GLOBAL),
	                 CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	/* Synchronising a capturing stream is refused and invalidates the capture. */
	assert_int_equal(p_cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL), 0);
	assert_int_equal(p_cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL),
	                 CUDA_ERROR_ILLEGAL_STATE);
	launch_spin(s, 100);
	assert_int_equal(p_cuStreamSynchronize(s), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(p_cuStreamIsCapturing(s, &st), 0);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_INVALIDATED);
	assert_int_equal(p_cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	assert_null(g);
	/* Global mode forbids allocation. */
	assert_int_equal(p_cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL), 0);
	assert_int_equal(p_cuMemAlloc_v2(&p, 64), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(p_cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	/* The legacy stream may not wait on a capturing blocking stream. */
	assert_int_equal(p_cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_RELAXED), 0);
	unsigned long long us = 10;
	void *args[] = { &us };

	assert_int_equal(p_cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL),
	                 CUDA_ERROR_STREAM_CAPTURE_IMPLICIT);
	assert_int_equal(p_cuStreamEndCapture(other, &g), CUDA_ERROR_ILLEGAL_STATE);
	assert_int_equal(p_cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	assert_int_equal(p_cuStreamBeginCapture_v2(s, (CUstreamCaptureMode)9),
	                 CUDA_ERROR_INVALID_VALUE);
	p_cuStreamDestroy_v2(s);
	p_cuStreamDestroy_v2(other);
}

/* cuGetProcAddress_v2 resolves API names by version and default-stream flavour. */
static void get_proc_address(void **state)
{
	CUdriverProcAddressQueryResult r;
	void *fn;

	(void)state;
	assert_int_equal(p_cuGetProcAddress_v2("cuLaunchKernel", &fn, 13000,
	                                       CU_GET_PROC_ADDRESS_DEFAULT, &r),
	                 0);
	assert_int_equal(r, CU_GET_PROC_ADDRESS_SUCCESS);
	assert_ptr_equal(fn, dlsym(lib, "cuLaunchKernel"));
	assert_int_equal(p_cuGetProcAddress_v2("cuLaunchKernel", &fn, 13000,
	                                       CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &r),
	                 0);
	assert_ptr_equal(fn, dlsym(lib, "cuLaunchKernel_ptsz"));
	assert_int_equal(p_cuGetProcAddress_v2("cuMemcpyHtoD", &fn, 13000,
	                                       CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &r),
	                 0);
	assert_ptr_equal(fn, dlsym(lib, "cuMemcpyHtoD_v2_ptds"));
	assert_int_equal(p_cuGetProcAddress_v2("cuMemAlloc", &fn, 12000, 0, &r), 0);
	assert_ptr_equal(fn, dlsym(lib, "cuMemAlloc_v2"));
	assert_int_equal(p_cuGetProcAddress_v2("cuCtxCreate", &fn, 13000, 0, &r), 0);
	assert_ptr_equal(fn, dlsym(lib, "cuCtxCreate_v4"));
	assert_int_equal(p_cuGetProcAddress_v2("cuCtxCreate", &fn, 11080, 0, &r), 0);
	assert_ptr_equal(fn, dlsym(lib, "cuCtxCreate_v3"));
	assert_int_equal(p_cuGetProcAddress_v2("cuEventElapsedTime", &fn, 13000, 0, &r), 0);
	assert_ptr_equal(fn, dlsym(lib, "cuEventElapsedTime_v2"));
	assert_int_equal(p_cuGetProcAddress_v2("cuGetProcAddress", &fn, 13000, 0, &r), 0);
	assert_ptr_equal(fn, dlsym(lib, "cuGetProcAddress_v2"));
	assert_int_equal(p_cuGetProcAddress_v2("cuNoSuchCall", &fn, 13000, 0, &r),
	                 CUDA_ERROR_NOT_FOUND);
	assert_int_equal(r, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
	assert_null(fn);
	assert_int_equal(p_cuGetProcAddress_v2("cuLaunchKernelEx", &fn, 11000, 0, &r),
	                 CUDA_ERROR_NOT_FOUND);
	assert_int_equal(r, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
	assert_int_equal(p_cuGetProcAddress_v2("cuInit", &fn, 13000, 0x80, &r),
	                 CUDA_ERROR_INVALID_VALUE);
}

/* cuLaunchKernelEx and the `extra` parameter buffer reach the same kernels. */
static void launch_ex_and_extra(void **state)
{
	static unsigned int host[N_ELEMS];
	struct {
		uint64_t buf;
		uint32_t n, a, b, pad;
		uint64_t us;
	} pb;
	size_t size = sizeof(pb);
	void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &pb, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
		          CU_LAUNCH_PARAM_END };
	CUlaunchConfig cfg = { .gridDimX = 1,
		               .gridDimY = 1,
		               .gridDimZ = 1,
		               .blockDimX = 64,
		               .blockDimY = 1,
		               .blockDimZ = 1 };
	CUdeviceptr buf;

	(void)state;
	assert_int_equal(p_cuMemAlloc_v2(&buf, sizeof(host)), 0);
	pb = (__typeof__(pb)){ .buf = buf, .n = N_ELEMS, .a = 1, .b = 9, .us = 100 };
	assert_int_equal(p_cuLaunchKernelEx(&cfg, affine, NULL, extra), 0);
	assert_int_equal(p_cuLaunchKernel(affine, 1, 1, 1, 64, 1, 1, 0, NULL, NULL, extra), 0);
	assert_int_equal(p_cuMemcpyDtoH_v2(host, buf, sizeof(host)), 0);
	assert_int_equal(host[3], 18);
	size = 8;
	assert_int_equal(p_cuLaunchKernel(affine, 1, 1, 1, 64, 1, 1, 0, NULL, NULL, extra),
	                 CUDA_ERROR_INVALID_VALUE);
	p_cuMemFree_v2(buf);
}

/* A child forked after cuInit starts from scratch and works as its own GPU process. */
static void forked_child(void **state)
{
	(void)state;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		CUcontext c;
		CUmodule m;
		CUfunction f;
		unsigned long long us = 1000;
		void *args[] = { &us };
		int bad = 0;

		bad |= p_cuStreamSynchronize(NULL) != CUDA_ERROR_NOT_INITIALIZED;
		bad |= p_cuInit(0) != 0;
		bad |= p_cuDevicePrimaryCtxRetain(&c, 0) != 0;
		bad |= p_cuCtxSetCurrent(c) != 0;
		bad |= p_cuModuleLoadData(&m, "x") != 0;
		bad |= p_cuModuleGetFunction(&f, m, "spin") != 0;
		bad |= p_cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL) != 0;
		bad |= p_cuCtxSynchronize() != 0;
		_exit(bad);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	struct simgpu_proc_stats st;

	assert_int_equal(simgpu_stats(pid, &st, 1), 1);
	assert_int_equal(st.completed, 1);
	assert_false(st.alive);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(before_init),       cmocka_unit_test(init_and_device),
		cmocka_unit_test(no_context),        cmocka_unit_test(context_and_module),
		cmocka_unit_test(bad_handles),       cmocka_unit_test(events_and_queries),
		cmocka_unit_test(effects_in_order),  cmocka_unit_test(default_stream_semantics),
		cmocka_unit_test(capture_and_graph), cmocka_unit_test(capture_errors),
		cmocka_unit_test(get_proc_address),  cmocka_unit_test(launch_ex_and_extra),
		cmocka_unit_test(forked_child),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
