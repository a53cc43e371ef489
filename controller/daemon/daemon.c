// SPDX-License-Identifier: MIT
/* The control loop (daemon.h): read, decide, write, beat; restore on the way out. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "daemon_int.h"
#include "ebpf.h"
#include "parse.h"
#include "resident.h"
#ifdef XSCHED_HAVE_METRICS
#include "metrics.h"
#endif

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void drain_rings(struct daemon *d)
{
	struct xsched_lat buf[64];

	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct dproc *p = &d->procs[i];
		struct xsched_proc *sp;
		size_t n;

		if (!p->live || !(sp = xsched_proc_at(d->shm, p->slot)))
			continue;
		/* Every ring is drained, a service's or not: a full ring drops new samples. */
		while ((n = xsched_ring_read(&sp->ring, buf, 64, true)) > 0) {
			for (size_t k = 0; k < n; k++) {
				uint32_t g = buf[k].gpu;
				struct entlat *l;
				struct svc *s;

				if (g >= XSCHED_MAX_GPUS)
					continue;
				/* Shown as it was, cold or not: it is what the app saw. */
				if ((l = dgpu_lat(d, &p->g[g])))
					entlat_add(l, buf[k].end_ns, buf[k].latency_ns);
				if (p->g[g].svc < 0)
					continue;
				s = &d->svcs[p->g[g].svc].s;
				if (buf[k].commands & XSCHED_LAT_COLD)
					svc_cold(s);
				else
					svc_sample(s, buf[k].end_ns, buf[k].latency_ns,
					           buf[k].commands);
			}
			if (n < 64)
				break;
		}
	}
}

static uint32_t wmax_of(const struct daemon *d, const struct xsched_proc *sp)
{
	uint32_t w = d->o.cfg.window_max;

	/* The process's own static window (XSCHED_WINDOW) is a ceiling too. */
	if (sp->default_window < w)
		w = sp->default_window;
	return w;
}

/* Counters -> activity and duration estimates; the plan's entries. */
static void build_entries(struct daemon *d)
{
	d->npent = 0;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct dproc *p = &d->procs[i];
		struct xsched_proc *sp;

		if (!p->live || !(sp = xsched_proc_at(d->shm, p->slot)))
			continue;
		for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
			struct xsched_proc_gpu *pg = &sp->gpu[g];
			struct dgpu *dg = &p->g[g];
			uint64_t launches, inflight;
			struct plan_entry *e;
			bool busy;

			dg->entry = -1;
			if (!atomic_load(&pg->used))
				continue;
			launches = atomic_load(&pg->launches);
			inflight = atomic_load(&pg->inflight);
			cmdest_update(&dg->est, d->now, atomic_load(&pg->completions), inflight);
			busy = launches != dg->last_launches || inflight;
			if (busy)
				dg->active_until_ns = d->now + D_ACTIVE_HOLD_NS;
			dg->last_launches = launches;
			if (d->npent >= CTL_PUB_ENTRIES)
				continue;
			dg->entry = (int)d->npent;
			d->pmap[d->npent].proc = i;
			d->pmap[d->npent].gpu = g;
			e = &d->pent[d->npent++];
			*e = (struct plan_entry){
				.gpu = g,
				.prio = p->dec.prio,
				.active = d->now<dg->active_until_ns, .fixed = p->dec.has_window,
				                 .fixed_window = p->dec.window,
				                 .cmd_ns = dg->est.est_ns, .wmax = wmax_of(d, sp),
				                 .native_below = p->dec.prio>
				                  XSCHED_PRIO_NORMAL &&
				          (atomic_load(&sp->actuators) & XSCHED_ACT_MPS_PRIO),
				.key = p->slot,
				.sliced = atomic_load(&sp->actuators) & XSCHED_ACT_TIME_SLICED,
				.busy_now = busy,
				.member = dg->turn_member,
			};
		}
	}
}

