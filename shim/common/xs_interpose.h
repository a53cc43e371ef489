/* SPDX-License-Identifier: MIT */
/*
 * Shared by the vendor backends of libxsched.so.
 *
 * xs_dlsym.c  the exported dlsym(): a lookup on a library handle of a name we intercept is
 *             handed to its vendor (cu* -> CUDA, hip* -> HIP), which may substitute its hook;
 *             everything else is a tail call into the real dlsym.
 *
 * Each backend registers itself with the core (xs_backend_register, shim/core/xs_core.h);
 * nothing here stands between them.
 */
#ifndef XS_INTERPOSE_H
#define XS_INTERPOSE_H

#define XS_EXPORT __attribute__((visibility("default")))

typedef void *(*xs_dlsym_fn)(void *, const char *);

/* glibc's dlsym, found with dlvsym (never our own); NULL if it cannot be found. */
xs_dlsym_fn xs_real_dlsym(void);

/* Per vendor: `fn` is what the real dlsym returned for `name` on `handle`; return our hook
 * when fn is the runtime's own function of a name we intercept, else fn. */
void *cu_dlsym_substitute(const char *name, void *fn);
void *hip_dlsym_substitute(const char *name, void *fn);

#endif
