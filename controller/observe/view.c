// SPDX-License-Identifier: MIT
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "latency.h"

/* Samples kept per process: an interval's, and the run's (then a uniform subset). */
#define INTERVAL_SAMPLES (1U << 20)
#define RUN_SAMPLES      (1U << 20)

struct proc_view {
	pid_t pid;
	struct lat_samples interval, run;
	uint64_t first_ns, last_ns;    /* snapshot times it was first and last seen in */
	struct xobs_proc_stats last;   /* the latest counters (streams and ioctls not kept) */
	struct xobs_ioctl_stats *cmds; /* the latest per-command ioctl counters */
	size_t ncmds;
};

struct view {
	struct view_opts opts;
	struct proc_view *procs;
	size_t nprocs;
	struct xobs_snapshot prev;
	uint64_t prev_ns;
};

/* The counters of one process over one interval. */
struct delta {
	uint64_t launches, copies, bursts, syncs, sync_ns, ioctls, ioctl_ns, ioctl_wait_ns,
	        ioctl_errors;
	uint64_t sync_hist[XOBS_HIST_LEN];
};

struct view *view_new(const struct view_opts *opts, uint64_t start_ns)
{
	struct view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->opts = *opts;
	v->prev_ns = start_ns;
	return v;
}

static struct proc_view *proc_view(struct view *v, pid_t pid, bool create)
{
	struct proc_view *p;

	for (size_t i = 0; i < v->nprocs; i++)
		if (v->procs[i].pid == pid)
			return &v->procs[i];
	if (!create)
		return NULL;
	p = realloc(v->procs, (v->nprocs + 1) * sizeof(*p));
	if (!p)
		return NULL;
	v->procs = p;
	p = &v->procs[v->nprocs++];
	*p = (struct proc_view){ .pid = pid };
	lat_init(&p->interval, INTERVAL_SAMPLES);
	lat_init(&p->run, RUN_SAMPLES);
	return p;
}

void view_burst(struct view *v, const struct xobs_burst *b)
{
	struct proc_view *p = proc_view(v, b->pid, true);

	if (!p || b->end_ns < b->start_ns)
		return;
	lat_add(&p->interval, b->end_ns - b->start_ns);
	lat_add(&p->run, b->end_ns - b->start_ns);
}

static const struct xobs_proc_stats *find(const struct xobs_snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static const struct xobs_ioctl_stats *find_cmd(const struct xobs_proc_stats *p,
                                               const struct xobs_ioctl_stats *c)
{
	for (size_t i = 0; p && i < p->nioctl_cmds; i++)
		if (p->ioctl_cmds[i].cmd == c->cmd && p->ioctl_cmds[i].driver == c->driver)
			return &p->ioctl_cmds[i];
	return NULL;
}

static const struct xobs_stream_stats *find_stream(const struct xobs_proc_stats *p, uint64_t stream)
{
	for (size_t i = 0; p && i < p->nstreams; i++)
		if (p->streams[i].stream == stream)
			return &p->streams[i];
	return NULL;
}

static struct delta delta_of(const struct xobs_proc_stats *cur, const struct xobs_proc_stats *old)
{
	struct xobs_proc_stats zero = { 0 };
	struct delta d;

	if (!old || old->exited) /* a pid seen again after its exit is a new process */
		old = &zero;
	d.launches = cur->launches - old->launches;
	d.copies = cur->copies - old->copies;
	d.bursts = cur->bursts - old->bursts;
	d.syncs = cur->syncs - old->syncs;
	d.sync_ns = cur->sync_ns - old->sync_ns;
	d.ioctls = cur->ioctls - old->ioctls;
	d.ioctl_ns = cur->ioctl_ns - old->ioctl_ns;
	d.ioctl_wait_ns = cur->ioctl_wait_ns - old->ioctl_wait_ns;
	d.ioctl_errors = cur->ioctl_errors - old->ioctl_errors;
	for (size_t i = 0; i < XOBS_HIST_LEN; i++)
		d.sync_hist[i] = cur->sync_hist[i] - old->sync_hist[i];
	return d;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void stream_name(uint64_t stream, char *buf, size_t len)
{
	if (stream == 0)
		snprintf(buf, len, "legacy");
	else if (stream & XOBS_STREAM_PER_THREAD_BIT)
		snprintf(buf, len, "per-thread:%llu",
		         (unsigned long long)(stream & ~XOBS_STREAM_PER_THREAD_BIT));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)stream);
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void json_percentiles(FILE *f, struct lat_samples *s)
{
	if (!s->n) {
		fprintf(f, ",\"burst_p50_us\":null,\"burst_p99_us\":null,\"burst_max_us\":null");
		return;
	}
	fprintf(f, ",\"burst_p50_us\":%.3f", us(lat_percentile(s, 50)));
	fprintf(f, ",\"burst_p99_us\":%.3f", us(lat_percentile(s, 99)));
	fprintf(f, ",\"burst_max_us\":%.3f", us(s->max_ns));
}

static void json_hist(FILE *f, const char *name, const uint64_t *h)
{
	fprintf(f, ",\"%s\":[", name);
	for (size_t i = 0; i < XOBS_HIST_LEN; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)h[i]);
	fputc(']', f);
}

