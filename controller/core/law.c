// SPDX-License-Identifier: MIT
/* The control law of law.h: decrease at once on violations, relax on evidence, probe rarely
 * where probes fail. */
#include "law.h"

static const char *const state_names[LAW_NSTATES] = {
	[LAW_IDLE] = "idle",
	[LAW_HOLDING] = "holding",
	[LAW_TIGHTENING] = "tightening",
	[LAW_RELAXING] = "relaxing",
	[LAW_SUSPENDED] = "suspended",
	[LAW_UNREACHABLE] = "unreachable",
};

const char *law_state_name(enum law_state s)
{
	return (unsigned int)s < LAW_NSTATES ? state_names[s] : "?";
}

void law_params_default(struct law_params *p, uint64_t target_ns)
{
	*p = (struct law_params){
		.target_ns = target_ns,
		.band_lo = 0.8,
		.beta = 0.5,
		.knob_beta = 0.8,
		.burst_viol = 2,
		.severe = 1.5,
		.min_samples = 20,
		.relax_samples = 100,
		.gain = 0.5,
		.ff_frac = 0.75,
		.ceil_margin = 0.1,
		.narrow_frac = 0.5,
		.step_min_ns = 0,
		.probe_min_ns = 0,
		.wait0_ns = 1000000000ull,
		.wait_max_ns = 30000000000ull,
		.probe_budget = 0.0025,
		.probe_bank = 2,
		.calm_ns = 60000000000ull,
	};
}

void law_init(struct law *l, const struct law_params *p, uint64_t now_ns)
{
	*l = (struct law){
		.p = *p,
		/* Start at the floor: safe for the service, and it measures the floor P99 that
		 * the first feedforward step needs. */
		.state = LAW_SUSPENDED,
		.why = "starting at the floor",
		.x_ns = 0,
		.good_ns = -1,
		.ceil_ns = -1,
		.pin_ns = -1,
		.last_change_ns = now_ns,
		/* A full bank: the first probes need not wait for samples. */
		.tokens = p->probe_bank,
	};
}

bool law_start_open(struct law *l, double top_ns, uint64_t now_ns)
{
	/* Never judged: still at the starting floor, perhaps idle while the service warms up
	 * (a floor judgement records the floor P99). */
	if (l->increases || l->decreases || l->x_ns > 0 || l->floor_p99_ns || top_ns <= 0 ||
	    l->pin_ns >= 0)
		return false;
	l->x_ns = top_ns;
	/* The knob's premise: the target mostly holds; its 1 % of late samples is allowed from
	 * the start. */
	l->since_viol_n = l->p.relax_samples;
	l->state = LAW_HOLDING;
	l->why = "starting open: a native priority knob ranks every lower process below";
	l->last_change_ns = now_ns;
	l->increases++;
	return true;
}

/* Forget what failed probes taught: the conditions they were judged under are gone. */
static void backoff_reset(struct law *l)
{
	l->ceil_ns = -1;
	l->fails = 0;
	l->probe_at_ns = 0;
}

void law_pin(struct law *l, double x_ns, uint64_t now_ns)
{
	if (x_ns < 0 && l->pin_ns < 0)
		return;
	if (x_ns >= 0) {
		if (x_ns != l->x_ns)
			l->last_change_ns = now_ns;
		l->x_ns = x_ns;
		l->state = LAW_HOLDING;
		l->why = "allowance pinned by the operator";
	} else {
		l->why = "allowance handed back to the law";
		l->last_change_ns = now_ns;
	}
	l->pin_ns = x_ns < 0 ? -1 : x_ns;
	l->good_ns = -1;
	backoff_reset(l);
	l->probing = false;
	l->charging = false;
	l->tokens = l->p.probe_bank;
}

void law_set_target(struct law *l, uint64_t target_ns)
{
	if (target_ns == l->p.target_ns)
		return;
	l->p.target_ns = target_ns;
	/* What was good or bad was judged against the old target, and lateness was too. */
	l->good_ns = -1;
	backoff_reset(l);
	l->tokens = l->p.probe_bank;
	l->retarget = true;
}

