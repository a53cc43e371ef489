// SPDX-License-Identifier: MIT
/* NVML / ROCm SMI utilisation, loaded at run time (gpu_util.h). */
#include "gpu_util.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xsched_shm.h"

/* The few NVML and ROCm SMI entry points used, with their documented C signatures. */
typedef int (*nvml_init_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *);
typedef int (*nvml_handle_fn)(unsigned int, void **);
typedef int (*nvml_uuid_fn)(void *, char *, unsigned int);
struct nvml_util {
	unsigned int gpu, memory;
};
typedef int (*nvml_util_fn)(void *, struct nvml_util *);
typedef int (*rsmi_init_fn)(uint64_t);
typedef int (*rsmi_count_fn)(uint32_t *);
typedef int (*rsmi_busy_fn)(uint32_t, uint32_t *);

/* What the segment's GPU records hold, up to the process table. */
#define PROTO_GPU_BYTES offsetof(struct xsched_shm, procs)

struct gpu_util {
	void *lib;
	bool nvml;
	nvml_handle_fn handle;
	nvml_uuid_fn uuid;
	nvml_util_fn util;
	rsmi_busy_fn busy;
	unsigned int ndev;
	char shm_path[96];
	const struct xsched_shm *shm; /* GPU records only; NULL until the segment exists */
};

static void map_proto(struct gpu_util *u)
{
	int fd;
	void *m;

	if (u->shm)
		return;
	fd = open(u->shm_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	m = mmap(NULL, PROTO_GPU_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	u->shm = m;
	if (u->shm->hdr.magic != XSCHED_SHM_MAGIC || u->shm->hdr.version != XSCHED_SHM_VERSION) {
		munmap(m, PROTO_GPU_BYTES);
		u->shm = NULL;
	}
}

static bool open_nvml(struct gpu_util *u)
{
	nvml_init_fn init;
	nvml_count_fn count;

	u->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!u->lib)
		return false;
	init = (nvml_init_fn)dlsym(u->lib, "nvmlInit_v2");
	count = (nvml_count_fn)dlsym(u->lib, "nvmlDeviceGetCount_v2");
	u->handle = (nvml_handle_fn)dlsym(u->lib, "nvmlDeviceGetHandleByIndex_v2");
	u->uuid = (nvml_uuid_fn)dlsym(u->lib, "nvmlDeviceGetUUID");
	u->util = (nvml_util_fn)dlsym(u->lib, "nvmlDeviceGetUtilizationRates");
	if (!init || !count || !u->handle || !u->uuid || !u->util || init() || count(&u->ndev)) {
		dlclose(u->lib);
		u->lib = NULL;
		return false;
	}
	u->nvml = true;
	return true;
}

static bool open_rsmi(struct gpu_util *u)
{
	rsmi_init_fn init;
	rsmi_count_fn count;
	uint32_t n = 0;

	u->lib = dlopen("librocm_smi64.so", RTLD_NOW | RTLD_LOCAL);
	if (!u->lib)
		u->lib = dlopen("librocm_smi64.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!u->lib)
		return false;
	init = (rsmi_init_fn)dlsym(u->lib, "rsmi_init");
	count = (rsmi_count_fn)dlsym(u->lib, "rsmi_num_monitor_devices");
	u->busy = (rsmi_busy_fn)dlsym(u->lib, "rsmi_dev_busy_percent_get");
	if (!init || !count || !u->busy || init(0) || count(&n)) {
		dlclose(u->lib);
		u->lib = NULL;
		return false;
	}
	u->ndev = n;
	return true;
}

struct gpu_util *gpu_util_open(const char *shm_name)
{
	struct gpu_util *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	if (!open_nvml(u) && !open_rsmi(u)) {
		free(u);
		return NULL;
	}
	snprintf(u->shm_path, sizeof(u->shm_path), "/dev/shm/%s", shm_name);
	return u;
}

const char *gpu_util_source(const struct gpu_util *u)
{
	return !u ? NULL : u->nvml ? "NVML" : "ROCm SMI";
}

/* NVML's "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" against 16 raw bytes. */
static bool uuid_equal(const char *s, const uint8_t *b)
{
	int k = 0;

	if (!strncmp(s, "GPU-", 4))
		s += 4;
	for (; *s && k < 16; s++) {
		unsigned int v;

		if (*s == '-')
			continue;
		if (sscanf(s, "%2x", &v) != 1 || v != b[k])
			return false;
		k++;
		s++;
	}
	return k == 16;
}

static int ngpus(const struct xsched_shm *shm)
{
	int n = 0;

	for (int g = 0; g < XSCHED_MAX_GPUS; g++)
		if (atomic_load(&shm->gpus[g].state) == XSCHED_GPU_READY)
			n++;
	return n;
}

int gpu_util_get(struct gpu_util *u, int gpu)
{
	if (!u || gpu < 0 || gpu >= XSCHED_MAX_GPUS)
		return -1;
	map_proto(u);
	if (!u->shm || atomic_load(&u->shm->gpus[gpu].state) != XSCHED_GPU_READY)
		return -1;
	if (u->nvml) {
		for (unsigned int i = 0; i < u->ndev; i++) {
			struct nvml_util r;
			char id[96];
			void *h;

			if (u->handle(i, &h) || u->uuid(h, id, sizeof(id)) ||
			    !uuid_equal(id, u->shm->gpus[gpu].uuid))
				continue;
			return u->util(h, &r) ? -1 : (int)r.gpu;
		}
		return -1;
	}
	if (u->ndev == 1 && ngpus(u->shm) == 1) {
		uint32_t pct;

		return u->busy(0, &pct) ? -1 : (int)pct;
	}
	return -1;
}

void gpu_util_close(struct gpu_util *u)
{
	if (!u)
		return;
	if (u->shm)
		munmap((void *)u->shm, PROTO_GPU_BYTES);
	/* The libraries stay loaded: NVML and ROCm SMI keep threads and state that their
	 * shutdown calls tear down, and top is about to exit anyway. */
	free(u);
}
