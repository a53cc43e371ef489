/* SPDX-License-Identifier: MIT */
/*
 * Initialisation, devices and contexts. Each simulated device has a primary context; a
 * context's legacy default stream is the process's default stream on that device in the
 * model.
 */
#include "cuda_sim.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEVICE_NAME "xsched simulated GPU"
#define DEVICE_MEM  (80ull << 30)

static void open_ctl(void)
{
	const char *name = getenv("XSCHED_SIM_NAME");
	char path[512];

	snprintf(path, sizeof(path), "/dev/shm/%s.nvidiactl",
	         name && *name ? name : "xsched-simgpu");
	cs_g.ctl_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
}

CUresult cuInit(unsigned int flags)
{
	CUresult r = CUDA_SUCCESS;

	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	if (!cs_g.initialized) {
		const struct simgpu_config *cfg;

		if (simgpu_attach() || !(cfg = simgpu_get_config())) {
			r = CUDA_ERROR_NO_DEVICE;
			goto out;
		}
		cs_g.devices = (int)cfg->devices;
		for (int d = 0; d < cs_g.devices; d++) {
			struct cu_ctx *ctx = calloc(1, sizeof(*ctx));

			if (!ctx) {
				r = CUDA_ERROR_OUT_OF_MEMORY;
				goto out;
			}
			ctx->dev = d;
			ctx->primary = true;
			ctx->id = ++cs_g.next_id;
			reg_add(ctx, OBJ_CTX);
			cs_g.primary[d] = ctx;
		}
		if (cs_g.ctl_fd < 0)
			open_ctl();
		__atomic_store_n(&cs_g.initialized, true, __ATOMIC_RELEASE);
	}
out:
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuDriverGetVersion(int *version)
{
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = SIM_DRIVER_VERSION;
	return CUDA_SUCCESS;
}

static CUresult dev_check(CUdevice dev)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	return dev >= 0 && dev < cs_g.devices ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	if (ordinal < 0 || ordinal >= cs_g.devices)
		return CUDA_ERROR_INVALID_DEVICE;
	*device = ordinal;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!count)
		return CUDA_ERROR_INVALID_VALUE;
	*count = cs_g.devices;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!name || len <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(name, (size_t)len, "%s", DEVICE_NAME);
	return CUDA_SUCCESS;
}

static CUresult device_uuid(CUuuid *uuid, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!uuid)
		return CUDA_ERROR_INVALID_VALUE;
	/* Stable per device: "xsched-sim-gpu" and the ordinal. */
	memcpy(uuid->bytes, "xsched-sim-gpu\0", 16);
	uuid->bytes[15] = (char)dev;
	return CUDA_SUCCESS;
}

/* Exported names never call each other: a preloaded interposer would see one call twice. */
CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
	return device_uuid(uuid, dev);
}

CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev)
{
	return device_uuid(uuid, dev);
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!bytes)
		return CUDA_ERROR_INVALID_VALUE;
	*bytes = DEVICE_MEM;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetPCIBusId(char *bus, int len, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!bus || len <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(bus, (size_t)len, "00000000:%02X:00.0", 0x18 + dev);
	return CUDA_SUCCESS;
}

CUresult cuDeviceCanAccessPeer(int *can, CUdevice dev, CUdevice peer)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!can)
		return CUDA_ERROR_INVALID_VALUE;
	if (peer < 0 || peer >= cs_g.devices)
		return CUDA_ERROR_INVALID_DEVICE;
	*can = 0;
	return CUDA_SUCCESS;
}

/* An H100 SXM's values for what programs commonly ask; other valid attributes read 0. */
CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
	CUresult r = dev_check(dev);
	int v = 0;

	if (r)
		return r;
	if (!pi || attrib <= 0 || attrib >= CU_DEVICE_ATTRIBUTE_MAX)
		return CUDA_ERROR_INVALID_VALUE;
	switch (attrib) {
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X:
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y:
		v = 1024;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z:
		v = 64;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X:
		v = 2147483647;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
	case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z:
		v = 65535;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
		v = 49152;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
		v = 232448;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR:
		v = 233472;
		break;
	case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY:
		v = 65536;
		break;
	case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
		v = 32;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
	case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR:
		v = 65536;
		break;
	case CU_DEVICE_ATTRIBUTE_CLOCK_RATE:
		v = 1980000;
		break;
	case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE:
		v = 2619000;
		break;
	case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH:
		v = 5120;
		break;
	case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
		v = 52428800;
		break;
	case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
		v = 132;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
		v = 2048;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR:
		v = 32;
		break;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
		v = 9;
		break;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
		v = 0;
		break;
	case CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT:
		v = 3;
		break;
	case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID:
		v = 0x18 + dev;
		break;
	case CU_DEVICE_ATTRIBUTE_GPU_OVERLAP:
	case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY:
	case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS:
	case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING:
	case CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED:
	case CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED:
	case CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED:
	case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH:
	case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED:
		v = 1;
		break;
	default:
		break;
	}
	*pi = v;
	return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	struct cu_ctx *ctx = cs_g.primary[dev];

	if (!ctx->active)
		cs_ctx_activate(ctx);
	ctx->prim_refs++;
	pthread_mutex_unlock(&cs_g.lock);
	*pctx = (CUcontext)ctx;
	return CUDA_SUCCESS;
}

