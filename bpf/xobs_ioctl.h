/* SPDX-License-Identifier: MIT */
/*
 * GPU driver ioctls: which files count as GPU device files, the map layout shared by
 * ioctl.bpf.c and user space, and the command tables user space decodes with.
 *
 * A file is a GPU device file when it is
 *   - a character device whose (major, minor) or whole major user space listed in the
 *     `gpu_devs` map (from /proc/devices and /sys/class/drm), or
 *   - a regular file whose name ends in ".<device node name>", e.g.
 *     /dev/shm/<name>.nvidiactl or /dev/shm/<name>.kfd: the simulated GPU used by the tests
 *     issues its driver's real ioctl numbers on such files.
 *
 * Commands are decoded by driver: NVIDIA escapes use type 'F' (nr = escape), nvidia-uvm uses
 * bare numbers, AMDKFD_IOC_* type 'K', DRM type 'd' with the driver's own commands at
 * DRM_COMMAND_BASE + n (amdgpu) and DRM core commands below and above that range.
 */
#ifndef XSCHED_XOBS_IOCTL_H
#define XSCHED_XOBS_IOCTL_H

#ifndef __bpf__
#include <linux/types.h>
#endif

enum xobs_drv {
	XOBS_DRV_NONE = 0,
	XOBS_DRV_NVIDIA,     /* /dev/nvidiactl, /dev/nvidiaN */
	XOBS_DRV_NVIDIA_UVM, /* /dev/nvidia-uvm */
	XOBS_DRV_KFD,        /* /dev/kfd */
	XOBS_DRV_AMDGPU,     /* /dev/dri/renderDN, cardN bound to amdgpu */
	XOBS_DRV_COUNT,
};

/* gpu_devs map key: kernel dev_t encoding; XOBS_MINOR_ANY stands for every minor. */
#define XOBS_MINORBITS      20
#define XOBS_MINOR_ANY      ((1U << XOBS_MINORBITS) - 1)
#define XOBS_DEVKEY(ma, mi) (((__u32)(ma) << XOBS_MINORBITS) | (__u32)(mi))

struct xobs_ioctl_key {
	__u32 pid;
	__u32 cmd; /* the full ioctl request number */
	__u32 drv; /* enum xobs_drv */
	__u32 pad;
};

struct xobs_ioctl_val {
	__u64 count;
	__u64 errors; /* returned < 0 */
	__u64 total_ns;
	__u64 max_ns;
	char comm[16];
};

#define XOBS_IOC_NR(cmd)   ((cmd)&0xffU)
#define XOBS_IOC_TYPE(cmd) (((cmd) >> 8) & 0xffU)

#define XOBS_NV_IOCTL_TYPE  'F'
#define XOBS_KFD_IOCTL_TYPE 'K'
#define XOBS_DRM_IOCTL_TYPE 'd'
#define XOBS_DRM_CMD_BASE   0x40
#define XOBS_DRM_CMD_END    0xa0

/* Command flags. */
#define XOBS_IOF_WAIT 1U /* blocks until the GPU (or another party) signals */

/*
 * Tables: X(nr, NAME, flags). nr is the ioctl's nr field, except for UVM (the full request
 * number) and amdgpu (the offset from XOBS_DRM_CMD_BASE).
 */