/* The ioctl commands of cur; with old, only those issued since, with interval counts. */
static void json_ioctls(FILE *f, const struct xobs_ioctl_stats *cmds, size_t n,
                        const struct xobs_proc_stats *old)
{
	bool first = true;

	fprintf(f, ",\"ioctl_cmds\":[");
	for (size_t i = 0; i < n; i++) {
		const struct xobs_ioctl_stats *c = &cmds[i];
		const struct xobs_ioctl_stats *o = old && !old->exited ? find_cmd(old, c) : NULL;
		uint64_t count = c->count - (o ? o->count : 0);

		if (!count)
			continue;
		fprintf(f, "%s{\"driver\":\"%s\",\"cmd\":", first ? "" : ",",
		        xobs_driver_name(c->driver));
		json_string(f, c->name);
		fprintf(f,
		        ",\"request\":\"0x%08x\",\"count\":%llu,\"errors\":%llu,\"total_us\":%.3f,"
		        "\"max_us\":%.3f,\"blocking\":%s}",
		        c->cmd, (unsigned long long)count,
		        (unsigned long long)(c->errors - (o ? o->errors : 0)),
		        us(c->total_ns - (o ? o->total_ns : 0)), us(c->max_ns),
		        c->blocking ? "true" : "false");
		first = false;
	}
	fputc(']', f);
}

static void json_streams(FILE *f, const struct xobs_proc_stats *cur,
                         const struct xobs_proc_stats *old)
{
	bool first = true;
	char name[48];

	fprintf(f, ",\"streams\":[");
	for (size_t i = 0; i < cur->nstreams; i++) {
		const struct xobs_stream_stats *s = &cur->streams[i];
		const struct xobs_stream_stats *o =
		        old && !old->exited ? find_stream(old, s->stream) : NULL;
		/* A recycled handle starts over: counts below the last ones are new. */
		bool same = o && o->launches <= s->launches && o->copies <= s->copies;
		uint64_t launches = s->launches - (same ? o->launches : 0);
		uint64_t copies = s->copies - (same ? o->copies : 0);

		if (!launches && !copies && !s->in_flight)
			continue;
		stream_name(s->stream, name, sizeof(name));
		fprintf(f,
		        "%s{\"stream\":\"%s\",\"launches\":%llu,\"copies\":%llu,\"commands\":%llu,"
		        "\"in_flight\":%llu",
		        first ? "" : ",", name, (unsigned long long)launches,
		        (unsigned long long)copies, (unsigned long long)(launches + copies),
		        (unsigned long long)s->in_flight);
		if (s->created_seen)
			fprintf(f, ",\"priority\":%d,\"non_blocking\":%s", s->priority,
			        s->non_blocking ? "true" : "false");
		fputc('}', f);
		first = false;
	}
	fputc(']', f);
}

