/* SPDX-License-Identifier: MIT */
/*
 * The control law for one latency target: one high-priority service (a set of processes
 * sharing a P99 target) on one GPU, and the lower-priority processes below it.
 *
 * The law moves one number, the allowance x (ns): how much lower-priority GPU work may be in
 * flight where a high-priority burst can collide with it. x is split-range:
 *
 *	x in [0, a_top]            idle allowance  a = x: work in flight when a burst arrives
 *	x in [a_top, a_top+b_top]  busy allowance  b = x - a_top: work admitted during a burst
 *
 * so the law gives back idle windows first (an arriving burst waits at most for the work
 * already queued) and busy windows last (in a FIFO queue every command admitted during a
 * burst delays it again). x = 0 is the floor: lower processes are suspended while the
 * service has a burst in flight and keep one command at most otherwise. allot.h turns x into
 * per-process windows and time budgets.
 *
 * Each interval the law sees the service's latency samples and acts, in this order:
 *   1. A violation (a sample above the target T) in the interval while the window's P99 is
 *      above T (more violations than the 1 % a P99 target allows): decrease at once. A
 *      single late sample after relax_samples on time is the 1 % itself, which a window of
 *      a slow service (20 samples a second) cannot show: it is let pass; under a
 *      native knob, so are k late samples, however late, after k * relax_samples on
 *      time.
 *      A burst (burst_viol violations, or one above severe * T) goes straight to the floor;
 *      a single violation to the last allowance verified good, and the busy part is
 *      dropped first. Under a native knob (native_below), a burst while busy windows
 *      are open (x at least busy_min_ns above a_top) drops the busy part only: the lower
 *      work queued ahead of a burst yields to it, and what delays it is work admitted
 *      during it (the H200 under MPS: the idle range full and the busy range empty held
 *      ResNet-18 at 1.07x solo P99 with the batch job at 100.1 % of native, where the
 *      knob alone gave 1.35x). Under a knob the idle range has a knee too: lower work
 *      queued ahead of a burst runs beside it, and up to about the burst's own length
 *      it neither delays the burst much nor idles the GPU before the burst ends. On
 *      the H200 (ResNet-18 at 1.1x solo P99 beside ResNet-50 bs1024, allowances pinned,
 *      two calls): 0-4 ms gave 0.99-1.08x solo, 4.5 ms 1.10x, 5 ms 1.20x, 10 ms 1.36x,
 *      while the batch job had 93.9 % at the floor, 97.9 % at 2.5 ms and 99.0-99.2 %
 *      from 3.5 ms up; with a quicker service 4 ms gave 1.46x, so the knee moves with
 *      the burst. So under a knob decreases are gentle: a single violation multiplies
 *      x by knob_beta, from an open start down to at most T's worth of work (not
 *      beta * T), and a burst at or below T's worth steps down by knob_beta as well
 *      instead of going to the floor; bursts that go on step it down again.
 *      The allowance that failed becomes the ceiling, unless a decrease set it less
 *      than min_samples ago (too soon to have failed: violations that outlast
 *      decreases are a disturbance, and the ceiling stays where the episode began).
 *   2. Not enough evidence since the last change (min_samples samples): hold.
 *   3. P99 since the last change inside the band [band_lo * T, T], or the window's P99
 *      above T (a decrease less than a window ago): hold. Below the band with fewer than
 *      relax_samples samples: hold (a P99 needs ~100 samples to be seen).
 *      A narrow band: where the service's best P99 (the lowest judged over relax_samples
 *      samples, or at the floor) is at or above band_lo * T, as with a target of 1.1x solo,
 *      "in the band" would hold at any allowance. The lower edge then moves up to
 *      best + narrow_frac * (T - best), and a relaxation from x > 0 may double x: the
 *      allowance barely shows in the P99 there (the H200 under MPS: 2.3 ms of it added
 *      ~0.3 ms). Only after relax_samples samples without a violation, and only within
 *      the idle range (up to a_top): the busy range is left to the band as before.
 *      Under a native knob, only up to T's worth of work (the knee, step 1).
 *   4. Below the band: relax. With the feedforward known (the floor P99: over the floor
 *      window, ~ the solo P99), jump to ff_frac * (T - floor P99): an arrival then waits
 *      at most about that long for queued lower work. Otherwise, or above it, add
 *      gain * (band_lo * T - P99) (at least step_min, at most doubling). Below a ceiling
 *      c the step stops at min(x + (c - x) / 2, (1 - ceil_margin) c): probes bisect
 *      between the allowance verified good and the one that failed; within probe_min of c
 *      there is nothing worth probing (at the floor: the floor is the best).
 * Probing. Every increase is a probe: it risks violations the P99 must absorb. A probe that
 * fails (a decrease before it was verified good) backs off in time too: the next increase
 * waits wait0 * 2^(fails - 1), at most wait_max. Violations seen while a probe is open, and
 * until the window forgets a failed one, are charged to a budget that samples refill at
 * probe_budget violations per sample (at most probe_bank banked); an increase needs one
 * violation's worth. So probing spends at most probe_budget of the samples plus probe_bank
 * and one probe's overrun, whatever the plant: a quarter of the 1 % a P99 allows by default.
 * A bank of 2 lets one failure that was noise (a CPU hiccup) be retried after wait0.
 * The ceiling and the backoff are forgotten after calm_ns without a counted violation, when
 * the target changes, or when the service's load does (its rate, the window's sample count,
 * halved or doubled since the last failure). Not a_top: it moves with the lower processes'
 * command time estimates, which the law's own windows move.
 * At the floor every min_samples fresh samples are judged on the floor window's P99, or on
 * theirs alone where that is lower (the window still holding a warm-up or a load gone):
 * below the band relaxes (step 4), in the band holds.
 * Windup: x is clamped to [0, a_top + b_top]; at the floor with the floor P99 above T the
 * target is reported unreachable and x stays 0 until P99 at the floor falls to T or the
 * target is raised (judged at once from the last floor P99); no
 * error accumulates meanwhile. A decrease goes to the last allowance verified good when
 * that is below x, else to beta * x (x itself was good: the load changed), at most
 * beta * T (under a knob knob_beta * x, at most T; step 1): from an open start x is many targets'
 *worth of work, and halving from there would cost a violation per halving (measured on an H200
 *under MPS: four late bursts before the allowance got from 35 ms to 2 ms).
 */
