/* SPDX-License-Identifier: MIT */
/*
 * The vendor-neutral core of libxsched.so: registration, the launch-window gate, in-flight
 * accounting from completion markers, burst latency. A backend (shim/cuda, shim/hip) maps its
 * API onto the calls below and supplies marker operations; no GPU API appears in the core.
 * Several backends live in one library: each registers itself, each stream records the
 * backend that owns it, and every marker operation goes to that backend.
 *
 * Accounting, per device: `reserved` counts commands admitted by the gate, `completed` those
 * known complete (or whose real call failed); in flight = reserved - completed. Per stream,
 * `submitted` counts commands the real call accepted and `done` those known complete. A
 * marker recorded on a stream after its first N commands completes after them, so
 * credit(stream, N) moves `done` (monotonically) to N. A synchronising call credits what it
 * drained up to a snapshot taken before it started. Accounting errs only towards more in
 * flight, never fewer, so the window is never exceeded.
 *
 * Time bound: while a budget applies, each admitted command adds its estimated GPU time to
 * the device's estimate in flight, and every command gets a marker; the marker's completion
 * subtracts it again and, when the shim saw the completion promptly, times the command
 * (from the later of its submission and its predecessor's completion on the stream). The
 * times teach a per-device table of durations keyed by kernel shape (xs_budget.c). No timing
 * event is recorded: the markers' completion as the gate sees it is the clock.
 *
 * Threads: every call may come from any application thread. The launch path when the
 * window is open takes no lock, makes no system call and allocates nothing.
 */
#ifndef XS_CORE_H
#define XS_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define XS_MAX_DEVS       16  /* device ordinals 0..15 per process */
#define XS_MAX_STREAMS    512 /* a power of two */
#define XS_MAX_EVENTS     1024
#define XS_MARKERS        128 /* outstanding markers per device */
#define XS_SPARSE_MARKERS 64  /* marker spacing when the window is unlimited */

/* A backend's marker: an opaque handle and the pool it came from. */
struct xs_mark {
	uintptr_t handle;
	void *pool;
};

struct xs_dev;
struct xs_backend;

struct xs_stream {
	_Atomic uint32_t state; /* XS_STREAM_EMPTY / _LIVE / _DEAD / _WRITING */
	_Atomic uint32_t gen;   /* bumped around a rewrite, for lock-free readers */
	/* Key: the backend's handle; for handles that stand for "the current context's default
	 * stream" also the context, and for a per-thread default stream the thread. */
	uintptr_t handle;
	uintptr_t ctx;
	uint64_t tid;
	/* Resolved by the backend when the stream was first seen. */
	const struct xs_backend *be; /* the owner: every marker on the stream is its */
	uintptr_t owner_ctx;
	bool per_thread; /* markers may be recorded only by thread `tid` */
	bool implicit;   /* a default-stream handle: needs owner_ctx current to record */
	struct xs_dev *dev;
	/* Counters are monotonic for the life of the table slot, across reuse. */
	_Atomic uint64_t submitted;
	_Atomic uint64_t done;
	_Atomic uint64_t marked;  /* `submitted` covered by the newest marker */
	_Atomic uint32_t markers; /* outstanding markers naming this stream */
	/* Time bound (only while a budget applies): estimated ns of the commands submitted
	 * and not yet covered by a marker (the next marker carries them), and the duration key
	 * of the newest command (for timing it when its marker covers it alone). */
	_Atomic uint64_t est_unmarked;
	_Atomic uint64_t last_key;
	/* When the shim saw the stream's newest completed marker done, and how late it may
	 * have seen it (device lock held): the start of the next command's timing. */
	uint64_t prev_obs_ns, prev_unc_ns;
	/* Threads inside a sync that drains this stream (changed under the device lock):
	 * other threads record no marker on it meanwhile, or the application's next query
	 * after its sync could find that marker pending. */
	_Atomic uint32_t draining;
};

enum {
	XS_STREAM_EMPTY = 0,
	XS_STREAM_LIVE = 1,
	XS_STREAM_DEAD = 2,
	XS_STREAM_WRITING = 3,
};

