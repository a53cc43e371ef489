/* SPDX-License-Identifier: MIT */
/*
 * The ioctls the real ROCm stack makes on /dev/kfd, made at the same moments on a stand-in
 * file, /dev/shm/$XSCHED_SIM_NAME.kfd: queue creation and destruction with each stream, a
 * blocking wait whenever the runtime is about to sleep on the GPU, GPU memory allocation and
 * release. The file is a regular file, so every ioctl fails with ENOTTY at once; what matters
 * is that it is issued with the real AMDKFD_IOC_* number and argument layout, so that the eBPF
 * observer's decoding (sys_enter_ioctl tracepoint) is tested on the same traffic it would see.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/kfd_ioctl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hip_internal.h"

static int kfd_fd = -1;
static atomic_uint next_queue_id;

void hip_kfd_open(void)
{
	const char *name = getenv("XSCHED_SIM_NAME");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/dev/shm/%s.kfd", name && *name ? name : "xsched-simgpu");
	kfd_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (kfd_fd < 0)
		return; /* the observer then sees nothing; the runtime itself does not need it */
	struct kfd_ioctl_get_version_args v = { 0 };
	(void)ioctl(kfd_fd, AMDKFD_IOC_GET_VERSION, &v);
}

/* gpu_id in KFD is a topology hash; the model device index plus one stands in for it. */
static uint32_t gpu_id(int dev)
{
	return (uint32_t)dev + 1;
}

void hip_kfd_create_queue(int dev, int priority)
{
	if (kfd_fd < 0)
		return;
	/* KFD queue priorities run 0 (lowest) .. 15 (highest); HIP's high/normal/low stream
	 * priorities (-1/0/1) take 11/7/3, spread over that range. */
	uint32_t kfd_prio = priority < 0 ? 11 : priority > 0 ? 3 : 7;
	struct kfd_ioctl_create_queue_args q = {
		.ring_size = 64 * 1024,
		.gpu_id = gpu_id(dev),
		.queue_type = KFD_IOC_QUEUE_TYPE_COMPUTE_AQL,
		.queue_percentage = KFD_MAX_QUEUE_PERCENTAGE,
		.queue_priority = kfd_prio,
		.queue_id = atomic_fetch_add(&next_queue_id, 1),
	};
	(void)ioctl(kfd_fd, AMDKFD_IOC_CREATE_QUEUE, &q);
}

void hip_kfd_destroy_queue(uint32_t queue_id)
{
	if (kfd_fd < 0)
		return;
	struct kfd_ioctl_destroy_queue_args q = { .queue_id = queue_id };
	(void)ioctl(kfd_fd, AMDKFD_IOC_DESTROY_QUEUE, &q);
}

void hip_kfd_wait_events(void)
{
	if (kfd_fd < 0)
		return;
	struct kfd_event_data ev = { 0 };
	struct kfd_ioctl_wait_events_args w = {
		.events_ptr = (uint64_t)(uintptr_t)&ev,
		.num_events = 1,
		.wait_for_all = 1,
		.timeout = 0xffffffffu,
	};
	(void)ioctl(kfd_fd, AMDKFD_IOC_WAIT_EVENTS, &w);
}

void hip_kfd_alloc_memory(int dev, uint64_t va, uint64_t size)
{
	if (kfd_fd < 0)
		return;
	struct kfd_ioctl_alloc_memory_of_gpu_args m = {
		.va_addr = va,
		.size = size,
		.gpu_id = gpu_id(dev),
		/* VRAM | WRITABLE; the header's WRITABLE is (1 << 31), which overflows int. */
		.flags = KFD_IOC_ALLOC_MEM_FLAGS_VRAM | (1u << 31),
	};
	(void)ioctl(kfd_fd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &m);
}

void hip_kfd_free_memory(uint64_t va)
{
	if (kfd_fd < 0)
		return;
	/* The handle KFD would have returned; the address identifies the allocation here. */
	struct kfd_ioctl_free_memory_of_gpu_args m = { .handle = va };
	(void)ioctl(kfd_fd, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &m);
}
