/* SPDX-License-Identifier: MIT */
/*
 * The NVIDIA ioctls the simulated libcuda.so.1 issues, with the numbers the real user-mode
 * driver uses, so that an eBPF observer decoding sys_enter_ioctl sees the same commands on
 * the simulated device as on a real one.
 *
 * Where the numbers come from: NVIDIA's open kernel module (open-gpu-kernel-modules),
 * src/nvidia/arch/nvalloc/unix/include/nv_escape.h for the RM escape numbers (the _IOC_NR
 * field; the type is 'F', NV_IOCTL_MAGIC in kernel-open/common/inc/nv-ioctl-numbers.h),
 * and src/common/sdk/nvidia/inc/nvos.h for the parameter structures, whose size is encoded
 * in the command (_IOWR). The kernel module accepts NV_ESC_RM_ALLOC with either
 * NVOS21_PARAMETERS or the larger NVOS64_PARAMETERS; we use NVOS21. The structures below
 * are our own declarations with the same layout. Class and control numbers are from the
 * same SDK headers (cl0080.h, cl2080.h, cl90f1.h, cla06c.h, clc86f.h, clcbc0.h,
 * ctrl2080event.h).
 */
#ifndef XSCHED_SIM_NV_IOCTL_NUMBERS_H
#define XSCHED_SIM_NV_IOCTL_NUMBERS_H

#include <stdint.h>
#include <sys/ioctl.h>

#define NV_IOCTL_MAGIC    'F'
#define NV_ESC_RM_CONTROL 0x2a
#define NV_ESC_RM_ALLOC   0x2b

/* NVOS21_PARAMETERS: allocate an RM object of class hClass under hObjectParent. */
struct sim_nvos21 {
	uint32_t hRoot;
	uint32_t hObjectParent;
	uint32_t hObjectNew;
	uint32_t hClass;
	uint64_t pAllocParms; /* NvP64, 8-byte aligned */
	uint32_t paramsSize;
	uint32_t status;
};

/* NVOS54_PARAMETERS: run control command `cmd` on object hObject. */
struct sim_nvos54 {
	uint32_t hClient;
	uint32_t hObject;
	uint32_t cmd;
	uint32_t flags;
	uint64_t params; /* NvP64 */
	uint32_t paramsSize;
	uint32_t status;
};

_Static_assert(sizeof(struct sim_nvos21) == 32, "NVOS21_PARAMETERS is 32 bytes");
_Static_assert(sizeof(struct sim_nvos54) == 32, "NVOS54_PARAMETERS is 32 bytes");

#define NV_IOCTL_RM_ALLOC   _IOWR(NV_IOCTL_MAGIC, NV_ESC_RM_ALLOC, struct sim_nvos21)
#define NV_IOCTL_RM_CONTROL _IOWR(NV_IOCTL_MAGIC, NV_ESC_RM_CONTROL, struct sim_nvos54)

/* Objects a context's creation allocates, in the order the driver needs them. */
#define NV01_DEVICE_0           0x0080
#define NV20_SUBDEVICE_0        0x2080
#define FERMI_VASPACE_A         0x90f1
#define KEPLER_CHANNEL_GROUP_A  0xa06c
#define HOPPER_CHANNEL_GPFIFO_A 0xc86f
#define HOPPER_COMPUTE_A        0xcbc0

/* A blocking-sync wait arms the completion notifier with this control before it sleeps. */
#define NV2080_CTRL_CMD_EVENT_SET_NOTIFICATION 0x20800301

#endif