static void run_laws(struct daemon *d)
{
	d->npsvc = 0;
	for (int i = 0; i < D_MAX_SVCS; i++) {
		struct dsvc *s = &d->svcs[i];

		s->plan = -1;
		/* A service whose processes all left keeps its law's state for a while (it may
		 * come back) but bounds nobody meanwhile. */
		if (!s->used || !s->members)
			continue;
		s->plan = (int)d->npsvc;
		d->psvc[d->npsvc++] = (struct plan_svc){
			.gpu = s->s.gpu,
			.prio = s->s.prio,
			.burst_cmds = s->s.burst_cmds,
		};
	}
	turns_tick(d->turns, XSCHED_MAX_GPUS, d->psvc, d->npsvc, d->pent, d->npent, d->now,
	           d->o.cfg.turn_ns);
	for (size_t k = 0; k < d->npent; k++)
		d->procs[d->pmap[k].proc].g[d->pmap[k].gpu].turn_member = d->pent[k].member;
	plan_tops(d->psvc, d->npsvc, d->pent, d->npent, &d->ap, d->scratch);
	for (int i = 0; i < D_MAX_SVCS; i++) {
		struct dsvc *s = &d->svcs[i];
		struct plan_svc *ps;
		enum law_state before;
		double x0;

		if (!s->used || s->plan < 0)
			continue;
		ps = &d->psvc[s->plan];
		before = s->s.law.state;
		x0 = s->s.law.x_ns;
		s->s.law.native_below = ps->native_below;
		s->s.law.busy_min_ns = ps->busy_min_ns;
		if ((d->o.cfg.pin_ns < 0) != (s->s.law.pin_ns < 0) ||
		    (d->o.cfg.pin_ns >= 0 && (double)d->o.cfg.pin_ns != s->s.law.pin_ns)) {
			law_pin(&s->s.law, d->o.cfg.pin_ns < 0 ? -1 : (double)d->o.cfg.pin_ns,
			        d->now);
			svc_restart(&s->s, d->now);
		}
		if (ps->native_below && law_start_open(&s->s.law, ps->a_top_ns, d->now)) {
			svc_restart(&s->s, d->now);
			if (d->o.verbose)
				fprintf(stderr, "xsched-ctl: %s gpu%d: %s\n", s->s.name, s->s.gpu,
				        s->s.law.why);
		}
		svc_tick(&s->s, d->now, ps->a_top_ns, ps->b_top_ns, ps->ff_ok);
		ps->x_ns = s->s.law.x_ns;
		if (d->o.verbose && (before != s->s.law.state || x0 != s->s.law.x_ns)) {
			char p99[32], x[32];

			format_duration(s->s.last_p99_ns, p99, sizeof(p99));
			format_duration((uint64_t)s->s.law.x_ns, x, sizeof(x));
			fprintf(stderr, "xsched-ctl: %s gpu%d: %s (%s), P99 %s, allowance %s\n",
			        s->s.name, s->s.gpu, law_state_name(s->s.law.state), s->s.law.why,
			        p99, x);
		}
	}
	plan_grants(d->psvc, d->npsvc, d->pent, d->npent, &d->ap);
}

/* Grant slot i names the process census found in slot i, or nobody: a grant never outlives
 * the process it was written for. */
static void write_identities(struct daemon *d)
{
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		const struct dproc *p = &d->procs[i];

		if (p->live)
			xsched_grant_assign(d->grants, i, p->pid, p->start_time);
		else if (atomic_load(&d->grants->slots[i].pid) != 0)
			xsched_grant_clear(d->grants, d->shm, i);
	}
}

/* Whether going from (grant a, budget ba) to (b, bb) may let a held launch through: a
 * window or budget grew, or the grant was lifted. Narrowing wakes nobody. */
