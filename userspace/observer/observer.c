// SPDX-License-Identifier: MIT
/*
 * The observer's life cycle: load the BPF objects, find runtime libraries and GPU
 * processes (a /proc scan each interval, and libwatch.bpf.c's reports of libraries being
 * opened, which catch a new process before its first launch), read the ring buffers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "internal.h"
#include "ioctl.skel.h"
#include "launch.skel.h"
#include "libwatch.skel.h"
#include "xobs_types.h"

static bool debug_on(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("XSCHED_OBSERVER_DEBUG") != NULL;
	return on;
}

static void vlog(const char *fmt, va_list ap)
{
	fputs("xsched observer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void xobs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void xobs_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_on())
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* libbpf explains its failures at length; ours say what matters in one line. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!debug_on() || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

bool xobs_wants(const struct xobs *o, pid_t pid)
{
	if (!o->npids)
		return true;
	for (size_t i = 0; i < o->npids; i++)
		if (o->pids[i] == pid)
			return true;
	return false;
}

struct pinfo *xobs_pinfo(struct xobs *o, pid_t pid, bool create)
{
	struct pinfo *v;

	for (size_t i = 0; i < o->npinfo; i++)
		if (o->pinfo[i].pid == pid)
			return &o->pinfo[i];
	if (!create)
		return NULL;
	v = realloc(o->pinfo, (o->npinfo + 1) * sizeof(*v));
	if (!v)
		return NULL;
	o->pinfo = v;
	v[o->npinfo] = (struct pinfo){ .pid = pid };
	return &v[o->npinfo++];
}

void xobs_forget_pid(struct xobs *o, pid_t pid)
{
	struct pinfo *pi = xobs_pinfo(o, pid, false);

	watch_drop_pid(o, pid);
	if (pi)
		*pi = o->pinfo[--o->npinfo];
}

/* Launch probes for pid in l, unless the shim counts its launches. */
static void watch_process(struct xobs *o, pid_t pid, struct lib *l, bool shimmed)
{
	struct pinfo *pi = xobs_pinfo(o, pid, true);
	int err;

	if (pi)
		pi->shimmed = shimmed;
	if (shimmed && o->skip_shimmed)
		return;
	err = watch_add(o, pid, l);
	if (err && err != -ESRCH)
		xobs_log("pid %d: cannot attach launch probes: %s", (int)pid, strerror(-err));
}

/* A library just found: the processes named in the filter get its launch probes at once,
 * whether or not they map it yet. */
static void on_new_lib(struct xobs *o, struct lib *l)
{
	for (size_t i = 0; i < o->npids; i++) {
		struct pinfo *pi = xobs_pinfo(o, o->pids[i], false);

		watch_process(o, o->pids[i], l, pi && pi->shimmed);
	}
}

static int add_lib(struct xobs *o, const char *path, const char *shown, struct lib **l)
{
	int err = lib_add(o, path, shown, l);

	if (err == LIB_NEW) {
		on_new_lib(o, *l);
		err = 0;
	}
	return err;
}

struct scan_ctx {
	struct xobs *o;
	struct lib *libs[8];
	size_t n;
};

static void on_mapped(pid_t pid, const struct mapped_lib *m, void *arg)
{
	struct scan_ctx *c = arg;
	struct lib *l = lib_find(c->o, &m->id);
	char path[PATH_MAX];
	int err = 0;

	if (!l) {
		/* map_files reaches the mapped file itself, deleted or in another mount
		 * namespace; the process's root is the fallback without CAP_SYS_ADMIN. */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)pid, m->start,
		         m->end);
		err = add_lib(c->o, path, m->path, &l);
		if (err < 0 && proc_path(pid, m->path, path, sizeof(path)) == 0)
			err = add_lib(c->o, path, m->path, &l);
	}
	if (err < 0)
		xobs_log("pid %d: cannot use %s: %s", (int)pid, m->path, strerror(-err));
	else if (c->n < sizeof(c->libs) / sizeof(c->libs[0]))
		c->libs[c->n++] = l;
}

static void scan_process(struct xobs *o, pid_t pid)
{
	struct scan_ctx c = { .o = o };
	bool shimmed = false;

	if (proc_scan_maps(pid, &shimmed, on_mapped, &c))
		return;
	for (size_t i = 0; i < c.n; i++)
		watch_process(o, pid, c.libs[i], shimmed);
}

static void no_lib(pid_t pid, const struct mapped_lib *m, void *arg)
{
	(void)pid;
	(void)m;
	(void)arg;
}

static bool is_shimmed(pid_t pid)
{
	bool shimmed = false;

	proc_scan_maps(pid, &shimmed, no_lib, NULL);
	return shimmed;
}

