/* SPDX-License-Identifier: MIT */
/*
 * The simulated HIP runtime (libamdhip64.so), for tests only: the HIP API subset that xsched's
 * shim and the test workloads use, over the shared device model (simgpu.h). Device memory is
 * ordinary memory of the process; what a command does to it (copy, memset, kernel) is applied
 * when the model reports the command complete, so results appear exactly when a real GPU's
 * would, and a scheduler that breaks an ordering produces wrong data.
 *
 * Internal interface between the files of the library.
 */
#ifndef XSCHED_SIM_HIP_INTERNAL_H
#define XSCHED_SIM_HIP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef __HIP_PLATFORM_AMD__
#define __HIP_PLATFORM_AMD__
#endif
#include <hip/hip_runtime_api.h>

#include "simgpu.h"

/* ---- errors (hip_error.c) ---- */

/* Records err as the calling thread's last error when it is one, and returns it: every API
 * function returns through this, as HIP's own HIP_RETURN does. */
hipError_t hip_ret(hipError_t err);

/* ---- process state and devices (hip_init.c) ---- */

/* Initialises the library on first use (attach to the model, visible devices, the fake kfd
 * node); hipSuccess or the error every call then returns. */
hipError_t hip_ensure_init(void);
int hip_visible_count(void);
/* HIP ordinal -> model device index, -1 if out of range. */
int hip_model_device(int ordinal);
/* The calling thread's current ordinal and its model device. */
int hip_current_ordinal(void);
int hip_current_device(void);

/* ---- the fake /dev/kfd (hip_kfd.c) ---- */

void hip_kfd_open(void);
void hip_kfd_create_queue(int dev, int priority);
void hip_kfd_destroy_queue(uint32_t queue_id);
void hip_kfd_wait_events(void);
void hip_kfd_alloc_memory(int dev, uint64_t va, uint64_t size);
void hip_kfd_free_memory(uint64_t va);

/* ---- handle tables (hip_handles.c) ---- */

/* Handles are generation-checked table slots, not pointers, so a destroyed handle is always
 * recognised (hipErrorInvalidHandle) instead of touching freed memory. */
enum hip_handle_kind {
	HIP_H_STREAM = 1,
	HIP_H_EVENT,
	HIP_H_MODULE,
	HIP_H_GRAPH,
	HIP_H_GRAPH_EXEC,
};
void *hip_handle_new(enum hip_handle_kind kind, void *obj);
void *hip_handle_get(enum hip_handle_kind kind, const void *handle);
/* Removes the handle and returns its object (NULL if invalid). */
void *hip_handle_remove(enum hip_handle_kind kind, const void *handle);

/* ---- streams, commands and their effects (hip_work.c) ---- */

struct hip_capture;

/* The simulated device describes itself as a CDNA2-class GPU (an MI210's shape). */
#define SIM_CUS      104
#define HIP_CU_WORDS ((SIM_CUS + 31) / 32)

struct hip_stream {
	void *handle;    /* NULL for the null stream, hipStreamPerThread for those */
	int dev;         /* model device */
	uint32_t sim_id; /* model stream id; 0 = the process's default stream on dev */
	int priority;
	unsigned int flags; /* hipStreamDefault or hipStreamNonBlocking */
	bool is_null;       /* the legacy null stream of dev */
	uint64_t last_cmd;  /* newest command submitted to it */
	uint64_t null_seen; /* newest null-stream command it was ordered after */
	uint64_t kfd_queue; /* queue id handed to the fake kfd */
	struct hip_capture *capture;
	uint32_t cu_mask[HIP_CU_WORDS]; /* the CUs it may use (every one unless restricted) */
	struct hip_stream *next_live;   /* every blocking stream, for null-stream ordering */
};

/* The stream a HIP handle names, for the calling thread: NULL is the current device's null
 * stream (or the per-thread one when `spt`), hipStreamPerThread the thread's own. NULL with
 * *err set for a bad handle. */