double law_idle_ns(const struct law *l, double a_top_ns)
{
	return l->x_ns < a_top_ns ? l->x_ns : a_top_ns;
}

double law_busy_ns(const struct law *l, double a_top_ns)
{
	return l->x_ns > a_top_ns ? l->x_ns - a_top_ns : 0;
}

static double step_min(const struct law *l)
{
	return l->p.step_min_ns ? (double)l->p.step_min_ns : (double)l->p.target_ns / 50.0;
}

static double probe_min(const struct law *l)
{
	return l->p.probe_min_ns ? (double)l->p.probe_min_ns : (double)l->p.target_ns / 20.0;
}

static void set_x(struct law *l, double x, uint64_t now_ns)
{
	l->x_ns = x;
	l->last_change_ns = now_ns;
}

/* x held long enough to count as good. A probe that got here succeeded: the chain of
 * failures is broken and what follows is no longer its cost. */
static void verified(struct law *l)
{
	l->good_ns = l->x_ns;
	if (l->probing) {
		l->probing = false;
		l->charging = false;
		l->fails = 0;
	}
}

/* The wait before the next probe after `fails` consecutive failures: wait0 * 2^(fails-1). */
static uint64_t backoff_wait(const struct law *l)
{
	uint64_t w = l->p.wait0_ns;

	for (uint32_t i = 1; i < l->fails && w < l->p.wait_max_ns; i++)
		w *= 2;
	return w < l->p.wait_max_ns ? w : l->p.wait_max_ns;
}

/* The probe that raised x failed: back off in time (the ceiling, set by the caller, backs
 * off in allowance). */
static void probe_failed(struct law *l, uint64_t now_ns)
{
	l->probing = false;
	l->fails++;
	l->probes_failed++;
	l->probe_at_ns = now_ns + backoff_wait(l);
}

/* The budget: samples earn it, violations while probing spend it. A failed probe stays
 * charged until the window forgets its violations, since work it admitted still delays
 * bursts after x dropped. */
static void account(struct law *l, const struct law_input *in)
{
	l->tokens += (double)in->int_n * l->p.probe_budget;
	if (l->tokens > l->p.probe_bank)
		l->tokens = l->p.probe_bank; /* a long quiet spell buys a retry, not a volley */
	if (!l->charging)
		return;
	l->tokens -= (double)in->int_viol;
	l->probe_viol += in->int_viol;
	if (!l->probing && (double)in->win_p99_ns <= (double)l->p.target_ns)
		l->charging = false;
}

/* Whether the ceiling and backoff still describe the plant (law.h: forgotten after a calm
 * spell or when the service's rate changed by 2x; an idle window is no rate). */
static void maybe_forget(struct law *l, const struct law_input *in)
{
	uint64_t n = in->win_n, ref = l->fail_win_n;

	if (l->ceil_ns < 0 && !l->fails)
		return;
	if (in->now_ns - l->last_viol_ns >= l->p.calm_ns)
		backoff_reset(l);
	else if (ref && n && (n >= 2 * ref || 2 * n <= ref))
		backoff_reset(l);
}

