/* SPDX-License-Identifier: MIT */
/* The observer's state and the functions its files share. Not part of the API. */
#ifndef XSCHED_XOBS_INTERNAL_H
#define XSCHED_XOBS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probes.h"
#include "xobs.h"

struct bpf_link;
struct bpf_program;
struct ring_buffer;
struct xobs_launch_bpf;
struct xobs_ioctl_bpf;
struct xobs_libwatch_bpf;

/* A file's identity as the kernel maps it (an overlayfs file's is its real inode's). */
struct file_id {
	unsigned int major, minor;
	uint64_t ino;
};

/* A runtime library file, attached to once however many paths and processes lead to it. */
struct lib {
	struct file_id id;
	int fd; /* kept open: /proc/self/fd/N names the file to the kernel from then on */
	enum runtime rt;
	char path[PATH_MAX]; /* the first path it was found by */
	const struct probe_spec *specs;
	size_t nspecs;
	uint64_t *offsets; /* per spec: 0 if absent, or the same code as an earlier spec */
	struct bpf_link **links;
	size_t nlinks;
};

/* A process's launch probes in one library. */
struct watch {
	pid_t pid;
	struct lib *lib;
	struct bpf_link **links;
	size_t nlinks;
};

/* What the loader knows of a process beyond the BPF maps. */
struct pinfo {
	pid_t pid;
	bool shimmed;
};

struct xobs {
	struct xobs_launch_bpf *launch;
	struct xobs_ioctl_bpf *ioctl;
	struct xobs_libwatch_bpf *libwatch;
	struct ring_buffer *rb;

	pid_t *pids; /* the filter; npids == 0: everyone */
	size_t npids;
	bool skip_shimmed;
	void (*on_burst)(const struct xobs_burst *b, void *ctx);
	void *ctx;

	struct lib **libs;
	size_t nlibs;
	struct watch *watches;
	size_t nwatches;
	struct pinfo *pinfo;
	size_t npinfo;
};

/* observer.c */
bool xobs_wants(const struct xobs *o, pid_t pid);
struct pinfo *xobs_pinfo(struct xobs *o, pid_t pid, bool create);
/* Drops what the loader holds for a process that has exited. */
void xobs_forget_pid(struct xobs *o, pid_t pid);
/* Warnings go to stderr; debug lines only with XSCHED_OBSERVER_DEBUG set. */
void xobs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xobs_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* attach.c */
/* Finds or adds the library at `path` (openable by us: see proc_path()); `shown` is the
 * path as a process names it. Attaches its per-file probes when new. */
int lib_add(struct xobs *o, const char *path, const char *shown, struct lib **out);
/* lib_add()'s return when the library was not known before. */
#define LIB_NEW 1
struct lib *lib_find(struct xobs *o, const struct file_id *id);
/* Attaches the per-process probes of `l` for `pid`, once. */
int watch_add(struct xobs *o, pid_t pid, struct lib *l);
bool watch_has(const struct xobs *o, pid_t pid);
void watch_drop_pid(struct xobs *o, pid_t pid);
void libs_free(struct xobs *o);

/* reaper.c: destroys the links (and frees the array) on other threads; reaper_wait()
 * returns when all are gone. */
void reaper_destroy_links(struct bpf_link **links, size_t n);
void reaper_wait(void);

/* procscan.c */
/* The path under which we can open what process `pid` calls `path`: through its root
 * (containers) or, for a relative path, its working directory. */
int proc_path(pid_t pid, const char *path, char *out, size_t len);
/* A runtime library as one of a process's mappings shows it. */
struct mapped_lib {
	const char *path; /* as the process names it */
	struct file_id id;
	unsigned long start, end; /* the first mapping: /proc/PID/map_files/<start>-<end> */
};

/* Calls fn for each runtime library process `pid` maps; sets *shimmed if it maps the
 * xsched shim. Returns 0 or -errno (the process is gone, or not ours to read). */
int proc_scan_maps(pid_t pid, bool *shimmed,
                   void (*fn)(pid_t pid, const struct mapped_lib *m, void *arg), void *arg);
int file_identity(int fd, struct file_id *id);
bool proc_alive(pid_t pid);

/* Deletes the entries of a map keyed by thread id whose thread is gone. */
void purge_dead_threads(int map_fd);

/* devices.c: fills the ioctl program's gpu_devs map from /proc/devices and sysfs. */
int devices_refresh(int map_fd);

/* preflight.c: checks privileges, BTF, uprobes and tracefs (mounting it if it can). */
int preflight(char *err, size_t errlen);

#endif