static bool opens(uint64_t a, uint32_t ba, uint64_t b, uint32_t bb)
{
	if (!xsched_grant_set(b))
		return xsched_grant_set(a);
	if (!xsched_grant_set(a))
		return false; /* from the default (unbounded) to a bound */
	if (xsched_grant_busy(b) > xsched_grant_busy(a) ||
	    xsched_grant_idle(b) > xsched_grant_idle(a))
		return true;
	return ba && (!bb || bb > ba);
}

static void write_grants(struct daemon *d)
{
	bool kick[XSCHED_MAX_GPUS] = { false };

	write_identities(d);
	for (size_t k = 0; k < d->npent; k++) {
		struct dproc *p = &d->procs[d->pmap[k].proc];
		int g = d->pmap[k].gpu;
		struct dgpu *dg = &p->g[g];
		struct xsched_proc *sp = xsched_proc_at(d->shm, p->slot);
		const struct plan_entry *e = &d->pent[k];
		uint64_t grant = XSCHED_GRANT_NONE;
		uint32_t budget = 0;

		if (!sp)
			continue;
		if (e->controlled || e->fixed) {
			grant = xsched_grant_pack(e->out.w_busy, e->out.w_idle);
			/* The protocol has one budget: the idle window's, which bounds what an
			 * arriving burst waits for. */
			budget = e->out.budget_idle_us;
		}
		if (!dg->written || dg->budget_written != budget)
			xsched_grant_budget(d->grants, p->slot, g, budget);
		if (!dg->written || dg->grant_written != grant)
			xsched_grant_windows(d->grants, NULL, p->slot, g, grant);
		if (!dg->written || opens(dg->grant_written, dg->budget_written, grant, budget))
			kick[g] = true;
		dg->written = true;
		dg->grant_written = grant;
		dg->budget_written = budget;
	}
	/* One wake-up per GPU and interval, and only where something opened: every process
	 * held on the GPU wakes to look, and with turns most of them are waiting (measured:
	 * a kick per grant written cost the controller a third of its CPU time in wake-ups). */
	for (int g = 0; g < XSCHED_MAX_GPUS; g++)
		if (kick[g] && xsched_gpu_at(d->shm, g))
			xsched_gpu_kick(&d->shm->gpus[g]);
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct dproc *p = &d->procs[i];
		struct xsched_proc *sp;

		if (!p->live || p->prio_written == p->dec.prio ||
		    !(sp = xsched_proc_at(d->shm, p->slot)))
			continue;
		xsched_grant_prio(d->grants, d->shm, p->slot, p->dec.prio);
		p->prio_written = p->dec.prio;
	}
}

/* Every process back to what it asked for itself: no grant, no granted priority. */
static void restore_defaults(struct daemon *d)
{
	xsched_controller_leave(d->grants, d->shm);
}

