// SPDX-License-Identifier: MIT
/* Unshimmed services through the eBPF observer (ebpf.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "daemon_int.h"
#include "ebpf.h"

#ifdef XSCHED_HAVE_OBSERVER
#include <pthread.h>

#include "xobs.h"

#define E_MAX_PROCS       64
#define E_QUEUE           4096
#define E_RESCAN_EVERY_NS 1000000000ull
#define E_FORGET_AFTER_NS 10000000000ull

/* A process seen by eBPF only. */
struct eproc {
	bool used;
	pid_t pid;
	struct dproc view; /* identity and decision, as for a shimmed process */
	uint64_t last_seen_ns;
	/* For the status segment: what its bursts told. */
	uint64_t launches, bursts;
	int svc; /* its service's index in d->svcs, -1 none */
	struct entlat lat;
};

/* What the observer thread hands to the control loop: a burst, or (launches == UINT64_MAX)
 * a process found using a GPU runtime. */
struct ev {
	pid_t pid;
	uint64_t start_ns, end_ns, launches;
};

/*
 * The observer runs in a thread of its own: attaching probes to a new process can keep the
 * kernel busy for seconds, and the control loop (and its heartbeat) must not wait for
 * that. The thread owns the xobs handle; the loop only takes events from the queue.
 */
static struct {
	struct xobs *o;
	pthread_t thread;
	bool running;
	_Atomic bool stop;
	pthread_mutex_t lock;
	struct ev q[E_QUEUE];
	size_t qn;
	struct ev batch[E_QUEUE]; /* the control loop's copy of q, taken under the lock */
	uint64_t qdropped;
	struct eproc procs[E_MAX_PROCS];
	bool warned_gpu, warned_full;
} eb = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void push(const struct ev *e)
{
	pthread_mutex_lock(&eb.lock);
	if (eb.qn < E_QUEUE)
		eb.q[eb.qn++] = *e;
	else
		eb.qdropped++;
	pthread_mutex_unlock(&eb.lock);
}

static void on_burst(const struct xobs_burst *b, void *ctx)
{
	/* Commands, launches and memory commands both, as a shimmed process's counts are. */
	struct ev e = { .pid = b->pid,
		        .start_ns = b->start_ns,
		        .end_ns = b->end_ns,
		        .launches = b->launches + b->copies };

	(void)ctx;
	push(&e);
}

static void discover(void)
{
	struct xobs_snapshot snap;

	if (xobs_snapshot(eb.o, &snap))
		return;
	for (size_t i = 0; i < snap.nprocs; i++) {
		struct ev e = { .pid = snap.procs[i].pid, .launches = UINT64_MAX };

		if (!snap.procs[i].exited && !snap.procs[i].shimmed)
			push(&e);
	}
	xobs_snapshot_free(&snap);
}

static void *observer_thread(void *arg)
{
	uint64_t last = 0;

	(void)arg;
	while (!atomic_load(&eb.stop)) {
		uint64_t now;

		xobs_poll(eb.o, 100);
		now = xsched_now_ns();
		if (now - last >= E_RESCAN_EVERY_NS) {
			xobs_rescan(eb.o);
			discover();
			last = now;
		}
	}
	xobs_close(eb.o);
	eb.o = NULL;
	return NULL;
}

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
	free_e->svc = -1;
	free_e->used = true;
	free_e->pid = pid;
	/* Identity and policy as for a shimmed process; it asks for no level itself. */
	free_e->view.pid = pid;
	free_e->view.slot = -1;
	free_e->view.ov_prio = -1;
	free_e->view.requested = -1;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(free_e->view.comm, sizeof(free_e->view.comm), f))
			free_e->view.comm[strcspn(free_e->view.comm, "\n")] = '\0';
		fclose(f);
	}
	census_identity(&free_e->view);
	decide(d, &free_e->view);
	return free_e;
}

/* The service of an unshimmed process, -1 when it has none (or its GPU is unknown). */
static int eproc_svc(struct daemon *d, struct eproc *e)
{
	int g;

	if (!e->view.dec.target_ns)
		return -1;
	g = only_gpu(d);
	if (g < 0) {
		if (!eb.warned_gpu && xsched_gpu_at(d->shm, 1))
			fprintf(stderr,
			        "xsched-ctl: %s (pid %d) runs without the shim on a machine "
			        "with several GPUs: its GPU is unknown, its target not held\n",
			        e->view.comm, (int)e->pid);
		eb.warned_gpu = eb.warned_gpu || xsched_gpu_at(d->shm, 1);
		return -1;
	}
	return svc_find_or_add(d, e->view.dec.service, g, e->view.dec.prio, e->view.dec.target_ns);
}

