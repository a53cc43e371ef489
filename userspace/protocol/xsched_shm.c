/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory protocol: attaching, GPU records, process slots and latency rings.
 * Compiled into libxsched.so and into the controller's tools; uses only libc.
 */
#include "xsched_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct xsched_shm_header) == 128, "header layout");
_Static_assert((XSCHED_RING_LEN & (XSCHED_RING_LEN - 1)) == 0, "ring length: a power of two");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic uint32_t) == 4, "atomics");

/* A half-claimed record (its claimer died between two stores) is skipped after this long. */
#define CLAIM_WAIT_NS 200000000ull

uint64_t xsched_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *xsched_shm_env_name(void)
{
	const char *n = getenv("XSCHED_SHM");
	return n && *n ? n : XSCHED_SHM_DEFAULT;
}

bool xsched_shm_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= XSCHED_SHM_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *xsched_shm_strerror(int err)
{
	switch (err) {
	case XSCHED_SHM_OK:
		return "ok";
	case XSCHED_SHM_EBADNAME:
		return "bad segment name (accepted: 1-63 of A-Z a-z 0-9 . _ -, not starting with "
		       ".)";
	case XSCHED_SHM_ENOENT:
		return "no such segment";
	case XSCHED_SHM_EOPEN:
		return "cannot open or create the segment";
	case XSCHED_SHM_ETRUNC:
		return "segment truncated";
	case XSCHED_SHM_EMAGIC:
		return "bad magic (not an xsched segment)";
	case XSCHED_SHM_EVERSION:
		return "protocol version mismatch";
	case XSCHED_SHM_ELAYOUT:
		return "layout mismatch (shim and controller built differently)";
	case XSCHED_SHM_EPERM:
		return "unsafe segment (world-writable or not a regular file)";
	case XSCHED_SHM_EMAP:
		return "cannot map the segment";
	case XSCHED_SHM_ETIMEOUT:
		return "segment initialisation timed out";
	}
	return "unknown error";
}

static void shm_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "/dev/shm/%s", name);
}

static void header_init(struct xsched_shm *shm)
{
	struct xsched_shm_header *h = &shm->hdr;
	h->version = XSCHED_SHM_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = sizeof(*shm);
	h->max_gpus = XSCHED_MAX_GPUS;
	h->max_procs = XSCHED_MAX_PROCS;
	h->max_prio = XSCHED_MAX_PRIO;
	h->ring_len = XSCHED_RING_LEN;
	h->gpu_size = sizeof(struct xsched_gpu);
	h->proc_size = sizeof(struct xsched_proc);
	h->created_ns = xsched_now_ns();
	h->magic = XSCHED_SHM_MAGIC; /* published by link(), after everything else */
}

/* Validate an open segment before mapping all of it. */
static int check_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return XSCHED_SHM_EOPEN;
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IWOTH))
		return XSCHED_SHM_EPERM;
	if ((size_t)st.st_size < sizeof(struct xsched_shm_header))
		return XSCHED_SHM_ETRUNC;
	struct xsched_shm_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return XSCHED_SHM_ETRUNC;
	if (h.magic != XSCHED_SHM_MAGIC)
		return XSCHED_SHM_EMAGIC;
	if (h.version != XSCHED_SHM_VERSION)
		return XSCHED_SHM_EVERSION;
	if (h.header_size != sizeof(struct xsched_shm_header) ||
	    h.total_size != sizeof(struct xsched_shm) || h.max_gpus != XSCHED_MAX_GPUS ||
	    h.max_procs != XSCHED_MAX_PROCS || h.max_prio != XSCHED_MAX_PRIO ||
	    h.ring_len != XSCHED_RING_LEN || h.gpu_size != sizeof(struct xsched_gpu) ||
	    h.proc_size != sizeof(struct xsched_proc))
		return XSCHED_SHM_ELAYOUT;
	if ((size_t)st.st_size < sizeof(struct xsched_shm))
		return XSCHED_SHM_ETRUNC;
	return XSCHED_SHM_OK;
}