static int attach(struct daemon *d)
{
	int rc = xsched_shm_open(d->o.shm_name, true, &d->map);
	int32_t other;

	/* A segment left by another xsched version (tmpfs keeps it until reboot): the daemon
	 * creates the segment, so it replaces it. Processes still attached to the old one keep
	 * their mapping, which nobody controls: their shims fail open as its heartbeat ages. A
	 * file that is not an xsched segment at all is left alone. */
	if (rc == XSCHED_SHM_EVERSION || rc == XSCHED_SHM_ELAYOUT) {
		fprintf(stderr,
		        "xsched-ctl: shared memory '%s' is from another xsched version (%s); "
		        "replacing it: processes attached to the old one run uncontrolled until "
		        "they restart\n",
		        d->o.shm_name, xsched_shm_strerror(rc));
		if (xsched_shm_unlink(d->o.shm_name) == 0)
			rc = xsched_shm_open(d->o.shm_name, true, &d->map);
	}
	if (rc != XSCHED_SHM_OK) {
		fprintf(stderr, "xsched-ctl: cannot attach to shared memory '%s': %s\n",
		        d->o.shm_name, xsched_shm_strerror(rc));
		return -1;
	}
	d->shm = d->map.shm;
	if (xsched_grant_open_ro(d->o.shm_name, &d->gmap) == XSCHED_SHM_OK) {
		other = xsched_controller_pid(d->gmap.g);
		if (other > 0 && other != getpid() &&
		    xsched_controller_fresh(d->gmap.g, xsched_now_ns()) &&
		    (kill(other, 0) == 0 || errno == EPERM)) {
			fprintf(stderr,
			        "xsched-ctl: another controller (pid %d) is running on '%s'; stop "
			        "it first\n",
			        (int)other, d->o.shm_name);
			xsched_grant_close(&d->gmap);
			xsched_shm_close(&d->map);
			return -1;
		}
		xsched_grant_close(&d->gmap);
	}
	rc = xsched_grant_create(d->o.shm_name, d->o.admin_group_set ? 0640 : 0644, d->o.admin_gid,
	                         d->o.admin_group_set, &d->gmap);
	if (rc != XSCHED_SHM_OK) {
		fprintf(stderr,
		        "xsched-ctl: cannot create the grant segment /dev/shm/%s%s: %s%s%s\n",
		        d->o.shm_name, XSCHED_GRANT_SUFFIX, xsched_shm_strerror(rc),
		        rc == XSCHED_SHM_EOPEN ? ": " : "",
		        rc == XSCHED_SHM_EOPEN ? strerror(errno) : "");
		xsched_shm_close(&d->map);
		return -1;
	}
	d->grants = d->gmap.g;
	d->pub = ctl_pub_create(d->o.shm_name);
	if (!d->pub)
		fprintf(stderr,
		        "xsched-ctl: no status segment (%s): 'xsched-ctl status' will not reach "
		        "this controller\n",
		        strerror(errno));
	d->box = ctl_box_create(d->o.shm_name, d->o.admin_group_set, d->o.admin_gid);
	if (!d->box)
		fprintf(stderr,
		        "xsched-ctl: no mailbox (%s): 'xsched-ctl set' will not reach this "
		        "controller\n",
		        strerror(errno));
	return 0;
}

static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000ull),
		               .tv_nsec = (long)(t_ns % 1000000000ull) };

	/* EINTR (a signal) ends the wait early: the loop checks stop_signal. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void tick(struct daemon *d)
{
	d->now = xsched_now_ns();
	if (d->ticks % 50 == 0)
		xsched_proc_reclaim_dead(d->shm);
	census(d);
	apply_requests(d);
	assign_services(d);
	ebpf_poll(d);
	drain_rings(d);
	build_entries(d);
	run_laws(d);
	write_grants(d);
	busy_audit_run(&d->audit, d);
	xsched_controller_beat(d->grants, d->shm, getpid());
	d->ticks++;
	publish(d);
}

static void banner(const struct daemon *d)
{
	char t[32] = "none", iv[32], tu[32] = "off";

	if (d->o.cfg.pol.default_target_ns)
		format_duration(d->o.cfg.pol.default_target_ns, t, sizeof(t));
	format_duration(d->o.cfg.interval_ns, iv, sizeof(iv));
	if (d->o.cfg.turn_ns)
		format_duration(d->o.cfg.turn_ns, tu, sizeof(tu));
	fprintf(stderr,
	        "xsched-ctl: controlling '%s' (pid %d): P99 target %s, %zu rule(s), "
	        "interval %s, window max %u, turns %s\n",
	        d->o.shm_name, (int)getpid(), t, d->o.cfg.pol.nrules, iv, d->o.cfg.window_max, tu);
}

#ifdef XSCHED_HAVE_METRICS
static struct metrics *metrics_begin(const struct daemon *d, bool *failed)
{
	struct metrics_addr a;
	struct metrics *m;
	char err[256];

	*failed = false;
	if (!d->o.metrics_addr)
		return NULL;
	m = metrics_start(d->o.metrics_addr, d->o.shm_name, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "xsched-ctl: metrics: %s\n", err);
		*failed = true;
		return NULL;
	}
	if (!metrics_parse_addr(d->o.metrics_addr, &a) && !a.loopback)
		fprintf(stderr,
		        "xsched-ctl: metrics on %s: reachable beyond this machine, as asked\n",
		        d->o.metrics_addr);
	fprintf(stderr, "xsched-ctl: Prometheus metrics at http://%s%s/metrics\n",
	        d->o.metrics_addr[0] == ':' ? "127.0.0.1" : "", d->o.metrics_addr);
	return m;
}
#endif

int ctl_daemon_run(const struct ctl_opts *o)
{
	/* Resident from the start: the state is fixed arrays, and pages first touched as slots
	 * are taken further in would look like a leak (resident.h). */
	struct daemon *d = resident_calloc(1, sizeof(*d));
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t next;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "xsched-ctl: out of memory\n");
		return 1;
	}
	d->o = *o;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		d->procs[i].slot = -1;
		for (int g = 0; g < XSCHED_MAX_GPUS; g++)
			d->procs[i].g[g].lat = -1;
	}
	d->ap = (struct allot_params){ .cmd_default_ns = D_CMD_DEFAULT_NS, .idle_floor = 1 };
	turns_init(d->turns, XSCHED_MAX_GPUS);
	if (attach(d)) {
		free(d);
		return 1;
	}
	/* Loads the eBPF programs (if any), then drops every capability the rest of the run
	 * does not need (caps.h), before any other thread starts. */
	ebpf_start(d);
