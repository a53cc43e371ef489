/* SPDX-License-Identifier: MIT */
/*
 * Initialisation, the devices a process sees, and device queries.
 *
 * Visible devices follow ROCm's layering: ROCR_VISIBLE_DEVICES selects among the physical
 * (model) devices first, then HIP_VISIBLE_DEVICES (or, when that is unset,
 * CUDA_VISIBLE_DEVICES) selects among those. A list is comma-separated ordinals; it ends at
 * the first entry that is not a valid, unused ordinal, as the real runtimes do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

pthread_mutex_t hip_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static hipError_t init_error = hipErrorNotInitialized;
static int visible[SIMGPU_MAX_DEVICES]; /* HIP ordinal -> model device */
static int nvisible;
static __thread int current_ordinal;

/* Narrows list[0..*n) to the entries `spec` names. */
static void apply_visible(const char *spec, int *list, int *n)
{
	int out[SIMGPU_MAX_DEVICES], k = 0;
	const char *p = spec;

	while (*p && k < SIMGPU_MAX_DEVICES) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v >= *n)
			break;
		bool dup = false;
		for (int j = 0; j < k; j++)
			dup |= out[j] == list[v];
		if (dup)
			break;
		out[k++] = list[v];
		if (*end != ',')
			break;
		p = end + 1;
	}
	memcpy(list, out, sizeof(int) * (size_t)k);
	*n = k;
}

static void init(void)
{
	if (simgpu_attach() != 0) {
		init_error = hipErrorNoDevice;
		return;
	}
	const struct simgpu_config *cfg = simgpu_get_config();
	if (!cfg) {
		init_error = hipErrorNoDevice;
		return;
	}
	nvisible = (int)cfg->devices;
	for (int i = 0; i < nvisible; i++)
		visible[i] = i;
	const char *rocr = getenv("ROCR_VISIBLE_DEVICES");
	const char *hip = getenv("HIP_VISIBLE_DEVICES");
	if (!hip)
		hip = getenv("CUDA_VISIBLE_DEVICES");
	if (rocr)
		apply_visible(rocr, visible, &nvisible);
	if (hip)
		apply_visible(hip, visible, &nvisible);
	hip_kfd_open();
	init_error = hipSuccess;
}

hipError_t hip_ensure_init(void)
{
	pthread_once(&init_once, init);
	return init_error;
}

int hip_visible_count(void)
{
	return nvisible;
}

int hip_model_device(int ordinal)
{
	return ordinal >= 0 && ordinal < nvisible ? visible[ordinal] : -1;
}

int hip_current_ordinal(void)
{
	return current_ordinal;
}

int hip_current_device(void)
{
	return hip_model_device(current_ordinal);
}

hipError_t hipInit(unsigned int flags)
{
	if (flags != 0)
		return hip_ret(hipErrorInvalidValue);
	return hip_ret(hip_ensure_init());
}

hipError_t hipDriverGetVersion(int *version)
{
	if (!version)
		return hip_ret(hipErrorInvalidValue);
	*version = HIP_VERSION;
	return hipSuccess;
}

hipError_t hipRuntimeGetVersion(int *version)
{
	return hipDriverGetVersion(version);
}

hipError_t hipGetDeviceCount(int *count)
{
	if (!count)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	*count = err == hipSuccess ? nvisible : 0;
	if (err == hipSuccess && nvisible == 0)
		err = hipErrorNoDevice;
	return hip_ret(err);
}

hipError_t hipSetDevice(int ordinal)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (ordinal < 0 || ordinal >= nvisible)
		return hip_ret(hipErrorInvalidDevice);
	current_ordinal = ordinal;
	return hipSuccess;
}

hipError_t hipGetDevice(int *ordinal)
{
	if (!ordinal)
		return hip_ret(hipErrorInvalidValue);
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	*ordinal = current_ordinal;
	return hipSuccess;
}

/* The simulated device describes itself as a CDNA2-class GPU (an MI210's shape). */
#define SIM_CLOCK_KHZ   1700000
#define SIM_MEM_BYTES   (64ull << 30)
#define SIM_LDS_BYTES   65536
#define SIM_ARCH_MAJOR  9
#define SIM_ARCH_MINOR  0
#define SIM_WAVEFRONT   64
#define SIM_MAX_THREADS 1024