/* Waits for the context's work first: a released or reset primary context has none. */
static CUresult primary_drop(CUdevice dev, bool reset)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	struct cu_ctx *ctx = cs_g.primary[dev];

	if (!reset && !ctx->prim_refs) {
		pthread_mutex_unlock(&cs_g.lock);
		return CUDA_ERROR_INVALID_CONTEXT;
	}
	bool last = reset || ctx->prim_refs == 1;

	pthread_mutex_unlock(&cs_g.lock);
	if (last) {
		simgpu_wait_device(dev);
		cs_drain();
	}
	pthread_mutex_lock(&cs_g.lock);
	if (reset)
		ctx->prim_refs = 0;
	else if (ctx->prim_refs)
		ctx->prim_refs--;
	if (!ctx->prim_refs)
		ctx->active = false;
	pthread_mutex_unlock(&cs_g.lock);
	return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	return primary_drop(dev, false);
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return primary_drop(dev, false);
}

CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	return primary_drop(dev, true);
}

CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
	return primary_drop(dev, true);
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!flags || !active)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	*flags = cs_g.primary[dev]->flags;
	*active = cs_g.primary[dev]->active;
	pthread_mutex_unlock(&cs_g.lock);
	return CUDA_SUCCESS;
}

static CUresult primary_set_flags(CUdevice dev, unsigned int flags)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (flags & ~0x1fu)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cs_g.lock);
	cs_g.primary[dev]->flags = flags;
	pthread_mutex_unlock(&cs_g.lock);
	return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
	return primary_set_flags(dev, flags);
}

CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags)
{
	return primary_set_flags(dev, flags);
}

static CUresult ctx_create(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	CUresult r = dev_check(dev);

	if (r)
		return r;
	if (!pctx || (flags & ~0x1fu))
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&cs_g.lock);
	ctx->dev = dev;
	ctx->flags = flags;
	ctx->id = ++cs_g.next_id;
	cs_ctx_activate(ctx);
	reg_add(ctx, OBJ_CTX);
	pthread_mutex_unlock(&cs_g.lock);
	r = cs_ctx_push(ctx);
	if (r)
		return r;
	*pctx = (CUcontext)ctx;
	return CUDA_SUCCESS;
}

CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params, unsigned int flags,
                        CUdevice dev)
{
	(void)params; /* affinity and CIG parameters do not change a simulated device */
	return ctx_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params, int n, unsigned int flags,
                        CUdevice dev)
{
	(void)params;
	(void)n;
	return ctx_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	return ctx_create(pctx, flags, dev);
}

CUresult cuCtxDestroy_v2(CUcontext h)
{
	struct cu_ctx *ctx = (struct cu_ctx *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!reg_has(ctx, OBJ_CTX) || ctx->primary)
		return CUDA_ERROR_INVALID_CONTEXT;
	simgpu_wait_device(ctx->dev);
	cs_drain();
	pthread_mutex_lock(&cs_g.lock);
	while (ctx->streams)
		cs_stream_free(ctx->streams);
	reg_del(ctx);
	pthread_mutex_unlock(&cs_g.lock);
	cs_ctx_forget(ctx);
	free(ctx);
	return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext h)
{
	struct cu_ctx *ctx = (struct cu_ctx *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (ctx && !reg_has(ctx, OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	cs_ctx_set(ctx);
	return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = (CUcontext)cs_current();
	return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent_v2(CUcontext h)
{
	struct cu_ctx *ctx = (struct cu_ctx *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!reg_has(ctx, OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	return cs_ctx_push(ctx);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!cs_current())
		return CUDA_ERROR_INVALID_CONTEXT;
	struct cu_ctx *ctx = cs_ctx_pop();

	if (pctx)
		*pctx = (CUcontext)ctx;
	return CUDA_SUCCESS;
}

static CUresult ctx_or_current(CUcontext h, struct cu_ctx **out)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	*out = h ? (struct cu_ctx *)h : cs_current();
	return cs_ctx_check(*out);
}

CUresult cuCtxGetDevice(CUdevice *device)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(NULL, &ctx);

	if (r)
		return r;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	*device = ctx->dev;
	return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext h)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(h, &ctx);

	if (r)
		return r;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	*device = ctx->dev;
	return CUDA_SUCCESS;
}

static CUresult ctx_sync(struct cu_ctx *ctx)
{
	if (cs_capture_forbids_unsafe())
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	cs_ioctl_wait();
	simgpu_wait_device(ctx->dev);
	cs_drain();
	return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize(void)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(NULL, &ctx);

	return r ? r : ctx_sync(ctx);
}

CUresult cuCtxSynchronize_v2(CUcontext h)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(h, &ctx);

	return r ? r : ctx_sync(ctx);
}

CUresult cuCtxGetStreamPriorityRange(int *least, int *greatest)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(NULL, &ctx);

	if (r)
		return r;
	if (least)
		*least = SIM_PRIO_LEAST;
	if (greatest)
		*greatest = SIM_PRIO_GREATEST;
	return CUDA_SUCCESS;
}

CUresult cuCtxGetFlags(unsigned int *flags)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(NULL, &ctx);

	if (r)
		return r;
	if (!flags)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = ctx->flags;
	return CUDA_SUCCESS;
}

CUresult cuCtxGetApiVersion(CUcontext h, unsigned int *version)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(h, &ctx);

	if (r)
		return r;
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = 3020; /* every context made through the _v2 API onwards reports this */
	return CUDA_SUCCESS;
}

CUresult cuCtxGetId(CUcontext h, unsigned long long *id)
{
	struct cu_ctx *ctx;
	CUresult r = ctx_or_current(h, &ctx);

	if (r)
		return r;
	if (!id)
		return CUDA_ERROR_INVALID_VALUE;
	*id = ctx->id;
	return CUDA_SUCCESS;
}
