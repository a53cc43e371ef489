/* SPDX-License-Identifier: MIT */
/*
 * The segment guard: a process that can write the protocol segment can also shrink it, and
 * a shrunk shared mapping raises SIGBUS on the next access past the new end. That must not
 * kill the application. Once armed, a SIGBUS whose address lies in the segment's mapping
 * puts private zero pages in place of the whole mapping (every later access succeeds; the
 * zeros read as "no controller, no grant"), says so once on stderr and turns the shim to
 * pass-through. Any other SIGBUS goes to what the application had installed before, or
 * takes its default action.
 */
#ifndef XS_GUARD_H
#define XS_GUARD_H

#include <stddef.h>

/* Arm the guard over [base, base + size). Called once, when the segment is mapped; the
 * mapping must stay at that address for the life of the process. */
void xs_guard_arm(void *base, size_t size);

#endif