void ebpf_start(struct daemon *d)
{
	struct xobs_opts xo = { .skip_shimmed = true, .on_burst = on_burst };
	char err[512];
	int rc;

	if (d->o.no_ebpf) {
		snprintf(d->note, sizeof(d->note), "eBPF off (--no-ebpf)");
		caps_drop(false);
		return;
	}
	rc = xobs_open(&eb.o, &xo, err, sizeof(err));
	/* Loaded and attached, or not at all: drop what is not needed from here on, before
	 * any thread exists (capabilities are per thread; new ones inherit the creator's). */
	caps_drop(rc == 0);
	if (rc) {
		eb.o = NULL;
		fprintf(stderr,
		        "xsched-ctl: eBPF observer unavailable (%s): using shim telemetry "
		        "only; GPU processes without the shim are not seen\n",
		        err);
		snprintf(d->note, sizeof(d->note), "eBPF unavailable: %.100s", err);
		return;
	}
	/* Every page of the queues and the process table resident now, before the thread
	 * runs: filled deeper only at peaks, they would make the controller's memory creep
	 * up for as long as it runs although nothing leaks (as the daemon's state, resident.h). */
	memset(eb.q, 0, sizeof(eb.q));
	memset(eb.batch, 0, sizeof(eb.batch));
	memset(eb.procs, 0, sizeof(eb.procs));
	if (pthread_create(&eb.thread, NULL, observer_thread, NULL)) {
		xobs_close(eb.o);
		eb.o = NULL;
		caps_drop(false);
		fprintf(stderr, "xsched-ctl: cannot start the eBPF observer's thread: using shim "
		                "telemetry only\n");
		snprintf(d->note, sizeof(d->note), "eBPF observer thread failed");
		return;
	}
	eb.running = true;
	d->ebpf = true;
}

void ebpf_poll(struct daemon *d)
{
	struct ev *batch = eb.batch;
	size_t n;

	if (!eb.running)
		return;
	pthread_mutex_lock(&eb.lock);
	n = eb.qn;
	memcpy(batch, eb.q, n * sizeof(batch[0]));
	eb.qn = 0;
	pthread_mutex_unlock(&eb.lock);
	for (size_t i = 0; i < n; i++) {
		const struct ev *v = &batch[i];
		struct eproc *e;
		int s;

		if (shimmed(d, v->pid))
			continue; /* the shim's own samples are exact and already counted */
		e = eproc_get(d, v->pid);
		if (!e)
			continue;
		e->last_seen_ns = d->now;
		if (v->launches == UINT64_MAX)
			continue;
		e->launches += v->launches;
		e->bursts++;
		entlat_add(&e->lat, v->end_ns,
		           v->end_ns > v->start_ns ? v->end_ns - v->start_ns : 0);
		if ((s = eproc_svc(d, e)) < 0)
			continue;
		svc_sample(&d->svcs[s].s, v->end_ns,
		           v->end_ns > v->start_ns ? v->end_ns - v->start_ns : 0,
		           (uint32_t)v->launches);
	}
	/* Keep the services of unshimmed members alive and forget the quiet ones. */
	for (int i = 0; i < E_MAX_PROCS; i++) {
		struct eproc *e = &eb.procs[i];
		int s;

		if (!e->used)
			continue;
		if (d->now - e->last_seen_ns > E_FORGET_AFTER_NS || shimmed(d, e->pid)) {
			e->used = false;
			continue;
		}
		e->svc = s = eproc_svc(d, e);
		if (s >= 0) {
			d->svcs[s].members++;
			d->svcs[s].last_member_ns = d->now;
		}
	}
}

uint32_t ebpf_publish(struct daemon *d, struct ctl_pub_entry *out, uint32_t max)
{
	uint32_t n = 0;

	for (int i = 0; eb.running && i < E_MAX_PROCS && n < max; i++) {
		struct eproc *e = &eb.procs[i];
		struct ctl_pub_entry *o = &out[n];

		if (!e->used)
			continue;
		n++;
		memset(o, 0, sizeof(*o));
		o->observed = 1;
		o->pid = e->pid;
		o->gpu = only_gpu(d); /* -1: unknown */
		memcpy(o->comm, e->view.comm, sizeof(o->comm));
		o->requested = e->view.requested;
		o->granted = e->view.dec.prio;
		o->svc = e->svc >= 0 && d->svcs[e->svc].used ? d->svcs[e->svc].plan : -1;
		o->active = d->now - e->last_seen_ns < D_ACTIVE_HOLD_NS;
		/* Nothing bounds it: the shim is what applies windows. */
		o->w_busy = o->w_idle = o->window_applied = XSCHED_WINDOW_UNLIMITED;
		o->launches = o->completions = e->launches; /* counted when its bursts end */
		o->bursts = e->bursts;
		entlat_put(&e->lat, d->now, o);
	}
	return n;
}

void ebpf_stop(struct daemon *d)
{
	(void)d;
	if (!eb.running)
		return;
	atomic_store(&eb.stop, true);
	pthread_join(eb.thread, NULL);
	eb.running = false;
}

#else /* built without the observer */

void ebpf_start(struct daemon *d)
{
	caps_drop(false);
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

uint32_t ebpf_publish(struct daemon *d, struct ctl_pub_entry *out, uint32_t max)
{
	(void)d;
	(void)out;
	(void)max;
	return 0;
}

void ebpf_stop(struct daemon *d)
{
	(void)d;
}

#endif
