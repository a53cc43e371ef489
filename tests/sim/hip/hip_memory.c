/* SPDX-License-Identifier: MIT */
/*
 * Device and pinned host memory, copies and memsets. Device memory is memory of this
 * process; a copy or memset is a command of the model whose effect is applied when it
 * completes. Synchronous forms run on the null stream (the per-thread stream for _spt) and
 * return once their command is done.
 */
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

struct allocation {
	void *ptr;
	uint64_t size;
	int dev; /* -1: pinned host memory */
};

static struct allocation *allocs;
static size_t nallocs, allocs_cap;

static hipError_t remember(void *ptr, uint64_t size, int dev)
{
	pthread_mutex_lock(&hip_lock);
	if (nallocs == allocs_cap) {
		size_t cap = allocs_cap ? allocs_cap * 2 : 64;
		struct allocation *a = realloc(allocs, cap * sizeof(*a));
		if (!a) {
			pthread_mutex_unlock(&hip_lock);
			return hipErrorOutOfMemory;
		}
		allocs = a;
		allocs_cap = cap;
	}
	allocs[nallocs++] = (struct allocation){ ptr, size, dev };
	pthread_mutex_unlock(&hip_lock);
	return hipSuccess;
}

/* Forgets the allocation starting exactly at ptr; false if there is none of that kind. */
static bool forget(void *ptr, bool host, int *dev)
{
	bool found = false;
	pthread_mutex_lock(&hip_lock);
	for (size_t i = 0; i < nallocs; i++) {
		if (allocs[i].ptr == ptr && (allocs[i].dev < 0) == host) {
			*dev = allocs[i].dev;
			allocs[i] = allocs[--nallocs];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&hip_lock);
	return found;
}

bool hip_is_device_ptr(const void *p, uint64_t bytes)
{
	bool found = false;
	uintptr_t a = (uintptr_t)p;
	pthread_mutex_lock(&hip_lock);
	for (size_t i = 0; i < nallocs && !found; i++) {
		uintptr_t base = (uintptr_t)allocs[i].ptr;
		found = allocs[i].dev >= 0 && a >= base && a - base <= allocs[i].size &&
		        bytes <= allocs[i].size - (a - base);
	}
	pthread_mutex_unlock(&hip_lock);
	return found;
}

/* Zeroed, 256-byte aligned like the real allocator's granularity. */
static void *alloc_zeroed(size_t size)
{
	size_t rounded = (size + 255) & ~(size_t)255;
	void *p = aligned_alloc(256, rounded);
	if (p)
		memset(p, 0, rounded);
	return p;
}

hipError_t hipMalloc(void **ptr, size_t size)
{
	if (!ptr)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	*ptr = NULL;
	if (size == 0)
		return hipSuccess;
	void *p = alloc_zeroed(size);
	if (!p)
		return hip_ret(hipErrorOutOfMemory);
	int dev = hip_current_device();
	err = remember(p, size, dev);
	if (err != hipSuccess) {
		free(p);
		return hip_ret(err);
	}
	hip_kfd_alloc_memory(dev, (uint64_t)(uintptr_t)p, size);
	*ptr = p;
	return hipSuccess;
}

/* Like the real runtime, a free first waits for the device: queued work may still use the
 * memory (here: an effect not yet applied would write into freed memory). */
hipError_t hipFree(void *ptr)
{
	int dev;
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (!ptr)
		return hipSuccess;
	if (!forget(ptr, false, &dev))
		return hip_ret(hipErrorInvalidValue);
	hip_wait_device(dev);
	hip_kfd_free_memory((uint64_t)(uintptr_t)ptr);
	free(ptr);
	return hipSuccess;
}

hipError_t hipHostMalloc(void **ptr, size_t size, unsigned int flags)
{
	(void)flags; /* coherence and mapping flags change nothing for host memory here */
	if (!ptr)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	*ptr = NULL;
	if (size == 0)
		return hipSuccess;
	void *p = alloc_zeroed(size);
	if (!p)
		return hip_ret(hipErrorOutOfMemory);
	err = remember(p, size, -1);
	if (err != hipSuccess) {
		free(p);
		return hip_ret(err);
	}
	*ptr = p;
	return hipSuccess;
}

hipError_t hipHostFree(void *ptr)
{
	int dev;
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (!ptr)
		return hipSuccess;
	if (!forget(ptr, true, &dev))
		return hip_ret(hipErrorInvalidValue);
	for (int i = 0; i < hip_visible_count(); i++)
		hip_wait_device(hip_model_device(i));
	free(ptr);
	return hipSuccess;
}

/* ---- copies ---- */

static hipMemcpyKind infer_kind(void *dst, const void *src, size_t bytes, hipMemcpyKind kind)
{
	if (kind != hipMemcpyDefault)
		return kind;
	bool d = hip_is_device_ptr(dst, bytes), s = hip_is_device_ptr(src, bytes);
	return d ? (s ? hipMemcpyDeviceToDevice : hipMemcpyHostToDevice)
	         : (s ? hipMemcpyDeviceToHost : hipMemcpyHostToHost);
}

static hipError_t copy(void *dst, const void *src, size_t bytes, hipMemcpyKind kind,
                       hipStream_t stream, bool spt, bool sync)
{
	hipError_t err;
	if ((unsigned int)kind > hipMemcpyDefault)
		return hipErrorInvalidMemcpyDirection;
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return err;
	if (bytes == 0)
		return hipSuccess;
	if (!dst || !src)
		return hipErrorInvalidValue;
	struct hip_effect fx = { .kind = HIP_FX_COPY, .dst = dst, .src = src, .count = bytes };
	uint64_t id;
	err = hip_submit(s, SIMGPU_COPY, hip_copy_ns(infer_kind(dst, src, bytes, kind), bytes), &fx,
	                 &id);
	if (err == hipSuccess && sync)
		hip_wait_cmd(id);
	return err;
}

hipError_t hipMemcpy(void *dst, const void *src, size_t bytes, hipMemcpyKind kind)
{
	return hip_ret(copy(dst, src, bytes, kind, NULL, false, true));
}

hipError_t hipMemcpy_spt(void *dst, const void *src, size_t bytes, hipMemcpyKind kind)
{
	return hip_ret(copy(dst, src, bytes, kind, NULL, true, true));
}

hipError_t hipMemcpyAsync(void *dst, const void *src, size_t bytes, hipMemcpyKind kind,
                          hipStream_t stream)
{
	return hip_ret(copy(dst, src, bytes, kind, stream, false, false));
}

hipError_t hipMemcpyAsync_spt(void *dst, const void *src, size_t bytes, hipMemcpyKind kind,
                              hipStream_t stream)
{
	return hip_ret(copy(dst, src, bytes, kind, stream, true, false));
}

hipError_t hipMemcpyHtoD(hipDeviceptr_t dst, void *src, size_t bytes)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyHostToDevice, NULL, false, true));
}

