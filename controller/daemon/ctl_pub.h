/* SPDX-License-Identifier: MIT */
/*
 * The controller's status segment, /dev/shm/<XSCHED_SHM>.ctl, beside the protocol's: what
 * the running controller decided (for `xsched-ctl status`, `top` and the Prometheus
 * exporter). Created afresh by the controller, mode 0644: everyone may read it, nobody but
 * the controller may write it. Commands go through the mailbox (ctl_box.h), which only
 * privileged callers can open.
 *
 * Status: written by the controller once per interval under a sequence lock: `seq` is odd
 * while it writes. A reader copies the whole segment with ctl_pub_snapshot(), which retries
 * until it got a consistent copy. `pid` and `beat_ns` say whether the writer is alive;
 * a controller that stops cleanly sets `stopped` and removes the segment.
 * */
#ifndef XSCHED_CTL_PUB_H
#define XSCHED_CTL_PUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CTL_PUB_MAGIC 0x3142555044435358ull /* "XSCDPUB1" little-endian */
/* 2: the mailbox moved to ctl_box.h; 3: turns; 4: cold bursts */
#define CTL_PUB_VERSION 4u
#define CTL_PUB_SVCS    64
#define CTL_PUB_ENTRIES 512 /* process x GPU pairs */
#define CTL_PUB_WHY     64
/* Burst-latency histogram buckets per entry (upper bounds: ctl_pub_lat_bound_ns()). */
#define CTL_PUB_LAT_BUCKETS 16

struct ctl_pub_svc {
	char name[32];
	int32_t gpu, prio;
	uint32_t state; /* enum law_state */
	uint32_t members, n_low;
	uint64_t target_ns;
	uint64_t p99_ns;   /* over the sliding window */
	uint64_t window_n; /* samples in it */
	uint64_t floor_p99_ns;
	uint64_t samples, violations; /* all time */
	uint64_t cold;                /* cold bursts not acted on (service.h), all time */
	double x_ns, a_top_ns, b_top_ns, burst_cmds;
	char why[CTL_PUB_WHY];
};

struct ctl_pub_entry {
	int32_t pid;
	int32_t gpu;
	char comm[16];
	int32_t requested, granted; /* levels */
	int32_t svc;                /* index of the service it belongs to, -1 none */
	uint8_t capped;             /* asked for more than policy allows */
	uint8_t fixed;              /* static window (policy or set) */
	uint8_t controlled;         /* windows from a service's law */
	uint8_t active;
	uint32_t w_busy, w_idle;                 /* granted; XSCHED_WINDOW_UNLIMITED: none */
	uint32_t budget_idle_us, budget_busy_us; /* 0: no time bound */
	uint32_t window_applied;                 /* what the shim applied last */
	uint32_t actuators;                      /* XSCHED_ACT_* its shim reports */
	double cmd_ns;                           /* per-command GPU time estimate, 0 unknown */
	uint64_t launches, completions, inflight, blocked_ns, bursts;
	/* ---- added for top and the exporter ---- */
	uint32_t observed;     /* 1: seen by eBPF only (no shim; counters from its bursts) */
	uint32_t lat_recent_n; /* samples behind lat_p50_ns/lat_p99_ns */
	uint64_t lat_p50_ns, lat_p99_ns; /* this entry's recent bursts (CTL_LAT_RECENT_NS) */
	uint64_t lat_count, lat_sum_ns;  /* every burst the controller read, all time */
	/* lat_bucket[i]: bursts of at most ctl_pub_lat_bound_ns(i), cumulative as Prometheus
	 * histograms are; the last bound is infinite, so lat_bucket[last] == lat_count. */
	uint64_t lat_bucket[CTL_PUB_LAT_BUCKETS];
	uint32_t turn; /* CTL_TURN_*: its place in its GPU's turns (controller/core/turns.h) */
	uint32_t reserved;
};

enum {
	CTL_TURN_NONE,
	CTL_TURN_HOLDS,
	CTL_TURN_WAITS
};

struct ctl_pub {
	uint64_t magic;
	uint32_t version;
	uint32_t size;
	_Atomic uint64_t seq;
	/* ---- written by the controller under seq ---- */
	int32_t pid;
	uint32_t stopped;
	uint64_t started_ns, beat_ns, ticks; /* CLOCK_MONOTONIC */
	uint64_t interval_ns, default_target_ns;
	uint32_t window_max;
	uint32_t ebpf;         /* 1: the eBPF observer runs */
	char note[128];        /* e.g. why eBPF is not used */
	char metrics_addr[64]; /* --metrics, for the exporter; "" none */
	uint32_t nsvcs, nentries;
	struct ctl_pub_svc svcs[CTL_PUB_SVCS];
	struct ctl_pub_entry entries[CTL_PUB_ENTRIES];
};

/* How far back an entry's lat_p50_ns/lat_p99_ns look. */
#define CTL_LAT_RECENT_NS 10000000000ull

/* Upper bound of latency bucket i in ns; UINT64_MAX for the last (+Inf). */
uint64_t ctl_pub_lat_bound_ns(unsigned int i);
/* The bucket a latency falls in. */
unsigned int ctl_pub_lat_bucket(uint64_t ns);

/* The segment's name for protocol segment `shm_name`, in buf. */
void ctl_pub_name(const char *shm_name, char *buf, unsigned int len);
/* Controller: create the segment afresh (a stale one is removed, never reused: whoever
 * made it may still have it mapped writable) and map it; NULL with errno on failure. */
struct ctl_pub *ctl_pub_create(const char *shm_name);
/* Readers: map it read-only. NULL with errno. */
const struct ctl_pub *ctl_pub_open_ro(const char *shm_name);
void ctl_pub_unmap(const struct ctl_pub *p);
/* Controller leaving: mark stopped and remove the name. */
void ctl_pub_remove(struct ctl_pub *p, const char *shm_name);
/* Writer side of the sequence lock. */
void ctl_pub_begin(struct ctl_pub *p);
void ctl_pub_end(struct ctl_pub *p);
/* A consistent copy; false after repeated torn reads (a writer stuck mid-update). */
bool ctl_pub_snapshot(const struct ctl_pub *p, struct ctl_pub *out);

#endif