static void json_common(FILE *f, const char *scope, const struct xobs_proc_stats *p)
{
	fprintf(f, "{\"scope\":\"%s\",\"pid\":%d,\"comm\":", scope, (int)p->pid);
	json_string(f, p->comm);
	fprintf(f, ",\"exited\":%s,\"cuda\":%s,\"hip\":%s,\"launch_probes\":%s",
	        p->exited ? "true" : "false", p->cuda ? "true" : "false", p->hip ? "true" : "false",
	        p->launch_probes ? "true" : "false");
}

static void json_interval(struct view *v, const struct xobs_snapshot *snap,
                          const struct xobs_proc_stats *cur, const struct xobs_proc_stats *old,
                          const struct delta *d, struct proc_view *pv, double secs)
{
	FILE *f = v->opts.out;
	struct timespec wall;

	clock_gettime(CLOCK_REALTIME, &wall);
	json_common(f, "interval", cur);
	fprintf(f, ",\"time\":%.3f,\"interval_s\":%.3f",
	        (double)wall.tv_sec + (double)wall.tv_nsec / 1e9, secs);
	fprintf(f, ",\"launches\":%llu,\"launches_total\":%llu,\"launches_per_s\":%.1f",
	        (unsigned long long)d->launches, (unsigned long long)cur->launches,
	        (double)d->launches / secs);
	fprintf(f, ",\"copies\":%llu,\"copies_total\":%llu,\"copies_per_s\":%.1f",
	        (unsigned long long)d->copies, (unsigned long long)cur->copies,
	        (double)d->copies / secs);
	fprintf(f, ",\"commands\":%llu,\"commands_total\":%llu,\"commands_per_s\":%.1f",
	        (unsigned long long)(d->launches + d->copies),
	        (unsigned long long)(cur->launches + cur->copies),
	        (double)(d->launches + d->copies) / secs);
	fprintf(f, ",\"in_flight\":%llu,\"bursts\":%llu", (unsigned long long)cur->in_flight,
	        (unsigned long long)pv->interval.seen);
	json_percentiles(f, &pv->interval);
	fprintf(f, ",\"syncs\":%llu,\"sync_wait_us\":%.3f", (unsigned long long)d->syncs,
	        us(d->sync_ns));
	fprintf(f,
	        ",\"ioctls\":%llu,\"ioctls_per_s\":%.1f,\"ioctl_us\":%.3f,\"ioctl_wait_us\":%.3f,"
	        "\"ioctl_errors\":%llu",
	        (unsigned long long)d->ioctls, (double)d->ioctls / secs, us(d->ioctl_ns),
	        us(d->ioctl_wait_ns), (unsigned long long)d->ioctl_errors);
	json_ioctls(f, cur->ioctl_cmds, cur->nioctl_cmds, old);
	json_streams(f, cur, old);
	if (v->opts.histogram) {
		uint64_t h[LAT_HIST_SLOTS];

		lat_hist(&pv->interval, h);
		json_hist(f, "burst_hist_us", h);
		json_hist(f, "sync_hist_us", d->sync_hist);
	}
	fprintf(f, ",\"samples_dropped\":%llu}\n", (unsigned long long)snap->samples_dropped);
}

static void table_header(struct view *v)
{
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(v->opts.out, "\n%s\n%-7s %-16s %9s %9s %9s %6s %8s %9s %9s %9s %9s %9s\n", stamp,
	        "PID", "COMM", "LAUNCH/s", "COPY/s", "CMD/s", "INFL", "BURSTS", "P50(us)",
	        "P99(us)", "SYNC(ms)", "IOCTL/s", "WAIT(ms)");
}

static void table_row(struct view *v, const struct xobs_proc_stats *cur, const struct delta *d,
                      struct proc_view *pv, double secs)
{
	FILE *f = v->opts.out;
	char comm[24];

	snprintf(comm, sizeof(comm), "%s%s", cur->comm, cur->exited ? "*" : "");
	fprintf(f, "%-7d %-16.17s %9.1f %9.1f %9.1f %6llu %8llu ", (int)cur->pid, comm,
	        (double)d->launches / secs, (double)d->copies / secs,
	        (double)(d->launches + d->copies) / secs, (unsigned long long)cur->in_flight,
	        (unsigned long long)pv->interval.seen);
	if (pv->interval.n)
		fprintf(f, "%9.1f %9.1f ", us(lat_percentile(&pv->interval, 50)),
		        us(lat_percentile(&pv->interval, 99)));
	else
		fprintf(f, "%9s %9s ", "-", "-");
	fprintf(f, "%9.2f %9.1f %9.2f\n", (double)d->sync_ns / 1e6, (double)d->ioctls / secs,
	        (double)d->ioctl_wait_ns / 1e6);
}

