/* SPDX-License-Identifier: MIT */
/*
 * Shared by the vendor backends of libxsched.so.
 *
 * xs_dlsym.c  the exported dlsym(): a lookup on a library handle of a name we intercept is
 *             handed to its vendor (cu* -> CUDA, hip* -> HIP), which may substitute its hook;
 *             everything else is a tail call into the real dlsym.
 * xs_mux.c    the backend multiplexer: the core takes one backend, the library has two. The
 *             mux is the core's backend and forwards each marker operation to the backend
 *             that owns the stream or marker; it settles (initialises) each backend once its
 *             runtime is there.
 */
#ifndef XS_INTERPOSE_H
#define XS_INTERPOSE_H

#include <stdbool.h>

#include "xs_core.h"

#define XS_EXPORT __attribute__((visibility("default")))

typedef void *(*xs_dlsym_fn)(void *, const char *);

/* glibc's dlsym, found with dlvsym (never our own); NULL if it cannot be found. */
xs_dlsym_fn xs_real_dlsym(void);

/* Per vendor: `fn` is what the real dlsym returned for `name` on `handle`; return our hook
 * when fn is the runtime's own function of a name we intercept, else fn. */
void *cu_dlsym_substitute(const char *name, void *fn);
void *hip_dlsym_substitute(const char *name, void *fn);

/*
 * A backend that claims its own streams and markers (owns_stream/owns_mark); a backend
 * registered through xs_set_backend() (the link wraps it) claims everything the others do
 * not. At most one of those.
 */
void xs_mux_add(const struct xs_backend *b, bool (*owns_stream)(const struct xs_stream *),
                bool (*owns_mark)(const struct xs_mark *));
/* Initialise the backend called `name` unless it already is; true when it is ready. Called
 * by the core's registration for every backend, and by a backend the first time it finds
 * its runtime loaded (a process may load the second runtime after registering). */
bool xs_mux_settle(const char *name);

#endif