/*
 * A backend: its marker operations and how it settles. Defined by the backend (not const: the
 * core keeps its state in it) and registered from its constructor. Errors of marker
 * operations count as completion: the shim must never wait on something that cannot
 * complete.
 */
struct xs_backend {
	const char *name;
	/* Record a marker on s after everything submitted to it so far. 0 or -1. */
	int (*marker_record)(struct xs_stream *s, struct xs_mark *m);
	/* 1 when complete (or failed), 0 when not yet. */
	int (*marker_query)(const struct xs_mark *m);
	/* Block until complete (or failed). */
	void (*marker_wait)(const struct xs_mark *m);
	/* The marker is finished with. */
	void (*marker_release)(const struct xs_mark *m);
	/* Whether the calling thread may record on s now (context current, own thread). */
	bool (*can_record)(const struct xs_stream *s);
	/* Settle the backend for this process image (resolve the runtime functions it calls
	 * itself); 0 or -1 with a one-line reason in why[]. Called once, by xs_backend_on(), the
	 * first time one of its hooks runs with its runtime loaded; a failure is said once on
	 * stderr and leaves this backend's calls passing through. */
	int (*init)(char *why, unsigned long why_len);
	/* In a fork child: forget per-process driver state without touching the driver. */
	void (*fork_child)(void);
	/* The core's, zero-initialised: XS_BE_*. */
	_Atomic int state;
};

enum {
	XS_BE_IDLE = 0,     /* not used yet in this process image */
	XS_BE_SETTLING = 1, /* init() running */
	XS_BE_READY = 2,    /* settled, the process not registered (yet) */
	XS_BE_ON = 3,       /* settled and the process registered: its hooks schedule */
	XS_BE_FAILED = 4,   /* init() failed: its calls pass through */
};

#define XS_MAX_BACKENDS 4

/* From the backend's constructor, before any other thread exists. */
void xs_backend_register(struct xs_backend *b);

/* The slow path of xs_backend_on(). */
bool xs_backend_activate(struct xs_backend *b);

/* Whether b's hooks schedule (else they pass every call through). The first call registers
 * the process (settings, shared memory; said once on stderr if it cannot) unless another
 * backend did, and settles b. A process whose hooks never run costs nothing more. */
static inline bool xs_backend_on(struct xs_backend *b)
{
	if (__builtin_expect(atomic_load_explicit(&b->state, memory_order_acquire) == XS_BE_ON, 1))
		return true;
	return xs_backend_activate(b);
}

/* ---- Devices and streams ---- */

/* The device with this ordinal, bound to the physical GPU `uuid` on first use; NULL when
 * out of range or the shared GPU table is full (then its work passes through). */
struct xs_dev *xs_dev_get(int ordinal, const uint8_t uuid[16]);

/* Lock-free lookup of a live stream of backend be; NULL when unknown. */
struct xs_stream *xs_stream_find(const struct xs_backend *be, uintptr_t handle, uintptr_t ctx,
                                 uint64_t tid);
/* Add a stream of backend be (or return the live one with this key). NULL when the table is
 * full. */
struct xs_stream *xs_stream_add(const struct xs_backend *be, uintptr_t handle, uintptr_t ctx,
                                uint64_t tid, uintptr_t owner_ctx, bool per_thread, bool implicit,
                                struct xs_dev *dev);
/* The stream is being destroyed: cover its unmarked commands with a marker, forget it. */
void xs_stream_destroy(struct xs_stream *s);
/* Every stream of a context that died (its markers too): credit all, forget them. */
void xs_ctx_gone(uintptr_t ctx);
/* The contexts of backend be's streams known on device `ordinal` (up to max); returns how
 * many. */
unsigned int xs_dev_ctxs(const struct xs_backend *be, int ordinal, uintptr_t *out,
                         unsigned int max);

/* ---- Launching ---- */

/*
 * What a command is, for its GPU time estimate: the hook fills `kf` and `kn` before
 * xs_launch_begin. A kernel launch: kf = the function handle, kn = its grid size (blocks),
 * so that each kernel shape is timed apart. A graph launch or host function: its handle,
 * kn = 0. A copy or memset: kf = XS_KEY_COPY / XS_KEY_MEMSET, kn = bytes (timed per power
 * of two). Unknown: both 0 (the process's mean). The core turns them into a key only while
 * a time budget applies; otherwise they cost two stores.
 */
