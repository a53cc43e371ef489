// SPDX-License-Identifier: MIT
/*
 * Attaching launch.bpf.c's programs to runtime libraries: per-file probes once per
 * distinct file, per-process probes once per (process, file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "elfsym.h"
#include "internal.h"
#include "launch.skel.h"

static struct bpf_program *prog_of(struct xobs *o, enum probe_prog p)
{
	struct xobs_launch_bpf *s = o->launch;

	switch (p) {
	case PROG_LAUNCH_ARG2:
		return s->progs.xobs_launch_arg2;
	case PROG_LAUNCH_STACK16:
		return s->progs.xobs_launch_stack16;
	case PROG_LAUNCH_STACK24:
		return s->progs.xobs_launch_stack24;
	case PROG_LAUNCH_CFG32:
		return s->progs.xobs_launch_cfg32;
	case PROG_COPY:
		return s->progs.xobs_copy;
	case PROG_EVENT_RECORD:
		return s->progs.xobs_event_record;
	case PROG_QUERY_STREAM:
		return s->progs.xobs_query_stream;
	case PROG_QUERY_EVENT:
		return s->progs.xobs_query_event;
	case PROG_SYNC_STREAM:
		return s->progs.xobs_sync_stream;
	case PROG_SYNC_CTX:
		return s->progs.xobs_sync_ctx;
	case PROG_SYNC_EVENT:
		return s->progs.xobs_sync_event;
	case PROG_SYNC_COPY:
		return s->progs.xobs_sync_copy;
	case PROG_STREAM_CREATE:
		return s->progs.xobs_stream_create;
	case PROG_STREAM_DESTROY:
		return s->progs.xobs_stream_destroy;
	case PROG_COUNT:
		break;
	}
	return NULL;
}

static int push_link(struct bpf_link ***links, size_t *n, struct bpf_link *l)
{
	struct bpf_link **v = realloc(*links, (*n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[(*n)++] = l;
	*links = v;
	return 0;
}

/* Attaches spec i of l for pid (-1: every process): the return probe first, so that the
 * entry probe never fires without it. */
static int attach_spec(struct xobs *o, struct lib *l, size_t i, pid_t pid, struct bpf_link ***links,
                       size_t *n)
{
	const struct probe_spec *sp = &l->specs[i];
	LIBBPF_OPTS(bpf_uprobe_opts, entry_opts, .bpf_cookie = sp->cookie);
	LIBBPF_OPTS(bpf_uprobe_opts, ret_opts, .bpf_cookie = sp->cookie, .retprobe = true);
	struct bpf_link *ret = NULL, *entry;
	char path[64];
	int err;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", l->fd);
	if (sp->ret) {
		ret = bpf_program__attach_uprobe_opts(o->launch->progs.xobs_ret, pid, path,
		                                      l->offsets[i], &ret_opts);
		if (!ret)
			return -errno;
	}
	entry = bpf_program__attach_uprobe_opts(prog_of(o, sp->prog), pid, path, l->offsets[i],
	                                        &entry_opts);
	if (!entry) {
		err = -errno;
		bpf_link__destroy(ret);
		return err;
	}
	if ((ret && push_link(links, n, ret)) || push_link(links, n, entry)) {
		bpf_link__destroy(entry);
		return -ENOMEM;
	}
	return 0;
}

/* Resolves every spec's symbol; a symbol at the same address as an earlier one (an alias)
 * is dropped so that its calls are not counted twice. */
static int resolve(struct lib *l)
{
	const char **names = calloc(l->nspecs, sizeof(*names));
	int err;

	l->offsets = calloc(l->nspecs, sizeof(*l->offsets));
	if (!names || !l->offsets) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->nspecs; i++)
		names[i] = l->specs[i].sym;
	err = elfsym_offsets(l->fd, names, l->nspecs, l->offsets);
	free(names);
	if (err)
		return err;
	for (size_t i = 0; i < l->nspecs; i++)
		for (size_t j = 0; j < i && l->offsets[i]; j++)
			if (l->offsets[j] == l->offsets[i])
				l->offsets[i] = 0;
	return 0;
}

struct lib *lib_find(struct xobs *o, const struct file_id *id)
{
	for (size_t i = 0; i < o->nlibs; i++) {
		struct lib *l = o->libs[i];

		if (l->id.ino == id->ino && l->id.major == id->major && l->id.minor == id->minor)
			return l;
	}
	return NULL;
}

