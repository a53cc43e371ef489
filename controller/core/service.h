/* SPDX-License-Identifier: MIT */
/*
 * One service on one GPU: the processes sharing a latency target (policy.h), their
 * latency samples and the control law acting for them.
 *
 * Samples feed three views: the sliding window (the P99 shown, and whether the service is
 * active), the interval (violations since the last tick: the law's fast path) and the
 * since-change histogram (the evidence the law relaxes on). A burst that began before the
 * allowance last changed is kept out of the since-change view: it was shaped by the old
 * allowance. Samples taken at the floor also go to a floor window (SVC_FLOOR_WINDOW_NS),
 * whose P99 is the law's feedforward and its judge of reachability.
 */
#ifndef XSCHED_SERVICE_H
#define XSCHED_SERVICE_H

#include "lathist.h"
#include "latwin.h"
#include "law.h"

#define SVC_NAME_MAX        32
#define SVC_FLOOR_WINDOW_NS 5000000000ull /* 5 s */

struct svc {
	char name[SVC_NAME_MAX];
	int gpu;  /* GPU record index */
	int prio; /* the members' level */
	struct law law;
	struct latwin win;
	struct lathist since;
	struct latwin floor; /* samples taken while the law is at its floor */
	uint64_t since_start_ns;
	uint64_t int_n, int_viol, int_max_ns;
	double burst_cmds;                /* commands per burst (EWMA) */
	uint64_t samples;                 /* all time */
	uint64_t cold;                    /* cold bursts kept from the law (svc_cold), all time */
	uint64_t last_p99_ns, last_win_n; /* of the last tick, for status */
};

/* A service with target `target_ns`, a P99 window of `window_ns`, ticks of `interval_ns`.
 * 0 or -1 (no memory). */
int svc_init(struct svc *s, const char *name, int gpu, int prio, uint64_t target_ns,
             uint64_t window_ns, uint64_t interval_ns, uint64_t now_ns);
void svc_free(struct svc *s);
void svc_sample(struct svc *s, uint64_t end_ns, uint64_t latency_ns, uint32_t commands);
/* A member's burst that launched code for the first time (XSCHED_LAT_COLD): its latency is
 * the code's warm-up, which no window would shorten; counted, not acted on. */
void svc_cold(struct svc *s);
/* One control interval; see law.h for a_top, b_top and ff_ok. Returns law_tick()'s
 * value. */
bool svc_tick(struct svc *s, uint64_t now_ns, double a_top_ns, double b_top_ns, bool ff_ok);
/* The allowance changed outside svc_tick (law_start_open): samples count afresh from now. */
void svc_restart(struct svc *s, uint64_t now_ns);

#endif