/* Step 1 of law.h: a violation in this interval. Returns true when x changed. */
static bool on_violation(struct law *l, const struct law_input *in)
{
	double t = (double)l->p.target_ns, x = l->x_ns, nx;
	bool burst = in->int_viol >= l->p.burst_viol || (double)in->int_max_ns > l->p.severe * t;
	uint64_t since = l->since_viol_n;

	l->violations += in->int_viol;
	l->since_viol_n = 0;
	if ((double)in->win_p99_ns <= t) {
		/* Within the 1 % the target allows over the window (at 100 req/s, one late
		 * request a second): no evidence that the allowance is wrong. */
		return false;
	}
	if (l->native_below ? in->int_viol * l->p.relax_samples <= since
	                    : !burst && in->int_viol == 1 && since >= l->p.relax_samples) {
		/* One late sample after relax_samples on time: the 1 % a P99 allows, which a
		 * window of fewer samples (a slow service: 20 a second) cannot show. Under a
		 * knob, k late ones after k * relax_samples on time, however late: there the
		 * allowance moves the service's latency gently, and a few late samples at once
		 * after a long spell on time are a hiccup outside the GPU (the H200: 6-12 ms
		 * once or twice a run of 600 requests, at any allowance). */
		l->tolerated++;
		return false;
	}
	l->last_viol_ns = in->now_ns;
	if (x <= 0) {
		/* Already at the floor: nothing left to take; the judgement below decides
		 * whether the target is unreachable. */
		if (l->state != LAW_UNREACHABLE) {
			l->state = LAW_SUSPENDED;
			l->why = "violations at the floor";
		}
		return false;
	}
	/* x failed: a probe that failed, or an allowance held for min_samples. Not one that a
	 * decrease set less than min_samples ago: that decrease had no time to act, and
	 * violations that outlast decreases come from a disturbance (the H200 under MPS: four
	 * decreases in 0.8 s, 22 ms to 0.15 ms of allowance, then a ceiling of 0.29 ms that
	 * blocked every probe for the rest of the run). The ceiling stays where it began. */
	if (l->ceil_ns < 0 || (x < l->ceil_ns && (l->probing || in->since_n >= l->p.min_samples)))
		l->ceil_ns = x;
	l->fail_win_n = in->win_n;
	if (l->probing)
		probe_failed(l, in->now_ns);
	if (burst && !l->native_below) {
		nx = 0;
		l->why = "violation burst: straight to the floor";
	} else if (burst && x <= t) {
		/* Under a knob the floor buys the service nothing over an allowance below the
		 * knee (law.h step 1): step down, and go on stepping while the bursts go on. */
		nx = l->p.knob_beta * x;
		l->good_ns = -1;
		l->why = "violation burst under a native knob: multiplicative decrease";
	} else if (l->good_ns >= 0 && l->good_ns < x) {
		nx = l->good_ns;
		l->why = "violation: back to the last good allowance";
	} else {
		double beta = l->native_below ? l->p.knob_beta : l->p.beta;
		/* Nothing verified below x, which is many targets' worth of work (an open
		 * start): stepping down from there takes a violation per step. In a FIFO
		 * queue work in flight adds to an arriving burst's wait, so start from a
		 * share of the target; under a knob it runs beside the burst and
		 * costs it little up to about the burst's own length, so from the target. */
		double cap = l->native_below ? t : l->p.beta * t;
		/* x above a_top by less than opens a busy window is a_top in effect (law.h). */
		double from =
		        l->native_below && x > in->a_top_ns && x < in->a_top_ns + l->busy_min_ns
		                ? in->a_top_ns
		                : x;

		nx = beta * from;
		l->good_ns = -1; /* x was verified good and failed: the load changed */
		l->why = "violation: multiplicative decrease";
		if (nx > cap) {
			nx = cap;
			l->why = l->native_below ? "violation: down to the target's worth of work"
			                         : "violation: down to half the target's worth of "
			                           "work";
		}
	}
	/* Work admitted during bursts costs the service the most: it goes first; under a
	 * native knob, alone, whatever the violation (law.h, step 1). */
	if (x > in->a_top_ns &&
	    (nx > in->a_top_ns || (l->native_below && x >= in->a_top_ns + l->busy_min_ns))) {
		if (nx < in->a_top_ns)
			l->why = "violation: the busy range goes first (a native knob ranks "
			         "the lower processes below)";
		nx = in->a_top_ns;
	}
	if (nx < step_min(l) / 2)
		nx = 0;
	set_x(l, nx, in->now_ns);
	l->decreases++;
	l->state = nx > 0 ? LAW_TIGHTENING : LAW_SUSPENDED;
	return true;
}

/* How far a relaxation from x may go below the ceiling (law.h step 4): halfway to it,
 * never closer than ceil_margin; nothing within probe_min of it. */
