/* SPDX-License-Identifier: MIT */
/*
 * Internals of the simulated libcuda.so.1: handle objects, the per-process state, and the
 * helpers the API files share. CUDA handles are pointers to these objects; every handle an
 * application passes in is looked up in a registry before it is dereferenced, so a bad one
 * yields CUDA_ERROR_INVALID_HANDLE instead of a crash.
 */
#ifndef XSCHED_SIM_CUDA_SIM_H
#define XSCHED_SIM_CUDA_SIM_H

/* Gives every versioned, per-thread and legacy prototype under its exported name, as the
 * driver itself is compiled. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simgpu.h"

#define SIM_DRIVER_VERSION 13000
#define SIM_PRIO_LEAST     0
#define SIM_PRIO_GREATEST  (-5)
#define SIM_KPARAM_MAX     32

enum obj_type {
	OBJ_CTX = 1,
	OBJ_STREAM,
	OBJ_EVENT,
	OBJ_MODULE,
	OBJ_FUNC,
	OBJ_LIBRARY,
	OBJ_KERNEL,
	OBJ_GRAPH,
	OBJ_GRAPH_EXEC,
};

/* registry.c */
void reg_add(const void *obj, enum obj_type type);
void reg_del(const void *obj);
bool reg_has(const void *obj, enum obj_type type);
void reg_reset(void);

struct kdesc {
	const char *name;
	unsigned int nparams;
	unsigned int size[5], off[5];
	unsigned int bytes; /* whole parameter buffer */
	uint64_t (*duration_ns)(const uint8_t *params);
	void (*run)(const uint8_t *params);
	/* Device memory the kernel touches, for the launch-time check; may be NULL. */
	bool (*check)(const uint8_t *params);
};

/* A recorded device operation: what a command does when it completes. */
enum gop_kind {
	GOP_KERNEL,
	GOP_MEMSET8,
	GOP_MEMSET32,
	GOP_COPY,      /* memmove at completion: device to device, device to host */
	GOP_COPY_SNAP, /* host to device from a snapshot taken at submission */
};

struct gop {
	enum gop_kind kind;
	uint64_t duration_ns;
	union {
		struct {
			const struct kdesc *k;
			uint8_t params[SIM_KPARAM_MAX];
		} kernel;
		struct {
			void *dst;
			uint32_t value;
			size_t count;
		} memset;
		struct {
			void *dst;
			const void *src;
			size_t bytes;
			void *snap; /* owned, GOP_COPY_SNAP */
		} copy;
	};
};

struct cu_graph {
	size_t n, cap;
	struct gop *ops;
};

struct cu_graph_exec {
	unsigned int refs; /* the handle, plus one per launch in flight */
	size_t n;
	struct gop *ops;
	uint64_t duration_ns;
};

struct capture {
	uint64_t id;
	CUstreamCaptureMode mode;
	pthread_t thread;
	struct cu_stream *origin;
	struct cu_graph *graph;
	bool invalidated;
	struct capture *next;
};

struct cu_stream {
	struct cu_ctx *ctx;
	struct cu_stream *next; /* the context's streams */
	uint32_t sim;           /* model stream; 0 = the process's default stream */
	int prio;
	unsigned int flags;
	bool legacy;
	uint64_t id;
	uint64_t last;        /* last command submitted */
	uint64_t legacy_seen; /* last legacy-stream command it has been ordered after */
	struct capture *cap;
};

struct cu_ctx {
	int dev;
	bool primary;
	bool active; /* a primary context between retain and its last release */
	unsigned int prim_refs;
	unsigned int flags;
	uint64_t id;
	struct cu_stream legacy;
	struct cu_stream *streams;
};

struct cu_event {
	struct cu_ctx *ctx;
	unsigned int flags;
	uint64_t cmd;    /* last record's command, 0 if never recorded */
	uint64_t serial; /* of the last record, to match its completion */
	uint64_t end_ns; /* of the last record, once known */
	uint64_t cap_id; /* recorded into this capture, 0 if not */
};

struct cu_module {
	struct cu_ctx *ctx;
	struct cu_func *funcs; /* one per known kernel, made at load */
};

struct cu_func {
	const struct kdesc *k;
	struct cu_module *mod;
	_Atomic bool loaded; /* launched once: XSCHED_SIM_LOAD_US paid (launch.c) */
};

struct cu_library {
	struct cu_module mod; /* the library's module, shared by every context */
	struct cu_func *kernels;
};

/* Process-wide state; `lock` guards every object and list below. */
struct cs_state {
	pthread_mutex_t lock;
	bool initialized;
	int devices;
	int ctl_fd; /* /dev/shm/<name>.nvidiactl */
	uint32_t rm_handle;
	uint64_t next_id;
	uint64_t next_serial;
	struct cu_ctx *primary[SIMGPU_MAX_DEVICES];
	struct capture *captures;
};

extern struct cs_state cs_g;

/* core.c */
static inline bool cs_initialized(void)
{
	return __atomic_load_n(&cs_g.initialized, __ATOMIC_ACQUIRE);
}
CUresult cs_enter(void); /* drain completions; NOT_INITIALIZED before cuInit */
void cs_drain(void);
struct cu_ctx *cs_current(void);
CUresult cs_ctx_check(struct cu_ctx *ctx);
CUresult cs_stream_get(CUstream h, bool ptds, struct cu_stream **out);
CUresult cs_submit(struct cu_stream *st, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                   uint64_t wait_cmd, void *op, uint64_t *id);
CUresult cs_submit_ops(struct cu_stream *st, struct gop *ops, size_t n);
CUresult cs_submit_graph(struct cu_stream *st, struct cu_graph_exec *x);
CUresult cs_submit_record(struct cu_stream *st, struct cu_event *ev);
void cs_stream_link(struct cu_ctx *ctx, struct cu_stream *st);
CUresult cs_ctx_push(struct cu_ctx *ctx);
struct cu_ctx *cs_ctx_pop(void);
void cs_ctx_set(struct cu_ctx *ctx);
void cs_ctx_forget(struct cu_ctx *ctx);
CUresult cs_wait_cmd(uint64_t id);
uint64_t cs_copy_ns(size_t bytes);
void cs_ioctl_alloc(uint32_t hclass);
void cs_ioctl_wait(void);
void cs_ctx_activate(struct cu_ctx *ctx);
void cs_stream_free(struct cu_stream *st);
bool cs_capture_forbids_unsafe(void);
struct capture *cs_capture_find(uint64_t id);
void gop_apply(const struct gop *op);
void gop_release(struct gop *op);

/* memory.c */
bool cs_dev_range(const void *p, size_t bytes);

/* kernels.c */
const struct kdesc *cs_kernel_find(const char *name);
extern const struct kdesc cs_kernels[];
extern const unsigned int cs_nkernels;

/* graph.c */
CUresult cs_graph_append(struct cu_graph *g, const struct gop *ops, size_t n);
void cs_exec_put(struct cu_graph_exec *x);
void cs_graph_free(struct cu_graph *g);

#endif
