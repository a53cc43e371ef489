/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory protocol between libxsched.so (one writer per process slot) and the
 * controller (xsched-ctl) and its tools: the CLIENT-WRITABLE half. One segment,
 * /dev/shm/$XSCHED_SHM (default "xsched"), mode 0660 or stricter, never world-writable.
 * What only the controller may decide (controller pid + heartbeat, granted priorities,
 * windows and budgets) is in its own read-only segment, xsched_grant.h; nothing in this one
 * gives a process more than the controller granted it.
 *
 * Layout (fixed sizes; version XSCHED_SHM_VERSION; every field is naturally aligned):
 *   header   magic, version, layout sizes, generation
 *   gpus[]   per physical GPU, keyed by its 16-byte UUID: processes busy per priority,
 *            the futex word "epoch" that gates sleep on, and its waiter count
 *   procs[]  per process: identity (pid + start time against pid reuse, comm), requested
 *            priority, per GPU the shim's counters, and a latency ring (one producer: the
 *            process; one consumer: the controller)
 *
 * Ownership: a process slot's identity, counters and ring head belong to the shim of that
 * process; the ring tail belongs to the controller. A GPU record's busy counts are changed
 * by processes entering or leaving a burst, by whoever reclaims a dead process's slot, and
 * by the controller, which recomputes them from the live slots every interval and repairs
 * forged ones (any group member can write this segment).
 *
 * Readers must treat every value as untrusted: use the bounds-checked accessors below.
 */
#ifndef XSCHED_SHM_H
#define XSCHED_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XSCHED_SHM_MAGIC 0x3176444843535358ull /* "XSSCHDv1" little-endian */
/* 2: controller-owned fields moved to the grant segment (xsched_grant.h); 3: cold bursts
 * (XSCHED_LAT_COLD). */
#define XSCHED_SHM_VERSION  3u
#define XSCHED_SHM_DEFAULT  "xsched"
#define XSCHED_SHM_NAME_MAX 64

#define XSCHED_MAX_GPUS  16
#define XSCHED_MAX_PROCS 256
#define XSCHED_MAX_PRIO  8   /* priority levels 0 (most urgent) .. 7 */
#define XSCHED_RING_LEN  512 /* latency samples per process; a power of two */

enum xsched_prio {
	XSCHED_PRIO_HIGH = 0,
	XSCHED_PRIO_NORMAL = 1,
	XSCHED_PRIO_LOW = 2,
};

/* A window is a count of commands in flight. Values at or above this mean "no limit". */
#define XSCHED_WINDOW_UNLIMITED 0x7fffffffu

/* The controller's heartbeat counts as fresh for this long (CLOCK_MONOTONIC). The controller
 * beats at least every 100 ms, so 500 ms is five missed beats; a shim suspended at W = 0
 * re-checks at least every 200 ms, so its processes are back at their default windows within
 * 0.7 s of the controller's death (issue 6 asks for 1 s). */
#define XSCHED_HEARTBEAT_STALE_NS 500000000ull

/*
 * A grant packs both windows in one 64-bit word so that a reader never sees half an
 * update: bit 63 says the grant is set, bits 32..62 hold W_busy, bits 0..31 W_idle.
 * XSCHED_GRANT_NONE (0): the controller grants nothing; the process uses its default.
 */
#define XSCHED_GRANT_NONE 0ull
static inline uint64_t xsched_grant_pack(uint32_t w_busy, uint32_t w_idle)
{
	if (w_busy > XSCHED_WINDOW_UNLIMITED)
		w_busy = XSCHED_WINDOW_UNLIMITED;
	if (w_idle > XSCHED_WINDOW_UNLIMITED)
		w_idle = XSCHED_WINDOW_UNLIMITED;
	return (1ull << 63) | ((uint64_t)w_busy << 32) | w_idle;
}
static inline bool xsched_grant_set(uint64_t g)
{
	return g >> 63;
}
static inline uint32_t xsched_grant_busy(uint64_t g)
{
	return (uint32_t)(g >> 32) & 0x7fffffffu;
}
static inline uint32_t xsched_grant_idle(uint64_t g)
{
	uint32_t w = (uint32_t)g;
	return w > XSCHED_WINDOW_UNLIMITED ? XSCHED_WINDOW_UNLIMITED : w;
}

