// SPDX-License-Identifier: MIT
/*
 * Which character devices belong to GPU drivers, for ioctl.bpf.c: NVIDIA's and the KFD's
 * majors from /proc/devices (every minor), and the DRM nodes whose device is bound to
 * amdgpu from /sys/class/drm (one minor each: other DRM drivers share the major).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "xobs_ioctl.h"

static int put(int map_fd, unsigned int major, unsigned int minor, __u32 drv)
{
	__u32 key = XOBS_DEVKEY(major, minor);

	return bpf_map_update_elem(map_fd, &key, &drv, BPF_ANY) ? -errno : 0;
}

static __u32 driver_of_major_name(const char *name)
{
	if (strncmp(name, "nvidia-uvm", 10) == 0)
		return XOBS_DRV_NVIDIA_UVM;
	if (strncmp(name, "nvidia", 6) == 0)
		return XOBS_DRV_NVIDIA;
	if (strcmp(name, "kfd") == 0)
		return XOBS_DRV_KFD;
	return XOBS_DRV_NONE;
}

static int scan_proc_devices(int map_fd)
{
	char line[128], name[64];
	bool chr = false;
	unsigned int major;
	FILE *f = fopen("/proc/devices", "re");
	int err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		__u32 drv;

		if (strncmp(line, "Character devices:", 18) == 0) {
			chr = true;
			continue;
		}
		if (strncmp(line, "Block devices:", 14) == 0)
			break;
		if (!chr || sscanf(line, "%u %63s", &major, name) != 2)
			continue;
		drv = driver_of_major_name(name);
		if (drv != XOBS_DRV_NONE && !err)
			err = put(map_fd, major, XOBS_MINOR_ANY, drv);
	}
	fclose(f);
	return err;
}

static bool bound_to_amdgpu(const char *node)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/drm/%s/device/driver", node);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	base = strrchr(target, '/');
	return strcmp(base ? base + 1 : target, "amdgpu") == 0;
}

static int scan_drm(int map_fd)
{
	DIR *d = opendir("/sys/class/drm");
	struct dirent *e;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && !err) {
		unsigned int major, minor;
		char path[PATH_MAX];
		FILE *f;
		int got;

		if (strncmp(e->d_name, "card", 4) && strncmp(e->d_name, "renderD", 7))
			continue;
		if (!bound_to_amdgpu(e->d_name))
			continue;
		snprintf(path, sizeof(path), "/sys/class/drm/%s/dev", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		got = fscanf(f, "%u:%u", &major, &minor);
		fclose(f);
		if (got == 2)
			err = put(map_fd, major, minor, XOBS_DRV_AMDGPU);
	}
	closedir(d);
	return err;
}

int devices_refresh(int map_fd)
{
	int err = scan_proc_devices(map_fd);

	return err ? err : scan_drm(map_fd);
}
