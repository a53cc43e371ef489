/* SPDX-License-Identifier: MIT */
/*
 * From one service's allowance x (law.h) to the windows of the lower-priority processes
 * under it.
 *
 * The n lower processes active on the GPU share x evenly: in a FIFO queue their queued work
 * adds up ahead of an arriving burst. For process p with per-command GPU time d_p:
 *
 *	idle share  A_p = min(x, a_top) / n     W_idle = clamp(A_p / d_p, idle_floor, wmax)
 *	busy share  B_p = (x - a_top)+ / n      W_busy = clamp(B_p / (d_p * k), 0, wmax)
 *
 * and the same shares as time budgets (A_p, B_p / k in us) for a shim that bounds GPU time in
 * flight. k is the service's burst size in commands: a command admitted while a burst is in
 * flight can slip in after each of the burst's launches, so the damage of a busy window
 * grows with k. At the top of each range (x >= a_top, x >= a_top + b_top) the window is
 * wmax and the budget 0 (no time bound): the process is given everything policy allows.
 */
#ifndef XSCHED_ALLOT_H
#define XSCHED_ALLOT_H

#include <stddef.h>
#include <stdint.h>

struct allot_proc {
	double cmd_ns; /* per-command GPU time estimate; <= 0: unknown */
	uint32_t wmax; /* the largest window this process may be granted */
};

struct allot_params {
	double cmd_default_ns; /* assumed per-command time when unknown */
	uint32_t idle_floor;   /* smallest W_idle (1: never starve a process completely) */
	double burst_cmds;     /* k above (clamped to >= 1) */
};

struct allot_out {
	uint32_t w_idle, w_busy;
	uint32_t budget_idle_us, budget_busy_us; /* 0: no time bound */
};

/* The ends of the two ranges for these n processes. */
void allot_tops(const struct allot_proc *procs, size_t n, const struct allot_params *ap,
                double *a_top_ns, double *b_top_ns);
/* The least busy allowance (x - a_top) that opens a busy window for any of the n processes:
 * below it every W_busy is 0. */
double allot_busy_min(const struct allot_proc *procs, size_t n, const struct allot_params *ap);
/* The windows of one of the n processes for allowance x. */
void allot_one(double x_ns, double a_top_ns, double b_top_ns, size_t n,
               const struct allot_proc *proc, const struct allot_params *ap, struct allot_out *out);
/* acc = the tighter of acc and o, field by field (a process under several services). */
void allot_min(struct allot_out *acc, const struct allot_out *o);

#endif
