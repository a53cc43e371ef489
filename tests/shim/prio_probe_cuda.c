/* SPDX-License-Identifier: MIT */
/*
 * Stream priorities through the CUDA driver API, under the shim (see prio_probe.h).
 *
 *   xs_prio_probe_cuda --band none | --band HI LO  [--mps]
 *
 * Streams are created with cuStreamCreateWithPriority for every priority of the context's
 * range and with cuStreamCreate, each reached three ways: the exported symbol (global
 * lookup), dlsym on the driver's handle, and cuGetProcAddress_v2. Their priorities are read
 * back with cuStreamGetPriority. --mps: the slot must report the MPS client priority too;
 * without it, the device time-sliced (no MPS server).
 */
#include <cuda.h>
#include <dlfcn.h>

#include "prio_probe.h"

typedef CUresult (*create_fn)(CUstream *, unsigned int);
typedef CUresult (*create_prio_fn)(CUstream *, unsigned int, int);
typedef CUresult (*get_prio_fn)(CUstream, int *);
typedef CUresult (*proc_fn)(const char *, void **, int, cuuint64_t,
                            CUdriverProcAddressQueryResult *);

static void *lib;
static proc_fn proc;

static void *lookup(int how, const char *name)
{
	void *fn = NULL;
	if (how == 0)
		fn = dlsym(RTLD_DEFAULT, name);
	else if (how == 1)
		fn = dlsym(lib, name);
	else if (proc(name, &fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, NULL) != CUDA_SUCCESS)
		fn = NULL;
	return fn;
}

int main(int argc, char **argv)
{
	struct band b = { 0 };
	int i = 1;
	bool ok = parse_band(argc, argv, &i, &b), mps = false;
	if (ok && i < argc && !strcmp(argv[i], "--mps")) {
		mps = true;
		i++;
	}
	if (!ok || i != argc) {
		fprintf(stderr, "usage: xs_prio_probe_cuda --band none | --band HI LO [--mps]\n");
		return 2;
	}
	lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
	proc = lib ? (proc_fn)dlsym(lib, "cuGetProcAddress_v2") : NULL;
	CUresult (*init)(unsigned int) = lib ? (CUresult(*)(unsigned int))dlsym(lib, "cuInit") : 0;
	CUresult (*ctx_create)(CUcontext *, unsigned int, CUdevice) =
	        lib ? (CUresult(*)(CUcontext *, unsigned int, CUdevice))dlsym(lib, "cuCtxCreate_v2")
	            : NULL;
	CUresult (*range)(int *, int *) =
	        lib ? (CUresult(*)(int *, int *))dlsym(lib, "cuCtxGetStreamPriorityRange") : NULL;
	get_prio_fn get_prio = lib ? (get_prio_fn)dlsym(lib, "cuStreamGetPriority") : NULL;
	CUcontext ctx;
	int least = 0, greatest = 0;
	if (!proc || !init || !ctx_create || !range || !get_prio || init(0) ||
	    ctx_create(&ctx, 0, 0) || range(&least, &greatest)) {
		fprintf(stderr, "prio_probe: the driver is not usable\n");
		return 100;
	}
	static const char *const hows[] = { "exported", "dlsym", "cuGetProcAddress_v2" };
	for (int how = 0; how < 3; how++) {
		create_prio_fn create_prio =
		        (create_prio_fn)lookup(how, "cuStreamCreateWithPriority");
		create_fn create = (create_fn)lookup(how, "cuStreamCreate");
		if (!create_prio || !create) {
			FAIL("%s: no cuStreamCreate[WithPriority]", hows[how]);
			continue;
		}
		/* One past each end of the range too: the driver clamps, so does the mapping. */
		int asked[16], got[16], n = 0;
		for (int p = greatest - 1; p <= least + 1 && n < 16; p++, n++) {
			CUstream s;
			asked[n] = p;
			got[n] = 99;
			if (create_prio(&s, CU_STREAM_NON_BLOCKING, p) || get_prio(s, &got[n]))
				FAIL("%s: priority %d: create or query failed", hows[how], p);
		}
		char label[64];
		snprintf(label, sizeof(label), "%s WithPriority", hows[how]);
		check_band(label, &b, asked, got, n, greatest, least);
		/* The plain call is priority 0 of the app's range: the same as asking for 0. */
		CUstream s;
		int plain = 99, zero = 99;
		if (create(&s, 0) || get_prio(s, &plain))
			FAIL("%s: cuStreamCreate failed", hows[how]);
		for (int k = 0; k < n; k++)
			if (asked[k] == 0)
				zero = got[k];
		printf("%s plain got %d\n", hows[how], plain);
		if (plain != zero)
			FAIL("%s: cuStreamCreate got %d, priority 0 got %d", hows[how], plain,
			     zero);
	}
	/* A draining call on the default stream: the device counts as used, so that status
	 * lists the process. */
	CUresult (*sync)(CUstream) = (CUresult(*)(CUstream))dlsym(lib, "cuStreamSynchronize");
	if (!sync || sync(NULL) != CUDA_SUCCESS)
		FAIL("cuStreamSynchronize failed");
	/* Without an MPS server the device time-slices between processes' contexts. */
	check_actuators((b.none ? 0 : XSCHED_ACT_STREAM_PRIO) |
	                (mps ? XSCHED_ACT_MPS_PRIO : XSCHED_ACT_TIME_SLICED));
	return failures;
}
