/* SPDX-License-Identifier: MIT */
/*
 * Modules, libraries and kernel launches. Any image loads (it is never read); a function is
 * found by name among the kernels the simulated device knows.
 */
#include "cuda_sim.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS_PER_BLOCK 1024
#define MAX_SHARED_OPTIN      232448

static struct cu_func *make_funcs(struct cu_module *mod, enum obj_type type)
{
	struct cu_func *f = calloc(cs_nkernels, sizeof(*f));

	if (!f)
		return NULL;
	for (unsigned int i = 0; i < cs_nkernels; i++) {
		f[i].k = &cs_kernels[i];
		f[i].mod = mod;
		reg_add(&f[i], type);
	}
	return f;
}

static void drop_funcs(struct cu_func *f)
{
	for (unsigned int i = 0; f && i < cs_nkernels; i++)
		reg_del(&f[i]);
	free(f);
}

static CUresult module_new(CUmodule *out, bool image_ok)
{
	struct cu_ctx *ctx = cs_current();
	CUresult r = cs_enter();

	if (r)
		return r;
	r = cs_ctx_check(ctx);
	if (r)
		return r;
	if (!out || !image_ok)
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_module *mod = calloc(1, sizeof(*mod));

	if (!mod)
		return CUDA_ERROR_OUT_OF_MEMORY;
	mod->ctx = ctx;
	mod->funcs = make_funcs(mod, OBJ_FUNC);
	if (!mod->funcs) {
		free(mod);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	reg_add(mod, OBJ_MODULE);
	*out = (CUmodule)mod;
	return CUDA_SUCCESS;
}

CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
	if (!cs_initialized())
		return CUDA_ERROR_NOT_INITIALIZED;
	if (fname && access(fname, R_OK))
		return CUDA_ERROR_FILE_NOT_FOUND;
	return module_new(module, fname != NULL);
}

CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	return module_new(module, image != NULL);
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int n,
                            CUjit_option *options, void **values)
{
	(void)n;
	(void)options;
	(void)values;
	return module_new(module, image != NULL);
}

CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fatbin)
{
	return module_new(module, fatbin != NULL);
}

CUresult cuModuleUnload(CUmodule h)
{
	struct cu_module *mod = (struct cu_module *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!reg_has(mod, OBJ_MODULE))
		return CUDA_ERROR_INVALID_HANDLE;
	reg_del(mod);
	drop_funcs(mod->funcs);
	free(mod);
	return CUDA_SUCCESS;
}

static CUresult find_func(struct cu_func *funcs, const char *name, struct cu_func **out)
{
	if (!name)
		return CUDA_ERROR_INVALID_VALUE;
	const struct kdesc *k = cs_kernel_find(name);

	if (!k)
		return CUDA_ERROR_NOT_FOUND;
	*out = &funcs[k - cs_kernels];
	return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule h, const char *name)
{
	struct cu_module *mod = (struct cu_module *)h;
	struct cu_func *f;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!hfunc)
		return CUDA_ERROR_INVALID_VALUE;
	if (!reg_has(mod, OBJ_MODULE))
		return CUDA_ERROR_INVALID_HANDLE;
	r = find_func(mod->funcs, name, &f);
	if (!r)
		*hfunc = (CUfunction)f;
	return r;
}

/* Libraries are context-independent modules; their CUkernel handles double as functions. */
static CUresult library_new(CUlibrary *out, bool image_ok)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!out || !image_ok)
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_library *lib = calloc(1, sizeof(*lib));

	if (!lib)
		return CUDA_ERROR_OUT_OF_MEMORY;
	lib->mod.funcs = make_funcs(&lib->mod, OBJ_FUNC);
	lib->kernels = make_funcs(&lib->mod, OBJ_KERNEL);
	if (!lib->mod.funcs || !lib->kernels) {
		drop_funcs(lib->mod.funcs);
		drop_funcs(lib->kernels);
		free(lib);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	reg_add(lib, OBJ_LIBRARY);
	*out = (CUlibrary)lib;
	return CUDA_SUCCESS;
}