#ifndef XSCHED_LAW_H
#define XSCHED_LAW_H

#include <stdbool.h>
#include <stdint.h>

enum law_state {
	LAW_IDLE,        /* no latency samples in the window: nothing to act on */
	LAW_HOLDING,     /* P99 in the band, waiting for evidence, or at the top */
	LAW_TIGHTENING,  /* just decreased after a violation */
	LAW_RELAXING,    /* increasing: P99 below the band */
	LAW_SUSPENDED,   /* at the floor, the target held or not yet judged */
	LAW_UNREACHABLE, /* at the floor and P99 still above the target */
};
#define LAW_NSTATES 6

const char *law_state_name(enum law_state s);

struct law_params {
	uint64_t target_ns;
	double band_lo;         /* hold while P99 in [band_lo * T, T]; 0.8 */
	double beta;            /* decrease factor on a single violation; 0.5 */
	double knob_beta;       /* the same under a native knob (native_below); 0.8 */
	uint32_t burst_viol;    /* violations in one interval that count as a burst; 2 */
	double severe;          /* one sample above severe * T is a burst too; 1.5 */
	uint32_t min_samples;   /* fresh samples for a judgement at the floor; 20 */
	uint32_t relax_samples; /* samples since the last change before a step up; 100 */
	double gain;            /* relaxation step per ns of slack below the band; 0.5 */
	double ff_frac;         /* feedforward jump to ff_frac * (T - floor P99); 0.75 */
	double ceil_margin;     /* stay this fraction below the last failed allowance; 0.1 */
	double narrow_frac;     /* a narrow band relaxes below best + this * (T - best); 0.5 */
	uint64_t step_min_ns;   /* smallest relaxation step; 0: T / 50 */
	uint64_t probe_min_ns;  /* smallest probe worth a violation; 0: T / 20 */
	uint64_t wait0_ns;      /* wait after a failed probe, doubled per consecutive one; 1 s */
	uint64_t wait_max_ns;   /* longest such wait; 30 s */
	double probe_budget;    /* violations per sample that probing may spend; 0.0025 */
	double probe_bank;      /* violations probing may bank ahead; 2 */
	uint64_t calm_ns;       /* time without violations that forgets ceiling and backoff; 60 s */
};

void law_params_default(struct law_params *p, uint64_t target_ns);