struct xsched_shm_header {
	uint64_t magic;              /* written last when the segment is created */
	uint32_t version;            /* XSCHED_SHM_VERSION */
	uint32_t header_size;        /* sizeof(struct xsched_shm_header) */
	uint64_t total_size;         /* sizeof(struct xsched_shm) */
	uint32_t max_gpus;           /* XSCHED_MAX_GPUS */
	uint32_t max_procs;          /* XSCHED_MAX_PROCS */
	uint32_t max_prio;           /* XSCHED_MAX_PRIO */
	uint32_t ring_len;           /* XSCHED_RING_LEN */
	uint32_t gpu_size;           /* sizeof(struct xsched_gpu) */
	uint32_t proc_size;          /* sizeof(struct xsched_proc) */
	uint64_t created_ns;         /* CLOCK_MONOTONIC */
	uint8_t reserved0[16];       /* was the controller's pid + heartbeat (version 1) */
	_Atomic uint64_t generation; /* bumped when a process slot is claimed/freed */
	uint8_t reserved[48];
};

enum xsched_gpu_state {
	XSCHED_GPU_FREE = 0,
	XSCHED_GPU_CLAIMING = 1, /* uuid being written: wait, then look again */
	XSCHED_GPU_READY = 2,
};

struct xsched_gpu {
	_Atomic uint32_t state; /* enum xsched_gpu_state; records fill in index order */
	uint32_t reserved0;
	uint8_t uuid[16];
	/* Futex word: bumped whenever a window may have opened (a busy count fell to zero, a
	 * grant changed, the controller left); suspended launchers sleep on it. */
	_Atomic uint32_t epoch;
	_Atomic uint32_t waiters; /* threads sleeping on epoch, so kickers can skip the wake */
	/* Processes with a burst open on this GPU, per priority level. */
	_Atomic int32_t busy[XSCHED_MAX_PRIO];
	uint8_t reserved[40];
} __attribute__((aligned(64)));

/* One process's view of one GPU (index = the GPU record's index). */
struct xsched_proc_gpu {
	uint8_t reserved0[12]; /* was grant + budget_us (version 1): see xsched_grant.h */
	/* Shim -> everyone. busy_prio: 0 when this process is not counted busy on the GPU,
	 * else the priority + 1 it is counted at (so a reclaimer subtracts the right level). */
	_Atomic uint32_t busy_prio;
	_Atomic uint32_t window;      /* the window the gate applied last */
	_Atomic uint32_t used;        /* 1 once the process used this GPU */
	_Atomic uint64_t launches;    /* commands submitted (work, not markers) */
	_Atomic uint64_t completions; /* commands known complete */
	_Atomic uint64_t syncs;       /* synchronising calls seen */
	_Atomic uint64_t blocked_ns;  /* time launches spent held by the gate */
	_Atomic uint64_t bursts;      /* bursts measured (also pushed to the ring) */
	_Atomic uint64_t inflight;    /* commands admitted and not known complete */
	/* Shim -> everyone: the time bound. budget_applied_us: the budget the gate applied
	 * last (0: none); est_inflight_us: estimated GPU time of the commands in flight;
	 * cmd_mean_us / cmd_max_us: the learned per-command GPU time, mean over every command
	 * timed and the longest kernel shape known (0 until timed; timing runs only while a
	 * budget applies). Fit in the record's padding: the layout's sizes are unchanged. */
	_Atomic uint32_t budget_applied_us;
	_Atomic uint32_t est_inflight_us;
	_Atomic uint32_t cmd_mean_us;
	_Atomic uint32_t cmd_max_us;
} __attribute__((aligned(64)));

struct xsched_lat {
	uint64_t end_ns;     /* CLOCK_MONOTONIC when the draining sync returned */
	uint64_t latency_ns; /* from the burst's first command to end_ns */
	uint32_t gpu;        /* GPU record index */
	uint32_t commands;   /* commands submitted during the burst, | XSCHED_LAT_COLD */
};

/*
 * Set in xsched_lat.commands when the burst launched code (a kernel, graph or host function)
 * that the process had not launched on that GPU before. A first launch pays for loading the
 * code (CUDA and HIP load modules lazily) and the app's own first-use work (PyTorch's first
 * forward pass of ResNet-18 took 685 ms on an H200 against 3 ms after): that burst's
 * latency says nothing about contention, so the controller shows it but does not act on it.
 */
#define XSCHED_LAT_COLD      0x80000000u
#define XSCHED_LAT_CMDS_MASK 0x7fffffffu

/* Bounded single-producer single-consumer ring: the producer never overwrites unread
 * samples; when full it drops the new one and counts it. */
