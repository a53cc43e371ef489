/* SPDX-License-Identifier: MIT */
/*
 * exec() keeps the pid, and the preloaded shim registers again in the new image: it must
 * take over its slot, not claim a second one. This program touches the GPU (so the shim
 * registers), then execs itself and touches it again. It loads libcuda.so.1 at run time.
 */
#include <cuda.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int touch_gpu(void)
{
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "exec_probe: %s\n", dlerror());
		return -1;
	}
	CUresult (*init)(unsigned int) = (CUresult(*)(unsigned int))dlsym(lib, "cuInit");
	CUresult (*dev_get)(CUdevice *, int) =
	        (CUresult(*)(CUdevice *, int))dlsym(lib, "cuDeviceGet");
	CUresult (*retain)(CUcontext *, CUdevice) =
	        (CUresult(*)(CUcontext *, CUdevice))dlsym(lib, "cuDevicePrimaryCtxRetain");
	CUresult (*set_current)(CUcontext) = (CUresult(*)(CUcontext))dlsym(lib, "cuCtxSetCurrent");
	CUresult (*sync)(CUstream) = (CUresult(*)(CUstream))dlsym(lib, "cuStreamSynchronize");
	CUdevice d;
	CUcontext c;
	if (!init || !dev_get || !retain || !set_current || !sync || init(0) || dev_get(&d, 0) ||
	    retain(&c, d) || set_current(c))
		return -1;
	return sync(NULL) == CUDA_SUCCESS ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (touch_gpu()) {
		fprintf(stderr, "exec_probe: GPU calls failed\n");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "again")) {
		printf("exec_probe: pid %d done after exec\n", (int)getpid());
		return 0;
	}
	execl("/proc/self/exe", argv[0], "again", (char *)NULL);
	perror("exec_probe: exec");
	return 1;
}