static void on_libopen(struct xobs *o, const struct xobs_libopen_rec *r)
{
	pid_t pid = (pid_t)r->pid;
	char path[PATH_MAX];
	struct lib *l;
	int err;

	if (!xobs_wants(o, pid) || proc_path(pid, r->path, path, sizeof(path)))
		return;
	err = add_lib(o, path, r->path, &l);
	if (err < 0) {
		if (err != -ENOENT)
			xobs_log("pid %d opened %s, which cannot be used: %s", (int)pid, r->path,
			         strerror(-err));
		return;
	}
	watch_process(o, pid, l, is_shimmed(pid));
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct xobs *o = ctx;
	const __u32 *type = data;

	if (size >= sizeof(struct xobs_burst_rec) && *type == XOBS_REC_BURST) {
		const struct xobs_burst_rec *r = data;
		struct xobs_burst b = {
			.pid = (pid_t)r->pid,
			.tid = (pid_t)r->tid,
			.start_ns = r->start_ns,
			.end_ns = r->end_ns,
			.launches = r->launches,
			.copies = r->copies,
			.stream = r->stream,
		};

		if (o->on_burst && xobs_wants(o, b.pid))
			o->on_burst(&b, o->ctx);
	} else if (size >= sizeof(struct xobs_libopen_rec) && *type == XOBS_REC_LIBOPEN) {
		on_libopen(o, data);
	}
	return 0;
}

int xobs_poll(struct xobs *o, int timeout_ms)
{
	int n = ring_buffer__poll(o->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int xobs_rescan(struct xobs *o)
{
	struct dirent *e;
	DIR *d;
	int err;

	err = devices_refresh(bpf_map__fd(o->ioctl->maps.gpu_devs));
	if (err)
		xobs_log("cannot list GPU devices: %s", strerror(-err));
	if (o->npids) {
		for (size_t i = 0; i < o->npids; i++)
			scan_process(o, o->pids[i]);
		return 0;
	}
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		scan_process(o, (pid_t)pid);
	}
	closedir(d);
	return 0;
}

int xobs_watch_pid(struct xobs *o, pid_t pid)
{
	bool shimmed = is_shimmed(pid);
	int err = 0;

	if (!proc_alive(pid))
		return -ESRCH;
	for (size_t i = 0; i < o->nlibs && !err; i++) {
		struct pinfo *pi = xobs_pinfo(o, pid, true);

		if (pi)
			pi->shimmed = shimmed;
		if (!(shimmed && o->skip_shimmed))
			err = watch_add(o, pid, o->libs[i]);
	}
	return err;
}

size_t xobs_libraries(struct xobs *o, const char **paths, size_t max)
{
	size_t i;

	for (i = 0; i < o->nlibs && i < max; i++)
		paths[i] = o->libs[i]->path;
	return o->nlibs;
}

static int load_failed(struct xobs *o, const char *what, int err, char *msg, size_t len)
{
	snprintf(msg, len, "cannot load the BPF programs (%s): %s", what, strerror(err));
	xobs_close(o);
	return XOBS_ERR_FAILED;
}

int xobs_open(struct xobs **out, const struct xobs_opts *opts, char *err, size_t errlen)
{
	struct xobs *o;
	int rc;

	*out = NULL;
	rc = preflight(err, errlen);
	if (rc)
		return rc;
	libbpf_set_print(libbpf_print);

	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return XOBS_ERR_FAILED;
	}
	o->skip_shimmed = opts->skip_shimmed;
	o->on_burst = opts->on_burst;
	o->ctx = opts->ctx;
	if (opts->npids) {
		o->pids = calloc(opts->npids, sizeof(*o->pids));
		if (!o->pids) {
			free(o);
			snprintf(err, errlen, "out of memory");
			return XOBS_ERR_FAILED;
		}
		memcpy(o->pids, opts->pids, opts->npids * sizeof(*o->pids));
		o->npids = opts->npids;
	}

	o->launch = xobs_launch_bpf__open_and_load();
	if (!o->launch)
		return load_failed(o, "launch.bpf.c", errno, err, errlen);
	o->ioctl = xobs_ioctl_bpf__open_and_load();
	if (!o->ioctl || xobs_ioctl_bpf__attach(o->ioctl))
		return load_failed(o, "ioctl.bpf.c", errno, err, errlen);
	o->libwatch = xobs_libwatch_bpf__open_and_load();
	if (!o->libwatch || xobs_libwatch_bpf__attach(o->libwatch))
		return load_failed(o, "libwatch.bpf.c", errno, err, errlen);
	o->rb = ring_buffer__new(bpf_map__fd(o->launch->maps.samples), on_record, o, NULL);
	if (!o->rb ||
	    ring_buffer__add(o->rb, bpf_map__fd(o->libwatch->maps.libopens), on_record, o))
		return load_failed(o, "ring buffers", errno, err, errlen);

	for (size_t i = 0; i < opts->nlibs; i++) {
		struct lib *l;

		rc = add_lib(o, opts->libs[i], opts->libs[i], &l);
		if (rc < 0) {
			snprintf(err, errlen, "cannot use runtime library %s: %s", opts->libs[i],
			         rc == -EINVAL
			                 ? "not named libcuda.so* or libamdhip64.so*, or not ELF"
			                 : strerror(-rc));
			xobs_close(o);
			return XOBS_ERR_FAILED;
		}
	}
	xobs_rescan(o);
	for (size_t i = 0; i < o->npids; i++)
		xobs_watch_pid(o, o->pids[i]);
	*out = o;
	return 0;
}

void xobs_close(struct xobs *o)
{
	if (!o)
		return;
	ring_buffer__free(o->rb);
	libs_free(o);
	reaper_wait();
	xobs_libwatch_bpf__destroy(o->libwatch);
	xobs_ioctl_bpf__destroy(o->ioctl);
	xobs_launch_bpf__destroy(o->launch);
	free(o->pinfo);
	free(o->pids);
	free(o);
}
