/* SPDX-License-Identifier: MIT */
/*
 * A thin vendor layer so that each test workload is written once and runs on the CUDA driver
 * API or the HIP runtime, on a real GPU or on the simulated one. Nothing links against a GPU
 * library: the vendor library is dlopen()ed at run time (LD_LIBRARY_PATH picks the simulator),
 * the way the CUDA runtime, PyTorch and the HIP loader find theirs.
 *
 * Every call returns the vendor's own error code (CUresult or hipError_t, 0 = success) so
 * that tests can check that an interposed scheduler passes codes through unchanged.
 * Handles are the vendor's handles, cast to void * (device pointers to uint64_t).
 */
#ifndef XSCHED_WL_GPU_API_H
#define XSCHED_WL_GPU_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gpu_vendor {
	GPU_VENDOR_CUDA,
	GPU_VENDOR_HIP,
};

enum gpu_resolve {
	GPU_RESOLVE_AUTO,    /* CUDA: cuGetProcAddress_v2; HIP: dlsym */
	GPU_RESOLVE_GETPROC, /* CUDA only: every entry point through cuGetProcAddress_v2 */
	GPU_RESOLVE_DLSYM,   /* plain dlsym() on the library handle */
};

struct gpu_options {
	enum gpu_vendor vendor;
	enum gpu_resolve resolve;
	/* Per-thread default stream: the _ptsz/_ptds (CUDA) or _spt (HIP) entry points, under
	 * which the NULL stream is the calling thread's own default stream. */
	bool ptds;
	/* A module image to load instead of the embedded PTX (e.g. an AMD code object). */
	const char *module_path;
};

typedef uint64_t gpu_ptr;
typedef void *gpu_stream; /* NULL: the default stream (legacy, or per-thread with ptds) */
typedef void *gpu_event;
typedef void *gpu_module;
typedef void *gpu_func;
typedef void *gpu_graph;
typedef void *gpu_graph_exec;

/* Per vendor: the function table filled in by gpu_cuda.c or gpu_hip.c. */
struct gpu_ops {
	const char *vendor;
	/* The codes the vendor documents for these cases, for the expect-error checks. */
	int err_invalid_value, err_invalid_handle, err_not_found, err_not_ready;

	int (*open)(const struct gpu_options *opt, char *why, size_t why_len);
	const char *(*error_name)(int err);
	int (*device_count)(int *count);
	/* Binds the calling thread to device `dev` (its primary context on CUDA). */
	int (*set_device)(int dev);
	int (*stream_priority_range)(int *least, int *greatest);

	int (*module_load)(const void *image, gpu_module *mod);
	int (*module_unload)(gpu_module mod);
	int (*module_function)(gpu_module mod, const char *name, gpu_func *fn);

	int (*mem_alloc)(gpu_ptr *ptr, size_t bytes);
	int (*mem_free)(gpu_ptr ptr);
	int (*host_alloc)(void **ptr, size_t bytes); /* page-locked */
	int (*host_free)(void *ptr);

	int (*stream_create)(gpu_stream *s, bool non_blocking, int priority);
	int (*stream_destroy)(gpu_stream s);
	int (*stream_sync)(gpu_stream s);
	int (*stream_query)(gpu_stream s);
	int (*stream_wait_event)(gpu_stream s, gpu_event e);
	int (*stream_get_priority)(gpu_stream s, int *priority);

	int (*event_create)(gpu_event *e, bool timing);
	int (*event_destroy)(gpu_event e);
	int (*event_record)(gpu_event e, gpu_stream s);
	int (*event_sync)(gpu_event e);
	int (*event_query)(gpu_event e);
	int (*event_elapsed_ms)(float *ms, gpu_event start, gpu_event end);

	int (*launch)(gpu_func fn, unsigned int grid, unsigned int block, gpu_stream s,
	              void **args);
	int (*memcpy_htod_async)(gpu_ptr dst, const void *src, size_t bytes, gpu_stream s);
	int (*memcpy_dtoh_async)(void *dst, gpu_ptr src, size_t bytes, gpu_stream s);
	int (*memcpy_dtod_async)(gpu_ptr dst, gpu_ptr src, size_t bytes, gpu_stream s);
	int (*memset32_async)(gpu_ptr dst, uint32_t value, size_t count, gpu_stream s);
	/* Synchronous forms: ordered on the default stream, return when done. */
	int (*memcpy_htod)(gpu_ptr dst, const void *src, size_t bytes);
	int (*memcpy_dtoh)(void *dst, gpu_ptr src, size_t bytes);
	int (*memset32)(gpu_ptr dst, uint32_t value, size_t count);
	int (*device_sync)(void);

	int (*capture_begin)(gpu_stream s);
	int (*capture_end)(gpu_stream s, gpu_graph *g);
	int (*graph_instantiate)(gpu_graph_exec *x, gpu_graph g);
	int (*graph_launch)(gpu_graph_exec x, gpu_stream s);
	int (*graph_exec_destroy)(gpu_graph_exec x);
	int (*graph_destroy)(gpu_graph g);

	/* The two default streams named explicitly, whatever `ptds` says; false when the
	 * vendor has no handle for it in this mode. */
	bool (*legacy_stream)(gpu_stream *s);
	bool (*per_thread_stream)(gpu_stream *s);
};

extern const struct gpu_ops gpu_cuda_ops;
extern const struct gpu_ops gpu_hip_ops;

/* The table in use, set by gpu_open(). */
extern const struct gpu_ops *gpu;

/* Loads the vendor library, resolves its entry points, initialises the driver and loads the
 * module image; on failure prints why (prefixed by `prog`) and exits 1. */
void gpu_open(const char *prog, const struct gpu_options *opt);

/* Binds the calling thread to device `dev` and loads the kernel module there on first use.
 * Returns the vendor's error code. */
int gpu_use_device(int dev);

/* The kernels of the calling thread's device (see gpu_use_device). */
gpu_func gpu_kernel_spin(void);
gpu_module gpu_current_module(void);
gpu_func gpu_kernel_affine(void);

/* Launch helpers with the launch shapes the kernels expect. */
int gpu_launch_spin(gpu_stream s, uint64_t us);
/* spin with `grid` blocks (each spins `us`): another launch shape of the same kernel. */
int gpu_launch_spin_grid(gpu_stream s, uint64_t us, unsigned int grid);
int gpu_launch_affine(gpu_stream s, gpu_ptr buf, uint32_t n, uint32_t a, uint32_t b, uint64_t us);

/* Exits 1 with "<prog>: <what> failed: <NAME> (<code>)" when err is not 0. */
void gpu_check(int err, const char *what);

#endif
