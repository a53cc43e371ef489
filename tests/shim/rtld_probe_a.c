/* SPDX-License-Identifier: MIT */
/* Part of the RTLD_NEXT check: defines xs_probe (1) and asks for the next definition. */
#include <dlfcn.h>

int xs_probe(void);
int xs_probe_next(void);

int xs_probe(void)
{
	return 1;
}

int xs_probe_next(void)
{
	int (*next)(void) = (int (*)(void))dlsym(RTLD_NEXT, "xs_probe");
	return next ? next() : -1;
}
