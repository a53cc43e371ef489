/* SPDX-License-Identifier: MIT */
/*
 * A program that uses no GPU runtime, for the test that preloading libxsched.so changes
 * nothing in it. It looks symbols up (through the shim's dlsym when preloaded, names of both
 * vendors included), writes to stdout and stderr, and exits 3.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	void *m = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	double (*cosine)(double) = m ? (double (*)(double))dlsym(m, "cos") : NULL;
	void *cu = m ? dlsym(m, "cuLaunchKernel") : NULL;
	void *hip = m ? dlsym(m, "hipLaunchKernel") : NULL;
	size_t (*len)(const char *) = (size_t(*)(const char *))dlsym(RTLD_DEFAULT, "strlen");
	printf("cos(0)=%.1f strlen=%zu cuLaunchKernel=%s hipLaunchKernel=%s\n",
	       cosine ? cosine(0.0) : -1.0, len ? len("xsched") : 0, cu ? "found" : "absent",
	       hip ? "found" : "absent");
	fprintf(stderr, "plain_probe: a line on stderr\n");
	return 3;
}
