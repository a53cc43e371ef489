/* SPDX-License-Identifier: MIT */
/*
 * Stream priorities on CUDA: cuStreamCreate and cuStreamCreateWithPriority create the
 * stream through the driver's cuStreamCreateWithPriority with the priority the process's
 * xsched priority maps to, within the current context's range (cuCtxGetStreamPriorityRange;
 * mapping and settings: shim/core/xs_actu.h). Like every hook they are exported and handed
 * out by dlsym and cuGetProcAddress[_v2] substitution (cu_sym.c, which searches this table
 * after cu_hooks[]). Default streams cannot be re-prioritised. Whenever the adjusted call
 * fails, the hook makes the app's own call, unchanged, and returns its result.
 */
#include <unistd.h>

#include "cu_shim.h"
#include "xs_actu.h"
#include "xs_log.h"

enum {
	P_CREATE,
	P_CREATE_PRIO,
	P_NHOOKS
};

typedef CUresult (*create_fn)(CUstream *, unsigned int);
typedef CUresult (*create_prio_fn)(CUstream *, unsigned int, int);
typedef CUresult (*range_fn)(int *, int *);

static _Atomic(void *) range_sym;

/* Create *ph with the mapped priority; false when the actuator is off or the call failed. */
static bool create_mapped(CUstream *ph, unsigned int flags, int app_prio)
{
	static int warned;
	int xprio, least = 0, greatest = 0;
	if (!ph || !cu_on() || !xs_stream_prio_active(&xprio))
		return false;
	create_prio_fn create = (create_prio_fn)cu_hook_real(&cu_prio_hooks[P_CREATE_PRIO]);
	range_fn range = atomic_load_explicit(&range_sym, memory_order_acquire);
	if (!range) {
		range = (range_fn)cu_driver_sym("cuCtxGetStreamPriorityRange");
		atomic_store_explicit(&range_sym, (void *)range, memory_order_release);
	}
	if (!create || !range || range(&least, &greatest) != CUDA_SUCCESS) {
		xs_warn_once(&warned,
		             "pid %d: no stream priority range from the driver; stream "
		             "priorities unchanged",
		             (int)getpid());
		return false;
	}
	if (create(ph, flags, xs_stream_prio_map(app_prio, least, greatest, xprio)) != CUDA_SUCCESS)
		return false;
	xs_actuator_note(XSCHED_ACT_STREAM_PRIO);
	return true;
}

CU_EXPORT CUresult hk_cuStreamCreate(CUstream *ph, unsigned int flags) __asm__("cuStreamCreate");
CUresult hk_cuStreamCreate(CUstream *ph, unsigned int flags)
{
	create_fn real = (create_fn)cu_hook_real(&cu_prio_hooks[P_CREATE]);
	if (!real)
		return CUDA_ERROR_NOT_FOUND;
	/* The plain call means priority 0, the driver's default. */
	return create_mapped(ph, flags, 0) ? CUDA_SUCCESS : real(ph, flags);
}

CU_EXPORT CUresult hk_cuStreamCreateWithPriority(CUstream *ph, unsigned int flags,
                                                 int prio) __asm__("cuStreamCreateWithPriority");
CUresult hk_cuStreamCreateWithPriority(CUstream *ph, unsigned int flags, int prio)
{
	create_prio_fn real = (create_prio_fn)cu_hook_real(&cu_prio_hooks[P_CREATE_PRIO]);
	if (!real)
		return CUDA_ERROR_NOT_FOUND;
	return create_mapped(ph, flags, prio) ? CUDA_SUCCESS : real(ph, flags, prio);
}

struct cu_hook cu_prio_hooks[] = {
	[P_CREATE] = { "cuStreamCreate", "cuStreamCreate", (void *)hk_cuStreamCreate, NULL },
	[P_CREATE_PRIO] = { "cuStreamCreateWithPriority", "cuStreamCreateWithPriority",
	                    (void *)hk_cuStreamCreateWithPriority, NULL },
};
const unsigned int cu_prio_nhooks = P_NHOOKS;
