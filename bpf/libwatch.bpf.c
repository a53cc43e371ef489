// SPDX-License-Identifier: MIT
/*
 * Tells user space, as it happens, when a process opens a GPU runtime library
 * (libcuda.so*, libamdhip64.so*): the loader then attaches that process's launch probes
 * before it gets far enough to launch anything, rather than at its next /proc scan.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "xobs_types.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* openat() calls on a runtime library, between entry and exit, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xobs_libopen_rec);
} pending SEC(".maps");

/* One scratch record per CPU: too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xobs_libopen_rec);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} libopens SEC(".maps");

static __always_inline bool base_is(const char *path, __u32 base, const char *lit, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		if (path[(base + i) & (XOBS_PATH_LEN - 1)] != lit[i])
			return false;
	/* "libcuda.so" alone or followed by a version: ".1", ".580.65" */
	char c = path[(base + n) & (XOBS_PATH_LEN - 1)];
	return c == 0 || c == '.';
}

SEC("tracepoint/syscalls/sys_enter_openat")
int xobs_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0, tid = (__u32)id, base = 0;
	long len;
	struct xobs_libopen_rec *r = bpf_map_lookup_elem(&scratch, &zero);

	if (!r)
		return 0;
	len = bpf_probe_read_user_str(r->path, sizeof(r->path), (const char *)ctx->args[1]);
	if (len <= 1)
		return 0;
	/* The basename starts after the last '/': scan back from the end and stop there, so
	 * that the verifier follows one path per position instead of one per '/' seen. */
	for (__u32 k = 2; k <= XOBS_PATH_LEN; k++) {
		if (k > len)
			break;
		if (r->path[(len - k) & (XOBS_PATH_LEN - 1)] == '/') {
			base = len - k + 1;
			break;
		}
	}
	if (!base_is(r->path, base, "libcuda.so", 10) &&
	    !base_is(r->path, base, "libamdhip64.so", 14))
		return 0;
	r->type = XOBS_REC_LIBOPEN;
	r->pid = id >> 32;
	bpf_map_update_elem(&pending, &tid, r, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int xobs_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct xobs_libopen_rec *p = bpf_map_lookup_elem(&pending, &tid);
	struct xobs_libopen_rec *r;

	if (!p)
		return 0;
	if (ctx->ret >= 0) {
		r = bpf_ringbuf_reserve(&libopens, sizeof(*r), 0);
		if (r) {
			__builtin_memcpy(r, p, sizeof(*r));
			bpf_ringbuf_submit(r, 0);
		}
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}
