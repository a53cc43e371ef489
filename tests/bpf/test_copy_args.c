// SPDX-License-Identifier: MIT
/*
 * The memory-command probes read the stream from the argument position their cookie names
 * (userspace/observer/probes.c). The simulated libraries exercise only some positions, so
 * this checks every one against the vendors' own headers: each prototype below must be the
 * one cuda.h (and hip_runtime_api.h, when built with it) declares, and the probe table must
 * name the stream's position in it for the symbol and its per-thread forms. Every
 * memory-command probe in the table must be checked here, and every symbol here probed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cuda.h>
#ifdef XOBS_TEST_HIP
#include <hip/hip_runtime_api.h>
#endif

#include "probes.h"
#include "xobs_types.h"

/* A symbol whose stream is argument `pos` of the prototype `type`. */
#define SAME(fn, type) __builtin_types_compatible_p(__typeof__(&fn), type)
#define ARG(fn, pos, type)                                                                         \
	{                                                                                          \
#fn, pos, SAME(fn, type)                                                           \
	}

struct known {
	const char *sym;
	unsigned int pos;
	bool matches_header;
};

typedef CUdeviceptr DP;

static const struct known cuda_known[] = {
	ARG(cuMemcpyAsync, 4, CUresult (*)(DP, DP, size_t, CUstream)),
	ARG(cuMemcpyHtoDAsync_v2, 4, CUresult (*)(DP, const void *, size_t, CUstream)),
	ARG(cuMemcpyDtoHAsync_v2, 4, CUresult (*)(void *, DP, size_t, CUstream)),
	ARG(cuMemcpyDtoDAsync_v2, 4, CUresult (*)(DP, DP, size_t, CUstream)),
	ARG(cuMemcpyPeerAsync, 6, CUresult (*)(DP, CUcontext, DP, CUcontext, size_t, CUstream)),
	ARG(cuMemcpy2DAsync_v2, 2, CUresult (*)(const CUDA_MEMCPY2D *, CUstream)),
	ARG(cuMemcpy3DAsync_v2, 2, CUresult (*)(const CUDA_MEMCPY3D *, CUstream)),
	ARG(cuMemsetD8Async, 4, CUresult (*)(DP, unsigned char, size_t, CUstream)),
	ARG(cuMemsetD16Async, 4, CUresult (*)(DP, unsigned short, size_t, CUstream)),
	ARG(cuMemsetD32Async, 4, CUresult (*)(DP, unsigned int, size_t, CUstream)),
	ARG(cuMemsetD2D8Async, 6,
	    CUresult (*)(DP, size_t, unsigned char, size_t, size_t, CUstream)),
	ARG(cuMemsetD2D16Async, 6,
	    CUresult (*)(DP, size_t, unsigned short, size_t, size_t, CUstream)),
	ARG(cuMemsetD2D32Async, 6,
	    CUresult (*)(DP, size_t, unsigned int, size_t, size_t, CUstream)),
};

#ifdef XOBS_TEST_HIP
typedef hipDeviceptr_t HP;

/* The _spt forms share their base prototype (hip_runtime_api.h declares them only for
 * HIP_API_PER_THREAD_DEFAULT_STREAM builds). */
static const struct known hip_known[] = {
	ARG(hipMemcpyAsync, 5,
	    hipError_t (*)(void *, const void *, size_t, hipMemcpyKind, hipStream_t)),
	ARG(hipMemcpyHtoDAsync, 4, hipError_t (*)(HP, void *, size_t, hipStream_t)),
	ARG(hipMemcpyDtoHAsync, 4, hipError_t (*)(void *, HP, size_t, hipStream_t)),
	ARG(hipMemcpyDtoDAsync, 4, hipError_t (*)(HP, HP, size_t, hipStream_t)),
	ARG(hipMemcpyPeerAsync, 6,
	    hipError_t (*)(void *, int, const void *, int, size_t, hipStream_t)),
	ARG(hipMemcpy2DAsync, 8,
	    hipError_t (*)(void *, size_t, const void *, size_t, size_t, size_t, hipMemcpyKind,
	                   hipStream_t)),
	ARG(hipMemsetAsync, 4, hipError_t (*)(void *, int, size_t, hipStream_t)),
	ARG(hipMemsetD8Async, 4, hipError_t (*)(HP, unsigned char, size_t, hipStream_t)),
	ARG(hipMemsetD16Async, 4, hipError_t (*)(HP, unsigned short, size_t, hipStream_t)),
	ARG(hipMemsetD32Async, 4, hipError_t (*)(HP, int, size_t, hipStream_t)),
};
#endif

/* The checked symbol `sym` belongs to: itself, or the base of a per-thread form. */
static const struct known *find(const struct known *k, size_t n, const char *sym, bool *pt,
                                bool *exact)
{
	static const char *const suffixes[] = { "_ptsz", "_spt" };

	*pt = false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(k[i].sym);

		if (strncmp(sym, k[i].sym, len) != 0)
			continue;
		*exact = sym[len] == 0;
		if (*exact)
			return &k[i];
		for (size_t s = 0; s < 2; s++)
			if (strcmp(sym + len, suffixes[s]) == 0) {
				*pt = true;
				return &k[i];
			}
	}
	return NULL;
}

static void check_table(enum runtime rt, const struct known *k, size_t nk)
{
	size_t n;
	const struct probe_spec *specs = probe_specs(rt, &n);
	bool probed[32] = { false };

	for (size_t i = 0; i < nk; i++) {
		print_message("%s: stream is argument %u\n", k[i].sym, k[i].pos);
		assert_true(k[i].matches_header);
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_spec *sp = &specs[i];
		const struct known *c;
		bool pt, exact;

		if (sp->prog != PROG_COPY)
			continue;
		c = find(k, nk, sp->sym, &pt, &exact);
		if (!c)
			fail_msg("%s: a memory-command probe not checked against the header",
			         sp->sym);
		assert_int_equal((sp->cookie >> XOBS_CK_STREAM_ARG_SHIFT) & XOBS_CK_STREAM_ARG_MASK,
		                 c->pos);
		assert_int_equal(!!(sp->cookie & XOBS_CK_PER_THREAD), pt);
		assert_int_equal(!!(sp->cookie & XOBS_CK_HIP), rt == RUNTIME_HIP);
		/* Called at command rate: per process, like launches, and no return probe. */
		assert_true(sp->per_process);
		assert_false(sp->ret);
		if (exact)
			probed[c - k] = true;
	}
	assert_true(nk <= sizeof(probed) / sizeof(probed[0]));
	for (size_t i = 0; i < nk; i++)
		if (!probed[i])
			fail_msg("%s: checked here but not probed", k[i].sym);
}

static void test_cuda(void **state)
{
	(void)state;
	check_table(RUNTIME_CUDA, cuda_known, sizeof(cuda_known) / sizeof(cuda_known[0]));
}

#ifdef XOBS_TEST_HIP
static void test_hip(void **state)
{
	(void)state;
	check_table(RUNTIME_HIP, hip_known, sizeof(hip_known) / sizeof(hip_known[0]));
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cuda),
#ifdef XOBS_TEST_HIP
		cmocka_unit_test(test_hip),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
