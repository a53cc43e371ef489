/* SPDX-License-Identifier: MIT */
/*
 * Modules, kernels and launches. Every module, whatever its image, holds the two kernels of
 * the test workloads (tests/workloads/kernels.cu), with the same signatures:
 *   spin(unsigned long long us)                       runs for `us` microseconds
 *   affine(unsigned int *buf, unsigned int n, unsigned int a, unsigned int b,
 *          unsigned long long us)                     buf[i] = buf[i]*a + b, i < n; `us` long
 * Arguments come either as kernelParams (an array of pointers to each argument) or as the
 * `extra` packed buffer (HIP_LAUNCH_PARAM_BUFFER_POINTER), laid out with natural alignment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

/* Declared in hip_ext.h, which is C++ only. */
hipError_t hipExtModuleLaunchKernel(hipFunction_t f, uint32_t globalWorkSizeX,
                                    uint32_t globalWorkSizeY, uint32_t globalWorkSizeZ,
                                    uint32_t localWorkSizeX, uint32_t localWorkSizeY,
                                    uint32_t localWorkSizeZ, size_t sharedMemBytes,
                                    hipStream_t hStream, void **kernelParams, void **extra,
                                    hipEvent_t startEvent, hipEvent_t stopEvent, uint32_t flags);
/* The entry points hipcc-compiled host code calls to register its kernels (no header). */
void **__hipRegisterFatBinary(const void *data);
void __hipUnregisterFatBinary(void **modules);
void __hipRegisterFunction(void **modules, const void *hostFunction, char *deviceFunction,
                           const char *deviceName, unsigned int threadLimit, void *tid, void *bid,
                           void *blockDim, void *gridDim, int *wSize);

struct ihipModuleSymbol_t {
	enum hip_kernel kind;
	const char *name;
};

static struct ihipModuleSymbol_t kernels[] = {
	{ HIP_K_SPIN, "spin" },
	{ HIP_K_AFFINE, "affine" },
};

/* ---- argument decoding ---- */

struct kernel_args {
	uint64_t us;
	uint32_t *buf;
	uint32_t n, a, b;
};

/* Reads argument i of kernel k from kernelParams, or from the packed buffer. */
static hipError_t decode_args(enum hip_kernel k, void **params, void **extra,
                              struct kernel_args *out)
{
	memset(out, 0, sizeof(*out));
	const unsigned char *buf = NULL;
	size_t size = 0;
	if (!params && extra) {
		for (size_t i = 0; extra[i] != HIP_LAUNCH_PARAM_END; i += 2) {
			if (extra[i] == HIP_LAUNCH_PARAM_BUFFER_POINTER)
				buf = extra[i + 1];
			else if (extra[i] == HIP_LAUNCH_PARAM_BUFFER_SIZE && extra[i + 1])
				size = *(size_t *)extra[i + 1];
			else
				return hipErrorInvalidValue;
		}
		if (!buf)
			return hipErrorInvalidValue;
	} else if (!params) {
		return hipErrorInvalidValue;
	}
	if (k == HIP_K_SPIN) {
		if (buf) {
			if (size < 8)
				return hipErrorInvalidValue;
			memcpy(&out->us, buf, 8);
		} else {
			memcpy(&out->us, params[0], 8);
		}
		return hipSuccess;
	}
	if (buf) {
		if (size < 32)
			return hipErrorInvalidValue;
		memcpy(&out->buf, buf, sizeof(void *));
		memcpy(&out->n, buf + 8, 4);
		memcpy(&out->a, buf + 12, 4);
		memcpy(&out->b, buf + 16, 4);
		memcpy(&out->us, buf + 24, 8);
	} else {
		memcpy(&out->buf, params[0], sizeof(void *));
		memcpy(&out->n, params[1], 4);
		memcpy(&out->a, params[2], 4);
		memcpy(&out->b, params[3], 4);
		memcpy(&out->us, params[4], 8);
	}
	return hipSuccess;
}

hipError_t hip_launch(enum hip_kernel k, void **params, void **extra, struct hip_stream *s)
{
	struct kernel_args a;
	hipError_t err = decode_args(k, params, extra, &a);
	if (err != hipSuccess)
		return err;
	struct hip_effect fx = { .kind = HIP_FX_NONE };
	if (k == HIP_K_AFFINE && a.n) {
		/* A wild pointer would fault the GPU; here it must not crash the process. */
		if (!hip_is_device_ptr(a.buf, (uint64_t)a.n * 4))
			return hipErrorIllegalAddress;
		fx = (struct hip_effect){
			.kind = HIP_FX_AFFINE, .dst = a.buf, .count = a.n, .a = a.a, .b = a.b
		};
	}
	return hip_submit(s, SIMGPU_KERNEL, a.us * 1000, &fx, NULL);
}