static double ceiling_cap(const struct law *l, double x)
{
	double c = l->ceil_ns, mid, margin;

	if (c < 0)
		return -1;
	if (c - x < probe_min(l))
		return x;
	mid = x + (c - x) / 2;
	margin = (1.0 - l->p.ceil_margin) * c;
	return mid < margin ? mid : margin;
}

/* Holding below the ceiling or the probing gates: why, and the state for where x is. */
static bool hold_for(struct law *l, const char *why)
{
	l->state = l->x_ns > 0 ? LAW_HOLDING : LAW_SUSPENDED;
	l->why = why;
	return false;
}

/* Whether the band is narrow: its lower edge at or below what the service shows at best, so
 * that "in the band" holds at any allowance. */
static bool band_narrow(const struct law *l)
{
	return l->best_p99_ns && (double)l->best_p99_ns >= l->p.band_lo * (double)l->p.target_ns;
}

/* Whether a narrow band relaxes from P99 `p` (law.h step 3): below its lower edge, and
 * relax_samples samples without a violation. */
static bool narrow_relaxes(const struct law *l, double p)
{
	double t = (double)l->p.target_ns, best = (double)l->best_p99_ns;

	return band_narrow(l) && p < best + l->p.narrow_frac * (t - best) &&
	       l->since_viol_n >= l->p.relax_samples;
}

/* Step 4 of law.h: P99 `p` is below the band. Returns true when x changed. */
static bool relax(struct law *l, const struct law_input *in, double p)
{
	double t = (double)l->p.target_ns, lo = l->p.band_lo * t, x = l->x_ns;
	double top = in->a_top_ns + in->b_top_ns, nx, step, cap;
	/* The narrow band doubles within the idle range only: work admitted during bursts
	 * delays them again, and on the H200 doubling from a full idle range into it was
	 * followed by late bursts within 5 s, twice. */
	bool narrow = band_narrow(l) && x < in->a_top_ns;

	verified(l);
	if (x >= top) {
		l->state = LAW_HOLDING;
		l->why = "open: every lower process at its window maximum";
		return false;
	}
	if (narrow && l->native_below && x >= t)
		return hold_for(l,
		                "narrow band under a native knob: at the target's worth of work");
	step = l->p.gain * (lo - p);
	if (step < step_min(l))
		step = step_min(l);
	if (x > 0 && (step > x || narrow))
		step = x; /* at most double: the plant's gain is not known */
	nx = x + step;
	if (narrow && nx > in->a_top_ns)
		nx = in->a_top_ns;
	/* Under a knob the knee is about a burst's length, ~T's worth with T near solo: on
	 * the H200 doubling from T (4.5 -> 9 ms) and bisecting up to 6.3 ms were each
	 * followed by late bursts. */
	if (narrow && l->native_below && nx > t)
		nx = t;
	if (in->ff_ok && l->floor_p99_ns && (double)l->floor_p99_ns < t) {
		double ff = l->p.ff_frac * (t - (double)l->floor_p99_ns);

		if (nx < ff)
			nx = ff;
	}
	cap = ceiling_cap(l, x);
	if (cap >= 0 && nx > cap)
		nx = cap;
	if (nx > top)
		nx = top;
	if (nx <= x)
		return hold_for(l, x > 0 ? "just below the allowance that failed last"
		                         : "floor is the best: every probe above it failed");
	if (in->now_ns < l->probe_at_ns)
		return hold_for(l, "probe failed: backing off before the next");
	if (l->tokens < 1)
		return hold_for(l, "probing budget spent: waiting for samples");
	set_x(l, nx, in->now_ns);
	l->probing = true;
	l->charging = true;
	l->increases++;
	l->state = LAW_RELAXING;
	l->why = "P99 below the band: relaxing";
	return true;
}

/* A P99 judged over enough samples: the service's best so far (law.h: the narrow band). */
static void note_best(struct law *l, double p)
{
	if (p > 0 && (!l->best_p99_ns || p < (double)l->best_p99_ns))
		l->best_p99_ns = (uint64_t)p;
}

