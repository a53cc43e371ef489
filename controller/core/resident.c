// SPDX-License-Identifier: MIT
/* Zeroed memory with every page faulted in (resident.h). */
#include "resident.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

void *resident_calloc(size_t n, size_t size)
{
	volatile unsigned char *p;
	long page = sysconf(_SC_PAGESIZE);
	size_t len, step;

	if (size && n > SIZE_MAX / size)
		return NULL;
	len = n * size;
	p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		return NULL;
	step = page > 0 ? (size_t)page : 4096;
	/* A volatile store of the zero already there: the compiler may not drop it, and the
	 * kernel must give the page a frame of its own. */
	for (size_t i = 0; i < len; i += step)
		p[i] = 0;
	if (len)
		p[len - 1] = 0;
	return (void *)p;
}
