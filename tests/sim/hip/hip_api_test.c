/* SPDX-License-Identifier: MIT */
/*
 * Checks of the simulated HIP runtime beyond what the workloads exercise: error names and the
 * last-error rules, kernels registered by host code (hipLaunchKernel), packed `extra`
 * arguments, hipExtModuleLaunchKernel's events, the null stream's implicit ordering, per-thread
 * streams, capture errors and graph lifetime, priorities, devices, bad arguments, and the fake
 * kfd node. Run against the simulator only (LD_LIBRARY_PATH), in concurrent mode so that
 * streams overtake each other unless ordered.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define __HIP_PLATFORM_AMD__
#include <hip/hip_runtime_api.h>

/* Not declared by the HIP headers (hipcc-generated code calls them). */
void **__hipRegisterFatBinary(const void *data);
void __hipUnregisterFatBinary(void **modules);
void __hipRegisterFunction(void **modules, const void *hostFunction, char *deviceFunction,
                           const char *deviceName, unsigned int threadLimit, void *tid, void *bid,
                           void *blockDim, void *gridDim, int *wSize);
hipError_t hipExtModuleLaunchKernel(hipFunction_t f, uint32_t gx, uint32_t gy, uint32_t gz,
                                    uint32_t lx, uint32_t ly, uint32_t lz, size_t shmem,
                                    hipStream_t stream, void **params, void **extra,
                                    hipEvent_t start, hipEvent_t stop, uint32_t flags);

static int failures;

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);           \
			failures++;                                                                \
		}                                                                                  \
	} while (0)