#define XOBS_NV_ESCAPES(X)                                                                         \
	X(0x27, NV_ESC_RM_ALLOC_MEMORY, 0)                                                         \
	X(0x28, NV_ESC_RM_ALLOC_OBJECT, 0)                                                         \
	X(0x29, NV_ESC_RM_FREE, 0)                                                                 \
	X(0x2a, NV_ESC_RM_CONTROL, 0)                                                              \
	X(0x2b, NV_ESC_RM_ALLOC, 0)                                                                \
	X(0x32, NV_ESC_RM_CONFIG_GET, 0)                                                           \
	X(0x33, NV_ESC_RM_CONFIG_SET, 0)                                                           \
	X(0x34, NV_ESC_RM_DUP_OBJECT, 0)                                                           \
	X(0x35, NV_ESC_RM_SHARE, 0)                                                                \
	X(0x37, NV_ESC_RM_CONFIG_GET_EX, 0)                                                        \
	X(0x38, NV_ESC_RM_CONFIG_SET_EX, 0)                                                        \
	X(0x39, NV_ESC_RM_I2C_ACCESS, 0)                                                           \
	X(0x41, NV_ESC_RM_IDLE_CHANNELS, XOBS_IOF_WAIT)                                            \
	X(0x4a, NV_ESC_RM_VID_HEAP_CONTROL, 0)                                                     \
	X(0x4d, NV_ESC_RM_ACCESS_REGISTRY, 0)                                                      \
	X(0x4e, NV_ESC_RM_MAP_MEMORY, 0)                                                           \
	X(0x4f, NV_ESC_RM_UNMAP_MEMORY, 0)                                                         \
	X(0x52, NV_ESC_RM_GET_EVENT_DATA, 0)                                                       \
	X(0x54, NV_ESC_RM_ALLOC_CONTEXT_DMA2, 0)                                                   \
	X(0x57, NV_ESC_RM_MAP_MEMORY_DMA, 0)                                                       \
	X(0x58, NV_ESC_RM_UNMAP_MEMORY_DMA, 0)                                                     \
	X(0x59, NV_ESC_RM_BIND_CONTEXT_DMA, 0)                                                     \
	X(0x5c, NV_ESC_RM_EXPORT_OBJECT_TO_FD, 0)                                                  \
	X(0x5d, NV_ESC_RM_IMPORT_OBJECT_FROM_FD, 0)                                                \
	X(0x5e, NV_ESC_RM_UPDATE_DEVICE_MAPPING_INFO, 0)                                           \
	X(0xc8, NV_ESC_CARD_INFO, 0)                                                               \
	X(0xc9, NV_ESC_REGISTER_FD, 0)                                                             \
	X(0xce, NV_ESC_ALLOC_OS_EVENT, 0)                                                          \
	X(0xcf, NV_ESC_FREE_OS_EVENT, 0)                                                           \
	X(0xd1, NV_ESC_STATUS_CODE, 0)                                                             \
	X(0xd2, NV_ESC_CHECK_VERSION_STR, 0)                                                       \
	X(0xd3, NV_ESC_IOCTL_XFER_CMD, 0)                                                          \
	X(0xd4, NV_ESC_ATTACH_GPUS_TO_FD, 0)                                                       \
	X(0xd5, NV_ESC_QUERY_DEVICE_INTR, 0)                                                       \
	X(0xd6, NV_ESC_SYS_PARAMS, 0)                                                              \
	X(0xd7, NV_ESC_NUMA_INFO, 0)                                                               \
	X(0xd8, NV_ESC_SET_NUMA_STATUS, 0)                                                         \
	X(0xd9, NV_ESC_EXPORT_TO_DMABUF_FD, 0)                                                     \
	X(0xda, NV_ESC_WAIT_OPEN_COMPLETE, XOBS_IOF_WAIT)

#define XOBS_UVM_IOCTLS(X)                                                                         \
	X(0x30000001, UVM_INITIALIZE, 0)                                                           \
	X(0x30000002, UVM_DEINITIALIZE, 0)                                                         \
	X(23, UVM_CREATE_RANGE_GROUP, 0)                                                           \
	X(24, UVM_DESTROY_RANGE_GROUP, 0)                                                          \
	X(25, UVM_REGISTER_GPU_VASPACE, 0)                                                         \
	X(26, UVM_UNREGISTER_GPU_VASPACE, 0)                                                       \
	X(27, UVM_REGISTER_CHANNEL, 0)                                                             \
	X(28, UVM_UNREGISTER_CHANNEL, 0)                                                           \
	X(29, UVM_ENABLE_PEER_ACCESS, 0)                                                           \
	X(30, UVM_DISABLE_PEER_ACCESS, 0)                                                          \
	X(31, UVM_SET_RANGE_GROUP, 0)                                                              \
	X(33, UVM_MAP_EXTERNAL_ALLOCATION, 0)                                                      \
	X(34, UVM_FREE, 0)                                                                         \
	X(37, UVM_REGISTER_GPU, 0)                                                                 \
	X(38, UVM_UNREGISTER_GPU, 0)                                                               \
	X(39, UVM_PAGEABLE_MEM_ACCESS, 0)                                                          \
	X(42, UVM_SET_PREFERRED_LOCATION, 0)

