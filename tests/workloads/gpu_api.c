/* SPDX-License-Identifier: MIT */
/*
 * The vendor-independent part of the layer: picking the vendor table, loading the kernel
 * module into each device the process uses, and the launch shapes of the two kernels.
 */
#include "gpu_api.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_common.h"

/* The PTX of kernels.cu, embedded at build time (kernels_ptx.c, generated). */
extern const char wl_kernels_ptx[];

#define GPU_MAX_DEVICES 16

const struct gpu_ops *gpu;

static const void *module_image;
static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;
/* Modules are per device (per context on CUDA): loaded on first use of each device. */
static struct {
	bool loaded;
	gpu_module module;
	gpu_func spin, affine;
} devices[GPU_MAX_DEVICES];
static __thread int current_device = -1;

static void *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		wl_die("cannot open module %s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				wl_die("out of memory reading %s", path);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	bool failed = ferror(f);
	fclose(f);
	if (failed)
		wl_die("cannot read module %s", path);
	buf[len] = '\0'; /* PTX is text and must end with NUL; binaries don't mind */
	return buf;
}

void gpu_open(const char *prog, const struct gpu_options *opt)
{
	char why[512] = "";
	wl_prog = prog;
#ifdef WL_HAVE_HIP
	gpu = opt->vendor == GPU_VENDOR_HIP ? &gpu_hip_ops : &gpu_cuda_ops;
#else
	if (opt->vendor == GPU_VENDOR_HIP)
		wl_die("built without the HIP headers (libamdhip64-dev): --vendor hip unavailable");
	gpu = &gpu_cuda_ops;
#endif
	if (gpu->open(opt, why, sizeof(why)))
		wl_die("%s", why);
	module_image = opt->module_path ? read_file(opt->module_path) : wl_kernels_ptx;
}

int gpu_use_device(int dev)
{
	if (dev < 0 || dev >= GPU_MAX_DEVICES)
		return gpu->err_invalid_value;
	int rc = gpu->set_device(dev);
	if (rc)
		return rc;
	pthread_mutex_lock(&module_lock);
	if (!devices[dev].loaded) {
		gpu_module mod = NULL;
		rc = gpu->module_load(module_image, &mod);
		devices[dev].module = mod;
		if (!rc)
			rc = gpu->module_function(mod, "spin", &devices[dev].spin);
		if (!rc)
			rc = gpu->module_function(mod, "affine", &devices[dev].affine);
		devices[dev].loaded = rc == 0;
	}
	pthread_mutex_unlock(&module_lock);
	if (!rc)
		current_device = dev;
	return rc;
}

gpu_func gpu_kernel_spin(void)
{
	return current_device >= 0 ? devices[current_device].spin : NULL;
}

gpu_module gpu_current_module(void)
{
	return current_device >= 0 ? devices[current_device].module : NULL;
}

gpu_func gpu_kernel_affine(void)
{
	return current_device >= 0 ? devices[current_device].affine : NULL;
}

int gpu_launch_spin(gpu_stream s, uint64_t us)
{
	return gpu_launch_spin_grid(s, us, 1);
}

int gpu_launch_spin_grid(gpu_stream s, uint64_t us, unsigned int grid)
{
	unsigned long long arg = us;
	void *args[] = { &arg };
	return gpu->launch(gpu_kernel_spin(), grid, 1, s, args);
}

/* Enough blocks to cover n with 256 threads each, capped: the kernel is grid-stride. */
int gpu_launch_affine(gpu_stream s, gpu_ptr buf, uint32_t n, uint32_t a, uint32_t b, uint64_t us)
{
	unsigned long long dptr = buf, spin_us = us;
	unsigned int un = n, ua = a, ub = b;
	void *args[] = { &dptr, &un, &ua, &ub, &spin_us };
	unsigned int grid = (n + 255) / 256;
	if (grid == 0)
		grid = 1;
	if (grid > 64)
		grid = 64;
	return gpu->launch(gpu_kernel_affine(), grid, 256, s, args);
}

void gpu_check(int err, const char *what)
{
	if (err)
		wl_die("%s failed: %s (%d)", what, gpu->error_name(err), err);
}