/* The floor's judgement on fresh samples with P99 `p` (steps 3-4 and the windup guard). */
static bool judge_floor(struct law *l, const struct law_input *in, double p)
{
	double t = (double)l->p.target_ns;

	l->floor_p99_ns = (uint64_t)p;
	note_best(l, p);
	if (p > t) {
		l->state = LAW_UNREACHABLE;
		l->why = "P99 at the floor above the target";
		return true;
	}
	if (p >= l->p.band_lo * t && !narrow_relaxes(l, p)) {
		l->state = LAW_SUSPENDED;
		l->why = "P99 at the floor within the band";
		return true;
	}
	relax(l, in, p);
	return true;
}

bool law_tick(struct law *l, const struct law_input *in)
{
	double t = (double)l->p.target_ns, top = in->a_top_ns + in->b_top_ns;
	bool retarget = l->retarget;

	l->retarget = false;
	if (l->x_ns > top)
		l->x_ns = top; /* lower processes left: the ladder got shorter */
	if (l->pin_ns >= 0) {
		double x = l->pin_ns < top ? l->pin_ns : top;

		l->violations += in->int_viol;
		if (in->int_viol)
			l->last_viol_ns = in->now_ns;
		l->state = LAW_HOLDING;
		l->why = "allowance pinned by the operator";
		if (x == l->x_ns)
			return false;
		l->x_ns = x;
		l->last_change_ns = in->now_ns;
		return true;
	}
	maybe_forget(l, in);
	account(l, in);
	l->since_viol_n += in->int_n - in->int_viol;

	if (in->int_viol && on_violation(l, in))
		return true;

	if (l->x_ns <= 0) {
		if (in->since_n >= l->p.min_samples) {
			/* Fresh samples: judge on every floor sample of the floor window (a
			 * P99 over up to floor-window samples, not the maximum of a few),
			 * unless the fresh ones alone are better: the window then remembers
			 * what no longer holds (the service's warm-up, a load gone), and the
			 * fresh P99, near their maximum, errs high if anything. */
			double p = (double)in->since_p99_ns;

			if (in->floor_n >= in->since_n && in->floor_p99_ns < in->since_p99_ns)
				p = (double)in->floor_p99_ns;

			return judge_floor(l, in, p);
		}
		if (retarget && l->floor_p99_ns)
			return judge_floor(l, in, (double)l->floor_p99_ns);
		if (!in->win_n && !in->int_n) {
			l->state = LAW_IDLE;
			l->why = "no samples in the window";
		}
		return false;
	}
	if (!in->win_n && !in->int_n) {
		l->state = LAW_IDLE;
		l->why = "no samples in the window";
		return false;
	}
	if (in->since_n < l->p.min_samples) {
		if (l->state == LAW_IDLE) {
			l->state = LAW_HOLDING;
			l->why = "gathering evidence";
		}
		return false;
	}
	if (in->since_n >= l->p.relax_samples)
		note_best(l, (double)in->since_p99_ns);
	if ((double)in->win_p99_ns <= t && l->x_ns < in->a_top_ns &&
	    in->since_n >= l->p.relax_samples && narrow_relaxes(l, (double)in->since_p99_ns))
		return relax(l, in, (double)in->since_p99_ns);
	if ((double)in->since_p99_ns >= l->p.band_lo * t || (double)in->win_p99_ns > t) {
		/* In the band, or the window still remembers violations (a decrease less than
		 * a window ago): hold. */
		verified(l);
		l->state = LAW_HOLDING;
		l->why = "P99 within the band";
		return false;
	}
	if (in->since_n < l->p.relax_samples) {
		/* A 99th percentile needs about 100 samples to be seen at all: relaxing on
		 * fewer would step into the tail blind. */
		l->why = "below the band: gathering evidence to relax";
		return false;
	}
	return relax(l, in, (double)in->since_p99_ns);
}
