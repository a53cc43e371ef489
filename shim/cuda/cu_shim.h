/* SPDX-License-Identifier: MIT */
/*
 * The CUDA backend's internal contract.
 *
 * cu_sym.c    finds the real driver functions and interposes dlsym() and cuGetProcAddress
 *             so that hooks are handed out wherever the application asks for an entry
 *             point we intercept.
 * cu_hooks.c  the hooks: one function per exported name (legacy and _ptsz/_ptds variants
 *             apart, since a NULL stream means a different stream in each).
 * cu_backend.c streams -> contexts -> devices, the completion markers (events), and the
 *             xs_backend operations for the core.
 * cu_prio.c   stream creation with mapped priorities (an actuator; its own hook table).
 */
#ifndef CU_SHIM_H
#define CU_SHIM_H

#include <cuda.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "xs_core.h"

#define CU_EXPORT __attribute__((visibility("default")))

/* One intercepted exported name: the name cuGetProcAddress takes for it (`api`), our hook,
 * and the driver's function (resolved lazily, never one of our own hooks). */
struct cu_hook {
	const char *name;
	const char *api;
	void *hook;
	_Atomic(void *) real;
};

extern struct cu_hook cu_hooks[];
extern const unsigned int cu_nhooks;
/* cu_prio.c: the stream-creation hooks (stream priorities), a table of their own. */
extern struct cu_hook cu_prio_hooks[];
extern const unsigned int cu_prio_nhooks;

/* The driver's function behind hook `idx` of cu_hooks[]; NULL if the driver has no such
 * symbol. */
void *cu_real(unsigned int idx);
/* The same for any hook entry. */
void *cu_hook_real(struct cu_hook *e);
/* The driver's own symbol `name` (for calls the shim makes itself), or NULL. */
void *cu_driver_sym(const char *name);
/* For a pointer cuGetProcAddress returned for `api`: our hook if it is the driver's
 * function of a variant we intercept, else the pointer unchanged. */
void *cu_substitute(const char *api, void *fn);

/* cu_backend.c: the backend, registered with the core. */
extern struct xs_backend cu_backend;
/* Whether the hooks schedule (else they pass through): the process registered and this
 * backend settled (the first call does both). */
static inline bool cu_on(void)
{
	return xs_backend_on(&cu_backend);
}
/* Resolve the stream a call names (NULL means the legacy or the per-thread default stream,
 * by `ptds`); NULL when the shim does not track it. */
struct xs_stream *cu_stream(CUstream h, bool ptds);
/* Only a stream already known (for destroy). */
struct xs_stream *cu_stream_known(CUstream h);
/* The key a capture on stream h is remembered by. */
uintptr_t cu_capture_key(CUstream h, bool ptds);
/* Whether stream h is no longer capturing (after a failed cuStreamEndCapture). */
bool cu_capture_over(CUstream h);
CUcontext cu_current_ctx(void);
/* Contexts that died: drop their marker pools without touching the driver. */
void cu_pools_drop_ctx(CUcontext ctx);
void cu_pools_drop_dev(CUdevice dev);

#endif