/* A log2 histogram of microseconds, from its first to its last non-empty slot. */
static void print_log2(FILE *f, const char *title, const uint64_t *h)
{
	uint64_t peak = 0;
	int lo = -1, hi = -1;

	for (int i = 0; i < LAT_HIST_SLOTS; i++) {
		if (!h[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		if (h[i] > peak)
			peak = h[i];
	}
	if (lo < 0)
		return;
	fprintf(f, "  %s\n  %20s : %-8s %s\n", title, "usecs", "count", "distribution");
	for (int i = lo; i <= hi; i++) {
		unsigned long long from = i ? 1ULL << i : 0, to = (1ULL << (i + 1)) - 1;
		int bar = (int)(h[i] * 40 / peak);
		char stars[41];

		memset(stars, '*', (size_t)bar);
		stars[bar] = 0;
		fprintf(f, "  %9llu -> %-9llu : %-8llu |%-40s|\n", from, to,
		        (unsigned long long)h[i], stars);
	}
}

static void table_histograms(struct view *v, const struct xobs_proc_stats *cur,
                             const struct delta *d, struct proc_view *pv)
{
	uint64_t h[LAT_HIST_SLOTS];

	fprintf(v->opts.out, "\npid %d (%s)\n", (int)cur->pid, cur->comm);
	lat_hist(&pv->interval, h);
	print_log2(v->opts.out, "burst latency", h);
	print_log2(v->opts.out, "sync wait", d->sync_hist);
}

static bool active(const struct xobs_proc_stats *p, const struct delta *d,
                   const struct proc_view *pv)
{
	/* An exit is shown even in a quiet interval: it is the process's last row. */
	return d->launches || d->copies || d->syncs || d->ioctls || p->in_flight ||
	       pv->interval.seen || p->exited;
}

static void remember(struct proc_view *pv, const struct xobs_proc_stats *cur, uint64_t t)
{
	struct xobs_ioctl_stats *cmds;

	if (!pv->first_ns)
		pv->first_ns = t;
	pv->last_ns = t;
	pv->last = *cur;
	pv->last.streams = NULL;
	pv->last.nstreams = 0;
	pv->last.ioctl_cmds = NULL;
	cmds = realloc(pv->cmds, (cur->nioctl_cmds ? cur->nioctl_cmds : 1) * sizeof(*cmds));
	if (!cmds)
		return;
	memcpy(cmds, cur->ioctl_cmds, cur->nioctl_cmds * sizeof(*cmds));
	pv->cmds = cmds;
	pv->ncmds = cur->nioctl_cmds;
}

void view_interval(struct view *v, struct xobs_snapshot *snap)
{
	double secs = (double)(snap->time_ns - v->prev_ns) / 1e9;
	bool header = false;

	if (secs <= 0)
		secs = 1e-9;
	for (size_t i = 0; i < snap->nprocs; i++) {
		const struct xobs_proc_stats *cur = &snap->procs[i];
		const struct xobs_proc_stats *old = find(&v->prev, cur->pid);
		struct proc_view *pv = proc_view(v, cur->pid, true);
		struct delta d = delta_of(cur, old);

		if (!pv)
			continue;
		if (active(cur, &d, pv)) {
			if (v->opts.json) {
				json_interval(v, snap, cur, old, &d, pv, secs);
			} else {
				if (!header)
					table_header(v);
				header = true;
				table_row(v, cur, &d, pv, secs);
			}
		}
		remember(pv, cur, snap->time_ns);
	}
	if (v->opts.histogram && !v->opts.json) {
		for (size_t i = 0; i < snap->nprocs; i++) {
			const struct xobs_proc_stats *cur = &snap->procs[i];
			struct proc_view *pv = proc_view(v, cur->pid, false);
			struct delta d = delta_of(cur, find(&v->prev, cur->pid));

			if (pv && active(cur, &d, pv))
				table_histograms(v, cur, &d, pv);
		}
	}
	for (size_t i = 0; i < v->nprocs; i++)
		lat_clear(&v->procs[i].interval);
	fflush(v->opts.out);
	xobs_snapshot_free(&v->prev);
	v->prev = *snap;
	v->prev_ns = snap->time_ns;
	memset(snap, 0, sizeof(*snap));
}

static void json_run(struct view *v, struct proc_view *pv)
{
	const struct xobs_proc_stats *p = &pv->last;
	double secs = (double)(pv->last_ns - pv->first_ns) / 1e9;
	FILE *f = v->opts.out;

	json_common(f, "run", p);
	fprintf(f, ",\"seen_s\":%.3f,\"launches\":%llu,\"copies\":%llu,\"commands\":%llu", secs,
	        (unsigned long long)p->launches, (unsigned long long)p->copies,
	        (unsigned long long)(p->launches + p->copies));
	fprintf(f, ",\"bursts\":%llu", (unsigned long long)pv->run.seen);
	json_percentiles(f, &pv->run);
	fprintf(f, ",\"syncs\":%llu,\"sync_wait_us\":%.3f,\"streams_created\":%llu",
	        (unsigned long long)p->syncs, us(p->sync_ns),
	        (unsigned long long)p->streams_created);
	fprintf(f,
	        ",\"ioctls\":%llu,\"ioctl_us\":%.3f,\"ioctl_wait_us\":%.3f,\"ioctl_errors\":%llu",
	        (unsigned long long)p->ioctls, us(p->ioctl_ns), us(p->ioctl_wait_ns),
	        (unsigned long long)p->ioctl_errors);
	json_ioctls(f, pv->cmds, pv->ncmds, NULL);
	if (v->opts.histogram) {
		uint64_t h[LAT_HIST_SLOTS];

		lat_hist(&pv->run, h);
		json_hist(f, "burst_hist_us", h);
		json_hist(f, "sync_hist_us", p->sync_hist);
	}
	fprintf(f, "}\n");
}

void view_summary(struct view *v)
{
	FILE *f = v->opts.out;
	bool any = false;

	for (size_t i = 0; i < v->nprocs; i++) {
		struct proc_view *pv = &v->procs[i];
		const struct xobs_proc_stats *p = &pv->last;

		if (!pv->first_ns ||
		    !(p->launches || p->copies || p->syncs || p->ioctls || pv->run.seen))
			continue;
		if (v->opts.json) {
			json_run(v, pv);
			continue;
		}
		if (!any)
			fprintf(f,
			        "\nTotals over the run:\n%-7s %-16s %10s %10s %10s %8s %9s %9s "
			        "%10s "
			        "%9s\n",
			        "PID", "COMM", "LAUNCHES", "COPIES", "COMMANDS", "BURSTS",
			        "P50(us)", "P99(us)", "SYNC(ms)", "IOCTLS");
		any = true;
		fprintf(f, "%-7d %-16.16s %10llu %10llu %10llu %8llu ", (int)p->pid, p->comm,
		        (unsigned long long)p->launches, (unsigned long long)p->copies,
		        (unsigned long long)(p->launches + p->copies),
		        (unsigned long long)pv->run.seen);
		if (pv->run.n)
			fprintf(f, "%9.1f %9.1f ", us(lat_percentile(&pv->run, 50)),
			        us(lat_percentile(&pv->run, 99)));
		else
			fprintf(f, "%9s %9s ", "-", "-");
		fprintf(f, "%10.2f %9llu\n", (double)p->sync_ns / 1e6,
		        (unsigned long long)p->ioctls);
	}
	fflush(f);
}

void view_free(struct view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nprocs; i++) {
		lat_free(&v->procs[i].interval);
		lat_free(&v->procs[i].run);
		free(v->procs[i].cmds);
	}
	free(v->procs);
	xobs_snapshot_free(&v->prev);
	free(v);
}
