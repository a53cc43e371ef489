/* SPDX-License-Identifier: MIT */
/*
 * The HIP backend's internal contract (the HIP runtime, libamdhip64.so, is resolved at run
 * time; only its headers are used at build time).
 *
 * hip_sym.c     finds the runtime's real functions, and substitutes our hooks for them in
 *               what dlsym returns.
 * hip_hooks.c   the hooks: one function per exported name (legacy and _spt variants apart,
 *               since a NULL stream means a different stream in each).
 * hip_backend.c streams -> devices -> physical GPUs, the completion markers (events), and
 *               the xs_backend operations for the core.
 */
#ifndef HIP_SHIM_H
#define HIP_SHIM_H

#include <hip/hip_runtime_api.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "xs_core.h"
#include "xs_interpose.h"

/* One intercepted exported name, our hook, and the runtime's function (resolved lazily,
 * never one of our own hooks). */
struct hip_hook {
	const char *name;
	void *hook;
	_Atomic(void *) real;
};

extern struct hip_hook hip_hooks[];
extern const unsigned int hip_nhooks;

/* The runtime's function behind hook `idx`; NULL if the runtime has no such symbol. */
void *hip_real(unsigned int idx);
/* The runtime's own symbol `name` (for calls the shim makes itself), or NULL. */
void *hip_runtime_sym(const char *name);

/* hip_backend.c: the backend, registered with the core. */
extern struct xs_backend hip_backend;
/* Whether the hooks schedule (else they pass through): the process registered and this
 * backend settled (the first call does both, the process possibly registered by CUDA). */
static inline bool hip_on(void)
{
	return xs_backend_on(&hip_backend);
}
/* The stream a call names (NULL: the current device's null stream, or with `spt` the
 * thread's per-thread stream; hipStreamPerThread likewise); NULL when not tracked. */
struct xs_stream *hip_stream(hipStream_t h, bool spt);
/* Only a stream already known (for destroy). */
struct xs_stream *hip_stream_known(hipStream_t h);
/* A stream the application just created, on the current device. */
void hip_stream_created(hipStream_t h);
/* hip_prio.c: create *p with the actuators in effect (CU mask, stream priority); true when
 * it did, successfully. False: none applies or the adjusted call failed, and the caller
 * makes the app's own call. app_prio: the priority the app asked for (0 for the plain
 * create calls). */
bool hip_actu_create(hipStream_t *p, unsigned int flags, int app_prio);
/* The key a capture on stream h is remembered by. */
uintptr_t hip_capture_key(hipStream_t h, bool spt);
/* Whether stream h is no longer capturing (after a failed hipStreamEndCapture). */
bool hip_capture_over(hipStream_t h);
/* What hipDeviceSynchronize drains: the streams of the current device. */
uintptr_t hip_current_dev_key(void);
/* Around hipDeviceReset, which frees the current device's streams and events. */
void hip_device_reset_begin(int *dev);
void hip_device_reset_end(int dev);

#endif
