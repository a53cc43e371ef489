/* SPDX-License-Identifier: MIT */
/*
 * Zeroed memory that is resident from the moment it is allocated.
 *
 * A large calloc() is a fresh mapping whose pages the kernel provides on first write, so a
 * fixed array that is used a little further in as time goes on (process slots taken deeper,
 * histogram buckets reached for the first time) makes the process's private memory creep up
 * for as long as it runs, although nothing leaks. The controller's state is fixed in size:
 * allocated with resident_calloc(), its private memory is at its final size at once and
 * stays flat, so that a leak, if one appears, is visible.
 */
#ifndef XSCHED_RESIDENT_H
#define XSCHED_RESIDENT_H

#include <stddef.h>

/* calloc(n, size) with every page written once; NULL on overflow or out of memory.
 * Release it with free(). */
void *resident_calloc(size_t n, size_t size);

#endif