struct law_input {
	uint64_t now_ns;
	/* The sliding window (for the state shown and the unreachable check). */
	uint64_t win_n, win_p99_ns;
	/* Samples that arrived since the previous tick. */
	uint64_t int_n, int_viol, int_max_ns;
	/* Samples since the allowance last changed (the caller restarts these when law_tick()
	 * returns true). */
	uint64_t since_n, since_p99_ns;
	/* Samples taken at the floor (x = 0) over a longer window, kept while x > 0: the
	 * P99 the service gets with lower processes at their floor, ~ its solo P99. */
	uint64_t floor_n, floor_p99_ns;
	/* Allowance at which every lower process is at its window maximum (idle, then busy);
	 * from allot_tops(). */
	double a_top_ns, b_top_ns;
	/* Whether x maps to GPU time well enough for the feedforward jump (every lower
	 * process has a per-command duration estimate, or the shim enforces time budgets). */
	bool ff_ok;
};

struct law {
	struct law_params p;
	/* Set by the caller before each tick: a native knob ranks every lower process below
	 * the service (MPS client priority). A decrease from the busy range then stops at the
	 * top of the idle range even on a violation burst (step 1). */
	bool native_below;
	/* Set by the caller before each tick: the busy allowance (x - a_top) below which every
	 * busy window is still 0 (0: unknown, any). x can sit above a_top without busy windows
	 * because a_top moves with the lower processes' command estimates. */
	double busy_min_ns;
	/* >= 0: the operator pinned x here (law_pin); the law counts violations but does not
	 * move x. */
	double pin_ns;
	enum law_state state;
	const char *why;         /* one phrase saying why the state, for status and dashboards */
	double x_ns;             /* the allowance */
	double good_ns;          /* last allowance verified good (< 0: none) */
	double ceil_ns;          /* lowest allowance that failed (< 0: none) */
	uint64_t floor_p99_ns;   /* P99 measured at the floor (0: not yet) */
	uint64_t best_p99_ns;    /* lowest P99 judged over relax_samples (or at the floor) */
	uint64_t last_change_ns; /* when x last changed */
	uint64_t last_viol_ns;   /* when the last violation was seen (0: never) */
	uint64_t violations;     /* samples above the target, all time */
	uint64_t decreases, increases;
	bool retarget; /* the target changed: judge at once from the last floor P99 */
	/* Probing (see above). */
	bool probing;           /* x was raised and not yet verified good */
	bool charging;          /* violations now are charged to probing */
	uint32_t fails;         /* consecutive failed probes */
	uint64_t probe_at_ns;   /* no increase before this */
	double tokens;          /* probing's violation budget, at most probe_bank */
	uint64_t fail_win_n;    /* window samples at the last failure: the load it was under */
	uint64_t probe_viol;    /* violations charged to probing, all time */
	uint64_t since_viol_n;  /* samples on time since the last violation */
	uint64_t tolerated;     /* single late samples let pass (step 1), all time */
	uint64_t probes_failed; /* all time */
};

void law_init(struct law *l, const struct law_params *p, uint64_t now_ns);
/*
 * Where a native knob already ranks every lower process below the service (MPS client
 * priority), start at top_ns instead of the floor: the knob alone often holds the target
 * with full batch throughput (measured on an H200: ResNet-18 at 1.24x solo P99 beside
 * ResNet-50 at 99.9%), so the law begins from what the knob gives and tightens only on
 * violations. The daemon passes the top of the idle range: lower work queued ahead of a burst
 * yields to it under the knob, work admitted during it does not (step 1). Acts only before
 * the law's first change (still at its starting floor); returns whether it did.
 */
bool law_start_open(struct law *l, double top_ns, uint64_t now_ns);
/*
 * Pin x at x_ns (xsched-ctl set --allowance), or with x_ns < 0 hand it back to the law,
 * which goes on from the pinned value with nothing verified good or failed: what it learnt
 * before the pin described another allowance. Pinned, the state is LAW_HOLDING with a why
 * that says so, x is clamped to [0, a_top + b_top] each tick, and law_start_open() does
 * nothing. For an operator tuning by hand, and for measuring what a fixed allowance gives.
 */
void law_pin(struct law *l, double x_ns, uint64_t now_ns);
/* A new target (xsched-ctl set): judged from the next tick, no state lost. */
void law_set_target(struct law *l, uint64_t target_ns);
/* One interval. Returns true when the caller must restart the since-change statistics:
 * x changed, or a judgement at the floor used them up (each judgement there stands on
 * fresh samples, so that an old violation does not pin the state forever). */
bool law_tick(struct law *l, const struct law_input *in);
/* The split of x (see above). */
double law_idle_ns(const struct law *l, double a_top_ns);
double law_busy_ns(const struct law *l, double a_top_ns);

#endif