static void lib_free(struct lib *l)
{
	reaper_destroy_links(l->links, l->nlinks);
	if (l->fd >= 0)
		close(l->fd);
	free(l->offsets);
	free(l);
}

int lib_add(struct xobs *o, const char *path, const char *shown, struct lib **out)
{
	const char *base = strrchr(shown, '/') ? strrchr(shown, '/') + 1 : shown;
	int rt = runtime_of_name(base), fd, err;
	struct file_id id;
	struct lib *l, **v;
	size_t attached = 0;

	if (rt < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = file_identity(fd, &id);
	if (err) {
		close(fd);
		return err;
	}
	l = lib_find(o, &id);
	if (l) {
		close(fd);
		*out = l;
		return 0;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->id = id;
	l->fd = fd;
	l->rt = rt;
	snprintf(l->path, sizeof(l->path), "%s", shown);
	l->specs = probe_specs(rt, &l->nspecs);
	err = resolve(l);
	if (err) {
		xobs_log("%s: cannot read its symbols: %s", shown, strerror(-err));
		lib_free(l);
		return err;
	}
	for (size_t i = 0; i < l->nspecs; i++) {
		if (!l->offsets[i] || l->specs[i].per_process)
			continue;
		err = attach_spec(o, l, i, -1, &l->links, &l->nlinks);
		if (err)
			xobs_log("%s: cannot attach to %s: %s", shown, l->specs[i].sym,
			         strerror(-err));
		else
			attached++;
	}
	v = realloc(o->libs, (o->nlibs + 1) * sizeof(*v));
	if (!v) {
		lib_free(l);
		return -ENOMEM;
	}
	o->libs = v;
	o->libs[o->nlibs++] = l;
	*out = l;
	xobs_debug("attached to %s (%zu per-file probes)", shown, attached);
	return LIB_NEW;
}

static struct watch *watch_find(struct xobs *o, pid_t pid, const struct lib *l)
{
	for (size_t i = 0; i < o->nwatches; i++)
		if (o->watches[i].pid == pid && o->watches[i].lib == l)
			return &o->watches[i];
	return NULL;
}

bool watch_has(const struct xobs *o, pid_t pid)
{
	for (size_t i = 0; i < o->nwatches; i++)
		if (o->watches[i].pid == pid)
			return true;
	return false;
}

int watch_add(struct xobs *o, pid_t pid, struct lib *l)
{
	struct watch w = { .pid = pid, .lib = l }, *v;
	int err = 0;

	if (watch_find(o, pid, l))
		return 0;
	for (size_t i = 0; i < l->nspecs; i++) {
		if (!l->offsets[i] || !l->specs[i].per_process)
			continue;
		err = attach_spec(o, l, i, pid, &w.links, &w.nlinks);
		if (err == -ESRCH)
			break;
		if (err)
			xobs_log("pid %d: cannot attach to %s in %s: %s", (int)pid, l->specs[i].sym,
			         l->path, strerror(-err));
	}
	if (err == -ESRCH) {
		reaper_destroy_links(w.links, w.nlinks);
		return err;
	}
	v = realloc(o->watches, (o->nwatches + 1) * sizeof(*v));
	if (!v) {
		reaper_destroy_links(w.links, w.nlinks);
		return -ENOMEM;
	}
	o->watches = v;
	o->watches[o->nwatches++] = w;
	return 0;
}

void watch_drop_pid(struct xobs *o, pid_t pid)
{
	size_t k = 0;

	for (size_t i = 0; i < o->nwatches; i++) {
		if (o->watches[i].pid == pid)
			reaper_destroy_links(o->watches[i].links, o->watches[i].nlinks);
		else
			o->watches[k++] = o->watches[i];
	}
	o->nwatches = k;
}

void libs_free(struct xobs *o)
{
	for (size_t i = 0; i < o->nwatches; i++)
		reaper_destroy_links(o->watches[i].links, o->watches[i].nlinks);
	free(o->watches);
	o->watches = NULL;
	o->nwatches = 0;
	for (size_t i = 0; i < o->nlibs; i++)
		lib_free(o->libs[i]);
	free(o->libs);
	o->libs = NULL;
	o->nlibs = 0;
}
