/* SPDX-License-Identifier: MIT */
/*
 * Stream priorities and CU masks through the HIP runtime, under the shim (see prio_probe.h).
 *
 *   xs_prio_probe_hip --band none | --band HI LO  [--cu-words N W0 .. WN-1]
 *
 * Streams are created with hipStreamCreateWithPriority for every priority of the device's
 * range, reached two ways: the exported symbol (global lookup) and dlsym on the runtime's
 * handle (HIP 5.2 has no hipGetProcAddress); hipStreamCreate and hipStreamCreateWithFlags
 * must match a request for priority 0. With --cu-words, a stream from hipStreamCreate must
 * be restricted to exactly that mask (hipExtStreamGetCUMask) while a non-blocking one keeps
 * every CU, and the slot must report the CU-mask actuator.
 */
#define __HIP_PLATFORM_AMD__
#include <dlfcn.h>
#include <hip/hip_runtime_api.h>

#include "prio_probe.h"

typedef hipError_t (*create_prio_fn)(hipStream_t *, unsigned int, int);

static void check_mask(int n, const uint32_t *want)
{
	hipStream_t masked, nonblocking;
	uint32_t got[32] = { 0 }, all[32] = { 0 };
	int cus = 0;
	if (hipStreamCreate(&masked) ||
	    hipStreamCreateWithFlags(&nonblocking, hipStreamNonBlocking) ||
	    hipDeviceGetAttribute(&cus, hipDeviceAttributeMultiprocessorCount, 0) ||
	    hipExtStreamGetCUMask(masked, (uint32_t)n, got) ||
	    hipExtStreamGetCUMask(nonblocking, 32, all)) {
		FAIL("CU mask: a stream call failed");
		return;
	}
	for (int i = 0; i < n; i++) {
		printf("cu word %d got 0x%08x want 0x%08x\n", i, got[i], want[i]);
		if (got[i] != want[i])
			FAIL("CU mask word %d: got 0x%08x, want 0x%08x", i, got[i], want[i]);
	}
	int on = 0;
	for (int i = 0; i < 32; i++)
		on += __builtin_popcount(all[i]);
	if (on != cus)
		FAIL("a non-blocking stream has %d CUs of %d: it must stay unrestricted", on, cus);
}

int main(int argc, char **argv)
{
	struct band b = { 0 };
	int i = 1, nwords = 0;
	uint32_t words[32];
	bool ok = parse_band(argc, argv, &i, &b);
	if (ok && i + 1 < argc && !strcmp(argv[i], "--cu-words")) {
		nwords = atoi(argv[i + 1]);
		i += 2;
		for (int w = 0; w < nwords && w < 32 && i < argc; w++)
			words[w] = (uint32_t)strtoul(argv[i++], NULL, 0);
		ok = nwords > 0 && nwords <= 32;
	}
	if (!ok || i != argc) {
		fprintf(stderr, "usage: xs_prio_probe_hip --band none | --band HI LO "
		                "[--cu-words N W0 ..]\n");
		return 2;
	}
	void *lib = dlopen("libamdhip64.so.5", RTLD_NOW | RTLD_GLOBAL);
	int least = 0, greatest = 0;
	if (!lib || hipSetDevice(0) || hipDeviceGetStreamPriorityRange(&least, &greatest)) {
		fprintf(stderr, "prio_probe: the runtime is not usable\n");
		return 100;
	}
	static const char *const hows[] = { "exported", "dlsym" };
	for (int how = 0; how < 2; how++) {
		create_prio_fn create_prio = (create_prio_fn)dlsym(how ? lib : RTLD_DEFAULT,
		                                                   "hipStreamCreateWithPriority");
		if (!create_prio) {
			FAIL("%s: no hipStreamCreateWithPriority", hows[how]);
			continue;
		}
		int asked[16], got[16], n = 0;
		for (int p = greatest - 1; p <= least + 1 && n < 16; p++, n++) {
			hipStream_t s;
			asked[n] = p;
			got[n] = 99;
			if (create_prio(&s, hipStreamNonBlocking, p) ||
			    hipStreamGetPriority(s, &got[n]))
				FAIL("%s: priority %d: create or query failed", hows[how], p);
		}
		char label[64];
		snprintf(label, sizeof(label), "%s WithPriority", hows[how]);
		check_band(label, &b, asked, got, n, greatest, least);
	}
	if (nwords) {
		check_mask(nwords, words);
	} else {
		hipStream_t s1, s2;
		int p0 = 99, p1 = 99, p2 = 99;
		hipStream_t s0;
		if (hipStreamCreateWithPriority(&s0, 0, 0) || hipStreamCreate(&s1) ||
		    hipStreamCreateWithFlags(&s2, hipStreamNonBlocking) ||
		    hipStreamGetPriority(s0, &p0) || hipStreamGetPriority(s1, &p1) ||
		    hipStreamGetPriority(s2, &p2))
			FAIL("plain stream creation failed");
		printf("plain got %d %d (priority 0 got %d)\n", p1, p2, p0);
		if (p1 != p0 || p2 != p0)
			FAIL("hipStreamCreate got %d, WithFlags %d, priority 0 got %d", p1, p2, p0);
	}
	check_actuators((b.none ? 0 : XSCHED_ACT_STREAM_PRIO) | (nwords ? XSCHED_ACT_CU_MASK : 0));
	return failures;
}