hipError_t hipMemcpyDtoH(void *dst, hipDeviceptr_t src, size_t bytes)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyDeviceToHost, NULL, false, true));
}

hipError_t hipMemcpyDtoD(hipDeviceptr_t dst, hipDeviceptr_t src, size_t bytes)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyDeviceToDevice, NULL, false, true));
}

hipError_t hipMemcpyHtoDAsync(hipDeviceptr_t dst, void *src, size_t bytes, hipStream_t stream)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyHostToDevice, stream, false, false));
}

hipError_t hipMemcpyDtoHAsync(void *dst, hipDeviceptr_t src, size_t bytes, hipStream_t stream)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyDeviceToHost, stream, false, false));
}

hipError_t hipMemcpyDtoDAsync(hipDeviceptr_t dst, hipDeviceptr_t src, size_t bytes,
                              hipStream_t stream)
{
	return hip_ret(copy(dst, src, bytes, hipMemcpyDeviceToDevice, stream, false, false));
}

/* ---- memsets ---- */

static hipError_t fill(void *dst, uint32_t value, size_t count, unsigned int width,
                       hipStream_t stream, bool spt, bool sync)
{
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, spt, &err);
	if (!s)
		return err;
	if (count == 0)
		return hipSuccess;
	if (!dst || !hip_is_device_ptr(dst, (uint64_t)count * width))
		return hipErrorInvalidValue;
	struct hip_effect fx = {
		.kind = width == 1   ? HIP_FX_MEMSET8
		        : width == 2 ? HIP_FX_MEMSET16
		                     : HIP_FX_MEMSET32,
		.dst = dst,
		.count = count,
		.value = value,
	};
	uint64_t id;
	err = hip_submit(s, SIMGPU_MEMSET, hip_memset_ns((uint64_t)count * width), &fx, &id);
	if (err == hipSuccess && sync)
		hip_wait_cmd(id);
	return err;
}

hipError_t hipMemset(void *dst, int value, size_t bytes)
{
	return hip_ret(fill(dst, (uint32_t)value, bytes, 1, NULL, false, true));
}

hipError_t hipMemset_spt(void *dst, int value, size_t bytes)
{
	return hip_ret(fill(dst, (uint32_t)value, bytes, 1, NULL, true, true));
}

hipError_t hipMemsetAsync(void *dst, int value, size_t bytes, hipStream_t stream)
{
	return hip_ret(fill(dst, (uint32_t)value, bytes, 1, stream, false, false));
}

hipError_t hipMemsetD8(hipDeviceptr_t dst, unsigned char value, size_t count)
{
	return hip_ret(fill(dst, value, count, 1, NULL, false, true));
}

hipError_t hipMemsetD8Async(hipDeviceptr_t dst, unsigned char value, size_t count,
                            hipStream_t stream)
{
	return hip_ret(fill(dst, value, count, 1, stream, false, false));
}

hipError_t hipMemsetD16(hipDeviceptr_t dst, unsigned short value, size_t count)
{
	return hip_ret(fill(dst, value, count, 2, NULL, false, true));
}

hipError_t hipMemsetD16Async(hipDeviceptr_t dst, unsigned short value, size_t count,
                             hipStream_t stream)
{
	return hip_ret(fill(dst, value, count, 2, stream, false, false));
}

hipError_t hipMemsetD32(hipDeviceptr_t dst, int value, size_t count)
{
	return hip_ret(fill(dst, (uint32_t)value, count, 4, NULL, false, true));
}

hipError_t hipMemsetD32Async(hipDeviceptr_t dst, int value, size_t count, hipStream_t stream)
{
	return hip_ret(fill(dst, (uint32_t)value, count, 4, stream, false, false));
}