static int map_fd(int fd, struct xsched_shm_map *m)
{
	void *p = mmap(NULL, sizeof(struct xsched_shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return XSCHED_SHM_EMAP;
	m->shm = p;
	m->size = sizeof(struct xsched_shm);
	return XSCHED_SHM_OK;
}

/* create_segment() result when another process linked its segment first: open theirs. */
#define CREATE_LOST_RACE 1

/* Build a fresh segment under a temporary name and link it into place, so that nobody can
 * open it half-initialised. */
static int create_segment(const char *name, struct xsched_shm_map *m)
{
	char tmp[XSCHED_SHM_NAME_MAX + 64];
	snprintf(tmp, sizeof(tmp), "/dev/shm/.%s.%d.%llx", name, (int)getpid(),
	         (unsigned long long)xsched_now_ns());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0)
		return XSCHED_SHM_EOPEN;
	int rc = XSCHED_SHM_OK;
	if (ftruncate(fd, (off_t)sizeof(struct xsched_shm))) {
		rc = XSCHED_SHM_EOPEN;
	} else if ((rc = map_fd(fd, m)) == XSCHED_SHM_OK) {
		header_init(m->shm);
		if (link(tmp, m->path)) {
			int e = errno;
			munmap(m->shm, m->size);
			m->shm = NULL;
			rc = e == EEXIST ? CREATE_LOST_RACE : XSCHED_SHM_EOPEN;
		}
	}
	unlink(tmp);
	close(fd);
	return rc;
}

int xsched_shm_open(const char *name, bool create, struct xsched_shm_map *out)
{
	struct xsched_shm_map m = { 0 };
	if (!xsched_shm_name_ok(name))
		return XSCHED_SHM_EBADNAME;
	shm_path(m.path, sizeof(m.path), name);
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = open(m.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				return XSCHED_SHM_EOPEN;
			if (!create)
				return XSCHED_SHM_ENOENT;
			int rc = create_segment(name, &m);
			if (rc == XSCHED_SHM_OK) {
				*out = m;
				return XSCHED_SHM_OK;
			}
			if (rc != CREATE_LOST_RACE)
				return rc;
			continue;
		}
		int rc = check_fd(fd);
		if (rc == XSCHED_SHM_OK)
			rc = map_fd(fd, &m);
		close(fd);
		if (rc == XSCHED_SHM_OK)
			*out = m;
		return rc;
	}
	return XSCHED_SHM_EOPEN;
}

void xsched_shm_close(struct xsched_shm_map *m)
{
	if (m->shm)
		munmap(m->shm, m->size);
	m->shm = NULL;
}

int xsched_shm_unlink(const char *name)
{
	char path[XSCHED_SHM_NAME_MAX + 16];
	if (!xsched_shm_name_ok(name))
		return -EINVAL;
	shm_path(path, sizeof(path), name);
	return unlink(path) ? -errno : 0;
}

/* ---- GPUs ---- */

static void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void xsched_gpu_kick(struct xsched_gpu *g)
{
	atomic_fetch_add(&g->epoch, 1);
	if (atomic_load(&g->waiters))
		futex_wake_all(&g->epoch);
}

int32_t xsched_gpu_busy_above(const struct xsched_gpu *g, int prio)
{
	/* The counts are untrusted: summed wide and saturated, never overflowed. */
	int64_t n = 0;
	if (prio > XSCHED_MAX_PRIO)
		prio = XSCHED_MAX_PRIO;
	for (int p = 0; p < prio; p++) {
		int32_t b = atomic_load_explicit(&g->busy[p], memory_order_acquire);
		if (b > 0)
			n += b;
	}
	return n > INT32_MAX ? INT32_MAX : (int32_t)n;
}

int xsched_gpu_find(struct xsched_shm *shm, const uint8_t uuid[16], bool create)
{
	/* Records are claimed in index order and a claimer finishes before anyone looks
	 * past it, so one UUID never gets two records. */
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		struct xsched_gpu *g = &shm->gpus[i];
		uint64_t deadline = 0;
		for (;;) {
			uint32_t s = atomic_load_explicit(&g->state, memory_order_acquire);
			if (s == XSCHED_GPU_READY) {
				if (!memcmp(g->uuid, uuid, 16))
					return i;
				break;
			}
			if (s == XSCHED_GPU_FREE) {
				if (!create)
					return -1;
				uint32_t expect = XSCHED_GPU_FREE;
				if (atomic_compare_exchange_strong(&g->state, &expect,
				                                   XSCHED_GPU_CLAIMING)) {
					memcpy(g->uuid, uuid, 16);
					atomic_store_explicit(&g->state, XSCHED_GPU_READY,
					                      memory_order_release);
					return i;
				}
				continue;
			}
			/* CLAIMING: its claimer is between two stores; give it a moment. */
			uint64_t now = xsched_now_ns();
			if (!deadline)
				deadline = now + CLAIM_WAIT_NS;
			if (now > deadline)
				break;
			sched_yield();
		}
	}
	return -1;
}

/* ---- Processes ---- */

