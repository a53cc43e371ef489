/* SPDX-License-Identifier: MIT */
/*
 * The kernels the simulated device knows, by the name given to cuModuleGetFunction. Their
 * parameters sit in a buffer laid out as the CUDA ABI lays out kernel arguments (each at its
 * natural alignment), which is also what CU_LAUNCH_PARAM_BUFFER_POINTER passes.
 */
#include "cuda_sim.h"

#include <string.h>

static uint64_t u64_at(const uint8_t *p, unsigned int off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t u32_at(const uint8_t *p, unsigned int off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* spin(unsigned long long us) */
static uint64_t spin_ns(const uint8_t *p)
{
	return u64_at(p, 0) * 1000;
}

/* affine(unsigned int *buf, unsigned int n, unsigned int a, unsigned int b,
 *        unsigned long long us): buf[i] = buf[i] * a + b for i < n */
static uint64_t affine_ns(const uint8_t *p)
{
	return u64_at(p, 24) * 1000;
}

static bool affine_check(const uint8_t *p)
{
	return cs_dev_range((void *)(uintptr_t)u64_at(p, 0), (size_t)u32_at(p, 8) * 4);
}

static void affine_run(const uint8_t *p)
{
	uint32_t *buf = (uint32_t *)(uintptr_t)u64_at(p, 0);
	uint32_t n = u32_at(p, 8), a = u32_at(p, 12), b = u32_at(p, 16);

	for (uint32_t i = 0; i < n; i++)
		buf[i] = buf[i] * a + b;
}

const struct kdesc cs_kernels[] = {
	{
	        .name = "spin",
	        .nparams = 1,
	        .size = { 8 },
	        .off = { 0 },
	        .bytes = 8,
	        .duration_ns = spin_ns,
	},
	{
	        .name = "affine",
	        .nparams = 5,
	        .size = { 8, 4, 4, 4, 8 },
	        .off = { 0, 8, 12, 16, 24 },
	        .bytes = 32,
	        .duration_ns = affine_ns,
	        .run = affine_run,
	        .check = affine_check,
	},
};

const unsigned int cs_nkernels = sizeof(cs_kernels) / sizeof(cs_kernels[0]);

const struct kdesc *cs_kernel_find(const char *name)
{
	for (unsigned int i = 0; i < cs_nkernels; i++)
		if (!strcmp(cs_kernels[i].name, name))
			return &cs_kernels[i];
	return NULL;
}
