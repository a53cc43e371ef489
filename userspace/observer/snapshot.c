// SPDX-License-Identifier: MIT
/*
 * Reading the BPF maps into per-process statistics, and forgetting processes that have
 * exited once they have been reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "ioctl.skel.h"
#include "launch.skel.h"
#include "libwatch.skel.h"
#include "xobs_ioctl.h"
#include "xobs_types.h"

struct pidset {
	pid_t *v;
	size_t n, cap;
};

static int pidset_add(struct pidset *s, pid_t pid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		pid_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = pid;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every pid that has an entry in the per-process maps. */
static int collect_pids(struct xobs *o, struct pidset *s)
{
	int procs = bpf_map__fd(o->launch->maps.procs);
	int ioctls = bpf_map__fd(o->ioctl->maps.ioctl_stats);
	struct xobs_ioctl_key ik, *iprev = NULL;
	__u32 pid, *prev = NULL;
	size_t k = 0;

	while (bpf_map_get_next_key(procs, prev, &pid) == 0) {
		if (pidset_add(s, (pid_t)pid))
			return -ENOMEM;
		prev = &pid;
	}
	while (bpf_map_get_next_key(ioctls, iprev, &ik) == 0) {
		if (pidset_add(s, (pid_t)ik.pid))
			return -ENOMEM;
		iprev = &ik;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_pid);
	for (size_t i = 0; i < s->n; i++)
		if (!k || s->v[k - 1] != s->v[i])
			s->v[k++] = s->v[i];
	s->n = k;
	return 0;
}

static struct xobs_proc_stats *find_proc(const struct xobs_snapshot *snap, pid_t pid)
{
	struct xobs_proc_stats key = { .pid = pid };

	return bsearch(&key, snap->procs, snap->nprocs, sizeof(key), cmp_pid);
}

static void read_comm(pid_t pid, char *comm)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, XOBS_NAME_LEN, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

static void fill_proc(struct xobs *o, struct xobs_proc_stats *ps, pid_t pid)
{
	struct pinfo *pi = xobs_pinfo(o, pid, false);
	struct xobs_proc p;

	ps->pid = pid;
	ps->exited = !proc_alive(pid);
	ps->launch_probes = watch_has(o, pid);
	ps->shimmed = pi && pi->shimmed;
	if (bpf_map_lookup_elem(bpf_map__fd(o->launch->maps.procs), &(__u32){ (__u32)pid }, &p) ==
	    0) {
		memcpy(ps->comm, p.comm, sizeof(ps->comm));
		ps->comm[XOBS_NAME_LEN - 1] = 0;
		ps->cuda = p.api & XOBS_API_CUDA;
		ps->hip = p.api & XOBS_API_HIP;
		ps->launches = p.launches;
		ps->copies = p.copies;
		ps->in_flight = p.inflight;
		ps->bursts = p.bursts;
		ps->syncs = p.syncs;
		ps->sync_ns = p.sync_ns;
		ps->streams_created = p.streams_created;
		_Static_assert(XOBS_HIST_LEN == XOBS_HIST_SLOTS, "one histogram layout");
		memcpy(ps->sync_hist, p.sync_hist, sizeof(ps->sync_hist));
	}
	if (!ps->exited)
		read_comm(pid, ps->comm);
}

static int add_stream(struct xobs_proc_stats *ps, const struct xobs_stream_key *k,
                      const struct xobs_stream *s)
{
	struct xobs_stream_stats *v = realloc(ps->streams, (ps->nstreams + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ps->streams = v;
	v[ps->nstreams++] = (struct xobs_stream_stats){
		.stream = k->stream,
		.priority = s->priority,
		.created_seen = s->flags & XOBS_SF_CREATED,
		.non_blocking = s->flags & XOBS_SF_NON_BLOCKING,
		.launches = s->commands - s->copies,
		.copies = s->copies,
		.in_flight = s->commands - s->drained,
		.syncs = s->syncs,
		.sync_ns = s->sync_ns,
	};
	return 0;
}

static int read_streams(struct xobs *o, struct xobs_snapshot *snap)
{
	int fd = bpf_map__fd(o->launch->maps.streams);
	struct xobs_stream_key k, *prev = NULL;
	struct xobs_stream s;

	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		struct xobs_proc_stats *ps = find_proc(snap, (pid_t)k.pid);

		prev = &k;
		if (ps && bpf_map_lookup_elem(fd, &k, &s) == 0 && add_stream(ps, &k, &s))
			return -ENOMEM;
	}
	return 0;
}

static int add_ioctl(struct xobs_proc_stats *ps, const struct xobs_ioctl_key *k,
                     const struct xobs_ioctl_val *val)
{
	struct xobs_ioctl_stats *v = realloc(ps->ioctl_cmds, (ps->nioctl_cmds + 1) * sizeof(*v));
	struct xobs_ioctl_stats *c;

	if (!v)
		return -ENOMEM;
	ps->ioctl_cmds = v;
	c = &v[ps->nioctl_cmds++];
	*c = (struct xobs_ioctl_stats){
		.driver = (enum xobs_driver)k->drv,
		.cmd = k->cmd,
		.count = val->count,
		.errors = val->errors,
		.total_ns = val->total_ns,
		.max_ns = val->max_ns,
	};
	xobs_ioctl_name(c->driver, c->cmd, c->name, sizeof(c->name), &c->blocking);
	ps->ioctls += c->count;
	ps->ioctl_ns += c->total_ns;
	ps->ioctl_errors += c->errors;
	if (c->blocking)
		ps->ioctl_wait_ns += c->total_ns;
	if (!ps->comm[0]) {
		memcpy(ps->comm, val->comm, sizeof(ps->comm));
		ps->comm[XOBS_NAME_LEN - 1] = 0;
	}
	return 0;
}

static int read_ioctls(struct xobs *o, struct xobs_snapshot *snap)
{
	int fd = bpf_map__fd(o->ioctl->maps.ioctl_stats);
	struct xobs_ioctl_key k, *prev = NULL;
	struct xobs_ioctl_val v;

	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		struct xobs_proc_stats *ps = find_proc(snap, (pid_t)k.pid);

		prev = &k;
		if (ps && bpf_map_lookup_elem(fd, &k, &v) == 0 && add_ioctl(ps, &k, &v))
			return -ENOMEM;
	}
	return 0;
}

