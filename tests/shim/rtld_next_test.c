/* SPDX-License-Identifier: MIT */
/*
 * dlsym(RTLD_NEXT, ...) must keep its meaning under libxsched.so, which interposes dlsym:
 * called from librtld_probe_a, it finds the definition in librtld_probe_b (loaded after A),
 * not A's own. If the shim's dlsym were not a tail call into the real one, the lookup would
 * start after libxsched.so and find A's definition again.
 */
#include <stdio.h>

int xs_probe_next(void);

int main(void)
{
	int v = xs_probe_next();
	printf("RTLD_NEXT from liba found xs_probe() = %d (expected 2)\n", v);
	return v == 2 ? 0 : 1;
}
