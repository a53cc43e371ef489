/* SPDX-License-Identifier: MIT */
/*
 * Per GPU, from the services' allowances to every process's windows.
 *
 * An entry is one process on one GPU. A service constrains the entries of its GPU at a less
 * urgent level (numerically greater) that are not pinned to a static window; an entry under
 * several services gets the tightest of their allotments (allot_min). Only active entries
 * (work recently launched or in flight) take a share of a service's allowance, but every
 * entry under a service gets windows, so that one waking up is already bounded. An entry
 * waiting for its turn (turns.h) is suspended: windows 0.
 */
#ifndef XSCHED_PLAN_H
#define XSCHED_PLAN_H

#include "allot.h"

#include <stdbool.h>
#include <stddef.h>

enum plan_turn {
	PLAN_TURN_NONE, /* no turns on its GPU, or not a member */
	PLAN_TURN_HOLD, /* holds its GPU's turn: planned as the only lower process */
	PLAN_TURN_WAIT, /* waits for its turn: suspended */
};

struct plan_svc {
	int gpu, prio;
	double x_ns;       /* the law's allowance */
	double burst_cmds; /* the service's burst size */
	/* Filled by plan_tops(). */
	size_t n_low; /* active entries under it */
	double a_top_ns, b_top_ns;
	double busy_min_ns; /* allot_busy_min(): the busy allowance that opens a busy window */
	bool ff_ok;         /* every active entry under it has a duration estimate */
	/* Every active entry under it is ranked below it by a native knob as well (MPS client
	 * priority): the law may start open (law_start_open). */
	bool native_below;
};

struct plan_entry {
	int gpu, prio;
	bool active;
	bool fixed; /* static window from policy or xsched-ctl set */
	uint32_t fixed_window;
	double cmd_ns;     /* per-command GPU time; <= 0: unknown */
	uint32_t wmax;     /* largest window it may be granted */
	bool native_below; /* the platform ranks it below normal too (MPS client priority) */
	/* Turns (turns.h). */
	int key;       /* stable identity across intervals (the process's protocol slot) */
	bool sliced;   /* its context is time-sliced against other processes' */
	bool busy_now; /* launched, or had work in flight, this interval */
	bool member;   /* in its GPU's rotation; kept by the caller across intervals */
	enum plan_turn turn;
	/* Filled by plan_grants(). */
	bool controlled; /* under at least one service */
	struct allot_out out;
};

/* Whether service s constrains entry e: same GPU, less urgent, not fixed. */
bool plan_under(const struct plan_svc *s, const struct plan_entry *e);
/* Each service's ladder tops (entries waiting for their turn take no share). `scratch` holds at
 * least `ne` elements: the caller's, so that the control loop allocates nothing per interval. */
void plan_tops(struct plan_svc *svcs, size_t nsvcs, const struct plan_entry *e, size_t ne,
               const struct allot_params *ap, struct allot_proc *scratch);
void plan_grants(const struct plan_svc *svcs, size_t nsvcs, struct plan_entry *e, size_t ne,
                 const struct allot_params *ap);

#endif
