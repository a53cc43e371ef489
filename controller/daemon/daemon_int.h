/* SPDX-License-Identifier: MIT */
/* The daemon's state, shared by its files (daemon.c, census.c, publish.c, ebpf.c). */
#ifndef XSCHED_CTL_DAEMON_INT_H
#define XSCHED_CTL_DAEMON_INT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "allot.h"
#include "busy_audit.h"
#include "cmdest.h"
#include "ctl_box.h"
#include "ctl_pub.h"
#include "daemon.h"
#include "entlat.h"
#include "plan.h"
#include "policy.h"
#include "service.h"
#include "turns.h"
#include "xsched_grant.h"
#include "xsched_shm.h"

#define D_MAX_SVCS       CTL_PUB_SVCS
#define D_ACTIVE_HOLD_NS 2000000000ull  /* a process counts as active this long after work */
#define D_SVC_LINGER_NS  30000000000ull /* a service without members is kept this long */
#define D_BEAT_MAX_NS    100000000ull   /* heartbeat at least this often */
#define D_CMD_DEFAULT_NS 500000.0       /* assumed per-command GPU time until measured */

/* One process on one GPU. */
struct dgpu {
	struct cmdest est;
	uint64_t last_launches;
	uint64_t active_until_ns;
	int svc;      /* service index, -1: none */
	int entry;    /* index in the current plan, -1: none */
	bool written; /* grant_written/budget_written hold what is in shared memory */
	uint64_t grant_written;
	uint32_t budget_written;
	int lat; /* its latencies in daemon.lat[] (status/top/exporter, not the law); -1: none */
	bool turn_member; /* in its GPU's rotation (turns.h) */
};

/* One shimmed process (one protocol slot), or one observed by eBPF only (slot -1). */
struct dproc {
	bool live;
	int slot;
	pid_t pid;
	uint64_t start_time;
	uint32_t image;
	char comm[16];
	int64_t uid;
	char cgroup[256];
	bool have_cgroup;
	int requested;
	int ov_prio;   /* xsched-ctl set --priority; -1: none */
	bool ov_fixed; /* xsched-ctl set --window */
	uint32_t ov_window;
	struct pol_decision dec; /* effective, overrides applied */
	int prio_written;        /* -2: unknown */
	struct dgpu g[XSCHED_MAX_GPUS];
};

struct dsvc {
	bool used;
	struct svc s;
	uint64_t last_member_ns;
	uint32_t members;
	int plan; /* index in the current plan's services */
};

struct daemon {
	struct ctl_opts o;
	struct xsched_shm_map map;
	struct xsched_shm *shm;
	struct xsched_grant_map gmap; /* ours alone: the only writer */
	struct xsched_grants *grants;
	struct ctl_pub *pub;
	struct ctl_box *box; /* the `set` mailbox; NULL: none */
	uint64_t now, started;
	uint64_t ticks;
	bool ebpf;
	char note[128];
	struct dproc procs[XSCHED_MAX_PROCS];
	struct dsvc svcs[D_MAX_SVCS];
	/* The current plan. */
	struct plan_svc psvc[D_MAX_SVCS];
	size_t npsvc;
	struct plan_entry pent[CTL_PUB_ENTRIES];
	struct {
		int proc, gpu;
	} pmap[CTL_PUB_ENTRIES];
	size_t npent;
	struct allot_params ap;
	struct allot_proc scratch[CTL_PUB_ENTRIES]; /* plan_tops()'s working memory */
	struct turn_gpu turns[XSCHED_MAX_GPUS];
	/* Burst latencies shown per process x GPU, for the pairs that reported any: a pool
	 * as large as the status segment's entries, instead of one record in each of a
	 * process's XSCHED_MAX_GPUS (most use one GPU). lat_owner[i]: the dgpu holding
	 * lat[i], NULL when free. */
	struct entlat lat[CTL_PUB_ENTRIES];
	struct dgpu *lat_owner[CTL_PUB_ENTRIES];
	bool warned_full;
	struct busy_audit audit;
};

/* census.c */
void census(struct daemon *d);
/* dg's latency record, taken from the pool at its first sample; NULL when the pool is
 * exhausted (its latencies are then not shown; the law does not use them). */
struct entlat *dgpu_lat(struct daemon *d, struct dgpu *dg);
/* uid and cgroup of p->pid, from /proc. */
void census_identity(struct dproc *p);
void decide(struct daemon *d, struct dproc *p);
int svc_find_or_add(struct daemon *d, const char *name, int gpu, int prio, uint64_t target_ns);
void assign_services(struct daemon *d);
void apply_requests(struct daemon *d);

/* publish.c */
void publish(struct daemon *d);

#endif
