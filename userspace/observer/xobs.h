/* SPDX-License-Identifier: MIT */
/*
 * xobs: the eBPF observer of GPU processes, as a library for xsched-ctl and the controller.
 *
 * It loads the BPF programs in bpf/, finds the GPU runtime libraries (libcuda.so.1,
 * libamdhip64.so) that processes map or open, attaches to each distinct file once (per
 * process for the launch and copy probes), and turns what the programs count into per-process
 * statistics. Burst-latency samples are handed to a callback as they arrive.
 *
 * Single-threaded: call everything from one thread. Typical use:
 *
 *	xobs_open(&o, &opts, err, sizeof(err));
 *	for (;;) {
 *		xobs_poll(o, 100);          // samples -> opts.on_burst, new processes attached
 *		every interval: xobs_rescan(o); xobs_snapshot(o, &snap); ...;
 *xobs_snapshot_free(&snap);
 *	}
 *	xobs_close(o);
 */
#ifndef XSCHED_XOBS_H
#define XSCHED_XOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct xobs;

#define XOBS_NAME_LEN     16
#define XOBS_HIST_LEN     32 /* slot i: [2^i, 2^(i+1)) microseconds */
#define XOBS_CMD_NAME_LEN 48

/* xobs_open() failures. */
enum {
	XOBS_ERR_FAILED = -1, /* anything else; the message says what */
	XOBS_ERR_MISSING =
	        -2, /* privileges, BTF, tracefs or uprobes missing; the message names it */
};

/* A burst: from the first command (launch or memory command) a process issued while it had
 * nothing in flight to the return of the synchronising call that drained it. */
struct xobs_burst {
	pid_t pid;
	pid_t tid;         /* the thread that synchronised */
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t launches; /* kernel and graph launches in the burst */
	uint64_t copies;   /* memory commands (asynchronous copies, memsets) in the burst */
	uint64_t stream;   /* stream key (see xobs_stream_stats) of the draining call, 0 for
	                    * a context/device synchronisation or the legacy stream */
};

struct xobs_opts {
	/* Observe only these processes (npids == 0: every process). */
	const pid_t *pids;
	size_t npids;
	/* Runtime library files to attach to before any process maps them; with `pids`,
	 * this lets a process be observed from its first call (see xobs_watch_pid). */
	const char *const *libs;
	size_t nlibs;
	/* Leave launch probes off processes that preload the xsched shim: it counts their
	 * launches itself, without a uprobe's cost. */
	bool skip_shimmed;
	void (*on_burst)(const struct xobs_burst *b, void *ctx);
	void *ctx;
};

/* A stream key is the vendor handle, 0 for the legacy default stream, or
 * XOBS_STREAM_PER_THREAD_BIT | tid for a thread's per-thread default stream. */
#define XOBS_STREAM_PER_THREAD_BIT (1ULL << 63)

struct xobs_stream_stats {
	uint64_t stream;
	int priority;
	bool created_seen; /* its creation was observed: priority and non_blocking are known */
	bool non_blocking;
	uint64_t launches;
	uint64_t copies;    /* memory commands */
	uint64_t in_flight; /* commands (launches and memory commands) not known complete */
	uint64_t syncs;
	uint64_t sync_ns;
};

enum xobs_driver {
	XOBS_DRIVER_NVIDIA = 1,
	XOBS_DRIVER_NVIDIA_UVM,
	XOBS_DRIVER_KFD,
	XOBS_DRIVER_AMDGPU,
};

struct xobs_ioctl_stats {
	enum xobs_driver driver;
	uint32_t cmd;                 /* the request number */
	char name[XOBS_CMD_NAME_LEN]; /* e.g. "NV_ESC_RM_CONTROL", "AMDKFD_IOC_WAIT_EVENTS" */
	bool blocking;                /* a wait for the GPU */
	uint64_t count;
	uint64_t errors;
	uint64_t total_ns;
	uint64_t max_ns;
};

/* Counters are cumulative since the process was first seen; rates come from differences
 * between snapshots. */
struct xobs_proc_stats {
	pid_t pid;
	char comm[XOBS_NAME_LEN];
	bool exited;        /* gone: this is its last snapshot */
	bool launch_probes; /* its launches and memory commands are being counted */
	bool shimmed;       /* it preloads the xsched shim */
	bool cuda, hip;     /* runtime APIs it was seen calling */
	uint64_t launches;  /* kernel and graph launches */
	uint64_t copies;    /* memory commands: asynchronous copies and memsets. Launches +
	                     * copies are the commands the xsched shim would count, but for
	                     * synchronous copies and memsets and host functions */
	uint64_t in_flight; /* commands not known complete */
	uint64_t bursts;
	uint64_t syncs;   /* synchronising calls */
	uint64_t sync_ns; /* time blocked in them */
	uint64_t sync_hist[XOBS_HIST_LEN];
	uint64_t streams_created;
	uint64_t ioctls;
	uint64_t ioctl_ns;
	uint64_t ioctl_wait_ns; /* in blocking ioctls */
	uint64_t ioctl_errors;
	struct xobs_stream_stats *streams;
	size_t nstreams;
	struct xobs_ioctl_stats *ioctl_cmds;
	size_t nioctl_cmds;
};

struct xobs_snapshot {
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	struct xobs_proc_stats *procs;
	size_t nprocs;
	uint64_t samples_dropped; /* burst samples lost to a full ring buffer, in total */
};

/* Checks the environment, loads the programs, attaches what can be attached now. On
 * failure returns XOBS_ERR_* and writes a one-line reason to err. */
int xobs_open(struct xobs **out, const struct xobs_opts *opts, char *err, size_t errlen);
void xobs_close(struct xobs *o);

/* Waits up to timeout_ms for ring-buffer records and handles them: burst samples go to
 * on_burst, processes that opened a runtime library get their probes. Returns the number
 * of records handled, or -errno. */
int xobs_poll(struct xobs *o, int timeout_ms);

/* Scans /proc for runtime libraries mapped by processes and for GPU device numbers;
 * attaches to what is new. Call it every interval. Returns 0 or -errno. */
int xobs_rescan(struct xobs *o);

/* Attaches launch probes for `pid` to every runtime library known so far, whether or not
 * the process maps it yet: launched under a wrapper that waits for this, a process is
 * observed from its first call. Returns 0, or -errno. */
int xobs_watch_pid(struct xobs *o, pid_t pid);

/* Reads every observed process's counters. Processes that exited appear once more with
 * `exited` set, then are forgotten. */
int xobs_snapshot(struct xobs *o, struct xobs_snapshot *snap);
void xobs_snapshot_free(struct xobs_snapshot *snap);

/* Runtime library files attached to so far (paths as first seen), for diagnostics. */
size_t xobs_libraries(struct xobs *o, const char **paths, size_t max);

const char *xobs_driver_name(enum xobs_driver d);
/* Names an ioctl request of a driver; sets *blocking for commands that wait for the GPU. */
void xobs_ioctl_name(enum xobs_driver d, uint32_t cmd, char *buf, size_t len, bool *blocking);

#endif