struct hip_stream *hip_stream_resolve(hipStream_t h, bool spt, hipError_t *err);
/* `mask`: the CUs it may use (HIP_CU_WORDS words, bit i = CU i), NULL for all of them. */
hipError_t hip_stream_new(int dev, int priority, unsigned int flags, const uint32_t *mask,
                          struct hip_stream **out);
void hip_stream_free(struct hip_stream *s);

/* What a command does to memory when it completes. */
enum hip_effect_kind {
	HIP_FX_NONE,
	HIP_FX_COPY,
	HIP_FX_MEMSET8,
	HIP_FX_MEMSET16,
	HIP_FX_MEMSET32,
	HIP_FX_AFFINE,
	HIP_FX_EVENT,
	HIP_FX_GRAPH,
};

struct hip_graph_exec;

struct hip_effect {
	enum hip_effect_kind kind;
	void *dst;
	const void *src;
	uint64_t count; /* bytes for copies, elements for memsets and kernels */
	uint32_t value, a, b;
	void *event_handle;          /* HIP_FX_EVENT */
	uint64_t event_seq;          /* HIP_FX_EVENT: which recording this is */
	struct hip_graph_exec *exec; /* HIP_FX_GRAPH: holds a reference */
};

/* Applies an effect now (also used by graph launches, node by node). */
void hip_effect_apply(const struct hip_effect *fx, uint64_t end_ns);

/*
 * Submits one command to stream s: work of `duration_ns` whose effect (may be NULL) happens
 * at completion. A capturing stream records it into its graph instead. Handles the legacy
 * null stream's implicit ordering with blocking streams. Returns the command id (0 when
 * captured) through *id when id is not NULL.
 */
hipError_t hip_submit(struct hip_stream *s, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                      const struct hip_effect *fx, uint64_t *id);
/* Makes s wait for command `cmd` (an event's recording). */
hipError_t hip_submit_wait(struct hip_stream *s, uint64_t cmd);

/* Applies the effects of every completed command of this process. */
void hip_drain(void);
/* Blocking waits: issue the kfd wait ioctl when they will block, then drain. */
void hip_wait_cmd(uint64_t id);
void hip_wait_stream(struct hip_stream *s);
void hip_wait_device(int dev);

/* Durations of copies and memsets: a PCIe-like link to the host, HBM-like on the device. */
uint64_t hip_copy_ns(hipMemcpyKind kind, uint64_t bytes);
uint64_t hip_memset_ns(uint64_t bytes);

/* ---- memory (hip_memory.c) ---- */

/* Whether [p, p+bytes) lies in one device allocation. */
bool hip_is_device_ptr(const void *p, uint64_t bytes);

/* ---- kernels (hip_module.c) ---- */

enum hip_kernel {
	HIP_K_SPIN,
	HIP_K_AFFINE,
};

/* A launch: the kernel, its arguments decoded, and what it does. */
hipError_t hip_launch(enum hip_kernel k, void **params, void **extra, struct hip_stream *s);

/* ---- capture and graphs (hip_graph.c) ---- */

/* Appends a command to the capture of stream s. */
hipError_t hip_capture_add(struct hip_capture *c, uint64_t duration_ns,
                           const struct hip_effect *fx);
void hip_graph_exec_release(struct hip_graph_exec *x);
/* Applies a graph launch's node effects in order. */
void hip_graph_exec_apply(struct hip_graph_exec *x, uint64_t end_ns);

/* ---- event recordings (hip_stream.c) ---- */

/* Records event on s (a command of the model); used by hipEventRecord and by launches that
 * take events. */
hipError_t hip_event_record(hipEvent_t event, struct hip_stream *s);
/* Called when an event's recording completes. */
void hip_event_completed(void *handle, uint64_t seq, uint64_t end_ns);

/* The library's one lock for its tables and stream bookkeeping (never held while blocking). */
extern pthread_mutex_t hip_lock;

#endif