#define EXPECT_ERR(call, want)                                                                     \
	do {                                                                                       \
		hipError_t got_ = (call);                                                          \
		if (got_ != (want)) {                                                              \
			fprintf(stderr, "%s:%d: FAIL: %s = %s, expected %s\n", __FILE__, __LINE__, \
			        #call, hipGetErrorName(got_), hipGetErrorName(want));              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)
#define OK(call) EXPECT_ERR(call, hipSuccess)

#define N 1024

static hipFunction_t spin_fn, affine_fn;

static void launch_affine(hipStream_t s, uint32_t *buf, uint32_t a, uint32_t b, uint64_t us)
{
	unsigned int n = N;
	void *params[] = { &buf, &n, &a, &b, &us };
	OK(hipModuleLaunchKernel(affine_fn, 4, 1, 1, 256, 1, 1, 0, s, params, NULL));
}

static void launch_spin(hipStream_t s, uint64_t us)
{
	void *params[] = { &us };
	OK(hipModuleLaunchKernel(spin_fn, 1, 1, 1, 1, 1, 1, 0, s, params, NULL));
}

/* The whole buffer equals v (read back synchronously). */
static bool all_equal(const uint32_t *dbuf, uint32_t v)
{
	uint32_t h[N];
	if (hipMemcpy(h, dbuf, sizeof(h), hipMemcpyDeviceToHost) != hipSuccess)
		return false;
	for (int i = 0; i < N; i++)
		if (h[i] != v)
			return false;
	return true;
}

static void test_errors(void)
{
	EXPECT(strcmp(hipGetErrorName(hipErrorInvalidHandle), "hipErrorInvalidHandle") == 0);
	EXPECT(strcmp(hipGetErrorName(hipErrorNotReady), "hipErrorNotReady") == 0);
	EXPECT(strlen(hipGetErrorString(hipErrorInvalidValue)) > 0);
	(void)hipGetLastError(); /* whatever came before */
	OK(hipGetLastError());
	EXPECT_ERR(hipStreamDestroy((hipStream_t)0x1234), hipErrorInvalidHandle);
	OK(hipDeviceSynchronize()); /* success does not clear it */
	EXPECT_ERR(hipPeekAtLastError(), hipErrorInvalidHandle);
	EXPECT_ERR(hipGetLastError(), hipErrorInvalidHandle);
	OK(hipGetLastError());
	EXPECT_ERR(hipStreamDestroy(NULL), hipErrorInvalidHandle);
	EXPECT_ERR(hipStreamDestroy(hipStreamPerThread), hipErrorInvalidHandle);
	(void)hipGetLastError();
}

static void test_devices(void)
{
	int count = 0, value = 0;
	hipDeviceProp_t prop;
	OK(hipGetDeviceCount(&count));
	EXPECT(count == 1);
	EXPECT_ERR(hipSetDevice(count), hipErrorInvalidDevice);
	OK(hipDeviceGetAttribute(&value, hipDeviceAttributeMultiprocessorCount, 0));
	EXPECT(value > 0);
	EXPECT_ERR(hipDeviceGetAttribute(&value, hipDeviceAttributeMultiprocessorCount, 7),
	           hipErrorInvalidDevice);
	OK(hipGetDeviceProperties(&prop, 0));
	EXPECT(strstr(prop.name, "simulated") != NULL);
	int least = 0, greatest = 0, prio = 0;
	OK(hipDeviceGetStreamPriorityRange(&least, &greatest));
	EXPECT(least == 1 && greatest == -1);
	hipStream_t s;
	OK(hipStreamCreateWithPriority(&s, hipStreamDefault, -5));
	OK(hipStreamGetPriority(s, &prio));
	EXPECT(prio == -1); /* clamped into the range */
	OK(hipStreamDestroy(s));
	EXPECT_ERR(hipStreamCreateWithFlags(&s, 0x40), hipErrorInvalidValue);
	/* CU masks: a quarter of the 104 CUs (26: CUs 0..25); bits past the last CU dropped. */
	uint32_t quarter[5] = { 0xffffffffu, 0, 0, 0xffffffffu, 7 }, got[5] = { 1, 1, 1, 1, 1 };
	uint32_t none[2] = { 0, 0 };
	quarter[0] = (1u << 26) - 1;
	quarter[3] = 0xff000000u; /* CUs 120..127: beyond the device */
	OK(hipExtStreamCreateWithCUMask(&s, 5, quarter));
	OK(hipExtStreamGetCUMask(s, 5, got));
	EXPECT(got[0] == (1u << 26) - 1 && !got[1] && !got[2] && !got[3] && !got[4]);
	OK(hipStreamDestroy(s));
	EXPECT_ERR(hipExtStreamCreateWithCUMask(&s, 2, none), hipErrorInvalidValue);
	EXPECT_ERR(hipExtStreamCreateWithCUMask(&s, 0, quarter), hipErrorInvalidValue);
	OK(hipStreamCreate(&s));
	OK(hipExtStreamGetCUMask(s, 5, got));
	EXPECT(got[0] == 0xffffffffu && got[3] == 0xffu && !got[4]);
	OK(hipStreamDestroy(s));
	EXPECT_ERR(hipInit(1), hipErrorInvalidValue);
	(void)hipGetLastError();
}

static void test_memory(uint32_t *d)
{
	uint32_t h[4] = { 0 };
	void *host;
	EXPECT_ERR(hipMemcpy(h, d, sizeof(h), (hipMemcpyKind)42), hipErrorInvalidMemcpyDirection);
	EXPECT_ERR(hipFree(d + 1), hipErrorInvalidValue);
	EXPECT_ERR(hipHostFree(d), hipErrorInvalidValue);
	OK(hipHostMalloc(&host, 64, 0));
	EXPECT_ERR(hipFree(host), hipErrorInvalidValue);
	OK(hipHostFree(host));
	OK(hipMemsetD32(d, 7, N));
	EXPECT(all_equal(d, 7));
	OK(hipMemset(d, 0, N * 4));
	EXPECT(all_equal(d, 0));
	EXPECT_ERR(hipMemsetD32(h, 1, 4), hipErrorInvalidValue); /* not device memory */
	(void)hipGetLastError();
}

/* The null stream waits for blocking streams and they wait for it. Priorities make the
 * model run the kernels in the wrong order unless the runtime orders them: after the spin,
 * the most urgent ready stream goes first. */
static void test_null_stream_order(uint32_t *d)
{
	hipStream_t low, high, nonblocking;
	OK(hipStreamCreateWithPriority(&low, hipStreamDefault, 1));
	OK(hipStreamCreateWithPriority(&high, hipStreamDefault, -1));
	OK(hipMemsetD32(d, 1, N));
	launch_spin(low, 20000);
	launch_affine(low, d, 2, 0, 0);  /* 1 -> 2 */
	launch_affine(NULL, d, 1, 5, 0); /* after low's work: 2 -> 7 */
	launch_affine(high, d, 3, 0, 0); /* after the null stream's: 7 -> 21 */
	OK(hipStreamSynchronize(high));
	EXPECT(all_equal(d, 21));
	OK(hipStreamDestroy(low));
	OK(hipStreamDestroy(high));

	/* A non-blocking stream is not ordered after the null stream: its urgent kernel runs
	 * as soon as the device is free, before the null stream's second kernel. (A process's
	 * commands run one at a time in the model, most urgent stream first.) */
	OK(hipStreamCreateWithPriority(&nonblocking, hipStreamNonBlocking, -1));
	launch_spin(NULL, 40000);
	launch_spin(NULL, 40000);
	OK(hipStreamQuery(nonblocking));
	launch_spin(nonblocking, 0);
	OK(hipStreamSynchronize(nonblocking));
	EXPECT_ERR(hipStreamQuery(NULL), hipErrorNotReady);
	OK(hipDeviceSynchronize());
	OK(hipStreamQuery(NULL));
	OK(hipStreamDestroy(nonblocking));
}

static void *busy_other_thread(void *arg)
{
	(void)arg;
	/* This thread's per-thread stream is its own: the main thread's busy one is not it. */
	hipError_t q = hipStreamQuery(hipStreamPerThread);
	return (void *)(uintptr_t)q;
}

static void test_per_thread(void)
{
	launch_spin(hipStreamPerThread, 50000);
	EXPECT_ERR(hipStreamQuery(hipStreamPerThread), hipErrorNotReady);
	EXPECT_ERR(hipStreamQuery_spt(NULL), hipErrorNotReady);
	pthread_t t;
	void *ret;
	EXPECT(pthread_create(&t, NULL, busy_other_thread, NULL) == 0);
	pthread_join(t, &ret);
	EXPECT((hipError_t)(uintptr_t)ret == hipSuccess);
	OK(hipStreamSynchronize_spt(NULL));
	OK(hipStreamQuery(hipStreamPerThread));
}

static void test_launch_forms(uint32_t *d)
{
	/* Packed arguments: ptr at 0, n at 8, a at 12, b at 16, us at 24. */
	unsigned char buf[32] = { 0 };
	uint32_t n = N, a = 3, b = 1;
	uint64_t us = 1000;
	size_t size = sizeof(buf);
	memcpy(buf, &d, sizeof(d));
	memcpy(buf + 8, &n, 4);
	memcpy(buf + 12, &a, 4);
	memcpy(buf + 16, &b, 4);
	memcpy(buf + 24, &us, 8);
	void *extra[] = { HIP_LAUNCH_PARAM_BUFFER_POINTER, buf, HIP_LAUNCH_PARAM_BUFFER_SIZE, &size,
		          HIP_LAUNCH_PARAM_END };
	OK(hipMemsetD32(d, 2, N));
	OK(hipModuleLaunchKernel(affine_fn, 4, 1, 1, 256, 1, 1, 0, NULL, NULL, extra));
	EXPECT(all_equal(d, 7));

	/* Events around an ext launch time the kernel. */
	hipEvent_t start, stop, untimed;
	float ms = 0;
	OK(hipEventCreate(&start));
	OK(hipEventCreate(&stop));
	OK(hipEventCreateWithFlags(&untimed, hipEventDisableTiming));
	EXPECT_ERR(hipEventElapsedTime(&ms, start, stop), hipErrorInvalidHandle); /* unrecorded */
	OK(hipEventQuery(start)); /* never recorded: complete */
	uint64_t spin_us = 30000;
	void *params[] = { &spin_us };
	OK(hipExtModuleLaunchKernel(spin_fn, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL, start, stop,
	                            0));
	EXPECT_ERR(hipEventQuery(stop), hipErrorNotReady);
	EXPECT_ERR(hipEventElapsedTime(&ms, start, stop), hipErrorNotReady);
	OK(hipEventSynchronize(stop));
	OK(hipEventElapsedTime(&ms, start, stop));
	EXPECT(ms >= 29.0f && ms < 200.0f);
	OK(hipEventRecord(untimed, NULL));
	OK(hipEventSynchronize(untimed));
	EXPECT_ERR(hipEventElapsedTime(&ms, start, untimed), hipErrorInvalidHandle);
	OK(hipEventDestroy(start));
	OK(hipEventDestroy(stop));
	OK(hipEventDestroy(untimed));

	/* Host stubs registered by (what would be) hipcc-generated code. */
	static const char stub_affine = 0, stub_unknown = 0;
	void **modules = __hipRegisterFatBinary("image");
	__hipRegisterFunction(modules, &stub_affine, "affine", "affine", 0, NULL, NULL, NULL, NULL,
	                      NULL);
	__hipRegisterFunction(modules, &stub_unknown, "other", "other", 0, NULL, NULL, NULL, NULL,
	                      NULL);
	dim3 grid = { 4, 1, 1 }, block = { 256, 1, 1 };
	uint32_t a2 = 2, b2 = 0;
	uint64_t us2 = 0;
	void *args[] = { &d, &n, &a2, &b2, &us2 };
	OK(hipLaunchKernel(&stub_affine, grid, block, args, 0, NULL));
	EXPECT(all_equal(d, 14));
	EXPECT_ERR(hipLaunchKernel(&stub_unknown, grid, block, args, 0, NULL),
	           hipErrorInvalidDeviceFunction);
	dim3 too_big = { 2048, 1, 1 };
	EXPECT_ERR(hipLaunchKernel(&stub_affine, grid, too_big, args, 0, NULL),
	           hipErrorInvalidConfiguration);
	__hipUnregisterFatBinary(modules);
	EXPECT_ERR(hipModuleLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
	           hipErrorInvalidHandle);
	(void)hipGetLastError();
}

static void test_graphs(uint32_t *d)
{
	hipStream_t s;
	hipGraph_t g;
	hipGraphExec_t x;
	hipEvent_t e;
	hipStreamCaptureStatus st;
	OK(hipStreamCreateWithFlags(&s, hipStreamNonBlocking));
	OK(hipEventCreate(&e));
	EXPECT_ERR(hipStreamBeginCapture(NULL, hipStreamCaptureModeGlobal),
	           hipErrorStreamCaptureUnsupported);
	EXPECT_ERR(hipStreamEndCapture(s, &g), hipErrorIllegalState);
	OK(hipStreamBeginCapture(s, hipStreamCaptureModeThreadLocal));
	OK(hipStreamIsCapturing(s, &st));
	EXPECT(st == hipStreamCaptureStatusActive);
	EXPECT_ERR(hipEventRecord(e, s), hipErrorStreamCaptureUnsupported);
	OK(hipMemsetD32Async(d, 1, N, s));
	launch_affine(s, d, 5, 1, 10000); /* 1 -> 6 */
	OK(hipStreamEndCapture(s, &g));
	OK(hipStreamIsCapturing(s, &st));
	EXPECT(st == hipStreamCaptureStatusNone);
	OK(hipStreamSynchronize(s)); /* the capture ran nothing */
	OK(hipGraphInstantiate(&x, g, NULL, NULL, 0));
	OK(hipGraphDestroy(g));
	OK(hipGraphLaunch(x, s));
	OK(hipGraphLaunch(x, s));
	OK(hipGraphExecDestroy(x)); /* queued launches keep it alive */
	EXPECT_ERR(hipGraphLaunch(x, s), hipErrorInvalidValue);
	OK(hipStreamSynchronize(s));
	EXPECT(all_equal(d, 6));
	OK(hipEventDestroy(e));
	OK(hipStreamDestroy(s));
	(void)hipGetLastError();
}

static void test_kfd_node(void)
{
	const char *name = getenv("XSCHED_SIM_NAME");
	char path[512];
	snprintf(path, sizeof(path), "/dev/shm/%s.kfd", name ? name : "xsched-simgpu");
	EXPECT(access(path, F_OK) == 0);
}

int main(void)
{
	hipModule_t mod;
	uint32_t *d;
	OK(hipInit(0));
	OK(hipModuleLoadData(&mod, "any image"));
	OK(hipModuleGetFunction(&spin_fn, mod, "spin"));
	OK(hipModuleGetFunction(&affine_fn, mod, "affine"));
	EXPECT_ERR(hipModuleGetFunction(&spin_fn, NULL, "spin"), hipErrorInvalidHandle);
	OK(hipMalloc((void **)&d, N * 4));

	test_errors();
	test_devices();
	test_memory(d);
	test_null_stream_order(d);
	test_per_thread();
	test_launch_forms(d);
	test_graphs(d);
	test_kfd_node();

	OK(hipFree(d));
	OK(hipModuleUnload(mod));
	EXPECT_ERR(hipModuleUnload(mod), hipErrorInvalidHandle);
	printf("hip_api_test: %s (%d failure%s)\n", failures ? "FAIL" : "ok", failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
