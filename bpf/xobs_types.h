/* SPDX-License-Identifier: MIT */
/*
 * What the runtime-library probes (launch.bpf.c) and the library watcher (libwatch.bpf.c)
 * share with user space: map keys and values, ring-buffer records, attach-cookie bits.
 * Included by BPF code (after vmlinux.h) and by the loader library.
 *
 * Stream model. A process's streams are keyed by the vendor handle. Each stream counts its
 * commands (kernel and graph launches, and memory commands: asynchronous copies and
 * memsets) and how many of them are known complete ("drained"); a command is known complete
 * once a synchronising call that was issued after it returns successfully. The process's
 * in-flight count is the sum over its streams. A burst starts with a command issued while
 * the process had nothing in flight and ends when a drain brings it back to zero. Launches
 * and memory commands are counted apart as well, so that launch counts stay comparable
 * with what a kernel-only count (a profiler's, a workload's own) reports.
 */
#ifndef XSCHED_XOBS_TYPES_H
#define XSCHED_XOBS_TYPES_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XOBS_COMM_LEN   16
#define XOBS_HIST_SLOTS 32  /* slot i: durations of [2^i, 2^(i+1)) microseconds; slot 0 also 0 */
#define XOBS_PATH_LEN   256 /* power of two: BPF code masks indexes with it */

/* Default-stream handles as both vendors spell them (CU_STREAM_LEGACY has no HIP twin). */
#define XOBS_HANDLE_LEGACY     0x1ULL
#define XOBS_HANDLE_PER_THREAD 0x2ULL

/* Stream keys: the legacy (NULL) stream is 0; a per-thread default stream is this tag
 * or'ed with the thread id (user pointers never have bit 63 set); others are the handle. */
#define XOBS_STREAM_LEGACY     0ULL
#define XOBS_STREAM_PER_THREAD (1ULL << 63)

/* Attach-cookie bits, set per probed symbol by the loader. */
#define XOBS_CK_PER_THREAD (1U << 0) /* _ptsz/_ptds/_spt: NULL is the thread's stream */
#define XOBS_CK_HIP        (1U << 1) /* a HIP entry point (else CUDA) */
#define XOBS_CK_FLAGS_ARG  (1U << 2) /* stream creation: the second argument is the flags */
#define XOBS_CK_PRIO_ARG   (1U << 3) /* stream creation: the third argument is the priority */
/* Memory commands: which argument (1-based, x86-64 ABI) is the stream. 1-6 are registers;
 * argument n > 6 is on the stack at sp + 8 * (n - 6) at the function's first instruction. */
#define XOBS_CK_STREAM_ARG_SHIFT 8
#define XOBS_CK_STREAM_ARG_MASK  0xfU
#define XOBS_CK_STREAM_ARG(n)    ((__u32)(n) << XOBS_CK_STREAM_ARG_SHIFT)

/* CU_STREAM_NON_BLOCKING and hipStreamNonBlocking. */
#define XOBS_STREAM_NON_BLOCKING 0x1U

/* xobs_proc.api bits. */
#define XOBS_API_CUDA 1U
#define XOBS_API_HIP  2U

/* Calls that have a return probe; the entry probe leaves one of these per thread. */
enum xobs_call {
	XOBS_CALL_SYNC_STREAM = 1, /* stream synchronize: drains the stream */
	XOBS_CALL_SYNC_CTX,        /* context/device synchronize: drains every stream */
	XOBS_CALL_SYNC_EVENT,      /* event synchronize: drains the event's stream up to it */
	XOBS_CALL_SYNC_COPY,       /* synchronous copy: drains the default stream(s) */
	XOBS_CALL_QUERY_STREAM,    /* stream query: drains like a sync when it says "done" */
	XOBS_CALL_QUERY_EVENT,     /* event query: likewise */
	XOBS_CALL_STREAM_CREATE,   /* learns a stream's flags and priority */
};

/* xobs_stream.flags */
#define XOBS_SF_CREATED      (1U << 0) /* its creation was seen: flags and priority are known */
#define XOBS_SF_NON_BLOCKING (1U << 1)

struct xobs_proc {
	__u64 launches;       /* kernel and graph launches */
	__u64 copies;         /* memory commands: asynchronous copies and memsets */
	__u64 inflight;       /* commands not known complete: sum over its streams */
	__u64 burst_start_ns; /* first command of the current burst */
	__u64 burst_launches; /* launches in the current burst */
	__u64 burst_copies;   /* memory commands in the current burst */
	__u64 bursts;         /* bursts completed */
	__u64 syncs;          /* synchronising calls that returned */
	__u64 sync_ns;        /* time spent in them */
	__u64 sync_hist[XOBS_HIST_SLOTS];
	__u64 streams_created;
	__u32 api; /* XOBS_API_* seen */
	char comm[XOBS_COMM_LEN];
};

struct xobs_stream_key {
	__u32 pid;
	__u32 pad;
	__u64 stream; /* see XOBS_STREAM_* */
};

struct xobs_stream {
	__u64 commands; /* launches and memory commands: the sequence drains count against */
	__u64 copies;   /* of which memory commands */
	__u64 drained;  /* commands known complete */
	__u64 last_command_ns;
	__u64 syncs;
	__u64 sync_ns;
	__s32 priority;
	__u32 flags; /* XOBS_SF_* */
};

struct xobs_event_key {
	__u32 pid;
	__u32 pad;
	__u64 event; /* vendor event handle */
};

/* Where an event was last recorded: completing it completes its stream up to `seq`. */
struct xobs_event_rec {
	__u64 stream;
	__u64 seq; /* the stream's command count when it was recorded */
};

/* Ring-buffer records. */
enum xobs_rec_type {
	XOBS_REC_BURST = 1,
	XOBS_REC_LIBOPEN,
};

struct xobs_burst_rec {
	__u32 type; /* XOBS_REC_BURST */
	__u32 pid;
	__u32 tid;      /* the thread whose synchronising call ended it */
	__u32 call;     /* enum xobs_call that ended it */
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 stream;   /* key of the stream that call drained (0 for context syncs) */
	__u64 launches; /* launches in the burst */
	__u64 copies;   /* memory commands in the burst */
};

/* A process opened a file named like a GPU runtime library. */
struct xobs_libopen_rec {
	__u32 type; /* XOBS_REC_LIBOPEN */
	__u32 pid;
	char path[XOBS_PATH_LEN]; /* as the process passed it to openat() */
};

#endif