/* Deletes every entry of map `fd` (keys of key_size bytes starting with a pid) whose pid
 * is in the sorted `gone`. */
static void forget(int fd, size_t key_size, const pid_t *gone, size_t ngone)
{
	unsigned char key[64], next[64];
	bool have = false;

	if (!ngone || key_size > sizeof(key))
		return;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		pid_t pid = (pid_t) * (const __u32 *)next;

		if (bsearch(&pid, gone, ngone, sizeof(pid), cmp_pid)) {
			/* Deleting may restart the iteration; the entry is gone, so it ends. */
			bpf_map_delete_elem(fd, next);
			have = false;
			continue;
		}
		memcpy(key, next, key_size);
		have = true;
	}
}

/* Exited processes: those reported as such in snap, and those the filter hides. */
static void forget_exited(struct xobs *o, const struct xobs_snapshot *snap,
                          const struct pidset *all)
{
	struct pidset gone = { 0 };

	for (size_t i = 0; i < all->n; i++) {
		const struct xobs_proc_stats *ps = find_proc(snap, all->v[i]);
		bool exited = ps ? ps->exited : !proc_alive(all->v[i]);

		if (exited && pidset_add(&gone, all->v[i]) == 0)
			xobs_forget_pid(o, all->v[i]);
	}
	forget(bpf_map__fd(o->launch->maps.procs), sizeof(__u32), gone.v, gone.n);
	forget(bpf_map__fd(o->launch->maps.streams), sizeof(struct xobs_stream_key), gone.v,
	       gone.n);
	forget(bpf_map__fd(o->launch->maps.events), sizeof(struct xobs_event_key), gone.v, gone.n);
	forget(bpf_map__fd(o->ioctl->maps.ioctl_stats), sizeof(struct xobs_ioctl_key), gone.v,
	       gone.n);
	free(gone.v);
	purge_dead_threads(bpf_map__fd(o->launch->maps.calls));
	purge_dead_threads(bpf_map__fd(o->ioctl->maps.starts));
	purge_dead_threads(bpf_map__fd(o->libwatch->maps.pending));
}

int xobs_snapshot(struct xobs *o, struct xobs_snapshot *snap)
{
	struct pidset pids = { 0 };
	struct timespec ts;
	int err;

	memset(snap, 0, sizeof(*snap));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snap->time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	snap->samples_dropped = o->launch->bss->samples_dropped;

	err = collect_pids(o, &pids);
	if (err)
		goto out;
	snap->procs = calloc(pids.n ? pids.n : 1, sizeof(*snap->procs));
	if (!snap->procs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < pids.n; i++)
		if (xobs_wants(o, pids.v[i]))
			fill_proc(o, &snap->procs[snap->nprocs++], pids.v[i]);
	err = read_streams(o, snap);
	if (!err)
		err = read_ioctls(o, snap);
	if (!err)
		forget_exited(o, snap, &pids);
out:
	free(pids.v);
	if (err)
		xobs_snapshot_free(snap);
	return err;
}

void xobs_snapshot_free(struct xobs_snapshot *snap)
{
	for (size_t i = 0; i < snap->nprocs; i++) {
		free(snap->procs[i].streams);
		free(snap->procs[i].ioctl_cmds);
	}
	free(snap->procs);
	memset(snap, 0, sizeof(*snap));
}
