/* SPDX-License-Identifier: MIT */
/*
 * HIP actuators at stream creation: the CU mask (XSCHED_CU_MASK, processes below normal
 * priority) and stream priorities (XSCHED_STREAM_PRIORITY), through the runtime's own
 * hipExtStreamCreateWithCUMask and hipStreamCreateWithPriority. Mapping and settings:
 * shim/core/xs_actu.h.
 *
 * A CU-masked stream is made only for the default flags: hipExtStreamCreateWithCUMask takes
 * neither flags nor a priority, and turning a non-blocking stream into a blocking one would
 * change what the app's work waits for. Such a stream has the runtime's default priority.
 * Whenever the adjusted call fails, the hook makes the app's own call, unchanged.
 */
#include <unistd.h>

#include "hip_shim.h"
#include "xs_actu.h"
#include "xs_log.h"

typedef hipError_t (*create_prio_fn)(hipStream_t *, unsigned int, int);
typedef hipError_t (*create_mask_fn)(hipStream_t *, uint32_t, const uint32_t *);
typedef hipError_t (*range_fn)(int *, int *);
typedef hipError_t (*get_dev_fn)(int *);
typedef hipError_t (*attr_fn)(int *, hipDeviceAttribute_t, int);

/* Runtime functions, resolved at first use (never our own hooks). */
static _Atomic(void *) syms[5];
static const char *const sym_names[5] = {
	"hipExtStreamCreateWithCUMask",    "hipGetDevice",
	"hipDeviceGetAttribute",           "hipStreamCreateWithPriority",
	"hipDeviceGetStreamPriorityRange",
};
enum {
	S_CREATE_MASK,
	S_GET_DEV,
	S_ATTR,
	S_CREATE_PRIO,
	S_RANGE
};

static void *sym(int i)
{
	void *fn = atomic_load_explicit(&syms[i], memory_order_acquire);
	if (!fn) {
		fn = hip_runtime_sym(sym_names[i]);
		atomic_store_explicit(&syms[i], fn, memory_order_release);
	}
	return fn;
}

static bool create_masked(hipStream_t *p, const struct xs_cu_mask *m)
{
	static int warned;
	create_mask_fn create = (create_mask_fn)sym(S_CREATE_MASK);
	get_dev_fn get_dev = (get_dev_fn)sym(S_GET_DEV);
	attr_fn attr = (attr_fn)sym(S_ATTR);
	int dev = 0, cus = 0;
	uint32_t words[XS_CU_WORDS];
	unsigned int n = 0;
	if (create && get_dev && attr && get_dev(&dev) == hipSuccess &&
	    attr(&cus, hipDeviceAttributeMultiprocessorCount, dev) == hipSuccess)
		n = xs_cu_mask_build(m, cus, words, XS_CU_WORDS);
	if (!n || create(p, n, words) != hipSuccess) {
		xs_warn_once(&warned,
		             "pid %d: XSCHED_CU_MASK: no CU mask for device %d (%d CUs); streams "
		             "unrestricted",
		             (int)getpid(), dev, cus);
		return false;
	}
	xs_actuator_note(XSCHED_ACT_CU_MASK);
	return true;
}

static bool create_prio(hipStream_t *p, unsigned int flags, int app_prio, int xprio)
{
	static int warned;
	create_prio_fn create = (create_prio_fn)sym(S_CREATE_PRIO);
	range_fn range = (range_fn)sym(S_RANGE);
	int least = 0, greatest = 0;
	if (!create || !range || range(&least, &greatest) != hipSuccess) {
		xs_warn_once(&warned,
		             "pid %d: the runtime gives no stream priority range; stream "
		             "priorities unchanged",
		             (int)getpid());
		return false;
	}
	if (create(p, flags, xs_stream_prio_map(app_prio, least, greatest, xprio)) != hipSuccess)
		return false;
	xs_actuator_note(XSCHED_ACT_STREAM_PRIO);
	return true;
}

bool hip_actu_create(hipStream_t *p, unsigned int flags, int app_prio)
{
	if (!p || !hip_on())
		return false;
	const struct xs_cu_mask *m = xs_cu_mask_active();
	if (m && flags == hipStreamDefault && create_masked(p, m))
		return true;
	int xprio;
	return xs_stream_prio_active(&xprio) && create_prio(p, flags, app_prio, xprio);
}