struct xsched_ring {
	_Atomic uint64_t head;    /* next index to write (producer) */
	_Atomic uint64_t tail;    /* next index to read (consumer) */
	_Atomic uint64_t dropped; /* samples lost because the ring was full */
	uint64_t reserved;
	struct xsched_lat lat[XSCHED_RING_LEN];
};

enum xsched_proc_state {
	XSCHED_PROC_FREE = 0,
	XSCHED_PROC_CLAIMED = 1, /* pid set, identity being written */
	XSCHED_PROC_READY = 2,
};

/*
 * Native priority knobs in effect for a process (struct xsched_proc.actuators), set by its
 * shim once one applies; cleared when the slot is claimed or the process image exec()s.
 *   MPS_PRIO     it is an MPS client with a CUDA_MPS_CLIENT_PRIORITY other than normal
 *                (fixed when it connected; set by xsched-run --priority low, or by the user)
 *   STREAM_PRIO  streams it created got the priority its xsched priority maps to
 *   CU_MASK      streams it created are restricted to a CU mask (HIP, XSCHED_CU_MASK)
 *   TIME_SLICED  not a knob but what the platform does: its context is time-sliced against
 *                other processes' (CUDA with no MPS server running), so lower processes
 *                may take turns (controller/core/turns.h)
 */
#define XSCHED_ACT_MPS_PRIO    (1u << 0)
#define XSCHED_ACT_STREAM_PRIO (1u << 1)
#define XSCHED_ACT_CU_MASK     (1u << 2)
#define XSCHED_ACT_TIME_SLICED (1u << 3)
#define XSCHED_ACT_COUNT       4
/* The name of actuator bit i (for status, top and metrics). */
static inline const char *xsched_act_name(unsigned int i)
{
	static const char *const names[XSCHED_ACT_COUNT] = { "mps_priority", "stream_priority",
		                                             "cu_mask", "time_sliced" };
	return i < XSCHED_ACT_COUNT ? names[i] : "unknown";
}

/* pid value while a slot is being reclaimed (never a real pid). */
#define XSCHED_PID_RECLAIMING (-1)

struct xsched_proc {
	_Atomic int32_t pid;        /* 0: free; claimed by CAS 0 -> pid */
	_Atomic uint32_t state;     /* enum xsched_proc_state */
	uint64_t start_time;        /* /proc/<pid>/stat starttime (clock ticks since boot) */
	char comm[16];              /* NUL-terminated */
	int32_t requested_prio;     /* from XSCHED_PRIORITY */
	int32_t reserved0;          /* was granted_prio (version 1): see xsched_grant.h */
	uint32_t default_window;    /* from XSCHED_WINDOW; XSCHED_WINDOW_UNLIMITED: none */
	_Atomic uint32_t image;     /* bumped when the pid exec()s and registers again */
	_Atomic uint64_t attach_ns; /* CLOCK_MONOTONIC of registration */
	_Atomic uint32_t actuators; /* XSCHED_ACT_* in effect; written by the shim (OR only) */
	uint8_t reserved[12];
	struct xsched_proc_gpu gpu[XSCHED_MAX_GPUS];
	struct xsched_ring ring;
} __attribute__((aligned(64)));

struct xsched_shm {
	struct xsched_shm_header hdr;
	struct xsched_gpu gpus[XSCHED_MAX_GPUS];
	struct xsched_proc procs[XSCHED_MAX_PROCS];
};

/* ---- Attaching ---- */

enum xsched_shm_err {
	XSCHED_SHM_OK = 0,
	XSCHED_SHM_EBADNAME = -1,  /* name empty, too long, or not [A-Za-z0-9._-] */
	XSCHED_SHM_ENOENT = -2,    /* absent and not asked to create */
	XSCHED_SHM_EOPEN = -3,     /* open/create failed (errno kept) */
	XSCHED_SHM_ETRUNC = -4,    /* smaller than the header or than its layout says */
	XSCHED_SHM_EMAGIC = -5,    /* not an xsched segment */
	XSCHED_SHM_EVERSION = -6,  /* another protocol version */
	XSCHED_SHM_ELAYOUT = -7,   /* same version, different sizes: a build mismatch */
	XSCHED_SHM_EPERM = -8,     /* world-writable, or not a regular file */
	XSCHED_SHM_EMAP = -9,      /* mmap failed */
	XSCHED_SHM_ETIMEOUT = -10, /* a record stayed half-claimed */
};

