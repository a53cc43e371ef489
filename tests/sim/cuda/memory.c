/* SPDX-License-Identifier: MIT */
/*
 * Device memory is host memory of the owning process (a CUdeviceptr is its address).
 * Copies and memsets are device commands whose effect is applied when the model completes
 * them; host-to-device copies read their source at the call, as a staging copy would.
 */
#include "cuda_sim.h"

#include <stdlib.h>
#include <string.h>

#define DEVICE_MEM (80ull << 30)
#define ALIGN      256

struct alloc {
	uintptr_t base;
	size_t size;
	bool host;
};

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct alloc *allocs;
static size_t nallocs, cap_allocs;
static uint64_t dev_used;

static int find_alloc(uintptr_t p, size_t bytes, bool host)
{
	for (size_t i = 0; i < nallocs; i++) {
		const struct alloc *a = &allocs[i];

		if (a->host == host && p >= a->base && p - a->base <= a->size &&
		    bytes <= a->size - (p - a->base))
			return (int)i;
	}
	return -1;
}

bool cs_dev_range(const void *p, size_t bytes)
{
	pthread_mutex_lock(&mem_lock);
	bool ok = find_alloc((uintptr_t)p, bytes, false) >= 0;

	pthread_mutex_unlock(&mem_lock);
	return ok;
}

static CUresult track(void *p, size_t size, bool host)
{
	pthread_mutex_lock(&mem_lock);
	if (!host && dev_used + size > DEVICE_MEM) {
		pthread_mutex_unlock(&mem_lock);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (nallocs == cap_allocs) {
		size_t ncap = cap_allocs ? cap_allocs * 2 : 64;
		struct alloc *n = realloc(allocs, ncap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&mem_lock);
			return CUDA_ERROR_OUT_OF_MEMORY;
		}
		allocs = n;
		cap_allocs = ncap;
	}
	allocs[nallocs++] = (struct alloc){ (uintptr_t)p, size, host };
	if (!host)
		dev_used += size;
	pthread_mutex_unlock(&mem_lock);
	return CUDA_SUCCESS;
}

/* Remove the allocation starting at p; false if there is none. */
static bool untrack(uintptr_t p, bool host)
{
	bool found = false;

	pthread_mutex_lock(&mem_lock);
	for (size_t i = 0; i < nallocs; i++) {
		if (allocs[i].base == p && allocs[i].host == host) {
			if (!host)
				dev_used -= allocs[i].size;
			allocs[i] = allocs[--nallocs];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&mem_lock);
	return found;
}

static CUresult alloc_common(void **out, size_t size, bool host)
{
	void *p;
	CUresult r = cs_enter();

	if (r)
		return r;
	r = cs_ctx_check(cs_current());
	if (r)
		return r;
	if (!out || !size)
		return CUDA_ERROR_INVALID_VALUE;
	if (cs_capture_forbids_unsafe())
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	/* The exact check, against what is in use, is track()'s, under the lock. */
	if (!host && size > DEVICE_MEM)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (posix_memalign(&p, ALIGN, size))
		return CUDA_ERROR_OUT_OF_MEMORY;
	memset(p, 0, size);
	r = track(p, size, host);
	if (r) {
		free(p);
		return r;
	}
	*out = p;
	return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
	void *p = NULL;
	CUresult r = alloc_common(dptr ? &p : NULL, bytesize, false);

	if (!r)
		*dptr = (CUdeviceptr)(uintptr_t)p;
	return r;
}

/* Freeing waits for the device, as the real cuMemFree does, so that no queued command
 * touches the memory afterwards. */
static void wait_all_devices(void)
{
	for (int d = 0; d < cs_g.devices; d++)
		simgpu_wait_device(d);
	cs_drain();
}

CUresult cuMemFree_v2(CUdeviceptr dptr)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!dptr)
		return CUDA_SUCCESS;
	if (cs_capture_forbids_unsafe())
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	pthread_mutex_lock(&mem_lock);
	bool known = find_alloc((uintptr_t)dptr, 0, false) >= 0;

	pthread_mutex_unlock(&mem_lock);
	if (!known)
		return CUDA_ERROR_INVALID_VALUE;
	wait_all_devices();
	if (!untrack((uintptr_t)dptr, false))
		return CUDA_ERROR_INVALID_VALUE;
	free((void *)(uintptr_t)dptr);
	return CUDA_SUCCESS;
}

CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
	return alloc_common(pp, bytesize, true);
}

CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int flags)
{
	if (flags & ~(unsigned int)(CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP |
	                            CU_MEMHOSTALLOC_WRITECOMBINED))
		return CUDA_ERROR_INVALID_VALUE;
	return alloc_common(pp, bytesize, true);
}

CUresult cuMemFreeHost(void *p)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (cs_capture_forbids_unsafe())
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	wait_all_devices();
	if (!untrack((uintptr_t)p, true))
		return CUDA_ERROR_INVALID_VALUE;
	free(p);
	return CUDA_SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	r = cs_ctx_check(cs_current());
	if (r)
		return r;
	if (!free_bytes || !total)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&mem_lock);
	*free_bytes = DEVICE_MEM - dev_used;
	*total = DEVICE_MEM;
	pthread_mutex_unlock(&mem_lock);
	return CUDA_SUCCESS;
}

enum dir {
	HTOD,
	DTOH,
	DTOD,
	ANY, /* cuMemcpy: unified addressing decides */
};

/* One copy or memset on a stream; `sync` waits for it (and its effect) before returning. */
static CUresult enqueue(struct gop *op, CUstream h, bool ptds, bool sync)
{
	struct cu_stream *st;
	uint64_t last = 0;
	CUresult r = cs_enter();

	if (r) {
		gop_release(op);
		return r;
	}
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r && st->cap) {
		if (sync) {
			st->cap->invalidated = true;
			r = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
		} else {
			r = cs_graph_append(st->cap->graph, op, 1);
			if (!r)
				op = NULL; /* the graph owns it now */
		}
		pthread_mutex_unlock(&cs_g.lock);
		if (op)
			gop_release(op);
		return r;
	}
	if (!r) {
		r = cs_submit_ops(st, op, 1);
		last = st->last;
	} else {
		gop_release(op);
	}
	pthread_mutex_unlock(&cs_g.lock);
	if (!r && sync)
		r = cs_wait_cmd(last);
	return r;
}

static CUresult copy(enum dir dir, void *dst, const void *src, size_t bytes, CUstream h, bool ptds,
                     bool async)
{
	struct gop op = { .kind = GOP_COPY, .duration_ns = cs_copy_ns(bytes) };
	bool sync = !async;

	if (!cs_initialized())
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!bytes)
		return CUDA_SUCCESS;
	if (!dst || !src)
		return CUDA_ERROR_INVALID_VALUE;
	if (dir == ANY) {
		bool dd = cs_dev_range(dst, bytes), sd = cs_dev_range(src, bytes);

		dir = dd && sd ? DTOD : dd ? HTOD : sd ? DTOH : DTOD;
		if (!dd && !sd)
			return CUDA_ERROR_INVALID_VALUE;
	}
	switch (dir) {
	case HTOD:
		if (!cs_dev_range(dst, bytes))
			return CUDA_ERROR_INVALID_VALUE;
		op.kind = GOP_COPY_SNAP;
		op.copy.snap = malloc(bytes);
		if (!op.copy.snap)
			return CUDA_ERROR_OUT_OF_MEMORY;
		memcpy(op.copy.snap, src, bytes);
		break;
	case DTOH:
		if (!cs_dev_range(src, bytes))
			return CUDA_ERROR_INVALID_VALUE;
		break;
	case DTOD:
	case ANY:
		if (!cs_dev_range(src, bytes) || !cs_dev_range(dst, bytes))
			return CUDA_ERROR_INVALID_VALUE;
		/* Device to device is asynchronous even in its "synchronous" form. */
		sync = false;
		break;
	}
	op.copy.dst = dst;
	op.copy.src = src;
	op.copy.bytes = bytes;
	return enqueue(&op, h, ptds, sync);
}

