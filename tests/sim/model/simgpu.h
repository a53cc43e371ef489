/* SPDX-License-Identifier: MIT */
/*
 * The simulated GPU: one device model shared by every process on the machine, through a
 * shared-memory segment. The simulated libcuda.so.1 and libamdhip64.so are thin front ends
 * over this API; tests read its ground truth. It exists for tests only.
 *
 * Time is wall-clock (CLOCK_MONOTONIC, ns). Nothing runs in the background: every call
 * advances the model to "now" under the segment's robust mutex, so the state is the same
 * whichever process looks. A process that dies mid-command is noticed (robust mutex, pid
 * liveness) and its queued work is dropped; its statistics stay readable.
 *
 * Configuration, read by the process that creates the segment (later ones attach):
 *   XSCHED_SIM_NAME      segment name under /dev/shm (default "xsched-simgpu"); tests
 *                        use a unique name each so they can run in parallel
 *   XSCHED_SIM_MODE      fifo | timeslice | concurrent (default fifo)
 *   XSCHED_SIM_DEVICES   number of devices, 1..SIMGPU_MAX_DEVICES (default 1)
 *   XSCHED_SIM_SLICE_US  timeslice length in microseconds (default 2000)
 * Bad values: one line on stderr naming the value and what is accepted; attach fails.
 */
#ifndef XSCHED_SIMGPU_H
#define XSCHED_SIMGPU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SIMGPU_MAX_DEVICES 4
#define SIMGPU_MAX_PROCS   256

enum simgpu_mode {
	/* One hardware queue per device, commands in submission order across processes
	 * (what the seeds observed on AMD). */
	SIMGPU_FIFO,
	/* Contexts (processes) take turns, each for up to one slice; a kernel is preempted
	 * at the end of the slice (NVIDIA without MPS). */
	SIMGPU_TIMESLICE,
	/* Contexts share the device: every context with work runs its head command at
	 * 1/k speed for k busy contexts (MPS-like processor sharing). */
	SIMGPU_CONCURRENT,
};

enum simgpu_cmd_kind {
	SIMGPU_KERNEL,       /* work: counted in ground truth */
	SIMGPU_COPY,         /* work */
	SIMGPU_MEMSET,       /* work */
	SIMGPU_GRAPH,        /* work: one command for a whole graph launch */
	SIMGPU_EVENT_RECORD, /* marker: zero duration, not counted as work */
	SIMGPU_EVENT_WAIT,   /* marker: holds its stream until `wait_cmd` is done */
};

struct simgpu_config {
	enum simgpu_mode mode;
	unsigned int devices;
	uint32_t slice_us;
};

/* Attach to (creating if absent) the segment named by the environment. Idempotent per
 * process, fork-aware (a child re-registers under its own pid). 0 or -errno. */
int simgpu_attach(void);
/* Remove the segment named by the environment (tests), and its companion files
 * /dev/shm/<name>.* (the front ends' fake device nodes). */
int simgpu_destroy(void);
/* Remove the segment named by the environment and create it anew with `cfg` (the simgpu
 * tool). 0 or -errno (-EINVAL: cfg out of range). */
int simgpu_create(const struct simgpu_config *cfg);
/* The segment's configuration (attaching first), or NULL with errno set. */
const struct simgpu_config *simgpu_get_config(void);
/* The configuration the environment asks for; prints the one-line error and returns
 * -EINVAL on a bad value. */
int simgpu_config_from_env(struct simgpu_config *cfg);
/* "fifo", "timeslice", "concurrent" <-> enum simgpu_mode; parse returns 0 or -EINVAL. */
int simgpu_parse_mode(const char *name, enum simgpu_mode *mode);
const char *simgpu_mode_name(enum simgpu_mode mode);

/* A stream belongs to the calling process and one device. Lower priority value = more
 * urgent, as in CUDA. Stream 0 of each device is the process's legacy default stream and
 * always exists. 0 or -errno (-EINVAL bad device). */
int simgpu_stream_create(int dev, int priority, uint32_t *stream);
/* A stream restricted to `share` / SIMGPU_CU_FULL of the device's compute units (an AMD CU
 * mask): its commands run at that fraction of full speed, and in concurrent mode the rest
 * of the device stays available to others. share 1..SIMGPU_CU_FULL (else -EINVAL). */
