/* SPDX-License-Identifier: MIT */
/*
 * Where the application gets CUDA entry points from, and how we hand it our hooks:
 *
 *  - Exported symbols: libxsched.so exports each intercepted name (cuLaunchKernel,
 *    cuMemcpyDtoHAsync_v2, cuLaunchKernel_ptsz...), so code linked against libcuda, or
 *    looking names up globally, calls our hook first.
 *  - dlsym(handle, "cu..."): the CUDA runtime and PyTorch dlopen libcuda.so.1 themselves
 *    and dlsym on that handle, which never sees a preloaded library. The shared dlsym
 *    interposer (shim/common/xs_dlsym.c) passes what the real dlsym found to
 *    cu_dlsym_substitute: for a name we intercept, found in the driver, our hook instead.
 *  - cuGetProcAddress[_v2]: how the runtime resolves everything else. Our wrappers call the
 *    driver's, and when the pointer it returns is exactly the driver's exported function of
 *    a variant we intercept (checked by address, so version and stream flavour are the
 *    driver's own choice), substitute our hook for that variant.
 */
#include <dlfcn.h>
#include <string.h>

#include "cu_shim.h"
#include "xs_interpose.h"
#include "xs_log.h"

static _Atomic(void *) libcuda;

/* The driver library: the one our cuGetProcAddress came from, else libcuda.so.1 if loaded. */
static void *driver_handle(void)
{
	void *h = atomic_load_explicit(&libcuda, memory_order_acquire);
	if (h)
		return h;
	h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (h) {
		void *expect = NULL;
		if (!atomic_compare_exchange_strong(&libcuda, &expect, h)) {
			dlclose(h);
			h = expect;
		}
	}
	return h;
}

/* Remember the library that serves `fn` (a driver function we were handed). */
static void note_driver(void *fn)
{
	Dl_info info;
	if (atomic_load(&libcuda) || !dladdr(fn, &info) || !info.dli_fname)
		return;
	void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	void *expect = NULL;
	if (h && !atomic_compare_exchange_strong(&libcuda, &expect, h))
		dlclose(h);
}

/* Entry i of the hook tables taken end to end (cu_hooks[], then cu_prio_hooks[]). */
static unsigned int nhooks(void)
{
	return cu_nhooks + cu_prio_nhooks;
}
static struct cu_hook *hook_at(unsigned int i)
{
	return i < cu_nhooks ? &cu_hooks[i] : &cu_prio_hooks[i - cu_nhooks];
}

static bool is_hook(void *fn)
{
	for (unsigned int i = 0; i < nhooks(); i++)
		if (hook_at(i)->hook == fn)
			return true;
	return false;
}

void *cu_driver_sym(const char *name)
{
	xs_dlsym_fn ds = xs_real_dlsym();
	if (!ds)
		return NULL;
	void *h = driver_handle();
	void *fn = h ? ds(h, name) : NULL;
	if (!fn)
		fn = ds(RTLD_NEXT, name);
	return fn && !is_hook(fn) ? fn : NULL;
}

void *cu_real(unsigned int idx)
{
	return cu_hook_real(&cu_hooks[idx]);
}

void *cu_hook_real(struct cu_hook *e)
{
	void *fn = atomic_load_explicit(&e->real, memory_order_acquire);
	if (__builtin_expect(fn != NULL, 1))
		return fn;
	fn = cu_driver_sym(e->name);
	if (fn) {
		void *expect = NULL;
		if (!atomic_compare_exchange_strong(&e->real, &expect, fn))
			fn = expect;
	}
	return fn;
}

void *cu_substitute(const char *api, void *fn)
{
	if (!api || !fn || api[0] != 'c' || api[1] != 'u')
		return fn;
	note_driver(fn);
	for (unsigned int i = 0; i < nhooks(); i++)
		if (!strcmp(hook_at(i)->api, api) && cu_hook_real(hook_at(i)) == fn)
			return hook_at(i)->hook;
	if (xs_log_level >= XS_LOG_DEBUG)
		for (unsigned int i = 0; i < nhooks(); i++)
			if (!strcmp(hook_at(i)->api, api)) {
				xs_log(XS_LOG_DEBUG,
				       "cuGetProcAddress(%s): driver returned a "
				       "variant we do not intercept",
				       api);
				break;
			}
	return fn;
}

void *cu_dlsym_substitute(const char *name, void *fn)
{
	for (unsigned int i = 0; i < nhooks(); i++) {
		struct cu_hook *e = hook_at(i);
		if (strcmp(e->name, name))
			continue;
		if (fn == e->hook) /* a global-scope handle found our own export */
			return fn;
		note_driver(fn);
		return cu_hook_real(e) == fn ? e->hook : fn;
	}
	return fn;
}