uint64_t xsched_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* After ')' come fields 3.. (state is 3); starttime is field 22. */
	int field = 2;
	for (; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

bool xsched_proc_alive(pid_t pid, uint64_t start_time)
{
	if (pid <= 0)
		return false;
	if (kill(pid, 0) && errno == ESRCH)
		return false;
	uint64_t st = xsched_proc_start_time(pid);
	/* Unreadable /proc (another namespace, hidepid): trust kill(). */
	return st == 0 || start_time == 0 || st == start_time;
}

void xsched_proc_busy_enter(struct xsched_shm *shm, struct xsched_proc *p, int gpu, int prio)
{
	if (gpu < 0 || gpu >= XSCHED_MAX_GPUS || prio < 0 || prio >= XSCHED_MAX_PRIO)
		return;
	uint32_t expect = 0;
	if (atomic_compare_exchange_strong(&p->gpu[gpu].busy_prio, &expect, (uint32_t)prio + 1))
		atomic_fetch_add(&shm->gpus[gpu].busy[prio], 1);
}

void xsched_proc_busy_leave(struct xsched_shm *shm, struct xsched_proc *p, int gpu)
{
	if (gpu < 0 || gpu >= XSCHED_MAX_GPUS)
		return;
	/* The exchange makes the owner and a reclaimer subtract exactly once between them. */
	uint32_t b = atomic_exchange(&p->gpu[gpu].busy_prio, 0);
	if (b == 0 || b > XSCHED_MAX_PRIO)
		return;
	struct xsched_gpu *g = &shm->gpus[gpu];
	if (atomic_fetch_sub(&g->busy[b - 1], 1) <= 1)
		xsched_gpu_kick(g); /* the last busy process at this level left: windows open */
}

void xsched_proc_drop_busy(struct xsched_shm *shm, struct xsched_proc *p)
{
	for (int i = 0; i < XSCHED_MAX_GPUS; i++)
		xsched_proc_busy_leave(shm, p, i);
}

static void slot_reset(struct xsched_proc *p)
{
	p->start_time = 0;
	memset(p->comm, 0, sizeof(p->comm));
	p->requested_prio = XSCHED_PRIO_NORMAL;
	p->default_window = XSCHED_WINDOW_UNLIMITED;
	atomic_store(&p->image, 0);
	atomic_store(&p->attach_ns, 0);
	atomic_store(&p->actuators, 0);
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		struct xsched_proc_gpu *g = &p->gpu[i];
		atomic_store(&g->window, 0);
		atomic_store(&g->used, 0);
		atomic_store(&g->launches, 0);
		atomic_store(&g->completions, 0);
		atomic_store(&g->syncs, 0);
		atomic_store(&g->blocked_ns, 0);
		atomic_store(&g->bursts, 0);
		atomic_store(&g->inflight, 0);
		atomic_store(&g->budget_applied_us, 0);
		atomic_store(&g->est_inflight_us, 0);
		atomic_store(&g->cmd_mean_us, 0);
		atomic_store(&g->cmd_max_us, 0);
	}
	atomic_store(&p->ring.head, 0);
	atomic_store(&p->ring.tail, 0);
	atomic_store(&p->ring.dropped, 0);
}

/* Reclaim slot p if its process is dead; true when it was freed. */
static bool reclaim_if_dead(struct xsched_shm *shm, struct xsched_proc *p)
{
	int32_t pid = atomic_load(&p->pid);
	if (pid <= 0)
		return false;
	uint32_t state = atomic_load_explicit(&p->state, memory_order_acquire);
	uint64_t st = state == XSCHED_PROC_READY ? p->start_time : 0;
	if (xsched_proc_alive(pid, st))
		return false;
	/* Only one reclaimer wins the pid; the slot is invisible to claimers meanwhile. */
	if (!atomic_compare_exchange_strong(&p->pid, &pid, XSCHED_PID_RECLAIMING))
		return false;
	atomic_store(&p->state, XSCHED_PROC_FREE);
	xsched_proc_drop_busy(shm, p);
	slot_reset(p);
	atomic_store_explicit(&p->pid, 0, memory_order_release);
	atomic_fetch_add(&shm->hdr.generation, 1);
	return true;
}

int xsched_proc_reclaim_dead(struct xsched_shm *shm)
{
	int n = 0;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++)
		n += reclaim_if_dead(shm, &shm->procs[i]);
	return n;
}

static void slot_fill(struct xsched_shm *shm, struct xsched_proc *p, uint64_t start_time,
                      const char *comm, int prio, uint32_t window)
{
	p->start_time = start_time;
	memset(p->comm, 0, sizeof(p->comm));
	if (comm)
		strncpy(p->comm, comm, sizeof(p->comm) - 1);
	p->requested_prio = prio;
	p->default_window = window;
	atomic_store(&p->actuators, 0);
	atomic_store(&p->attach_ns, xsched_now_ns());
	atomic_store_explicit(&p->state, XSCHED_PROC_READY, memory_order_release);
	atomic_fetch_add(&shm->hdr.generation, 1);
}