#define XS_KEY_COPY   1u
#define XS_KEY_MEMSET 2u

struct xs_ticket {
	struct xs_stream *s;
	bool tracked;
	uint32_t window;
	uintptr_t kf;
	uint64_t kn;
	uint64_t key;    /* the duration key (0: no budget applied at admission) */
	uint64_t est_ns; /* estimated GPU time counted in flight for this command */
};

/* A ticket for a command described by (kf, kn) (see above). */
#define XS_TICKET(f, n) ((struct xs_ticket){ .kf = (uintptr_t)(f), .kn = (uint64_t)(n) })
/* Blocks in a grid of x * y * z. */
#define GRID3(x, y, z) ((uint64_t)(x) * (y) * (z))

/*
 * Before the real call that puts one command on stream s (NULL: untracked): waits until
 * the window admits it (commands in flight below W and, with a time budget, the estimated
 * GPU time in flight plus this command's within the budget or nothing in flight), opens a
 * burst if none is open (timed from this call). t->kf, t->kn describe the command.
 */
void xs_launch_begin(struct xs_stream *s, struct xs_ticket *t);
/* After the real call: ok = the driver accepted the command. */
void xs_launch_end(struct xs_ticket *t, bool ok);
/* After a real call that accepted the command and also waited for it (a synchronous
 * device-to-host copy): it is complete, credit it without a marker. */
void xs_launch_end_completed(struct xs_ticket *t, bool ok);

/* ---- Synchronising ---- */

/* Before a blocking sync on device d: cover unmarked commands of d's streams, except the
 * stream `drained` that the sync itself drains (may be NULL), with markers, so that the end
 * of the burst can be seen when it returns. */
void xs_sync_begin(struct xs_dev *d, struct xs_stream *drained);
/* After a sync on d returned: reap markers, close the burst if nothing is left, count it. */
void xs_sync_end(struct xs_dev *d);
/* xs_sync_end for a sync begun with a non-NULL `drained` (credit it first): other threads
 * may mark the stream again. */
void xs_sync_end_drained(struct xs_stream *drained);
/* Every used device: xs_sync_end (after a sync whose device is unknown). */
void xs_sync_end_all(void);

static inline uint64_t xs_stream_snapshot(struct xs_stream *s)
{
	return atomic_load(&s->submitted);
}
/* Commands 1..upto of s are complete. */
void xs_stream_credit(struct xs_stream *s, uint64_t upto);

/* Snapshot/credit every stream of a context (context-wide sync). */
struct xs_ctx_snap {
	unsigned int n;
	struct {
		struct xs_stream *s;
		uint64_t seq;
	} e[64];
	struct xs_dev *dev;
};
void xs_ctx_snapshot(uintptr_t ctx, struct xs_ctx_snap *snap);
void xs_ctx_credit(const struct xs_ctx_snap *snap);

/* ---- Events the application records (to credit what an event sync/query drained) ---- */

void xs_event_note(uintptr_t ev, struct xs_stream *s, uint64_t seq);
void xs_event_forget(uintptr_t ev);
bool xs_event_lookup(uintptr_t ev, struct xs_stream **s, uint64_t *seq);

/* ---- Stream capture ---- */

/* Captures under way in this process: while any is, the shim records no marker, waits on
 * nothing and gates nothing (it only counts), so that it never touches a capture. */
extern _Atomic int xs_captures;
static inline bool xs_capturing(void)
{
	return atomic_load_explicit(&xs_captures, memory_order_acquire) != 0;
}
/* A capture on `key` is starting (before the real call); undo with ok = false. */
void xs_capture_begin(uintptr_t key);
void xs_capture_undo(uintptr_t key);
/* The capture on `key` is over. */
void xs_capture_end(uintptr_t key);

/* CLOCK_MONOTONIC in ns (vDSO). */
uint64_t xs_now_ns(void);

#endif