static hipError_t check_dims(uint64_t gx, uint64_t gy, uint64_t gz, uint64_t bx, uint64_t by,
                             uint64_t bz)
{
	if (!gx || !gy || !gz || !bx || !by || !bz || bx * by * bz > 1024)
		return hipErrorInvalidConfiguration;
	return hipSuccess;
}

static struct ihipModuleSymbol_t *function(hipFunction_t f)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (f == &kernels[i])
			return &kernels[i];
	return NULL;
}

/* ---- modules ---- */

struct module {
	int dev;
};

static hipError_t new_module(hipModule_t *module)
{
	struct module *m = malloc(sizeof(*m));
	if (!m)
		return hipErrorOutOfMemory;
	m->dev = hip_current_device();
	*module = hip_handle_new(HIP_H_MODULE, m);
	if (!*module) {
		free(m);
		return hipErrorOutOfMemory;
	}
	return hipSuccess;
}

hipError_t hipModuleLoadData(hipModule_t *module, const void *image)
{
	if (!module || !image)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	return hip_ret(new_module(module));
}

hipError_t hipModuleLoadDataEx(hipModule_t *module, const void *image, unsigned int numOptions,
                               hipJitOption *options, void **optionValues)
{
	(void)numOptions;
	(void)options;
	(void)optionValues;
	return hipModuleLoadData(module, image);
}

hipError_t hipModuleLoad(hipModule_t *module, const char *fname)
{
	if (!module || !fname)
		return hip_ret(hipErrorInvalidValue);
	FILE *f = fopen(fname, "rb");
	if (!f)
		return hip_ret(hipErrorFileNotFound);
	fclose(f);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	return hip_ret(new_module(module));
}

hipError_t hipModuleUnload(hipModule_t module)
{
	struct module *m = hip_handle_remove(HIP_H_MODULE, module);
	if (!m)
		return hip_ret(hipErrorInvalidHandle);
	free(m);
	return hipSuccess;
}

hipError_t hipModuleGetFunction(hipFunction_t *fn, hipModule_t module, const char *name)
{
	if (!fn || !name)
		return hip_ret(hipErrorInvalidValue);
	if (!hip_handle_get(HIP_H_MODULE, module))
		return hip_ret(hipErrorInvalidHandle);
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		if (strcmp(name, kernels[i].name) == 0) {
			*fn = &kernels[i];
			return hipSuccess;
		}
	}
	return hip_ret(hipErrorNotFound);
}

/* ---- launches ---- */

hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned int gridDimX, unsigned int gridDimY,
                                 unsigned int gridDimZ, unsigned int blockDimX,
                                 unsigned int blockDimY, unsigned int blockDimZ,
                                 unsigned int sharedMemBytes, hipStream_t stream,
                                 void **kernelParams, void **extra)
{
	hipError_t err;
	(void)sharedMemBytes;
	struct ihipModuleSymbol_t *k = function(f);
	if (!k)
		return hip_ret(hipErrorInvalidHandle);
	err = check_dims(gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ);
	if (err != hipSuccess)
		return hip_ret(err);
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	return hip_ret(hip_launch(k->kind, kernelParams, extra, s));
}

/* Work sizes are in threads (OpenCL style): the grid is global / local. The events are
 * recorded around the kernel, as the real runtime does. */
