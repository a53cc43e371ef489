// SPDX-License-Identifier: MIT
/* Services' allowances to per-entry windows (plan.h). */
#include "plan.h"

bool plan_under(const struct plan_svc *s, const struct plan_entry *e)
{
	return e->gpu == s->gpu && e->prio > s->prio && !e->fixed;
}

void plan_tops(struct plan_svc *svcs, size_t nsvcs, const struct plan_entry *e, size_t ne,
               const struct allot_params *ap, struct allot_proc *lp)
{
	struct allot_params sp = *ap;

	for (size_t i = 0; i < nsvcs; i++) {
		struct plan_svc *s = &svcs[i];
		size_t n = 0;

		s->ff_ok = true;
		s->native_below = true;
		for (size_t j = 0; j < ne; j++) {
			if (!plan_under(s, &e[j]) || !e[j].active || e[j].turn == PLAN_TURN_WAIT)
				continue;
			if (e[j].cmd_ns <= 0)
				s->ff_ok = false;
			if (!e[j].native_below)
				s->native_below = false;
			lp[n] = (struct allot_proc){ .cmd_ns = e[j].cmd_ns, .wmax = e[j].wmax };
			n++;
		}
		s->n_low = n;
		if (!n)
			s->native_below = false;
		sp.burst_cmds = s->burst_cmds;
		if (!n) {
			/* Nobody under it: an empty ladder, the law holds at its top. */
			s->a_top_ns = s->b_top_ns = s->busy_min_ns = 0;
			continue;
		}
		allot_tops(lp, n, &sp, &s->a_top_ns, &s->b_top_ns);
		s->busy_min_ns = allot_busy_min(lp, n, &sp);
	}
}

void plan_grants(const struct plan_svc *svcs, size_t nsvcs, struct plan_entry *e, size_t ne,
                 const struct allot_params *ap)
{
	struct allot_params sp = *ap;

	for (size_t j = 0; j < ne; j++) {
		struct plan_entry *en = &e[j];

		en->controlled = false;
		if (en->fixed) {
			en->out = (struct allot_out){ .w_idle = en->fixed_window,
				                      .w_busy = en->fixed_window };
			continue;
		}
		en->out = (struct allot_out){ .w_idle = en->wmax, .w_busy = en->wmax };
		for (size_t i = 0; i < nsvcs; i++) {
			const struct plan_svc *s = &svcs[i];
			struct allot_proc p = { .cmd_ns = en->cmd_ns, .wmax = en->wmax };
			struct allot_out o;
			size_t n = s->n_low + (en->active ? 0 : 1); /* an idle one joining */

			if (!plan_under(s, en))
				continue;
			if (en->turn == PLAN_TURN_WAIT) {
				/* Suspended until its turn, whatever the allowance. */
				en->out = (struct allot_out){ 0 };
				en->controlled = true;
				break;
			}
			sp.burst_cmds = s->burst_cmds;
			if (s->a_top_ns <= 0) {
				/* The ladder is empty because nobody under it is active: this
				 * entry gets the floor until it is counted. */
				allot_one(0, 1, 1, n, &p, &sp, &o);
			} else {
				allot_one(s->x_ns, s->a_top_ns, s->b_top_ns, n, &p, &sp, &o);
			}
			if (!en->controlled)
				en->out = o;
			else
				allot_min(&en->out, &o);
			en->controlled = true;
		}
	}
}