struct xsched_proc *xsched_proc_claim(struct xsched_shm *shm, pid_t pid, uint64_t start_time,
                                      const char *comm, int requested_prio, uint32_t default_window)
{
	if (pid <= 0)
		return NULL;
	/* exec() keeps the pid: the new image takes over the slot of the old one. */
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = &shm->procs[i];
		if (atomic_load(&p->pid) != pid)
			continue;
		if (atomic_load_explicit(&p->state, memory_order_acquire) == XSCHED_PROC_READY &&
		    p->start_time == start_time) {
			xsched_proc_drop_busy(shm, p);
			atomic_fetch_add(&p->image, 1);
			for (int g = 0; g < XSCHED_MAX_GPUS; g++)
				atomic_store(&p->gpu[g].inflight, 0);
			memset(p->comm, 0, sizeof(p->comm));
			if (comm)
				strncpy(p->comm, comm, sizeof(p->comm) - 1);
			p->requested_prio = requested_prio;
			p->default_window = default_window;
			atomic_store(&p->actuators, 0); /* the new image applies its own */
			atomic_fetch_add(&shm->hdr.generation, 1);
			return p;
		}
		/* Our pid in someone else's stale slot: an earlier process that had it. */
		reclaim_if_dead(shm, p);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
			struct xsched_proc *p = &shm->procs[i];
			int32_t expect = 0;
			if (atomic_compare_exchange_strong(&p->pid, &expect, pid)) {
				slot_fill(shm, p, start_time, comm, requested_prio, default_window);
				return p;
			}
		}
		if (pass == 0 && xsched_proc_reclaim_dead(shm) == 0)
			break;
	}
	return NULL;
}

void xsched_proc_release(struct xsched_shm *shm, struct xsched_proc *p)
{
	int32_t pid = atomic_load(&p->pid);
	if (pid <= 0)
		return;
	if (!atomic_compare_exchange_strong(&p->pid, &pid, XSCHED_PID_RECLAIMING))
		return;
	atomic_store(&p->state, XSCHED_PROC_FREE);
	xsched_proc_drop_busy(shm, p);
	slot_reset(p);
	atomic_store_explicit(&p->pid, 0, memory_order_release);
	atomic_fetch_add(&shm->hdr.generation, 1);
}

struct xsched_proc *xsched_proc_at(struct xsched_shm *shm, int i)
{
	if (i < 0 || i >= XSCHED_MAX_PROCS)
		return NULL;
	struct xsched_proc *p = &shm->procs[i];
	if (atomic_load(&p->pid) <= 0 ||
	    atomic_load_explicit(&p->state, memory_order_acquire) != XSCHED_PROC_READY)
		return NULL;
	return p;
}

struct xsched_gpu *xsched_gpu_at(struct xsched_shm *shm, int i)
{
	if (i < 0 || i >= XSCHED_MAX_GPUS)
		return NULL;
	struct xsched_gpu *g = &shm->gpus[i];
	if (atomic_load_explicit(&g->state, memory_order_acquire) != XSCHED_GPU_READY)
		return NULL;
	return g;
}

struct xsched_proc *xsched_proc_find(struct xsched_shm *shm, pid_t pid)
{
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = xsched_proc_at(shm, i);
		if (p && atomic_load(&p->pid) == pid)
			return p;
	}
	return NULL;
}

/* ---- Latency rings ---- */

bool xsched_ring_push(struct xsched_ring *r, const struct xsched_lat *s)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	/* A tail beyond head is a consumer bug; head - tail wraps huge and counts as full
	 * until the consumer resynchronises. */
	if (head - tail >= XSCHED_RING_LEN) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return false;
	}
	r->lat[head & (XSCHED_RING_LEN - 1)] = *s;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

size_t xsched_ring_read(struct xsched_ring *r, struct xsched_lat *out, size_t max, bool consume)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (head - tail > XSCHED_RING_LEN) {
		/* Corrupt or lapped indices: keep only the newest ring's worth. */
		tail = head - XSCHED_RING_LEN;
		if (head < XSCHED_RING_LEN)
			tail = 0;
	}
	size_t n = 0;
	for (uint64_t i = tail; i != head && n < max; i++, n++)
		out[n] = r->lat[i & (XSCHED_RING_LEN - 1)];
	if (consume)
		atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

int xsched_proc_index(const struct xsched_shm *shm, const struct xsched_proc *p)
{
	if (!shm || p < shm->procs || p >= shm->procs + XSCHED_MAX_PROCS)
		return -1;
	return (int)(p - shm->procs);
}
