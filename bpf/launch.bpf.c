// SPDX-License-Identifier: MIT
/*
 * Uprobes on the GPU runtime libraries (libcuda.so.1, libamdhip64.so): kernel launches,
 * asynchronous copies and memsets, synchronising calls, event records and stream creation,
 * turned into per-process and
 * per-stream counters, an in-flight estimate, burst-latency samples (ring buffer) and a
 * histogram of synchronisation waits. The model is described in xobs_types.h.
 *
 * The loader attaches each program to many symbols; the attach cookie (XOBS_CK_*) says
 * which vendor the symbol belongs to and how its arguments are laid out. Launch, copy,
 * memset, event record and query probes are attached per process (a uprobe hit costs
 * microseconds, and processes running the xsched shim count their own commands);
 * synchronisation and
 * stream-creation probes once per library file.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xobs_types.h"
#include "xobs_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct xobs_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct xobs_stream_key);
	__type(value, struct xobs_stream);
} streams SEC(".maps");

/* Events are recorded far more often than they are destroyed visibly: LRU bounds them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xobs_event_key);
	__type(value, struct xobs_event_rec);
} events SEC(".maps");

/* A call between its entry and return probe, per thread. */
struct call_state {
	__u64 ts;
	__u64 arg; /* stream key, event handle, or where the created stream's handle goes */
	__u64 seq; /* stream calls: the stream's launch count at entry */
	__u64 ck;
	__u32 kind;  /* enum xobs_call */
	__u32 depth; /* the library calling its own probed entry points */
	__s32 prio;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call_state);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} samples SEC(".maps");

/* Burst samples lost to a full ring buffer; user space reports them. */
__u64 samples_dropped = 0;

static const struct xobs_proc zero_proc;
static const struct xobs_stream zero_stream;

static __always_inline __u32 api_of(__u64 ck)
{
	return (ck & XOBS_CK_HIP) ? XOBS_API_HIP : XOBS_API_CUDA;
}

static __always_inline __u64 stream_key(__u64 handle, __u64 ck, __u32 tid)
{
	if (handle == XOBS_HANDLE_PER_THREAD || (handle == 0 && (ck & XOBS_CK_PER_THREAD)))
		return XOBS_STREAM_PER_THREAD | tid;
	if (handle == XOBS_HANDLE_LEGACY)
		return XOBS_STREAM_LEGACY;
	return handle;
}

static __always_inline struct xobs_proc *proc_get(__u32 pid, __u32 api)
{
	struct xobs_proc *p = bpf_map_lookup_elem(&procs, &pid);

	if (!p) {
		bpf_map_update_elem(&procs, &pid, &zero_proc, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&procs, &pid);
		if (!p)
			return NULL;
		bpf_get_current_comm(p->comm, sizeof(p->comm));
	}
	if (!(p->api & api))
		__sync_fetch_and_or(&p->api, api);
	return p;
}

static __always_inline struct xobs_stream *stream_get(struct xobs_stream_key *k)
{
	struct xobs_stream *s = bpf_map_lookup_elem(&streams, k);

	if (s)
		return s;
	bpf_map_update_elem(&streams, k, &zero_stream, BPF_NOEXIST);
	return bpf_map_lookup_elem(&streams, k);
}

/* Marks the stream's commands up to `upto` complete; returns how many that newly covers. */
static __always_inline __u64 stream_drain(struct xobs_stream *s, __u64 upto)
{
	__u64 old = s->drained;
	__u64 issued = s->commands;

	if (upto > issued)
		upto = issued;
	if (upto <= old)
		return 0;
	/* Another thread draining the same stream at once counts its own share. */
	if (__sync_val_compare_and_swap(&s->drained, old, upto) != old)
		return 0;
	return upto - old;
}

