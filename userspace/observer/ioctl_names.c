// SPDX-License-Identifier: MIT
/* Names for GPU driver ioctls, from the tables in bpf/xobs_ioctl.h. */
#include <stdio.h>

#include "xobs.h"
#include "xobs_ioctl.h"

_Static_assert((int)XOBS_DRIVER_NVIDIA == (int)XOBS_DRV_NVIDIA &&
                       (int)XOBS_DRIVER_NVIDIA_UVM == (int)XOBS_DRV_NVIDIA_UVM &&
                       (int)XOBS_DRIVER_KFD == (int)XOBS_DRV_KFD &&
                       (int)XOBS_DRIVER_AMDGPU == (int)XOBS_DRV_AMDGPU,
               "xobs.h's driver numbers are the BPF side's");

struct cmd_name {
	uint32_t nr;
	const char *name;
	unsigned int flags;
};

#define ROW(nr, name, flags) { nr, #name, flags },
static const struct cmd_name nv_names[] = { XOBS_NV_ESCAPES(ROW) };
static const struct cmd_name uvm_names[] = { XOBS_UVM_IOCTLS(ROW) };
static const struct cmd_name kfd_names[] = { XOBS_KFD_IOCTLS(ROW) };
static const struct cmd_name amdgpu_names[] = { XOBS_AMDGPU_IOCTLS(ROW) };
static const struct cmd_name drm_names[] = { XOBS_DRM_CORE_IOCTLS(ROW) };
#undef ROW

#define LOOKUP(table, nr) lookup(table, sizeof(table) / sizeof(table[0]), nr)

static const struct cmd_name *lookup(const struct cmd_name *t, size_t n, uint32_t nr)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].nr == nr)
			return &t[i];
	return NULL;
}

const char *xobs_driver_name(enum xobs_driver d)
{
	switch (d) {
	case XOBS_DRIVER_NVIDIA:
		return "nvidia";
	case XOBS_DRIVER_NVIDIA_UVM:
		return "nvidia-uvm";
	case XOBS_DRIVER_KFD:
		return "amdkfd";
	case XOBS_DRIVER_AMDGPU:
		return "amdgpu";
	}
	return "unknown";
}

void xobs_ioctl_name(enum xobs_driver d, uint32_t cmd, char *buf, size_t len, bool *blocking)
{
	const struct cmd_name *c = NULL;
	uint32_t type = XOBS_IOC_TYPE(cmd), nr = XOBS_IOC_NR(cmd);

	switch (d) {
	case XOBS_DRIVER_NVIDIA:
		if (type == XOBS_NV_IOCTL_TYPE)
			c = LOOKUP(nv_names, nr);
		break;
	case XOBS_DRIVER_NVIDIA_UVM:
		c = LOOKUP(uvm_names, cmd);
		break;
	case XOBS_DRIVER_KFD:
		if (type == XOBS_KFD_IOCTL_TYPE)
			c = LOOKUP(kfd_names, nr);
		break;
	case XOBS_DRIVER_AMDGPU:
		if (type != XOBS_DRM_IOCTL_TYPE)
			break;
		if (nr >= XOBS_DRM_CMD_BASE && nr < XOBS_DRM_CMD_END)
			c = LOOKUP(amdgpu_names, nr - XOBS_DRM_CMD_BASE);
		else
			c = LOOKUP(drm_names, nr);
		break;
	}
	*blocking = c && (c->flags & XOBS_IOF_WAIT);
	if (c)
		snprintf(buf, len, "%s", c->name);
	else if (d == XOBS_DRIVER_NVIDIA_UVM)
		snprintf(buf, len, "UVM_IOCTL_%u", cmd);
	else
		snprintf(buf, len, "IOCTL_%c_0x%02x",
		         type >= 0x20 && type < 0x7f ? (char)type : '?', nr);
}
