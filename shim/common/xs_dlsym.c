/* SPDX-License-Identifier: MIT */
/*
 * The CUDA runtime, PyTorch and our own workloads dlopen the vendor library and look entry
 * points up with dlsym on that handle, which never sees a preloaded library. We interpose
 * dlsym: for a name a backend intercepts, found in its runtime, the backend returns its
 * hook instead. Lookups on RTLD_NEXT / RTLD_DEFAULT and names of neither vendor are a tail
 * call into the real dlsym, so RTLD_NEXT keeps its meaning for our caller.
 *
 * The real dlsym comes from dlvsym(RTLD_NEXT, "dlsym", <glibc version>).
 *
 * Sanitizers: the TSan and ASan runtimes look their interceptors' targets up with
 * dlsym(RTLD_NEXT, ...) while they initialise, and a preloaded library's dlsym comes first:
 * ours is called before the runtime can record anything. So the interposer is never
 * instrumented (an instrumented entry into an uninitialised TSan runtime crashed every
 * process at start), and its last call must be a tail call at any optimisation level (an
 * instrumented or unoptimised build would call the real dlsym from here, and RTLD_NEXT would
 * then mean "after libxsched.so": the sanitizer would find its own interceptors again).
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

#include "xs_interpose.h"

#if defined(__clang__)
#define XS_UNINSTRUMENTED __attribute__((disable_sanitizer_instrumentation))
#define XS_TAIL_CALL      __attribute__((musttail))
#else
/* GCC has no guaranteed tail call: optimisation on for these few lines makes it one. */
#define XS_UNINSTRUMENTED                                                                          \
	__attribute__((no_sanitize_thread, no_sanitize_address, no_sanitize_undefined,             \
	               optimize("O2")))
#define XS_TAIL_CALL
#endif

static _Atomic(xs_dlsym_fn) real_dlsym_fn;

XS_UNINSTRUMENTED xs_dlsym_fn xs_real_dlsym(void)
{
	xs_dlsym_fn f = atomic_load_explicit(&real_dlsym_fn, memory_order_acquire);
	if (__builtin_expect(f != NULL, 1))
		return f;
	/* glibc >= 2.34 (libc), then the base versions of x86-64, aarch64 and i386. */
	static const char *const versions[] = { "GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17",
		                                "GLIBC_2.0" };
	for (unsigned int i = 0; i < sizeof(versions) / sizeof(versions[0]) && !f; i++)
		f = (xs_dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", versions[i]);
	atomic_store_explicit(&real_dlsym_fn, f, memory_order_release);
	return f;
}

static void *vendor_dlsym(void *handle, const char *name, void *(*substitute)(const char *, void *))
{
	void *fn = xs_real_dlsym()(handle, name);
	return fn ? substitute(name, fn) : NULL;
}

XS_EXPORT XS_UNINSTRUMENTED void *dlsym(void *handle, const char *name)
{
	if (handle != RTLD_NEXT && handle != RTLD_DEFAULT) {
		if (name[0] == 'c' && name[1] == 'u')
			return vendor_dlsym(handle, name, cu_dlsym_substitute);
#ifdef XS_HAVE_HIP
		if (name[0] == 'h' && name[1] == 'i' && name[2] == 'p')
			return vendor_dlsym(handle, name, hip_dlsym_substitute);
#endif
	}
	/* A tail call: the real dlsym sees our caller's return address (RTLD_NEXT). */
	xs_dlsym_fn real = xs_real_dlsym();
	XS_TAIL_CALL return real(handle, name);
}