/* Takes `done` commands off the process's in-flight count; the burst ends at zero. */
static __always_inline void proc_complete(struct xobs_proc *p, __u64 done, __u32 kind, __u64 stream,
                                          __u64 now)
{
	struct xobs_burst_rec *r;
	__u64 before, start;

	if (!done)
		return;
	before = __sync_fetch_and_add(&p->inflight, -done);
	if (before > done)
		return;
	if (before < done) /* a drain raced a stream's removal: resynchronise */
		p->inflight = 0;
	start = p->burst_start_ns;
	if (!start)
		return;
	p->burst_start_ns = 0;
	__sync_fetch_and_add(&p->bursts, 1);

	r = bpf_ringbuf_reserve(&samples, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&samples_dropped, 1);
		return;
	}
	__u64 id = bpf_get_current_pid_tgid();
	r->type = XOBS_REC_BURST;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->call = kind;
	r->start_ns = start;
	r->end_ns = now;
	r->stream = stream;
	r->launches = p->burst_launches;
	r->copies = p->burst_copies;
	bpf_ringbuf_submit(r, 0);
}

/* A command put on a stream: a kernel or graph launch, or (copy) a memory command. Both
 * count in the stream's sequence and the in-flight estimate, so that drains cover them and a
 * request that starts with a copy opens its burst there; they are counted apart per process. */
static __always_inline int on_command(struct pt_regs *ctx, __u64 handle, bool copy)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u64 now = bpf_ktime_get_ns();
	struct xobs_stream_key k = {
		.pid = id >> 32,
		.stream = stream_key(handle, ck, (__u32)id),
	};
	struct xobs_proc *p = proc_get(k.pid, api_of(ck));
	struct xobs_stream *s;

	if (!p)
		return 0;
	s = stream_get(&k);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->commands, 1);
	s->last_command_ns = now;
	if (copy) {
		__sync_fetch_and_add(&s->copies, 1);
		__sync_fetch_and_add(&p->copies, 1);
	} else {
		__sync_fetch_and_add(&p->launches, 1);
	}
	if (__sync_fetch_and_add(&p->inflight, 1) == 0) {
		p->burst_start_ns = now;
		p->burst_launches = 0;
		p->burst_copies = 0;
	}
	if (copy)
		__sync_fetch_and_add(&p->burst_copies, 1);
	else
		__sync_fetch_and_add(&p->burst_launches, 1);
	return 0;
}

static __always_inline int on_launch(struct pt_regs *ctx, __u64 handle)
{
	return on_command(ctx, handle, false);
}

/* x86-64: at a function's first instruction the return address is at sp, argument 7 at
 * sp + 8, and so on. */
static __always_inline __u64 stack_arg(struct pt_regs *ctx, unsigned long off)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)(PT_REGS_SP(ctx) + off));
	return v;
}

/* cuGraphLaunch(exec, stream), hipGraphLaunch(exec, stream). */
SEC("uprobe")
int xobs_launch_arg2(struct pt_regs *ctx)
{
	return on_launch(ctx, PT_REGS_PARM2(ctx));
}

/* hipLaunchKernel(fn, dim3 grid, dim3 block, args, shmem, stream) and its cooperative and
 * Ext forms: each dim3 (12 bytes) takes two registers, so shmem and stream go on the stack. */
SEC("uprobe")
int xobs_launch_stack16(struct pt_regs *ctx)
{
	return on_launch(ctx, stack_arg(ctx, 16));
}

/* cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shmem, stream, ...), cuLaunchCooperativeKernel,
 * hipModuleLaunchKernel, hipExtModuleLaunchKernel: the stream is argument 9. */
SEC("uprobe")
int xobs_launch_stack24(struct pt_regs *ctx)
{
	return on_launch(ctx, stack_arg(ctx, 24));
}

/* cuLaunchKernelEx(const CUlaunchConfig *, ...), hipLaunchKernelExC, hipDrvLaunchKernelEx:
 * the configuration's stream member is at offset 32 in each. */
SEC("uprobe")
int xobs_launch_cfg32(struct pt_regs *ctx)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)(PT_REGS_PARM1(ctx) + 32));
	return on_launch(ctx, v);
}

/* libbpf before 1.2 names only five argument registers; the sixth is r9 on x86-64, the
 * only target these programs are built for (see stack_arg). */
#ifndef PT_REGS_PARM6
#define PT_REGS_PARM6(x) (((struct pt_regs *)(x))->r9)
#endif

