/* SPDX-License-Identifier: MIT */
/*
 * Layout of the simulated GPU's shared segment and the model's internal interface. Every
 * link is an index, never a pointer, so that the same state can be read by every process
 * (each maps it at its own address) and copied into private memory for a dry run.
 */
#ifndef XSCHED_SIM_SHM_H
#define XSCHED_SIM_SHM_H

#include "simgpu.h"

#include <pthread.h>
#include <stddef.h>

#define SIM_MAGIC       0x31304d4953475358ull /* "XSGSIM01" */
#define SIM_LAYOUT      5                     /* bump when the layout changes */
#define SIM_CMD_BITS    12
#define SIM_MAX_CMDS    (1u << SIM_CMD_BITS)
#define SIM_STREAM_BITS 11
#define SIM_MAX_STREAMS (1u << SIM_STREAM_BITS)
/* Pending commands per process: a hardware channel's pushbuffer is bounded as well, and the
 * bound keeps one runaway submitter from starving the shared pool. */
#define SIM_PROC_CAP 1024
#define SIM_NIL      0xffffffffu
#define SIM_NEVER    UINT64_MAX
/* Drained commands whose times stay readable through simgpu_done(). */
#define SIM_RETAIN 512
/* Dead processes are looked for at most this often during normal calls. */
#define SIM_REAP_NS     (50ull * 1000 * 1000)
#define SIM_GAP_BUCKETS 160 /* quarter octaves: up to 2^40 ns */

enum sim_cmd_state {
	CMD_FREE,
	CMD_PENDING, /* queued or running */
	CMD_DONE,    /* completed, its owner has not drained it yet */
	CMD_RETIRED, /* drained; kept (times readable) until the slot is reused */
};

struct sim_cmd {
	uint64_t id; /* (sequence << SIM_CMD_BITS) | index; 0 when free */
	uint64_t tag;
	uint64_t wait_cmd;
	uint64_t remaining; /* ns of work left at full speed */
	uint64_t start_ns;  /* 0 until it first runs */
	uint64_t end_ns;
	uint64_t submit_ns; /* model time of submission */
	uint32_t next;      /* stream list, done list, retired list or free stack */
	uint32_t fifo_next; /* device queue (fifo mode) */
	uint16_t proc;
	uint16_t stream;
	uint8_t dev;
	uint8_t kind;
	uint8_t state;
	uint8_t pad;
};

enum sim_stream_state {
	STREAM_FREE,
	STREAM_LIVE,
	STREAM_ZOMBIE, /* destroyed by its owner, freed once its last command completes */
};

struct sim_stream {
	uint32_t gen;
	uint16_t proc;
	uint8_t dev;
	uint8_t state;
	int32_t prio;
	uint32_t head, tail; /* pending commands, in submission order */
	uint32_t ctx_next;   /* next stream of the same process and device */
	uint32_t share;      /* CUs it may use, of SIMGPU_CU_FULL; 0 = all */
	uint64_t last_id;    /* last command submitted to it */
};

/* A context: one process on one device. */
struct sim_ctx {
	uint32_t streams; /* first of its streams */
	uint32_t def_stream;
	uint32_t cur;     /* command it has started and must finish first, or SIM_NIL */
	uint32_t pending; /* pending commands of every kind */
	uint8_t used;
	uint8_t pad[7];
	uint64_t submitted, completed, inflight, max_inflight, busy_ns;
	/* Queueing behind other processes (see simgpu_proc_stats): end of the context's last
	 * completed work command, and the waits of its work commands. */
	uint64_t last_end_ns, wait_max_ns, wait_total_ns, started;
	/* Refill gaps: a work command submitted while the context had no work pending, after
	 * its previous one completed: submit - that completion, in SIM_GAP_BUCKETS buckets,
	 * four per octave (bucket 4o + q holds gaps in [2^o (1 + q/4), 2^o (1 + (q+1)/4)) ns). */
	uint32_t gap_hist[SIM_GAP_BUCKETS];
	uint64_t gaps;
};

enum sim_proc_state {
	PROC_FREE,
	PROC_ALIVE,
	PROC_DEAD,
};

struct sim_proc {
	int32_t pid;
	uint8_t state;
	char comm[16];
	uint64_t start_time; /* /proc/PID/stat field 22, to tell a reused pid */
	uint64_t image;      /* AT_RANDOM of the process image, to tell an exec() */
	uint64_t seq;        /* registration order: the oldest dead slot is reused first */
	uint32_t done_head, done_tail;
	uint32_t pending;
	struct sim_ctx ctx[SIMGPU_MAX_DEVICES];
};

struct sim_dev {
	uint32_t fifo_head, fifo_tail; /* fifo mode: every pending command, by id */
	int32_t active;                /* timeslice: process holding the device, or -1 */
	uint32_t pad;
	uint64_t slice_end;
};

struct sim_shm {
	uint64_t magic;
	uint32_t layout;
	uint32_t size;
	pthread_mutex_t lock;
	/* Everything below is the model's state; a dry run copies it from here on. */
	struct simgpu_config cfg;
	uint32_t dry; /* set only in a private copy: skip bookkeeping nobody will read */
	uint64_t now; /* model time, ns */
	uint64_t seq; /* next command sequence number */
	uint64_t proc_seq;
	uint64_t last_reap;
	uint32_t free_head;
	uint32_t retired_head, retired_tail;
	uint32_t retired; /* how many; beyond SIM_RETAIN the oldest are freed */
	/* Indices in use stay below these, so that a dry run copies only that much. */
	uint32_t cmd_hwm, stream_hwm;
	uint32_t proc_hwm; /* procs[0..proc_hwm) may be in use */
	struct sim_dev dev[SIMGPU_MAX_DEVICES];
	struct sim_proc proc[SIMGPU_MAX_PROCS];
	struct sim_stream stream[SIM_MAX_STREAMS];
	struct sim_cmd cmd[SIM_MAX_CMDS];
};

#define SIM_STATE_OFFSET offsetof(struct sim_shm, cfg)

static inline bool sim_is_work(uint8_t kind)
{
	return kind <= SIMGPU_GRAPH;
}

/* segment.c: the process's view of the segment. */
struct sim_shm *sim_enter(void);          /* attach, lock, reap if due, advance to now */
struct sim_shm *sim_enter_observer(void); /* the same without registering the caller */
void sim_leave(struct sim_shm *s);
bool sim_nothing_to_drain(void);
int sim_self(void); /* the caller's process slot; valid between enter and leave */
void sim_reap(struct sim_shm *s, bool force);
void sim_rebuild(struct sim_shm *s);

/* engine.c: the device model proper. */
void sim_advance(struct sim_shm *s, uint64_t now);
void sim_settle(struct sim_shm *s);
uint32_t sim_cmd_lookup(const struct sim_shm *s, uint64_t id);
bool sim_cmd_done(const struct sim_shm *s, uint64_t id);
uint64_t sim_next_event(struct sim_shm *s);
uint64_t sim_predict(const struct sim_shm *s, uint64_t id);
void sim_drop_proc(struct sim_shm *s, int p);
void sim_free_cmd(struct sim_shm *s, uint32_t i);
void sim_stream_release(struct sim_shm *s, uint32_t si);

/* api.c */
unsigned int sim_gap_bucket(uint64_t ns);
uint64_t sim_gap_quantile(const struct sim_ctx *x, double q);
uint32_t sim_stream_index(const struct sim_shm *s, int p, uint32_t id);
uint32_t sim_stream_alloc(struct sim_shm *s, int p, int dev, int prio);

#endif
