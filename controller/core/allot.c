// SPDX-License-Identifier: MIT
/* Allowance to per-process windows and time budgets (allot.h). */
#include "allot.h"

#include <math.h>

static double cmd_ns(const struct allot_proc *p, const struct allot_params *ap)
{
	return p->cmd_ns > 0 ? p->cmd_ns : ap->cmd_default_ns;
}

static double burst_k(const struct allot_params *ap)
{
	return ap->burst_cmds > 1 ? ap->burst_cmds : 1;
}

void allot_tops(const struct allot_proc *procs, size_t n, const struct allot_params *ap,
                double *a_top_ns, double *b_top_ns)
{
	double m = 0;

	for (size_t i = 0; i < n; i++) {
		double t = (double)procs[i].wmax * cmd_ns(&procs[i], ap);

		if (t > m)
			m = t;
	}
	*a_top_ns = m * (double)n;
	*b_top_ns = m * (double)n * burst_k(ap);
}

double allot_busy_min(const struct allot_proc *procs, size_t n, const struct allot_params *ap)
{
	double m = 0;

	for (size_t i = 0; i < n; i++) {
		double b = (double)n * cmd_ns(&procs[i], ap) * burst_k(ap);

		if (i == 0 || b < m)
			m = b;
	}
	return m;
}

static uint32_t window(double share_ns, double per_cmd_ns, uint32_t lo, uint32_t hi)
{
	double w = per_cmd_ns > 0 ? floor(share_ns / per_cmd_ns) : hi;

	if (w < lo)
		return lo;
	if (w > hi)
		return hi;
	return (uint32_t)w;
}

static uint32_t budget_us(double ns)
{
	double us = ceil(ns / 1000.0);

	if (us < 1)
		return 1; /* 1 us, not 0: 0 would mean "no time bound" */
	return us > 4e9 ? 4000000000u : (uint32_t)us;
}

void allot_one(double x_ns, double a_top_ns, double b_top_ns, size_t n,
               const struct allot_proc *proc, const struct allot_params *ap, struct allot_out *out)
{
	double d = cmd_ns(proc, ap), k = burst_k(ap), a, b;
	uint32_t lo = ap->idle_floor < proc->wmax ? ap->idle_floor : proc->wmax;

	if (!n)
		n = 1;
	a = (x_ns < a_top_ns ? x_ns : a_top_ns) / (double)n;
	b = (x_ns > a_top_ns ? x_ns - a_top_ns : 0) / (double)n;
	if (x_ns >= a_top_ns) {
		out->w_idle = proc->wmax;
		out->budget_idle_us = 0;
	} else {
		out->w_idle = window(a, d, lo, proc->wmax);
		out->budget_idle_us = budget_us(a);
	}
	if (x_ns >= a_top_ns + b_top_ns) {
		out->w_busy = proc->wmax;
		out->budget_busy_us = 0;
	} else {
		out->w_busy = window(b, d * k, 0, proc->wmax);
		out->budget_busy_us = out->w_busy ? budget_us(b / k) : 0;
	}
}

static uint32_t tighter_budget(uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

void allot_min(struct allot_out *acc, const struct allot_out *o)
{
	if (o->w_idle < acc->w_idle)
		acc->w_idle = o->w_idle;
	if (o->w_busy < acc->w_busy)
		acc->w_busy = o->w_busy;
	acc->budget_idle_us = tighter_budget(acc->budget_idle_us, o->budget_idle_us);
	acc->budget_busy_us = tighter_budget(acc->budget_busy_us, o->budget_busy_us);
}