/* Asynchronous copies and memsets (cuMemcpyAsync, cuMemcpyHtoDAsync_v2, cuMemsetD32Async,
 * hipMemcpyAsync, hipMemsetAsync, hipMemcpy2DAsync, ...): the cookie says which argument
 * is the stream, from the second (cuMemcpy2DAsync_v2) to the eighth (hipMemcpy2DAsync). */
SEC("uprobe")
int xobs_copy(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 arg = (ck >> XOBS_CK_STREAM_ARG_SHIFT) & XOBS_CK_STREAM_ARG_MASK;
	__u64 h;

	switch (arg) {
	case 1:
		h = PT_REGS_PARM1(ctx);
		break;
	case 2:
		h = PT_REGS_PARM2(ctx);
		break;
	case 3:
		h = PT_REGS_PARM3(ctx);
		break;
	case 4:
		h = PT_REGS_PARM4(ctx);
		break;
	case 5:
		h = PT_REGS_PARM5(ctx);
		break;
	case 6:
		h = PT_REGS_PARM6(ctx);
		break;
	default: /* 0 never comes from the loader's tables */
		h = arg > 6 ? stack_arg(ctx, 8 * (unsigned long)(arg - 6)) : 0;
		break;
	}
	return on_command(ctx, h, true);
}

static __always_inline void call_enter(__u32 kind, __u64 arg, __u64 seq, __u64 ck, __s32 prio,
                                       __u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_state *c = bpf_map_lookup_elem(&calls, &tid);
	struct call_state n = {
		.ts = bpf_ktime_get_ns(),
		.arg = arg,
		.seq = seq,
		.ck = ck,
		.kind = kind,
		.prio = prio,
		.flags = flags,
	};

	if (c) {
		c->depth++;
		return;
	}
	bpf_map_update_elem(&calls, &tid, &n, BPF_ANY);
}

static __always_inline void stream_call_enter(struct pt_regs *ctx, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ck = bpf_get_attach_cookie(ctx);
	struct xobs_stream_key k = {
		.pid = id >> 32,
		.stream = stream_key(PT_REGS_PARM1(ctx), ck, (__u32)id),
	};
	struct xobs_stream *s = bpf_map_lookup_elem(&streams, &k);

	call_enter(kind, k.stream, s ? s->commands : 0, ck, 0, 0);
}

/* cuStreamSynchronize(stream), hipStreamSynchronize(stream) and their per-thread forms. */
SEC("uprobe")
int xobs_sync_stream(struct pt_regs *ctx)
{
	stream_call_enter(ctx, XOBS_CALL_SYNC_STREAM);
	return 0;
}

/* cuStreamQuery(stream), hipStreamQuery(stream). */
SEC("uprobe")
int xobs_query_stream(struct pt_regs *ctx)
{
	stream_call_enter(ctx, XOBS_CALL_QUERY_STREAM);
	return 0;
}

/* cuCtxSynchronize(), hipDeviceSynchronize(), hipCtxSynchronize(). */
SEC("uprobe")
int xobs_sync_ctx(struct pt_regs *ctx)
{
	call_enter(XOBS_CALL_SYNC_CTX, 0, 0, bpf_get_attach_cookie(ctx), 0, 0);
	return 0;
}

/* cuEventSynchronize(event), hipEventSynchronize(event). */
SEC("uprobe")
int xobs_sync_event(struct pt_regs *ctx)
{
	call_enter(XOBS_CALL_SYNC_EVENT, PT_REGS_PARM1(ctx), 0, bpf_get_attach_cookie(ctx), 0, 0);
	return 0;
}

/* cuEventQuery(event), hipEventQuery(event). */
SEC("uprobe")
int xobs_query_event(struct pt_regs *ctx)
{
	call_enter(XOBS_CALL_QUERY_EVENT, PT_REGS_PARM1(ctx), 0, bpf_get_attach_cookie(ctx), 0, 0);
	return 0;
}

/* Synchronous copies (cuMemcpyHtoD_v2, hipMemcpy, ...): ordered on the default stream. */
SEC("uprobe")
int xobs_sync_copy(struct pt_regs *ctx)
{
	call_enter(XOBS_CALL_SYNC_COPY, 0, 0, bpf_get_attach_cookie(ctx), 0, 0);
	return 0;
}