hipError_t hipExtModuleLaunchKernel(hipFunction_t f, uint32_t globalWorkSizeX,
                                    uint32_t globalWorkSizeY, uint32_t globalWorkSizeZ,
                                    uint32_t localWorkSizeX, uint32_t localWorkSizeY,
                                    uint32_t localWorkSizeZ, size_t sharedMemBytes,
                                    hipStream_t hStream, void **kernelParams, void **extra,
                                    hipEvent_t startEvent, hipEvent_t stopEvent, uint32_t flags)
{
	hipError_t err;
	(void)sharedMemBytes;
	(void)flags;
	struct ihipModuleSymbol_t *k = function(f);
	if (!k)
		return hip_ret(hipErrorInvalidHandle);
	if (!localWorkSizeX || !localWorkSizeY || !localWorkSizeZ)
		return hip_ret(hipErrorInvalidConfiguration);
	err = check_dims(globalWorkSizeX / localWorkSizeX, globalWorkSizeY / localWorkSizeY,
	                 globalWorkSizeZ / localWorkSizeZ, localWorkSizeX, localWorkSizeY,
	                 localWorkSizeZ);
	if (err != hipSuccess)
		return hip_ret(err);
	struct hip_stream *s = hip_stream_resolve(hStream, false, &err);
	if (!s)
		return hip_ret(err);
	if (startEvent && (err = hip_event_record(startEvent, s)) != hipSuccess)
		return hip_ret(err);
	err = hip_launch(k->kind, kernelParams, extra, s);
	if (err == hipSuccess && stopEvent)
		err = hip_event_record(stopEvent, s);
	return hip_ret(err);
}

/* ---- kernels registered by host code (hipLaunchKernel) ---- */

struct registered {
	const void *host_fn;
	enum hip_kernel kind;
	struct registered *next;
};

static struct registered *registry;

/* The fat binary is not read: its kernels are looked up by name when registered. */
void **__hipRegisterFatBinary(const void *data)
{
	(void)data;
	return calloc(1, sizeof(void *));
}

void __hipUnregisterFatBinary(void **modules)
{
	free(modules);
}

void __hipRegisterFunction(void **modules, const void *hostFunction, char *deviceFunction,
                           const char *deviceName, unsigned int threadLimit, void *tid, void *bid,
                           void *blockDim, void *gridDim, int *wSize)
{
	(void)modules;
	(void)deviceFunction;
	(void)threadLimit;
	(void)tid;
	(void)bid;
	(void)blockDim;
	(void)gridDim;
	(void)wSize;
	for (size_t i = 0; deviceName && i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		if (strcmp(deviceName, kernels[i].name) != 0)
			continue;
		struct registered *r = malloc(sizeof(*r));
		if (!r)
			return;
		r->host_fn = hostFunction;
		r->kind = kernels[i].kind;
		pthread_mutex_lock(&hip_lock);
		r->next = registry;
		registry = r;
		pthread_mutex_unlock(&hip_lock);
	}
}

static hipError_t launch_registered(const void *fn, dim3 grid, dim3 block, void **args,
                                    hipStream_t stream, bool spt)
{
	hipError_t err;
	const struct registered *found = NULL;
	pthread_mutex_lock(&hip_lock);
	for (const struct registered *r = registry; r && !found; r = r->next)
		if (r->host_fn == fn)
			found = r;
	pthread_mutex_unlock(&hip_lock);
	if (!fn || !found)
		return hipErrorInvalidDeviceFunction;
	err = check_dims(grid.x, grid.y, grid.z, block.x, block.y, block.z);
	if (err != hipSuccess)
		return err;
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return err;
	return hip_launch(found->kind, args, NULL, s);
}

hipError_t hipLaunchKernel(const void *function_address, dim3 numBlocks, dim3 dimBlocks,
                           void **args, size_t sharedMemBytes, hipStream_t stream)
{
	(void)sharedMemBytes;
	return hip_ret(
	        launch_registered(function_address, numBlocks, dimBlocks, args, stream, false));
}

hipError_t hipLaunchKernel_spt(const void *function_address, dim3 numBlocks, dim3 dimBlocks,
                               void **args, size_t sharedMemBytes, hipStream_t stream)
{
	(void)sharedMemBytes;
	return hip_ret(
	        launch_registered(function_address, numBlocks, dimBlocks, args, stream, true));
}

hipError_t hipLaunchCooperativeKernel(const void *f, dim3 gridDim, dim3 blockDimX,
                                      void **kernelParams, unsigned int sharedMemBytes,
                                      hipStream_t stream)
{
	(void)sharedMemBytes;
	return hip_ret(launch_registered(f, gridDim, blockDimX, kernelParams, stream, false));
}

hipError_t hipLaunchCooperativeKernel_spt(const void *f, dim3 gridDim, dim3 blockDim,
                                          void **kernelParams, uint32_t sharedMemBytes,
                                          hipStream_t hStream)
{
	(void)sharedMemBytes;
	return hip_ret(launch_registered(f, gridDim, blockDim, kernelParams, hStream, true));
}