#define XOBS_KFD_IOCTLS(X)                                                                         \
	X(0x01, AMDKFD_IOC_GET_VERSION, 0)                                                         \
	X(0x02, AMDKFD_IOC_CREATE_QUEUE, 0)                                                        \
	X(0x03, AMDKFD_IOC_DESTROY_QUEUE, 0)                                                       \
	X(0x04, AMDKFD_IOC_SET_MEMORY_POLICY, 0)                                                   \
	X(0x05, AMDKFD_IOC_GET_CLOCK_COUNTERS, 0)                                                  \
	X(0x06, AMDKFD_IOC_GET_PROCESS_APERTURES, 0)                                               \
	X(0x07, AMDKFD_IOC_UPDATE_QUEUE, 0)                                                        \
	X(0x08, AMDKFD_IOC_CREATE_EVENT, 0)                                                        \
	X(0x09, AMDKFD_IOC_DESTROY_EVENT, 0)                                                       \
	X(0x0a, AMDKFD_IOC_SET_EVENT, 0)                                                           \
	X(0x0b, AMDKFD_IOC_RESET_EVENT, 0)                                                         \
	X(0x0c, AMDKFD_IOC_WAIT_EVENTS, XOBS_IOF_WAIT)                                             \
	X(0x0d, AMDKFD_IOC_DBG_REGISTER_DEPRECATED, 0)                                             \
	X(0x0e, AMDKFD_IOC_DBG_UNREGISTER_DEPRECATED, 0)                                           \
	X(0x0f, AMDKFD_IOC_DBG_ADDRESS_WATCH_DEPRECATED, 0)                                        \
	X(0x10, AMDKFD_IOC_DBG_WAVE_CONTROL_DEPRECATED, 0)                                         \
	X(0x11, AMDKFD_IOC_SET_SCRATCH_BACKING_VA, 0)                                              \
	X(0x12, AMDKFD_IOC_GET_TILE_CONFIG, 0)                                                     \
	X(0x13, AMDKFD_IOC_SET_TRAP_HANDLER, 0)                                                    \
	X(0x14, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, 0)                                           \
	X(0x15, AMDKFD_IOC_ACQUIRE_VM, 0)                                                          \
	X(0x16, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, 0)                                                 \
	X(0x17, AMDKFD_IOC_FREE_MEMORY_OF_GPU, 0)                                                  \
	X(0x18, AMDKFD_IOC_MAP_MEMORY_TO_GPU, 0)                                                   \
	X(0x19, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, 0)                                               \
	X(0x1a, AMDKFD_IOC_SET_CU_MASK, 0)                                                         \
	X(0x1b, AMDKFD_IOC_GET_QUEUE_WAVE_STATE, 0)                                                \
	X(0x1c, AMDKFD_IOC_GET_DMABUF_INFO, 0)                                                     \
	X(0x1d, AMDKFD_IOC_IMPORT_DMABUF, 0)                                                       \
	X(0x1e, AMDKFD_IOC_ALLOC_QUEUE_GWS, 0)                                                     \
	X(0x1f, AMDKFD_IOC_SMI_EVENTS, 0)                                                          \
	X(0x20, AMDKFD_IOC_SVM, 0)                                                                 \
	X(0x21, AMDKFD_IOC_SET_XNACK_MODE, 0)                                                      \
	X(0x22, AMDKFD_IOC_CRIU_OP, 0)                                                             \
	X(0x23, AMDKFD_IOC_AVAILABLE_MEMORY, 0)                                                    \
	X(0x24, AMDKFD_IOC_EXPORT_DMABUF, 0)                                                       \
	X(0x25, AMDKFD_IOC_RUNTIME_ENABLE, 0)                                                      \
	X(0x26, AMDKFD_IOC_DBG_TRAP, 0)