static CUresult memset_common(CUdeviceptr dst, uint32_t value, size_t n, bool wide, CUstream h,
                              bool ptds)
{
	size_t bytes = wide ? n * 4 : n;
	struct gop op = {
		.kind = wide ? GOP_MEMSET32 : GOP_MEMSET8,
		.duration_ns = cs_copy_ns(bytes),
		.memset = { (void *)(uintptr_t)dst, value, n },
	};

	if (!cs_initialized())
		return CUDA_ERROR_NOT_INITIALIZED;
	if (wide && (dst & 3))
		return CUDA_ERROR_INVALID_VALUE;
	if (n && !cs_dev_range((void *)(uintptr_t)dst, bytes))
		return CUDA_ERROR_INVALID_VALUE;
	return enqueue(&op, h, ptds, false);
}

#define DPTR(x) ((void *)(uintptr_t)(x))

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n)
{
	return copy(HTOD, DPTR(dst), src, n, NULL, false, false);
}

CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dst, const void *src, size_t n)
{
	return copy(HTOD, DPTR(dst), src, n, NULL, true, false);
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n)
{
	return copy(DTOH, dst, DPTR(src), n, NULL, false, false);
}

CUresult cuMemcpyDtoH_v2_ptds(void *dst, CUdeviceptr src, size_t n)
{
	return copy(DTOH, dst, DPTR(src), n, NULL, true, false);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return copy(DTOD, DPTR(dst), DPTR(src), n, NULL, false, false);
}

CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return copy(DTOD, DPTR(dst), DPTR(src), n, NULL, true, false);
}

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return copy(ANY, DPTR(dst), DPTR(src), n, NULL, false, false);
}

CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return copy(ANY, DPTR(dst), DPTR(src), n, NULL, true, false);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream s)
{
	return copy(HTOD, DPTR(dst), src, n, s, false, true);
}

CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dst, const void *src, size_t n, CUstream s)
{
	return copy(HTOD, DPTR(dst), src, n, s, true, true);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(DTOH, dst, DPTR(src), n, s, false, true);
}

CUresult cuMemcpyDtoHAsync_v2_ptsz(void *dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(DTOH, dst, DPTR(src), n, s, true, true);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(DTOD, DPTR(dst), DPTR(src), n, s, false, true);
}

CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(DTOD, DPTR(dst), DPTR(src), n, s, true, true);
}

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(ANY, DPTR(dst), DPTR(src), n, s, false, true);
}

CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy(ANY, DPTR(dst), DPTR(src), n, s, true, true);
}

CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char uc, size_t n)
{
	return memset_common(dst, uc, n, false, NULL, false);
}

CUresult cuMemsetD8_v2_ptds(CUdeviceptr dst, unsigned char uc, size_t n)
{
	return memset_common(dst, uc, n, false, NULL, true);
}

CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int ui, size_t n)
{
	return memset_common(dst, ui, n, true, NULL, false);
}

CUresult cuMemsetD32_v2_ptds(CUdeviceptr dst, unsigned int ui, size_t n)
{
	return memset_common(dst, ui, n, true, NULL, true);
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char uc, size_t n, CUstream s)
{
	return memset_common(dst, uc, n, false, s, false);
}

CUresult cuMemsetD8Async_ptsz(CUdeviceptr dst, unsigned char uc, size_t n, CUstream s)
{
	return memset_common(dst, uc, n, false, s, true);
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s)
{
	return memset_common(dst, ui, n, true, s, false);
}

CUresult cuMemsetD32Async_ptsz(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s)
{
	return memset_common(dst, ui, n, true, s, true);
}