CUresult cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jit_options,
                           void **jit_values, unsigned int njit, CUlibraryOption *lib_options,
                           void **lib_values, unsigned int nlib)
{
	(void)jit_options;
	(void)jit_values;
	(void)njit;
	(void)lib_options;
	(void)lib_values;
	(void)nlib;
	return library_new(library, code != NULL);
}

CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *file, CUjit_option *jit_options,
                               void **jit_values, unsigned int njit, CUlibraryOption *lib_options,
                               void **lib_values, unsigned int nlib)
{
	(void)jit_options;
	(void)jit_values;
	(void)njit;
	(void)lib_options;
	(void)lib_values;
	(void)nlib;
	if (!cs_initialized())
		return CUDA_ERROR_NOT_INITIALIZED;
	if (file && access(file, R_OK))
		return CUDA_ERROR_FILE_NOT_FOUND;
	return library_new(library, file != NULL);
}

CUresult cuLibraryUnload(CUlibrary h)
{
	struct cu_library *lib = (struct cu_library *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!reg_has(lib, OBJ_LIBRARY))
		return CUDA_ERROR_INVALID_HANDLE;
	reg_del(lib);
	reg_del(&lib->mod);
	drop_funcs(lib->mod.funcs);
	drop_funcs(lib->kernels);
	free(lib);
	return CUDA_SUCCESS;
}

CUresult cuLibraryGetKernel(CUkernel *pkernel, CUlibrary h, const char *name)
{
	struct cu_library *lib = (struct cu_library *)h;
	struct cu_func *f;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!pkernel)
		return CUDA_ERROR_INVALID_VALUE;
	if (!reg_has(lib, OBJ_LIBRARY))
		return CUDA_ERROR_INVALID_HANDLE;
	r = find_func(lib->kernels, name, &f);
	if (!r)
		*pkernel = (CUkernel)f;
	return r;
}

CUresult cuLibraryGetModule(CUmodule *pmod, CUlibrary h)
{
	struct cu_library *lib = (struct cu_library *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!pmod)
		return CUDA_ERROR_INVALID_VALUE;
	if (!reg_has(lib, OBJ_LIBRARY))
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(&lib->mod, OBJ_MODULE))
		reg_add(&lib->mod, OBJ_MODULE);
	pthread_mutex_unlock(&cs_g.lock);
	*pmod = (CUmodule)&lib->mod;
	return CUDA_SUCCESS;
}

CUresult cuKernelGetFunction(CUfunction *pfunc, CUkernel h)
{
	struct cu_func *k = (struct cu_func *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!pfunc)
		return CUDA_ERROR_INVALID_VALUE;
	if (!reg_has(k, OBJ_KERNEL))
		return CUDA_ERROR_INVALID_HANDLE;
	*pfunc = (CUfunction)&k->mod->funcs[k->k - cs_kernels];
	return CUDA_SUCCESS;
}

/* Copy the launch's arguments into the kernel's parameter buffer. */
static CUresult collect_params(const struct kdesc *k, void **params, void **extra, uint8_t *buf)
{
	memset(buf, 0, SIM_KPARAM_MAX);
	if (params && extra)
		return CUDA_ERROR_INVALID_VALUE;
	if (params) {
		for (unsigned int i = 0; i < k->nparams; i++) {
			if (!params[i])
				return CUDA_ERROR_INVALID_VALUE;
			memcpy(buf + k->off[i], params[i], k->size[i]);
		}
		return CUDA_SUCCESS;
	}
	if (extra) {
		const void *ptr = NULL;
		size_t size = 0;

		for (unsigned int i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
			if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER)
				ptr = extra[i + 1];
			else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE && extra[i + 1])
				size = *(const size_t *)extra[i + 1];
			else
				return CUDA_ERROR_INVALID_VALUE;
		}
		if (!ptr || size < k->bytes)
			return CUDA_ERROR_INVALID_VALUE;
		memcpy(buf, ptr, k->bytes);
		return CUDA_SUCCESS;
	}
	return k->nparams ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

