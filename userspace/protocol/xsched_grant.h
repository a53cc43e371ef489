/* SPDX-License-Identifier: MIT */
/*
 * The controller-owned half of the protocol: /dev/shm/<XSCHED_SHM>.grant.
 *
 * Everything a process may NOT decide for itself lives here, apart from the client-writable
 * segment (xsched_shm.h): the controller's pid and heartbeat and, per process slot index, the
 * identity a grant applies to, the granted priority, and per GPU the granted windows and
 * time budget. Only the controller creates and writes it (mode 0644, or 0640 with an
 * admin group; owned by the controller's uid); shims and dashboards map it O_RDONLY +
 * PROT_READ, so a client that wants a bigger window has no way to write one.
 *
 * Indexing: slot i here belongs to slot i of the client segment. A slot's grants apply only
 * to the process whose (pid, start time) the controller wrote into it, so a grant never
 * follows a reused slot or a recycled pid: readers ask through the accessors below, which
 * return "no grant" unless the identity matches the caller's.
 *
 * Absent segment = no controller: shims use their default windows (fail-open). A reader
 * trusts a segment only when it is a regular file that nobody but its owner can write and
 * whose owner is root or the reader's own uid (a client cannot plant a fake one for
 * others). Readers must treat every value as untrusted: the accessors bound-check.
 */
#ifndef XSCHED_GRANT_H
#define XSCHED_GRANT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "xsched_shm.h"

#define XSCHED_GRANT_MAGIC   0x31544e4152475358ull /* "XSGRANT1" little-endian */
#define XSCHED_GRANT_VERSION 1u
#define XSCHED_GRANT_SUFFIX  ".grant"

struct xsched_grant_header {
	uint64_t magic;                 /* written last when the segment is created */
	uint32_t version;               /* XSCHED_GRANT_VERSION */
	uint32_t header_size;           /* sizeof(struct xsched_grant_header) */
	uint64_t total_size;            /* sizeof(struct xsched_grants) */
	uint32_t max_gpus;              /* XSCHED_MAX_GPUS */
	uint32_t max_procs;             /* XSCHED_MAX_PROCS */
	uint32_t max_prio;              /* XSCHED_MAX_PRIO */
	uint32_t slot_size;             /* sizeof(struct xsched_grant_slot) */
	uint64_t created_ns;            /* CLOCK_MONOTONIC */
	_Atomic int32_t controller_pid; /* 0: no controller */
	uint32_t reserved0;
	_Atomic uint64_t controller_heartbeat_ns; /* CLOCK_MONOTONIC of its last beat */
	uint8_t reserved[64];
};

struct xsched_grant_gpu {
	_Atomic uint64_t grant; /* xsched_grant_pack(); XSCHED_GRANT_NONE: default */
	/* Estimated GPU time in flight allowed (us) while the grant is set; 0: no time bound.
	 * The shim admits a command while its estimate plus the estimated time already in
	 * flight fits, or when nothing is in flight. Written before the grant word, whose
	 * release store publishes it. */
	_Atomic uint32_t budget_us;
	uint32_t reserved;
};

struct xsched_grant_slot {
	/* Identity: pid is stored last (release) after start_time and the cleared grants, and
	 * zeroed first when the slot changes hands. */
	_Atomic int32_t pid;          /* 0: no grants in this slot */
	_Atomic int32_t granted_prio; /* -1: none (the process's requested priority applies) */
	_Atomic uint64_t start_time;  /* /proc/<pid>/stat starttime */
	uint8_t reserved[48];
	struct xsched_grant_gpu gpu[XSCHED_MAX_GPUS];
} __attribute__((aligned(64)));

struct xsched_grants {
	struct xsched_grant_header hdr;
	struct xsched_grant_slot slots[XSCHED_MAX_PROCS];
};

struct xsched_grant_map {
	struct xsched_grants *g; /* NULL: not mapped */
	size_t size;
	dev_t dev; /* of the file mapped, to notice a segment that was replaced */
	ino_t ino;
};

/* "/dev/shm/<shm_name>.grant" into out (len >= XSCHED_SHM_NAME_MAX + 32). */
void xsched_grant_path(const char *shm_name, char *out, size_t len);

