/* SPDX-License-Identifier: MIT */
/*
 * Where the application gets HIP entry points from, and how we hand it our hooks:
 *
 *  - Exported symbols: libxsched.so exports each intercepted name, so a program or library
 *    linked against libamdhip64 (PyTorch's libtorch_hip, rocBLAS, MIOpen) calls our hook.
 *  - dlsym(handle, "hip..."): programs that dlopen the runtime; the shared dlsym
 *    interposer (shim/common/xs_dlsym.c) hands what the real dlsym found to
 *    hip_dlsym_substitute, which returns our hook when it is the runtime's own function.
 *  - hipGetProcAddress: absent from the HIP 5.2 headers we build against, so not hooked.
 *
 * The runtime's functions are looked up on its handle: the library an intercepted pointer
 * came from, else libamdhip64.so.6 / .so.5 / .so if already loaded (never loaded by us),
 * else RTLD_NEXT (a program linked against it).
 */
#include <dlfcn.h>
#include <string.h>

#include "hip_shim.h"

static _Atomic(void *) libhip;

static void *runtime_handle(void)
{
	static const char *const names[] = { "libamdhip64.so.6", "libamdhip64.so.5",
		                             "libamdhip64.so" };
	void *h = atomic_load_explicit(&libhip, memory_order_acquire);
	for (unsigned int i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++) {
		h = dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD);
		void *expect = NULL;
		if (h && !atomic_compare_exchange_strong(&libhip, &expect, h)) {
			dlclose(h);
			h = expect;
		}
	}
	return h;
}

/* Remember the library that serves `fn` (a runtime function we were handed). */
static void note_runtime(void *fn)
{
	Dl_info info;
	if (atomic_load(&libhip) || !dladdr(fn, &info) || !info.dli_fname)
		return;
	void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	void *expect = NULL;
	if (h && !atomic_compare_exchange_strong(&libhip, &expect, h))
		dlclose(h);
}

static bool is_hook(void *fn)
{
	for (unsigned int i = 0; i < hip_nhooks; i++)
		if (hip_hooks[i].hook == fn)
			return true;
	return false;
}

void *hip_runtime_sym(const char *name)
{
	xs_dlsym_fn ds = xs_real_dlsym();
	if (!ds)
		return NULL;
	void *h = runtime_handle();
	void *fn = h ? ds(h, name) : NULL;
	if (!fn)
		fn = ds(RTLD_NEXT, name);
	return fn && !is_hook(fn) ? fn : NULL;
}

void *hip_real(unsigned int idx)
{
	struct hip_hook *e = &hip_hooks[idx];
	void *fn = atomic_load_explicit(&e->real, memory_order_acquire);
	if (__builtin_expect(fn != NULL, 1))
		return fn;
	fn = hip_runtime_sym(e->name);
	if (fn) {
		void *expect = NULL;
		if (!atomic_compare_exchange_strong(&e->real, &expect, fn))
			fn = expect;
	}
	return fn;
}

void *hip_dlsym_substitute(const char *name, void *fn)
{
	for (unsigned int i = 0; i < hip_nhooks; i++) {
		struct hip_hook *e = &hip_hooks[i];
		if (strcmp(e->name, name))
			continue;
		if (fn == e->hook) /* a global-scope handle found our own export */
			return fn;
		note_runtime(fn);
		return hip_real(i) == fn ? e->hook : fn;
	}
	return fn;
}
