/* SPDX-License-Identifier: MIT */
/*
 * GPU utilisation for top's headers, from NVML (libnvidia-ml.so.1) or ROCm SMI
 * (librocm_smi64.so), loaded at run time with dlopen: neither is needed to build or run.
 * A protocol GPU record is matched to an NVML device by its UUID (the shim records
 * cuDeviceGetUuid's bytes, which NVML prints as GPU-xxxxxxxx-...); ROCm SMI has no UUID the
 * HIP runtime shares, so it is used only when the machine and the segment both have exactly
 * one GPU. Anything unmatched shows no utilisation rather than a guess.
 */
#ifndef XSCHED_TOP_GPU_UTIL_H
#define XSCHED_TOP_GPU_UTIL_H

struct gpu_util;

/* Load whichever library exists and map the protocol segment's GPU records (read-only).
 * NULL when neither library is present. */
struct gpu_util *gpu_util_open(const char *shm_name);
/* Utilisation of protocol GPU record `gpu` in percent, -1 when unknown. */
int gpu_util_get(struct gpu_util *u, int gpu);
/* "NVML", "ROCm SMI" or NULL. */
const char *gpu_util_source(const struct gpu_util *u);
void gpu_util_close(struct gpu_util *u);

#endif