/* cuStreamCreate(&s, flags), cuStreamCreateWithPriority(&s, flags, prio), hipStreamCreate(&s),
 * hipStreamCreateWithFlags(&s, flags), hipStreamCreateWithPriority(&s, flags, prio). */
SEC("uprobe")
int xobs_stream_create(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 flags = (ck & XOBS_CK_FLAGS_ARG) ? (__u32)PT_REGS_PARM2(ctx) : 0;
	__s32 prio = (ck & XOBS_CK_PRIO_ARG) ? (__s32)PT_REGS_PARM3(ctx) : 0;

	call_enter(XOBS_CALL_STREAM_CREATE, PT_REGS_PARM1(ctx), 0, ck, prio, flags);
	return 0;
}

/* cuEventRecord(event, stream) and the WithFlags and per-thread forms, hipEventRecord. */
SEC("uprobe")
int xobs_event_record(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ck = bpf_get_attach_cookie(ctx);
	struct xobs_stream_key k = {
		.pid = id >> 32,
		.stream = stream_key(PT_REGS_PARM2(ctx), ck, (__u32)id),
	};
	struct xobs_event_key ek = { .pid = k.pid, .event = PT_REGS_PARM1(ctx) };
	struct xobs_stream *s = bpf_map_lookup_elem(&streams, &k);
	struct xobs_event_rec rec = { .stream = k.stream, .seq = s ? s->commands : 0 };

	bpf_map_update_elem(&events, &ek, &rec, BPF_ANY);
	return 0;
}

/* cuStreamDestroy_v2(stream), hipStreamDestroy(stream). Work still queued completes at an
 * unknown time: it leaves the in-flight count, and a burst it belonged to is dropped. */
SEC("uprobe")
int xobs_stream_destroy(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ck = bpf_get_attach_cookie(ctx);
	struct xobs_stream_key k = {
		.pid = id >> 32,
		.stream = stream_key(PT_REGS_PARM1(ctx), ck, (__u32)id),
	};
	struct xobs_stream *s = bpf_map_lookup_elem(&streams, &k);
	struct xobs_proc *p = bpf_map_lookup_elem(&procs, &k.pid);
	__u64 left, before;

	if (!s)
		return 0;
	left = s->commands - s->drained;
	bpf_map_delete_elem(&streams, &k);
	if (!p || !left)
		return 0;
	before = __sync_fetch_and_add(&p->inflight, -left);
	if (before <= left) {
		p->inflight = 0;
		p->burst_start_ns = 0;
	}
	return 0;
}

/* Which streams a process-wide drain covers. */
enum drain_scope {
	DRAIN_ALL,     /* context/device synchronisation */
	DRAIN_DEFAULT, /* synchronous copy on the legacy default stream: it waits for every
	                * stream that synchronises with it (not non-blocking ones) */
};

struct drain_ctx {
	__u32 pid;
	__u32 scope;
	__u64 before_ns; /* only streams whose last command precedes the call's entry */
	__u64 done;
};

static long drain_cb(void *map, const void *key, void *value, void *data)
{
	const struct xobs_stream_key *k = key;
	struct xobs_stream *s = value;
	struct drain_ctx *d = data;

	if (k->pid != d->pid || s->last_command_ns > d->before_ns)
		return 0;
	if (d->scope == DRAIN_DEFAULT && k->stream != XOBS_STREAM_LEGACY &&
	    !(k->stream & XOBS_STREAM_PER_THREAD) &&
	    (!(s->flags & XOBS_SF_CREATED) || (s->flags & XOBS_SF_NON_BLOCKING)))
		return 0;
	d->done += stream_drain(s, s->commands);
	return 0;
}

static __always_inline void account_wait(struct xobs_proc *p, struct xobs_stream *s, __u64 ns)
{
	__sync_fetch_and_add(&p->syncs, 1);
	__sync_fetch_and_add(&p->sync_ns, ns);
	__sync_fetch_and_add(&p->sync_hist[xobs_hist_slot(ns)], 1);
	if (s) {
		__sync_fetch_and_add(&s->syncs, 1);
		__sync_fetch_and_add(&s->sync_ns, ns);
	}
}