struct xsched_shm_map {
	struct xsched_shm *shm;
	size_t size;
	char path[XSCHED_SHM_NAME_MAX + 16];
};

/* The segment name from the environment (XSCHED_SHM, default "xsched"). */
const char *xsched_shm_env_name(void);
bool xsched_shm_name_ok(const char *name);

/*
 * Open the segment `name`, creating and initialising it (mode 0660 less the umask) when
 * absent and `create` is set. Creation is atomic: the segment is built under a temporary
 * name and linked into place, so nobody ever sees it half-initialised. Returns
 * XSCHED_SHM_OK or a negative enum xsched_shm_err; *m is filled only on success.
 */
int xsched_shm_open(const char *name, bool create, struct xsched_shm_map *m);
void xsched_shm_close(struct xsched_shm_map *m);
/* Remove the segment (tests, or an operator starting afresh). 0 or -errno. */
int xsched_shm_unlink(const char *name);
const char *xsched_shm_strerror(int err);

/* ---- GPUs ---- */

/* Index of the GPU record for `uuid`, claiming a free one when absent and `create` is set;
 * -1 when absent (or the table is full). */
int xsched_gpu_find(struct xsched_shm *shm, const uint8_t uuid[16], bool create);
/* Bump the GPU's epoch and wake its sleepers: call after anything that may open a window. */
void xsched_gpu_kick(struct xsched_gpu *g);
/* Sum of processes busy at priorities more urgent than `prio` (bounds-checked). */
int32_t xsched_gpu_busy_above(const struct xsched_gpu *g, int prio);

/* ---- Processes ---- */

/* starttime of /proc/<pid>/stat (0 when unreadable). */
uint64_t xsched_proc_start_time(pid_t pid);
/* Whether the process that registered with (pid, start_time) still runs. */
bool xsched_proc_alive(pid_t pid, uint64_t start_time);

/*
 * Claim a slot for (pid, start_time): the slot this very process image already holds after
 * an exec() (same pid and start time: taken over, bursts of the old image dropped), else a
 * free one, else one reclaimed from a dead process. NULL when the table is full. The slot
 * is READY on return.
 */
struct xsched_proc *xsched_proc_claim(struct xsched_shm *shm, pid_t pid, uint64_t start_time,
                                      const char *comm, int requested_prio,
                                      uint32_t default_window);
/* Give a slot back: its busy counts are subtracted, then it is freed. */
void xsched_proc_release(struct xsched_shm *shm, struct xsched_proc *p);
/* Subtract whatever busy counts slot p holds (p's process is gone or leaving). */
void xsched_proc_drop_busy(struct xsched_shm *shm, struct xsched_proc *p);
/* Reclaim the slots of processes that died; returns how many. */
int xsched_proc_reclaim_dead(struct xsched_shm *shm);
/* The READY slot of `pid`, or NULL. */
struct xsched_proc *xsched_proc_find(struct xsched_shm *shm, pid_t pid);
/* Bounds-checked accessors (NULL when out of range or not READY). */
struct xsched_proc *xsched_proc_at(struct xsched_shm *shm, int i);
struct xsched_gpu *xsched_gpu_at(struct xsched_shm *shm, int i);

/* Enter/leave "busy" on GPU `gpu` at priority `prio` (exactly once each way). */
void xsched_proc_busy_enter(struct xsched_shm *shm, struct xsched_proc *p, int gpu, int prio);
void xsched_proc_busy_leave(struct xsched_shm *shm, struct xsched_proc *p, int gpu);

/* ---- Latency rings ---- */

/* Producer: append a sample; false (and dropped++) when the ring is full. */
bool xsched_ring_push(struct xsched_ring *r, const struct xsched_lat *s);
/*
 * Consumer: copy up to `max` unread samples to out[] and, when `consume`, advance the tail
 * past them. Indices are validated: a corrupt head/tail is resynchronised, never followed
 * out of bounds. Returns how many were copied.
 */
size_t xsched_ring_read(struct xsched_ring *r, struct xsched_lat *out, size_t max, bool consume);

uint64_t xsched_now_ns(void); /* CLOCK_MONOTONIC */

/* ---- Busy counts (the controller's audit) ---- */

/* Index of slot p in shm (its grant slot, xsched_grant.h); -1 when p is not one of shm's. */
int xsched_proc_index(const struct xsched_shm *shm, const struct xsched_proc *p);

#endif
