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
	uint32_t waiters; /* threads blocked on it: release only when none */
	bool used;
	bool done;
};

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
	/* Process-local futex word: bumped when a marker is recorded or work is credited, for
	 * threads that found nothing to wait on. */
	_Atomic uint32_t kick;
	_Atomic uint32_t kick_waiters;
	pthread_mutex_t lock; /* the marker pool */
	uint32_t nmarkers;
	uint64_t order;
	struct xs_marker mk[XS_MARKERS];
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
/* The window that applies to device d now, and the priority it was judged at. */
uint32_t xs_window_now(struct xs_dev *d, int *prio);

/* xs_track.c */
void xs_tables_reset(void);

/* xs_proc.c */
uint64_t xs_coarse_now_ns(void);
void xs_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns, bool shared);
void xs_futex_wake(_Atomic uint32_t *word, bool shared);

#endif