#define SIMGPU_CU_FULL 65536u
int simgpu_stream_create_masked(int dev, int priority, uint32_t share, uint32_t *stream);
int simgpu_stream_destroy(uint32_t stream);

struct simgpu_cmd {
	enum simgpu_cmd_kind kind;
	int dev;
	uint32_t stream; /* 0 = the process's default stream on dev */
	uint64_t duration_ns;
	uint64_t wait_cmd; /* SIMGPU_EVENT_WAIT: the command id to wait for */
	uint64_t tag;      /* the owner's cookie, handed back by simgpu_drain_completed() */
};

/* Enqueue a command; returns its id (> 0) or 0 with errno set (EINVAL bad stream or
 * device). Blocks, like a full hardware queue, while the command pool is full or the caller
 * already has 1024 commands pending. Ids grow with submission order. */
uint64_t simgpu_submit(const struct simgpu_cmd *cmd);

/* Whether command `id` has completed; its start/end times if so (either may be NULL).
 * Ids of dead processes' dropped commands count as done. A completed command's slot is
 * kept, times readable, after its owner drained it, until the pool needs the slot again
 * (thousands of commands later); after that, or for dropped commands, the times read 0:
 * a front end that needs them for long (event timing) takes them from
 * simgpu_drain_completed_times(). Does not register the caller as a GPU process. */
bool simgpu_done(uint64_t id, uint64_t *start_ns, uint64_t *end_ns);
/* Block until `id` is done: sleeps until the model predicts its completion, re-checks. */
void simgpu_wait(uint64_t id);
/* Block until every command the caller submitted to `stream` (or to `dev`, all streams)
 * before this call is done. Stream 0 here means the caller's default streams of every
 * device. */
void simgpu_wait_stream(uint32_t stream);
void simgpu_wait_device(int dev);

/* Call fn(tag) for each of the caller's commands that completed since the last call, in
 * completion order. Front ends apply their side effects (copies, kernel results) here. */
void simgpu_drain_completed(void (*fn)(uint64_t tag, void *arg), void *arg);
/* The same, with each command's start and end times (model clock, CLOCK_MONOTONIC ns). fn
 * runs without the model's lock held: it may call any simgpu_* function. */
typedef void (*simgpu_drain_fn)(uint64_t tag, uint64_t start_ns, uint64_t end_ns, void *arg);
void simgpu_drain_completed_times(simgpu_drain_fn fn, void *arg);

/* Ground truth, per process and device. Entries of exited processes stay readable until
 * their slot is needed again. */
struct simgpu_proc_stats {
	pid_t pid;
	int dev;
	bool alive;
	char comm[16];
	uint64_t submitted;    /* work commands */
	uint64_t completed;    /* work commands */
	uint64_t max_inflight; /* most work commands ever submitted and not completed */
	uint64_t busy_ns;      /* time with at least one of its work commands running */
	/* Per work command, the time it waited for the device behind other processes' work:
	 * from when it was ready (submitted, and the process's previous command on the device
	 * finished) to when it first started. Exact in fifo and timeslice modes; concurrent
	 * mode starts commands at once (it slows them instead), so waits read 0 there. */
	uint64_t wait_max_ns;   /* the longest such wait */
	uint64_t wait_total_ns; /* their sum */
	uint64_t started;       /* work commands started (the waits measured) */
	/* Refill gaps: for each work command submitted while the process had no work pending
	 * on the device, the time since its previous command completed: for a launch that a
	 * scheduler held until that completion, how late the launch came. Quantiles are the
	 * upper edges of buckets four to an octave (at most 25 % high). */
	uint64_t gaps;
	uint64_t gap_p50_ns, gap_p90_ns, gap_p99_ns;
};
/* Fill up to `max` entries (pid 0 = every process), return how many: one per device the
 * process used (streams or commands), or one for device 0 if it used none. Looks for dead
 * processes first, so a process killed just before reads alive = false. Does not register
 * the caller as a GPU process. */
int simgpu_stats(pid_t pid, struct simgpu_proc_stats *out, int max);

uint64_t simgpu_now_ns(void);

#endif
