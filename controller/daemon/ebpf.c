// SPDX-License-Identifier: MIT
/* Unshimmed services through the eBPF observer (ebpf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "ebpf.h"

#ifdef XSCHED_HAVE_OBSERVER
#include "xobs.h"

#define E_MAX_PROCS       64
#define E_RESCAN_EVERY_NS 1000000000ull
#define E_FORGET_AFTER_NS 10000000000ull

/* A process seen by eBPF only. */
struct eproc {
	bool used;
	pid_t pid;
	char comm[16];
	struct dproc view; /* identity and decision, as for a shimmed process */
	uint64_t last_seen_ns;
};

static struct {
	struct xobs *o;
	struct daemon *d;
	struct eproc procs[E_MAX_PROCS];
	uint64_t last_rescan_ns;
	bool warned_gpu, warned_full;
} eb;

static bool shimmed(const struct daemon *d, pid_t pid)
{
	for (int i = 0; i < XSCHED_MAX_PROCS; i++)
		if (d->procs[i].live && d->procs[i].pid == pid)
			return true;
	return false;
}

/* The GPU an unshimmed process runs on: the observer does not say which, so it is only
 * known when the machine has one GPU record. */
static int only_gpu(struct daemon *d)
{
	int found = -1;

	for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
		if (!xsched_gpu_at(d->shm, g))
			continue;
		if (found >= 0)
			return -1;
		found = g;
	}
	return found;
}

static struct eproc *eproc_get(struct daemon *d, pid_t pid)
{
	struct eproc *free_e = NULL;
	char path[64];
	FILE *f;

	for (int i = 0; i < E_MAX_PROCS; i++) {
		if (eb.procs[i].used && eb.procs[i].pid == pid)
			return &eb.procs[i];
		if (!eb.procs[i].used && !free_e)
			free_e = &eb.procs[i];
	}
	if (!free_e) {
		if (!eb.warned_full)
			fprintf(stderr,
			        "xsched-ctl: more than %d unshimmed GPU processes: pid %d "
			        "is not followed\n",
			        E_MAX_PROCS, (int)pid);
		eb.warned_full = true;
		return NULL;
	}
	memset(free_e, 0, sizeof(*free_e));
	free_e->used = true;
	free_e->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(free_e->comm, sizeof(free_e->comm), f))
			free_e->comm[strcspn(free_e->comm, "\n")] = '\0';
		fclose(f);
	}
	/* Identity and policy as for a shimmed process; it asks for no level itself. */
	free_e->view.pid = pid;
	free_e->view.slot = -1;
	free_e->view.ov_prio = -1;
	free_e->view.requested = -1;
	memcpy(free_e->view.comm, free_e->comm, sizeof(free_e->comm));
	census_identity(&free_e->view);
	decide(d, &free_e->view);
	return free_e;
}

static void on_burst(const struct xobs_burst *b, void *ctx)
{
	struct daemon *d = ctx;
	struct eproc *e;
	int g, s;

	if (shimmed(d, b->pid))
		return; /* the shim's own samples are exact and already counted */
	e = eproc_get(d, b->pid);
	if (!e)
		return;
	e->last_seen_ns = d->now;
	if (!e->view.dec.target_ns)
		return;
	g = only_gpu(d);
	if (g < 0) {
		if (!eb.warned_gpu)
			fprintf(stderr,
			        "xsched-ctl: %s (pid %d) runs without the shim on a machine "
			        "with several GPUs: its GPU is unknown, its target not held\n",
			        e->comm, (int)b->pid);
		eb.warned_gpu = true;
		return;
	}
	s = svc_find_or_add(d, e->view.dec.service, g, e->view.dec.prio, e->view.dec.target_ns);
	if (s < 0)
		return;
	svc_sample(&d->svcs[s].s, b->end_ns, b->end_ns > b->start_ns ? b->end_ns - b->start_ns : 0,
	           (uint32_t)b->launches);
}

void ebpf_start(struct daemon *d)
{
	struct xobs_opts xo = { .skip_shimmed = true, .on_burst = on_burst, .ctx = d };
	char err[512];
	int rc;

	eb.d = d;
	if (d->o.no_ebpf) {
		snprintf(d->note, sizeof(d->note), "eBPF off (--no-ebpf)");
		return;
	}
	rc = xobs_open(&eb.o, &xo, err, sizeof(err));
	if (rc) {
		eb.o = NULL;
		fprintf(stderr,
		        "xsched-ctl: eBPF observer unavailable (%s): using shim telemetry "
		        "only; GPU processes without the shim are not seen\n",
		        err);
		snprintf(d->note, sizeof(d->note), "eBPF unavailable: %.100s", err);
		return;
	}
	d->ebpf = true;
	eb.last_rescan_ns = d->now;
}

void ebpf_poll(struct daemon *d)
{
	if (!eb.o)
		return;
	xobs_poll(eb.o, 0);
	if (d->now - eb.last_rescan_ns >= E_RESCAN_EVERY_NS) {
		xobs_rescan(eb.o);
		eb.last_rescan_ns = d->now;
	}
	/* Keep the services of unshimmed members alive and forget the quiet ones. */
	for (int i = 0; i < E_MAX_PROCS; i++) {
		struct eproc *e = &eb.procs[i];

		if (!e->used)
			continue;
		if (d->now - e->last_seen_ns > E_FORGET_AFTER_NS || shimmed(d, e->pid)) {
			e->used = false;
			continue;
		}
		if (e->view.dec.target_ns) {
			int g = only_gpu(d), s;

			if (g >= 0 &&
			    (s = svc_find_or_add(d, e->view.dec.service, g, e->view.dec.prio,
			                         e->view.dec.target_ns)) >= 0) {
				d->svcs[s].members++;
				d->svcs[s].last_member_ns = d->now;
			}
		}
	}
}

void ebpf_stop(struct daemon *d)
{
	(void)d;
	if (eb.o)
		xobs_close(eb.o);
	eb.o = NULL;
}

#else /* built without the observer */

void ebpf_start(struct daemon *d)
{
	if (d->o.no_ebpf) {
		snprintf(d->note, sizeof(d->note), "eBPF off (--no-ebpf)");
		return;
	}
	fprintf(stderr, "xsched-ctl: built without the eBPF observer (XSCHED_BPF=OFF): using "
	                "shim telemetry only; GPU processes without the shim are not seen\n");
	snprintf(d->note, sizeof(d->note), "eBPF not built (XSCHED_BPF=OFF)");
}

void ebpf_poll(struct daemon *d)
{
	(void)d;
}

void ebpf_stop(struct daemon *d)
{
	(void)d;
}

#endif
