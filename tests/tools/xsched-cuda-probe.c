/* SPDX-License-Identifier: MIT */
/*
 * xsched-cuda-probe: which CUDA entry points does libxsched.so actually intercept on this
 * driver? Run it with the shim preloaded and the names of the shim's exports on stdin
 * (nm -D --defined-only libxsched.so | awk '$3 ~ /^cu/ {print $3}'). For each exported
 * name it asks the driver the two ways applications do:
 *   dlsym       dlsym(handle of libcuda.so.1, name)
 *   getproc     cuGetProcAddress_v2(api name, CUDA_VERSION, the name's stream flavour)
 * and says whether the pointer handed back is the shim's hook ("hook"), the driver's own
 * function ("MISSED", with the driver symbol it is), or nothing ("absent": this driver has
 * no such entry point, or serves another variant at that version). One JSON object per
 * line, then a summary line; exit 1 if anything was MISSED.
 */
#include <cuda.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef CUresult (*gpa_fn)(const char *, void **, int, cuuint64_t,
                           CUdriverProcAddressQueryResult *);

static const char *whose(void *p, char *sym, size_t len)
{
	Dl_info info;
	snprintf(sym, len, "?");
	if (!p || !dladdr(p, &info))
		return "absent";
	if (info.dli_sname)
		snprintf(sym, len, "%s", info.dli_sname);
	return info.dli_fname && strstr(info.dli_fname, "libxsched") ? "hook" : "MISSED";
}

/* "cuMemcpyDtoHAsync_v2_ptsz" -> api "cuMemcpyDtoHAsync", per-thread flavour. */
static void api_of(const char *name, char *api, size_t len, bool *ptds)
{
	snprintf(api, len, "%s", name);
	*ptds = false;
	for (;;) {
		char *u = strrchr(api, '_');
		if (!u)
			return;
		if (!strcmp(u, "_ptsz") || !strcmp(u, "_ptds"))
			*ptds = true;
		else if (!(u[1] == 'v' && u[2] >= '0' && u[2] <= '9'))
			return;
		*u = '\0';
	}
}

int main(int argc, char **argv)
{
	int version = argc > 1 ? atoi(argv[1]) : CUDA_VERSION;
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "xsched-cuda-probe: %s\n", dlerror());
		return 2;
	}
	gpa_fn gpa = (gpa_fn)dlsym(lib, "cuGetProcAddress_v2");
	CUresult (*init)(unsigned int) = (CUresult(*)(unsigned int))dlsym(lib, "cuInit");
	if (!gpa || !init || init(0) != CUDA_SUCCESS) {
		fprintf(stderr, "xsched-cuda-probe: cannot initialise the driver\n");
		return 2;
	}
	char name[256];
	int n = 0, missed = 0, hooked = 0;
	while (scanf("%255s", name) == 1) {
		char api[256], s1[256], s2[256];
		bool ptds;
		api_of(name, api, sizeof(api), &ptds);
		const char *by_dlsym = whose(dlsym(lib, name), s1, sizeof(s1));
		void *p = NULL;
		CUdriverProcAddressQueryResult q;
		cuuint64_t flags = ptds ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM
		                        : CU_GET_PROC_ADDRESS_LEGACY_STREAM;
		gpa(api, &p, version, flags, &q);
		const char *by_gpa = whose(p, s2, sizeof(s2));
		/* getproc serves one variant per version and flavour: only a pointer that is the
		 * driver's own function of *this* name would be a miss. */
		if (!strcmp(by_gpa, "MISSED") && strcmp(s2, name))
			by_gpa = "other-variant";
		printf("{\"name\":\"%s\",\"api\":\"%s\",\"dlsym\":\"%s\",\"getproc\":\"%s\","
		       "\"getproc_symbol\":\"%s\"}\n",
		       name, api, by_dlsym, by_gpa, s2);
		n++;
		missed += !strcmp(by_dlsym, "MISSED") + !strcmp(by_gpa, "MISSED");
		hooked += !strcmp(by_gpa, "hook");
	}
	printf("{\"summary\":true,\"version\":%d,\"names\":%d,\"getproc_hooked\":%d,\"missed\":%d}"
	       "\n",
	       version, n, hooked, missed);
	return missed ? 1 : 0;
}