#ifdef XSCHED_HAVE_METRICS
	bool metrics_failed;
	struct metrics *metrics = metrics_begin(d, &metrics_failed);

	if (metrics_failed) {
		ebpf_stop(d);
		if (d->pub) {
			ctl_pub_remove(d->pub, d->o.shm_name);
			ctl_pub_unmap(d->pub);
		}
		if (d->box) {
			ctl_box_remove(d->o.shm_name);
			ctl_box_unmap(d->box);
		}
		xsched_grant_close(&d->gmap);
		xsched_shm_close(&d->map);
		free(d);
		return 1;
	}
#endif
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->started = d->now = xsched_now_ns();
	banner(d);
	next = d->now;
	while (!stop_signal) {
		tick(d);
		next += d->o.cfg.interval_ns;
		if (next < d->now)
			next = d->now; /* fell behind (a stall): do not try to catch up */
		/* Long intervals still beat often enough for the shims to see a live
		 * controller. */
		while (!stop_signal) {
			uint64_t now = xsched_now_ns(), wake = next;

			if (now >= next)
				break;
			if (wake - now > D_BEAT_MAX_NS)
				wake = now + D_BEAT_MAX_NS;
			sleep_until(wake);
			if (wake < next)
				xsched_controller_beat(d->grants, d->shm, getpid());
		}
	}
	restore_defaults(d);
#ifdef XSCHED_HAVE_METRICS
	metrics_stop(metrics);
#endif
	if (d->pub) {
		ctl_pub_remove(d->pub, d->o.shm_name);
		ctl_pub_unmap(d->pub);
	}
	if (d->box) {
		ctl_box_remove(d->o.shm_name);
		ctl_box_unmap(d->box);
	}
	fprintf(stderr, "xsched-ctl: %s: every process back at its default window\n",
	        strsignal(stop_signal));
	/* Last: detaching the probes can take the kernel seconds. */
	ebpf_stop(d);
	for (int i = 0; i < D_MAX_SVCS; i++)
		if (d->svcs[i].used)
			svc_free(&d->svcs[i].s);
	/* The grant segment stays (idle, no controller): shims keep their mapping and a
	 * restarted controller takes it over in place. */
	xsched_grant_close(&d->gmap);
	xsched_shm_close(&d->map);
	free(d);
	return rc;
}