static __always_inline void on_stream_created(struct call_state *c, __u32 pid)
{
	struct xobs_stream_key k = { .pid = pid };
	struct xobs_stream *s;
	struct xobs_proc *p;
	__u64 handle = 0;

	if (bpf_probe_read_user(&handle, sizeof(handle), (void *)c->arg) || !handle)
		return;
	k.stream = handle;
	p = proc_get(pid, api_of(c->ck));
	s = stream_get(&k);
	if (!p || !s)
		return;
	/* A recycled handle starts over. */
	s->commands = s->copies = s->drained = 0;
	s->priority = c->prio;
	s->flags = XOBS_SF_CREATED |
	           ((c->flags & XOBS_STREAM_NON_BLOCKING) ? XOBS_SF_NON_BLOCKING : 0);
	__sync_fetch_and_add(&p->streams_created, 1);
}

/* The return probe of every call that has an entry probe above. */
SEC("uretprobe")
int xobs_ret(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct call_state *cp = bpf_map_lookup_elem(&calls, &tid);
	struct xobs_stream_key k = { .pid = pid };
	struct xobs_event_key ek = { .pid = pid };
	struct drain_ctx d = { .pid = pid };
	struct xobs_event_rec *rec;
	struct xobs_stream *s = NULL;
	struct xobs_proc *p;
	struct call_state c;
	__u64 now, upto = 0;
	bool ok, one_stream = false;

	if (!cp)
		return 0;
	if (cp->depth) {
		cp->depth--;
		return 0;
	}
	c = *cp;
	bpf_map_delete_elem(&calls, &tid);
	now = bpf_ktime_get_ns();
	/* CUresult and hipError_t: 0 is success. */
	ok = (__u32)PT_REGS_RC(ctx) == 0;

	if (c.kind == XOBS_CALL_STREAM_CREATE) {
		if (ok)
			on_stream_created(&c, pid);
		return 0;
	}

	switch (c.kind) {
	case XOBS_CALL_SYNC_STREAM:
	case XOBS_CALL_QUERY_STREAM:
		k.stream = c.arg;
		upto = c.seq;
		one_stream = true;
		break;
	case XOBS_CALL_SYNC_EVENT:
	case XOBS_CALL_QUERY_EVENT:
		ek.event = c.arg;
		rec = bpf_map_lookup_elem(&events, &ek);
		if (rec) {
			k.stream = rec->stream;
			upto = rec->seq;
			one_stream = true;
		}
		break;
	case XOBS_CALL_SYNC_COPY:
		/* A per-thread copy waits for its thread's stream only. */
		if (c.ck & XOBS_CK_PER_THREAD) {
			k.stream = XOBS_STREAM_PER_THREAD | tid;
			one_stream = true;
		}
		break;
	default:
		break;
	}
	if (one_stream)
		s = bpf_map_lookup_elem(&streams, &k);
	if (s && c.kind == XOBS_CALL_SYNC_COPY)
		upto = s->last_command_ns <= c.ts ? s->commands : 0;

	if (c.kind == XOBS_CALL_QUERY_STREAM || c.kind == XOBS_CALL_QUERY_EVENT) {
		/* A query only says something when it says "done"; only processes with launch
		 * and copy probes have anything to complete. */
		if (!ok || !s)
			return 0;
		p = bpf_map_lookup_elem(&procs, &pid);
		if (p)
			proc_complete(p, stream_drain(s, upto), c.kind, k.stream, now);
		return 0;
	}

	p = proc_get(pid, api_of(c.ck));
	if (!p)
		return 0;
	account_wait(p, s, now - c.ts);
	if (!ok)
		return 0;
	if (c.kind == XOBS_CALL_SYNC_CTX ||
	    (c.kind == XOBS_CALL_SYNC_COPY && !(c.ck & XOBS_CK_PER_THREAD))) {
		d.scope = c.kind == XOBS_CALL_SYNC_CTX ? DRAIN_ALL : DRAIN_DEFAULT;
		d.before_ns = c.ts;
		bpf_for_each_map_elem(&streams, drain_cb, &d, 0);
		proc_complete(p, d.done, c.kind, 0, now);
		return 0;
	}
	if (s)
		proc_complete(p, stream_drain(s, upto), c.kind, k.stream, now);
	return 0;
}