#define XOBS_AMDGPU_IOCTLS(X)                                                                      \
	X(0x00, DRM_AMDGPU_GEM_CREATE, 0)                                                          \
	X(0x01, DRM_AMDGPU_GEM_MMAP, 0)                                                            \
	X(0x02, DRM_AMDGPU_CTX, 0)                                                                 \
	X(0x03, DRM_AMDGPU_BO_LIST, 0)                                                             \
	X(0x04, DRM_AMDGPU_CS, 0)                                                                  \
	X(0x05, DRM_AMDGPU_INFO, 0)                                                                \
	X(0x06, DRM_AMDGPU_GEM_METADATA, 0)                                                        \
	X(0x07, DRM_AMDGPU_GEM_WAIT_IDLE, XOBS_IOF_WAIT)                                           \
	X(0x08, DRM_AMDGPU_GEM_VA, 0)                                                              \
	X(0x09, DRM_AMDGPU_WAIT_CS, XOBS_IOF_WAIT)                                                 \
	X(0x10, DRM_AMDGPU_GEM_OP, 0)                                                              \
	X(0x11, DRM_AMDGPU_GEM_USERPTR, 0)                                                         \
	X(0x12, DRM_AMDGPU_WAIT_FENCES, XOBS_IOF_WAIT)                                             \
	X(0x13, DRM_AMDGPU_VM, 0)                                                                  \
	X(0x14, DRM_AMDGPU_FENCE_TO_HANDLE, 0)                                                     \
	X(0x15, DRM_AMDGPU_SCHED, 0)                                                               \
	X(0x16, DRM_AMDGPU_USERQ, 0)                                                               \
	X(0x17, DRM_AMDGPU_USERQ_SIGNAL, 0)                                                        \
	X(0x18, DRM_AMDGPU_USERQ_WAIT, XOBS_IOF_WAIT)                                              \
	X(0x19, DRM_AMDGPU_GEM_LIST_HANDLES, 0)

#define XOBS_DRM_CORE_IOCTLS(X)                                                                    \
	X(0x00, DRM_IOCTL_VERSION, 0)                                                              \
	X(0x01, DRM_IOCTL_GET_UNIQUE, 0)                                                           \
	X(0x02, DRM_IOCTL_GET_MAGIC, 0)                                                            \
	X(0x09, DRM_IOCTL_GEM_CLOSE, 0)                                                            \
	X(0x0a, DRM_IOCTL_GEM_FLINK, 0)                                                            \
	X(0x0b, DRM_IOCTL_GEM_OPEN, 0)                                                             \
	X(0x0c, DRM_IOCTL_GET_CAP, 0)                                                              \
	X(0x0d, DRM_IOCTL_SET_CLIENT_CAP, 0)                                                       \
	X(0x2d, DRM_IOCTL_PRIME_HANDLE_TO_FD, 0)                                                   \
	X(0x2e, DRM_IOCTL_PRIME_FD_TO_HANDLE, 0)                                                   \
	X(0xbf, DRM_IOCTL_SYNCOBJ_CREATE, 0)                                                       \
	X(0xc0, DRM_IOCTL_SYNCOBJ_DESTROY, 0)                                                      \
	X(0xc1, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, 0)                                                 \
	X(0xc2, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, 0)                                                 \
	X(0xc3, DRM_IOCTL_SYNCOBJ_WAIT, XOBS_IOF_WAIT)                                             \
	X(0xc4, DRM_IOCTL_SYNCOBJ_RESET, 0)                                                        \
	X(0xc5, DRM_IOCTL_SYNCOBJ_SIGNAL, 0)                                                       \
	X(0xca, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, XOBS_IOF_WAIT)                                    \
	X(0xcb, DRM_IOCTL_SYNCOBJ_QUERY, 0)                                                        \
	X(0xcc, DRM_IOCTL_SYNCOBJ_TRANSFER, 0)                                                     \
	X(0xcd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, 0)

#endif
