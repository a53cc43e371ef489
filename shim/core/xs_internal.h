/* SPDX-License-Identifier: MIT */
/*
 * State shared by the core's own files (never by a backend): the per-process registration,
 * devices with their marker pools, the stream and event tables.
 */
#ifndef XS_INTERNAL_H
#define XS_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "xs_config.h"
#include "xs_core.h"
#include "xsched_grant.h"
#include "xsched_shm.h"

enum {
	XS_UNINIT = 0,
	XS_INITING = 1,
	XS_ACTIVE = 2,
	XS_PASSTHROUGH = 3,
};

struct xs_marker {
	struct xs_mark m;
	const struct xs_backend *be; /* the one that recorded it (its stream's) */
	struct xs_stream *s;
	uint64_t seq_end; /* the stream's commands 1..seq_end precede it */
	uint64_t order;   /* recording order on the device: the oldest is waited on */
	uint64_t est_ns;  /* estimated GPU time of the commands it covers, counted in flight */
	uint64_t key;     /* duration key of the one command it times (0: none) */
	uint64_t rec_ns;  /* when it was recorded (only when key != 0) */
	uint32_t waiters; /* threads blocked on it: release only when none */
	bool used;
	bool done;
};

/* A learned kernel duration (xs_budget.c): written under the device lock, read without. */
struct xs_kdur {
	_Atomic uint64_t key; /* 0: free */
	_Atomic uint64_t ns;  /* the estimate */
	uint64_t s[3];        /* the last samples (device lock) */
	uint32_t n;           /* samples taken */
};
#define XS_KDUR 256 /* kernel shapes timed per device; a power of two */
/* Code handles launched per device, for cold bursts (xs_gate.c); a power of two. A full
 * table counts new code as seen: a burst is then never called cold wrongly, only missed. */
#define XS_SEEN 4096

struct xs_dev {
	_Atomic int ready;
	int ordinal;
	int gpu; /* index of the shared GPU record */
	struct xsched_gpu *sg;
	struct xsched_proc_gpu *pg;
	_Atomic uint64_t reserved;
	_Atomic uint64_t completed;
	_Atomic uint32_t burst_open;
	_Atomic uint64_t burst_start_ns;
	_Atomic uint64_t burst_reserved0;
	_Atomic uint32_t burst_cold; /* the open burst launched code never launched before */
	/* Process-local futex word: bumped when a marker is recorded or work is credited, for
	 * threads that found nothing to wait on. */
	_Atomic uint32_t kick;
	_Atomic uint32_t kick_waiters;
	pthread_mutex_t lock; /* the marker pool */
	uint32_t nmarkers;
	uint64_t order;
	struct xs_marker mk[XS_MARKERS];
	/* Time bound: estimated GPU time in flight (ns; may dip below 0 transiently when a
	 * command's estimate is subtracted before another thread added it: read clamped). */
	_Atomic int64_t est_ns;
	uint64_t last_reap_ns; /* device lock held */
	/* Learned durations (device lock for writes): per shape, and the process's mean and
	 * longest over every timed command. */
	struct xs_kdur kd[XS_KDUR];
	_Atomic uint64_t mean_ns;
	_Atomic uint64_t max_ns;
	uint64_t max_key; /* the shape whose estimate is max_ns */
	_Atomic uint32_t timed;
	_Atomic uintptr_t seen[XS_SEEN]; /* code handles launched here (0: free slot) */
};

struct xs_event_slot {
	_Atomic uintptr_t key;
	_Atomic uint64_t val; /* 0: none; else (stream index + 1) << 54 | seq */
};

struct xs_state {
	_Atomic int state;
	struct xs_config cfg;
	struct xsched_shm_map map;
	struct xsched_shm *shm;
	struct xsched_proc *slot;
	int slot_index;      /* of slot: also the index of our grants */
	uint64_t start_time; /* our identity in the grant segment, with pid */
	/* The controller's grants, mapped read-only; NULL while there is no segment (no
	 * controller: default windows). Opened lazily off the hot path (xs_grants_poll). */
	_Atomic(struct xsched_grants *) grants;
	struct xsched_grant_map gmap;
	pthread_mutex_t grant_lock; /* one opener at a time; never waited for */
	_Atomic uint64_t grant_try_ns;
	pid_t pid;
	_Atomic uint64_t last_reclaim_ns;
	pthread_mutex_t dev_lock;
	pthread_mutex_t table_lock;
	pthread_mutex_t ring_lock;
	pthread_mutex_t capture_lock;
	pthread_mutex_t event_lock;
	uintptr_t capture_keys[64];
	unsigned int ncapture;
	struct xs_dev devs[XS_MAX_DEVS];
	struct xs_stream streams[XS_MAX_STREAMS];
	struct xs_event_slot events[XS_MAX_EVENTS];
};

extern struct xs_state xs;

/* xs_gate.c */
void xs_dev_reset(struct xs_dev *d);
void xs_record_marker_locked(struct xs_dev *d, struct xs_stream *s);
void xs_forget_ctx_markers(struct xs_dev *d, uintptr_t ctx);
void xs_burst_try_close(struct xs_dev *d);
/* s's unmarked commands were counted done without a marker: their estimate leaves the
 * device's time in flight. */
void xs_stream_drop_est(struct xs_stream *s);
/* The window that applies to device d now, and the priority it was judged at; *budget_us
 * (when not NULL): the time bound that applies with it (0: none). */
uint32_t xs_window_now(struct xs_dev *d, int *prio, uint32_t *budget_us);

/* xs_budget.c: durations learned from markers, estimates for the gate. */
/* The key of a command described by (kf, kn) (see struct xs_ticket); never 0. */
uint64_t xs_budget_key(uintptr_t kf, uint64_t kn);
/* Estimated GPU time of a command with this key on d: its learned duration, else the
 * process's mean once a few commands were timed, else `cold_ns` (the budget: an unknown
 * command then runs alone). Lock-free. */
uint64_t xs_budget_estimate(struct xs_dev *d, uint64_t key, uint64_t cold_ns);
/* Marker mk's completion was seen at now_ns, at most unc_ns after it happened (device
 * lock held): time its command when both its start and its end are known well enough, and
 * remember the completion as the stream's latest. */
void xs_budget_observe(struct xs_dev *d, const struct xs_marker *mk, uint64_t now_ns,
                       uint64_t unc_ns);
/* A sample of `ns` for `key` (device lock held); exposed for the unit tests. */
void xs_budget_learn(struct xs_dev *d, uint64_t key, uint64_t ns);
/* Slow paths only (sync, blocked, registration): (re)map the controller's grant segment
 * when there is none or its controller is stale, at most every XS_GRANT_RETRY_NS. */
void xs_grants_poll(void);
#define XS_GRANT_RETRY_NS 1000000000ull

/* xs_track.c */
void xs_tables_reset(void);

/* xs_proc.c */
uint64_t xs_coarse_now_ns(void);
void xs_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns, bool shared);
void xs_futex_wake(_Atomic uint32_t *word, bool shared);

#endif
