// SPDX-License-Identifier: MIT
/* The status half of the controller's segment (ctl_pub.h), once per interval. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"
#include "ebpf.h"

static void put_svc(struct ctl_pub_svc *o, const struct dsvc *s, const struct plan_svc *ps)
{
	const struct law *l = &s->s.law;

	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", s->s.name);
	o->gpu = s->s.gpu;
	o->prio = s->s.prio;
	o->state = l->state;
	o->members = s->members;
	o->n_low = ps ? (uint32_t)ps->n_low : 0;
	o->target_ns = l->p.target_ns;
	o->p99_ns = s->s.last_p99_ns;
	o->window_n = s->s.last_win_n;
	o->floor_p99_ns = l->floor_p99_ns;
	o->samples = s->s.samples;
	o->violations = l->violations;
	o->cold = s->s.cold;
	o->x_ns = l->x_ns;
	o->a_top_ns = ps ? ps->a_top_ns : 0;
	o->b_top_ns = ps ? ps->b_top_ns : 0;
	o->burst_cmds = s->s.burst_cmds;
	snprintf(o->why, sizeof(o->why), "%s", l->why ? l->why : "");
}

static void put_entry(struct ctl_pub_entry *o, struct daemon *d, size_t k)
{
	const struct dproc *p = &d->procs[d->pmap[k].proc];
	int g = d->pmap[k].gpu;
	const struct plan_entry *e = &d->pent[k];
	struct xsched_proc *sp = xsched_proc_at(d->shm, p->slot);
	const struct dgpu *dg = &p->g[g];

	memset(o, 0, sizeof(*o));
	o->pid = p->pid;
	o->gpu = g;
	memcpy(o->comm, p->comm, sizeof(o->comm));
	o->requested = p->requested;
	o->granted = p->dec.prio;
	o->svc = dg->svc >= 0 && d->svcs[dg->svc].used ? d->svcs[dg->svc].plan : -1;
	o->capped = p->dec.capped;
	o->fixed = e->fixed;
	o->controlled = e->controlled;
	o->active = e->active;
	o->turn = e->turn == PLAN_TURN_HOLD   ? CTL_TURN_HOLDS
	          : e->turn == PLAN_TURN_WAIT ? CTL_TURN_WAITS
	                                      : CTL_TURN_NONE;
	if (e->controlled || e->fixed) {
		o->w_busy = e->out.w_busy;
		o->w_idle = e->out.w_idle;
		o->budget_idle_us = e->out.budget_idle_us;
		o->budget_busy_us = e->out.budget_busy_us;
	} else {
		o->w_busy = o->w_idle = sp ? sp->default_window : XSCHED_WINDOW_UNLIMITED;
	}
	o->cmd_ns = dg->est.est_ns;
	if (sp) {
		o->window_applied = atomic_load(&sp->gpu[g].window);
		o->actuators = atomic_load(&sp->actuators);
		o->launches = atomic_load(&sp->gpu[g].launches);
		o->completions = atomic_load(&sp->gpu[g].completions);
		o->inflight = atomic_load(&sp->gpu[g].inflight);
		o->blocked_ns = atomic_load(&sp->gpu[g].blocked_ns);
		o->bursts = atomic_load(&sp->gpu[g].bursts);
	}
	if (dg->lat >= 0)
		entlat_put(&d->lat[dg->lat], d->now, o);
}

void publish(struct daemon *d)
{
	struct ctl_pub *pub = d->pub;
	uint32_t n = 0;

	if (!pub)
		return;
	ctl_pub_begin(pub);
	pub->pid = (int32_t)getpid();
	pub->stopped = 0;
	pub->started_ns = d->started;
	pub->beat_ns = d->now;
	pub->ticks = d->ticks;
	pub->interval_ns = d->o.cfg.interval_ns;
	pub->default_target_ns = d->o.cfg.pol.default_target_ns;
	pub->window_max = d->o.cfg.window_max;
	pub->ebpf = d->ebpf;
	snprintf(pub->note, sizeof(pub->note), "%s", d->note);
	snprintf(pub->metrics_addr, sizeof(pub->metrics_addr), "%s",
	         d->o.metrics_addr ? d->o.metrics_addr : "");
	/* Services in plan order, so that entries' `svc` indices point into svcs[]. */
	for (int i = 0; i < D_MAX_SVCS; i++) {
		const struct dsvc *s = &d->svcs[i];

		if (s->used && s->plan >= 0 && (size_t)s->plan < d->npsvc)
			put_svc(&pub->svcs[s->plan], s, &d->psvc[s->plan]);
	}
	pub->nsvcs = (uint32_t)d->npsvc;
	for (size_t k = 0; k < d->npent && n < CTL_PUB_ENTRIES; k++)
		put_entry(&pub->entries[n++], d, k);
	n += ebpf_publish(d, &pub->entries[n], CTL_PUB_ENTRIES - n);
	pub->nentries = n;
	ctl_pub_end(pub);
}
