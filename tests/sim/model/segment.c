/* SPDX-License-Identifier: MIT */
/*
 * The shared segment: creation from the environment, attachment, the robust lock, process
 * registration and the detection of dead processes.
 */
#include "sim_shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_NAME "xsched-simgpu"
#define MAX_SLICE_US 1000000u
#define SIM_NAME_MAX 200

static struct sim_shm *g_shm;
static int g_proc = -1;
static pid_t g_pid;
static pthread_mutex_t g_attach = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

uint64_t simgpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&g_attach);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&g_attach);
}

/* The child shares the mapping but is a new process: it registers under its own pid. */
static void fork_child(void)
{
	g_proc = -1;
	pthread_mutex_unlock(&g_attach);
}

static void once_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static const char *seg_name(void)
{
	const char *n = getenv("XSCHED_SIM_NAME");

	return n && *n ? n : DEFAULT_NAME;
}

static int check_name(const char *n)
{
	if (strlen(n) > SIM_NAME_MAX || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, "..")) {
		fprintf(stderr,
		        "simgpu: bad XSCHED_SIM_NAME '%s': expected a file name under /dev/shm "
		        "(no '/', at most %d characters)\n",
		        n, SIM_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_uint(const char *var, const char *v, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || x < lo || x > hi) {
		fprintf(stderr, "simgpu: bad %s '%s': expected an integer from %lu to %lu\n", var,
		        v, lo, hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

int simgpu_parse_mode(const char *v, enum simgpu_mode *mode)
{
	static const char *const names[] = { "fifo", "timeslice", "concurrent" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(v, names[i])) {
			*mode = (enum simgpu_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *simgpu_mode_name(enum simgpu_mode mode)
{
	switch (mode) {
	case SIMGPU_FIFO:
		return "fifo";
	case SIMGPU_TIMESLICE:
		return "timeslice";
	case SIMGPU_CONCURRENT:
		return "concurrent";
	}
	return "?";
}

int simgpu_config_from_env(struct simgpu_config *cfg)
{
	const char *v;
	unsigned long x;

	cfg->mode = SIMGPU_FIFO;
	cfg->devices = 1;
	cfg->slice_us = 2000;
	v = getenv("XSCHED_SIM_MODE");
	if (v && *v && simgpu_parse_mode(v, &cfg->mode)) {
		fprintf(stderr,
		        "simgpu: bad XSCHED_SIM_MODE '%s': expected fifo, timeslice or "
		        "concurrent\n",
		        v);
		return -EINVAL;
	}
	v = getenv("XSCHED_SIM_DEVICES");
	if (v && *v) {
		if (parse_uint("XSCHED_SIM_DEVICES", v, 1, SIMGPU_MAX_DEVICES, &x))
			return -EINVAL;
		cfg->devices = (unsigned int)x;
	}
	v = getenv("XSCHED_SIM_SLICE_US");
	if (v && *v) {
		if (parse_uint("XSCHED_SIM_SLICE_US", v, 1, MAX_SLICE_US, &x))
			return -EINVAL;
		cfg->slice_us = (uint32_t)x;
	}
	return 0;
}

static void init_state(struct sim_shm *s, const struct simgpu_config *cfg)
{
	pthread_mutexattr_t ma;

	memset(s, 0, sizeof(*s));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	s->cfg = *cfg;
	s->now = simgpu_now_ns();
	s->seq = 1;
	s->free_head = SIM_NIL;
	s->retired_head = s->retired_tail = SIM_NIL;
	for (int d = 0; d < SIMGPU_MAX_DEVICES; d++) {
		s->dev[d].fifo_head = s->dev[d].fifo_tail = SIM_NIL;
		s->dev[d].active = -1;
	}
	for (uint32_t i = SIM_MAX_CMDS; i-- > 0;)
		sim_free_cmd(s, i);
	for (uint32_t i = 0; i < SIM_MAX_STREAMS; i++) {
		s->stream[i].gen = 1;
		s->stream[i].head = s->stream[i].tail = s->stream[i].ctx_next = SIM_NIL;
	}
	s->layout = SIM_LAYOUT;
	s->size = sizeof(*s);
	__atomic_store_n(&s->magic, SIM_MAGIC, __ATOMIC_RELEASE);
}

/* Map the segment, creating it with `cfg` (NULL: from the environment) if absent. The file
 * lock serialises creators; a creator that died half-way leaves magic 0, which the next one
 * repairs. */
static int map_segment(const struct simgpu_config *want, struct sim_shm **out)
{
	char path[SIM_NAME_MAX + 2];
	struct simgpu_config cfg;
	const char *name = seg_name();
	struct stat sb;
	struct sim_shm *s;
	int fd, err = 0;

	if (check_name(name))
		return -EINVAL;
	if (want)
		cfg = *want;
	else if (simgpu_config_from_env(&cfg))
		return -EINVAL;
	snprintf(path, sizeof(path), "/%s", name);
	/* Shared with the creator's group, never with everyone: like the real device nodes'
	 * usual "video"/"render" group access. */
	fd = shm_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) || fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	if (sb.st_size == 0 && ftruncate(fd, sizeof(*s))) {
		err = -errno;
		goto out;
	}
	if (sb.st_size != 0 && (size_t)sb.st_size != sizeof(*s)) {
		fprintf(stderr,
		        "simgpu: segment /dev/shm/%s has another layout (%lld bytes, expected "
		        "%zu); "
		        "remove it with 'simgpu destroy'\n",
		        name, (long long)sb.st_size, sizeof(*s));
		err = -EPROTO;
		goto out;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) == 0) {
		init_state(s, &cfg);
	} else if (s->magic != SIM_MAGIC || s->layout != SIM_LAYOUT || s->size != sizeof(*s)) {
		fprintf(stderr,
		        "simgpu: segment /dev/shm/%s was made by another version; remove it with "
		        "'simgpu destroy'\n",
		        name);
		munmap(s, sizeof(*s));
		err = -EPROTO;
		goto out;
	}
	*out = s;
out:
	flock(fd, LOCK_UN);
	close(fd);
	return err;
}

/* starttime (field 22) and state (field 3) of /proc/PID/stat; false if it cannot be read. */
static bool read_stat(pid_t pid, uint64_t *start, char *state)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	if (sscanf(p, "%llu", &st) != 1)
		return false;
	*start = st;
	return true;
}

static bool proc_gone(const struct sim_proc *pr)
{
	uint64_t start;
	char state;

	if (kill(pr->pid, 0) < 0 && errno == ESRCH)
		return true;
	if (!read_stat(pr->pid, &start, &state))
		return true;
	return state == 'Z' || state == 'X' || start != pr->start_time;
}

void sim_reap(struct sim_shm *s, bool force)
{
	uint64_t now = simgpu_now_ns();
	pid_t self = getpid();

	if (!force && now - s->last_reap < SIM_REAP_NS)
		return;
	s->last_reap = now;
	for (uint32_t p = 0; p < s->proc_hwm; p++) {
		struct sim_proc *pr = &s->proc[p];

		if (pr->state == PROC_ALIVE && pr->pid != self && proc_gone(pr))
			sim_drop_proc(s, (int)p);
	}
}

static void read_comm(char comm[16])
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	memset(comm, 0, 16);
	if (fd >= 0) {
		n = read(fd, comm, 15);
		close(fd);
	}
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
}

/* The kernel's per-exec random bytes: the same for every library of one process image,
 * different after exec(). */
static uint64_t image_cookie(void)
{
	const void *r = (const void *)getauxval(AT_RANDOM);
	uint64_t v = 0;

	if (r)
		memcpy(&v, r, sizeof(v));
	return v;
}

static int register_self(struct sim_shm *s)
{
	pid_t pid = getpid();
	uint64_t start = 0, image = image_cookie();
	char state;
	int slot = -1;

	read_stat(pid, &start, &state);
	sim_reap(s, true);
	for (uint32_t p = 0; p < s->proc_hwm; p++) {
		struct sim_proc *pr = &s->proc[p];

		if (pr->state != PROC_ALIVE || pr->pid != pid)
			continue;
		if (pr->start_time != start) {
			sim_drop_proc(s, (int)p); /* the pid was reused */
			continue;
		}
		if (pr->image != image) {
			/* exec(): the old image's work went with its context, and its
			 * completion tags mean nothing to the new one. Same process, so its
			 * ground truth carries on. */
			sim_drop_proc(s, (int)p);
			pr->state = PROC_ALIVE;
			pr->image = image;
			read_comm(pr->comm);
		}
		return (int)p;
	}
	for (uint32_t p = 0; p < SIMGPU_MAX_PROCS && slot < 0; p++)
		if (s->proc[p].state == PROC_FREE)
			slot = (int)p;
	bool free_found = slot >= 0;

	/* Table full: the statistics of the longest-dead process go first. */
	for (uint32_t p = 0; p < s->proc_hwm && !free_found; p++)
		if (s->proc[p].state == PROC_DEAD &&
		    (slot < 0 || s->proc[p].seq < s->proc[slot].seq))
			slot = (int)p;
	if (slot < 0)
		return -ENOSPC;

	struct sim_proc *pr = &s->proc[slot];

	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
	pr->start_time = start;
	pr->image = image;
	read_comm(pr->comm);
	pr->seq = ++s->proc_seq;
	pr->done_head = pr->done_tail = SIM_NIL;
	for (int d = 0; d < SIMGPU_MAX_DEVICES; d++) {
		pr->ctx[d].streams = pr->ctx[d].def_stream = pr->ctx[d].cur = SIM_NIL;
	}
	pr->state = PROC_ALIVE;
	if ((uint32_t)slot >= s->proc_hwm)
		s->proc_hwm = (uint32_t)slot + 1;
	return slot;
}

static void lock_segment(struct sim_shm *s)
{
	int r = pthread_mutex_lock(&s->lock);

	if (r == EOWNERDEAD) {
		/* Its owner died inside the model: repair the lists from the commands' own
		 * fields, then drop the dead owner's work. */
		pthread_mutex_consistent(&s->lock);
		sim_rebuild(s);
		sim_reap(s, true);
	}
}

static struct sim_shm *attach(int *err)
{
	struct sim_shm *s;

	pthread_once(&g_once, once_init);
	pthread_mutex_lock(&g_attach);
	if (!g_shm)
		*err = map_segment(NULL, &g_shm);
	s = g_shm;
	pthread_mutex_unlock(&g_attach);
	return s;
}

static struct sim_shm *enter_err(int *err)
{
	struct sim_shm *s;
	pid_t pid = getpid();

	*err = 0;
	s = attach(err);
	if (!s)
		return NULL;
	lock_segment(s);
	if (g_proc < 0 || g_pid != pid || s->proc[g_proc].state != PROC_ALIVE ||
	    s->proc[g_proc].pid != pid) {
		int p = register_self(s);

		if (p < 0) {
			pthread_mutex_unlock(&s->lock);
			*err = p;
			return NULL;
		}
		g_proc = p;
		g_pid = pid;
	}
	uint64_t now = simgpu_now_ns();

	sim_reap(s, false);
	sim_advance(s, now);
	return s;
}

struct sim_shm *sim_enter(void)
{
	int err;
	struct sim_shm *s = enter_err(&err);

	if (!s)
		errno = -err;
	return s;
}

/* For readers of ground truth (tools, tests): no registration as a GPU process. */
struct sim_shm *sim_enter_observer(void)
{
	int err = 0;
	struct sim_shm *s = attach(&err);

	if (!s) {
		errno = -err;
		return NULL;
	}
	lock_segment(s);
	sim_reap(s, false);
	sim_advance(s, simgpu_now_ns());
	return s;
}

/* True when the caller certainly has nothing to drain: nothing pending, nothing completed.
 * Read without the lock; complete() appends to the done list before it publishes the new
 * pending count, so a zero count seen here implies the append is visible too. */
bool sim_nothing_to_drain(void)
{
	struct sim_shm *s = g_shm;
	int p = g_proc;

	if (!s || p < 0 || g_pid != getpid())
		return false;
	if (__atomic_load_n(&s->proc[p].pending, __ATOMIC_ACQUIRE))
		return false;
	return __atomic_load_n(&s->proc[p].done_head, __ATOMIC_RELAXED) == SIM_NIL;
}

void sim_leave(struct sim_shm *s)
{
	pthread_mutex_unlock(&s->lock);
}

int sim_self(void)
{
	return g_proc;
}

int simgpu_attach(void)
{
	int err;
	struct sim_shm *s = enter_err(&err);

	if (s)
		sim_leave(s);
	return err;
}

const struct simgpu_config *simgpu_get_config(void)
{
	int err = 0;
	struct sim_shm *s = attach(&err);

	if (!s)
		errno = -err;
	return s ? &s->cfg : NULL;
}

/* Unmap our own view so that the next call maps whatever segment then exists. */
static void detach(void)
{
	pthread_once(&g_once, once_init);
	pthread_mutex_lock(&g_attach);
	if (g_shm)
		munmap(g_shm, sizeof(*g_shm));
	g_shm = NULL;
	g_proc = -1;
	pthread_mutex_unlock(&g_attach);
}

int simgpu_destroy(void)
{
	const char *name = seg_name();
	char path[SIM_NAME_MAX + 2];
	size_t len = strlen(name);
	int err = 0;
	DIR *dir;
	struct dirent *de;

	if (check_name(name))
		return -EINVAL;
	detach();
	snprintf(path, sizeof(path), "/%s", name);
	if (shm_unlink(path) && errno != ENOENT)
		err = -errno;
	/* Companion files of the front ends: /dev/shm/<name>.<anything>. */
	dir = opendir("/dev/shm");
	if (!dir)
		return err;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, name, len) && de->d_name[len] == '.' &&
		    de->d_name[len + 1])
			unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
	return err;
}

int simgpu_create(const struct simgpu_config *cfg)
{
	struct sim_shm *s = NULL;
	int err;

	if (cfg->mode > SIMGPU_CONCURRENT || cfg->devices < 1 ||
	    cfg->devices > SIMGPU_MAX_DEVICES || cfg->slice_us < 1 || cfg->slice_us > MAX_SLICE_US)
		return -EINVAL;
	err = simgpu_destroy();
	if (err)
		return err;
	pthread_mutex_lock(&g_attach);
	err = map_segment(cfg, &s);
	if (!err)
		g_shm = s;
	pthread_mutex_unlock(&g_attach);
	return err;
}