hipError_t hipDeviceGetAttribute(int *value, hipDeviceAttribute_t attr, int ordinal)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (!value)
		return hip_ret(hipErrorInvalidValue);
	if (ordinal < 0 || ordinal >= nvisible)
		return hip_ret(hipErrorInvalidDevice);
	switch (attr) {
	case hipDeviceAttributeMultiprocessorCount:
		*value = SIM_CUS;
		break;
	case hipDeviceAttributeMaxThreadsPerBlock:
	case hipDeviceAttributeMaxBlockDimX:
	case hipDeviceAttributeMaxBlockDimY:
	case hipDeviceAttributeMaxBlockDimZ:
		*value = SIM_MAX_THREADS;
		break;
	case hipDeviceAttributeMaxGridDimX:
	case hipDeviceAttributeMaxGridDimY:
	case hipDeviceAttributeMaxGridDimZ:
		*value = 0x7fffffff;
		break;
	case hipDeviceAttributeWarpSize:
		*value = SIM_WAVEFRONT;
		break;
	case hipDeviceAttributeComputeCapabilityMajor:
		*value = SIM_ARCH_MAJOR;
		break;
	case hipDeviceAttributeComputeCapabilityMinor:
		*value = SIM_ARCH_MINOR;
		break;
	case hipDeviceAttributeClockRate:
		*value = SIM_CLOCK_KHZ;
		break;
	case hipDeviceAttributeMaxSharedMemoryPerBlock:
		*value = SIM_LDS_BYTES;
		break;
	case hipDeviceAttributePciBusId:
		*value = hip_model_device(ordinal) + 1;
		break;
	case hipDeviceAttributePciDeviceId:
	case hipDeviceAttributePciDomainID:
		*value = 0;
		break;
	case hipDeviceAttributeConcurrentKernels:
		*value = 1;
		break;
	default:
		return hip_ret(hipErrorInvalidValue);
	}
	return hipSuccess;
}

hipError_t hipGetDeviceProperties(hipDeviceProp_t *prop, int ordinal)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (!prop)
		return hip_ret(hipErrorInvalidValue);
	if (ordinal < 0 || ordinal >= nvisible)
		return hip_ret(hipErrorInvalidDevice);
	memset(prop, 0, sizeof(*prop));
	snprintf(prop->name, sizeof(prop->name), "xsched simulated GPU %d (HIP)",
	         hip_model_device(ordinal));
	snprintf(prop->gcnArchName, sizeof(prop->gcnArchName), "gfx90a");
	prop->gcnArch = 910;
	prop->totalGlobalMem = SIM_MEM_BYTES;
	prop->sharedMemPerBlock = SIM_LDS_BYTES;
	prop->regsPerBlock = 65536;
	prop->warpSize = SIM_WAVEFRONT;
	prop->maxThreadsPerBlock = SIM_MAX_THREADS;
	for (int i = 0; i < 3; i++) {
		prop->maxThreadsDim[i] = SIM_MAX_THREADS;
		prop->maxGridSize[i] = 0x7fffffff;
	}
	prop->clockRate = SIM_CLOCK_KHZ;
	prop->memoryClockRate = 1600000;
	prop->memoryBusWidth = 4096;
	prop->totalConstMem = SIM_MEM_BYTES;
	prop->major = SIM_ARCH_MAJOR;
	prop->minor = SIM_ARCH_MINOR;
	prop->multiProcessorCount = SIM_CUS;
	prop->l2CacheSize = 8 << 20;
	prop->maxThreadsPerMultiProcessor = 2048;
	prop->concurrentKernels = 1;
	prop->pciBusID = hip_model_device(ordinal) + 1;
	prop->maxSharedMemoryPerMultiProcessor = SIM_LDS_BYTES;
	prop->canMapHostMemory = 1;
	prop->cooperativeLaunch = 1;
	prop->isLargeBar = 1;
	return hipSuccess;
}

/* ROCm's stream priorities: 1 (low), 0 (normal), -1 (high); lower is more urgent. */
hipError_t hipDeviceGetStreamPriorityRange(int *least, int *greatest)
{
	hipError_t err = hip_ensure_init();
	if (err != hipSuccess)
		return hip_ret(err);
	if (least)
		*least = 1;
	if (greatest)
		*greatest = -1;
	return hipSuccess;
}
