// SPDX-License-Identifier: MIT
/*
 * GPU driver ioctls, from the syscalls/sys_{enter,exit}_ioctl tracepoints: count and time
 * per process and request number, for requests on GPU device files only (see xobs_ioctl.h
 * for what counts as one). The fd is resolved to its file through the task's fd table.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "xobs_ioctl.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define S_IFMT  00170000
#define S_IFREG 0100000
#define S_IFCHR 0020000

#define NAME_LEN 64 /* power of two: indexes are masked with it */

/* Character devices of GPU drivers, filled by user space: XOBS_DEVKEY() -> enum xobs_drv. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} gpu_devs SEC(".maps");

struct ioctl_start {
	__u64 ts;
	__u32 cmd;
	__u32 drv;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ioctl_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct xobs_ioctl_key);
	__type(value, struct xobs_ioctl_val);
} ioctl_stats SEC(".maps");

static const struct xobs_ioctl_val zero_val;

/* Does name[0..len) end with lit? No scanning for the last '.': a loop that remembers
 * where it saw one multiplies the verifier's states past its limit. */
static __always_inline bool ends_with(const char *name, __u32 len, const char *lit, __u32 n)
{
	if (len < n)
		return false;
	for (__u32 i = 0; i < n; i++)
		if (name[(len - n + i) & (NAME_LEN - 1)] != lit[i])
			return false;
	return true;
}

/* A regular file stands for a device when its name ends in ".<device node name>":
 * .nvidiactl, .nvidia-uvm, .nvidiaN, .kfd, .renderDN, .cardN. */
static __always_inline __u32 name_driver(const char *name, __u32 len)
{
	__u32 digits = 0;

	if (ends_with(name, len, ".nvidiactl", 10))
		return XOBS_DRV_NVIDIA;
	if (ends_with(name, len, ".nvidia-uvm", 11))
		return XOBS_DRV_NVIDIA_UVM;
	if (ends_with(name, len, ".kfd", 4))
		return XOBS_DRV_KFD;
	for (__u32 i = 1; i <= 4; i++) {
		char c = name[(len - i) & (NAME_LEN - 1)];

		if (i > len || c < '0' || c > '9')
			break;
		digits = i;
	}
	if (!digits || digits == 4)
		return XOBS_DRV_NONE;
	len -= digits;
	if (ends_with(name, len, ".nvidia", 7))
		return XOBS_DRV_NVIDIA;
	if (ends_with(name, len, ".renderD", 8) || ends_with(name, len, ".card", 5))
		return XOBS_DRV_AMDGPU;
	return XOBS_DRV_NONE;
}

static __always_inline __u32 fd_driver(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	struct inode *inode;
	char name[NAME_LEN];
	__u32 key, *drv;
	__u16 mode;
	long len;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return XOBS_DRV_NONE;
	bpf_probe_read_kernel(&f, sizeof(f), fds + fd);
	if (!f)
		return XOBS_DRV_NONE;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & S_IFMT) == S_IFCHR) {
		key = BPF_CORE_READ(inode, i_rdev);
		drv = bpf_map_lookup_elem(&gpu_devs, &key);
		if (!drv) {
			key |= XOBS_MINOR_ANY;
			drv = bpf_map_lookup_elem(&gpu_devs, &key);
		}
		return drv ? *drv : XOBS_DRV_NONE;
	}
	if ((mode & S_IFMT) != S_IFREG)
		return XOBS_DRV_NONE;
	len = bpf_probe_read_kernel_str(name, sizeof(name),
	                                BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (len <= 1)
		return XOBS_DRV_NONE;
	return name_driver(name, (__u32)len - 1);
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int xobs_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ioctl_start st;

	st.drv = fd_driver((int)ctx->args[0]);
	if (st.drv == XOBS_DRV_NONE)
		return 0;
	st.cmd = (__u32)ctx->args[1];
	st.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &st, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int xobs_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct ioctl_start *st = bpf_map_lookup_elem(&starts, &tid);
	struct xobs_ioctl_key k = { .pid = id >> 32 };
	struct xobs_ioctl_val *v;
	__u64 ns;

	if (!st)
		return 0;
	ns = bpf_ktime_get_ns() - st->ts;
	k.cmd = st->cmd;
	k.drv = st->drv;
	bpf_map_delete_elem(&starts, &tid);

	v = bpf_map_lookup_elem(&ioctl_stats, &k);
	if (!v) {
		bpf_map_update_elem(&ioctl_stats, &k, &zero_val, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ioctl_stats, &k);
		if (!v)
			return 0;
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, ns);
	if (ctx->ret < 0)
		__sync_fetch_and_add(&v->errors, 1);
	if (ns > v->max_ns)
		v->max_ns = ns;
	return 0;
}