/*
 * Controller: map the segment read-write, creating it with `mode` (0644 or 0640; any
 * group/other write bit is refused) when absent. An existing segment is reused in place
 * (shims keep their mapping across a controller restart) when it is ours (owned by our euid,
 * not writable by others) and its layout matches; otherwise it is replaced atomically (built
 * under a temporary name and renamed over it). `gid` >= 0: chown the segment to that group.
 * XSCHED_SHM_OK or a negative enum xsched_shm_err (errno kept for EOPEN).
 */
int xsched_grant_create(const char *shm_name, mode_t mode, gid_t gid, bool set_gid,
                        struct xsched_grant_map *m);
/*
 * Readers: map the segment O_RDONLY + PROT_READ after checking type, owner (root or our
 * euid), mode (no group/other write) and layout. XSCHED_SHM_ENOENT when absent.
 */
int xsched_grant_open_ro(const char *shm_name, struct xsched_grant_map *m);
/*
 * Readers: when the file now at the segment's name is not the one mapped (a controller
 * replaced it), map the new one over the old mapping's address (MAP_FIXED, so concurrent
 * readers never touch unmapped memory). XSCHED_SHM_OK when m maps the current file.
 */
int xsched_grant_refresh_ro(const char *shm_name, struct xsched_grant_map *m);
void xsched_grant_close(struct xsched_grant_map *m);

/* ---- Controller (writer) ---- */

/* Record a heartbeat for controller `pid`; when it just arrived, kick every GPU of shm
 * (NULL: none) so that sleepers apply the grants. */
void xsched_controller_beat(struct xsched_grants *g, struct xsched_shm *shm, pid_t pid);
/* Controller leaving cleanly: clears pid, heartbeat and every slot, wakes every sleeper. */
void xsched_controller_leave(struct xsched_grants *g, struct xsched_shm *shm);
/* Make slot `slot` belong to (pid, start_time); when it belonged to someone else its grants
 * are cleared first. false when slot is out of range. */
bool xsched_grant_assign(struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time);
/* Set (or with XSCHED_GRANT_NONE clear) the slot's windows on GPU `gpu` (-1: all GPUs) and
 * wake the GPU's sleepers in shm (NULL: nobody; the caller kicks once for many grants). */
void xsched_grant_windows(struct xsched_grants *g, struct xsched_shm *shm, int slot, int gpu,
                          uint64_t grant);
/* Set the slot's time budget on GPU `gpu` (-1: all). */
void xsched_grant_budget(struct xsched_grants *g, int slot, int gpu, uint32_t budget_us);
/* Set the slot's granted priority (-1: none) and wake sleepers on every GPU of shm. */
void xsched_grant_prio(struct xsched_grants *g, struct xsched_shm *shm, int slot, int prio);
/* Slot back to nobody: no identity, no grant, no priority. */
void xsched_grant_clear(struct xsched_grants *g, struct xsched_shm *shm, int slot);

/* ---- Readers (bounds- and identity-checked; g may be NULL) ---- */

/* Whether a controller's heartbeat is fresh at time `now_ns` (CLOCK_MONOTONIC). */
bool xsched_controller_fresh(const struct xsched_grants *g, uint64_t now_ns);
/* The controller's pid, 0 when none (or g NULL). */
int32_t xsched_controller_pid(const struct xsched_grants *g);
/* Whether slot `slot` holds grants for (pid, start_time). */
bool xsched_grant_mine(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time);
/* The packed windows of (pid, start_time) in `slot` on `gpu`; XSCHED_GRANT_NONE when the slot
 * is someone else's or anything is out of range. */
uint64_t xsched_grant_word(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time,
                           int gpu);
/* Its granted priority, -1 when none (or not its slot); always < XSCHED_MAX_PRIO. */
int xsched_granted_prio(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time);
/* Its time budget on `gpu` in microseconds, 0 when none (or not its slot). */
uint32_t xsched_grant_budget_us(const struct xsched_grants *g, int slot, pid_t pid,
                                uint64_t start_time, int gpu);
/* Unchecked views for tools that show every slot (dashboards, dumps): the slot's identity
 * and values as stored, or false when out of range. */
struct xsched_grant_peek {
	int32_t pid;
	int32_t granted_prio;
	uint64_t start_time;
	uint64_t grant[XSCHED_MAX_GPUS];
	uint32_t budget_us[XSCHED_MAX_GPUS];
};
bool xsched_grant_peek(const struct xsched_grants *g, int slot, struct xsched_grant_peek *out);

#endif