/* XSCHED_SIM_LOAD_US: host time a function's first launch takes, as a real driver loads a
 * module lazily on first use (and an app's first pass builds its caches); 0 by default. */
static void lazy_load(struct cu_func *f)
{
	static _Atomic long load_us = -1;
	long us = atomic_load(&load_us);

	if (us < 0) {
		const char *v = getenv("XSCHED_SIM_LOAD_US");
		char *end;

		us = v && *v ? strtol(v, &end, 10) : 0;
		if (v && *v && (*end || us < 0 || us > 10000000)) {
			fprintf(stderr, "simcuda: bad XSCHED_SIM_LOAD_US '%s': want 0..10000000\n",
			        v);
			us = 0;
		}
		atomic_store(&load_us, us);
	}
	if (us && !atomic_exchange(&f->loaded, true)) {
		struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

static CUresult launch(CUfunction hf, unsigned int gx, unsigned int gy, unsigned int gz,
                       unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem,
                       CUstream h, void **params, void **extra, bool ptds)
{
	struct cu_func *f = (struct cu_func *)hf;
	struct cu_stream *st;
	struct gop op = { .kind = GOP_KERNEL };
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!reg_has(f, OBJ_FUNC) && !reg_has(f, OBJ_KERNEL))
		return CUDA_ERROR_INVALID_HANDLE;
	if (!gx || !gy || !gz || !bx || !by || !bz || gy > 65535 || gz > 65535 || bx > 1024 ||
	    by > 1024 || bz > 64 || (uint64_t)bx * by * bz > MAX_THREADS_PER_BLOCK ||
	    shmem > MAX_SHARED_OPTIN)
		return CUDA_ERROR_INVALID_VALUE;
	op.kernel.k = f->k;
	r = collect_params(f->k, params, extra, op.kernel.params);
	if (r)
		return r;
	if (f->k->check && !f->k->check(op.kernel.params))
		return CUDA_ERROR_INVALID_VALUE; /* would fault on a real device */
	op.duration_ns = f->k->duration_ns(op.kernel.params);
	lazy_load(f);
	pthread_mutex_lock(&cs_g.lock);
	r = cs_stream_get(h, ptds, &st);
	if (!r && st->cap) {
		r = st->cap->invalidated ? CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
		                         : cs_graph_append(st->cap->graph, &op, 1);
	} else if (!r) {
		r = cs_submit_ops(st, &op, 1);
	}
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem,
                        CUstream h, void **params, void **extra)
{
	return launch(f, gx, gy, gz, bx, by, bz, shmem, h, params, extra, false);
}

CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                             unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem,
                             CUstream h, void **params, void **extra)
{
	return launch(f, gx, gy, gz, bx, by, bz, shmem, h, params, extra, true);
}

CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                   unsigned int bx, unsigned int by, unsigned int bz,
                                   unsigned int shmem, CUstream h, void **params)
{
	return launch(f, gx, gy, gz, bx, by, bz, shmem, h, params, NULL, false);
}

CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy,
                                        unsigned int gz, unsigned int bx, unsigned int by,
                                        unsigned int bz, unsigned int shmem, CUstream h,
                                        void **params)
{
	return launch(f, gx, gy, gz, bx, by, bz, shmem, h, params, NULL, true);
}

static CUresult launch_ex(const CUlaunchConfig *c, CUfunction f, void **params, void **extra,
                          bool ptds)
{
	if (!cs_initialized())
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!c || (c->numAttrs && !c->attrs))
		return CUDA_ERROR_INVALID_VALUE;
	return launch(f, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY,
	              c->blockDimZ, c->sharedMemBytes, c->hStream, params, extra, ptds);
}

CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **params, void **extra)
{
	return launch_ex(config, f, params, extra, false);
}

CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
                               void **extra)
{
	return launch_ex(config, f, params, extra, true);
}
