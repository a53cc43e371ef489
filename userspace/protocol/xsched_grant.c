/* SPDX-License-Identifier: MIT */
/*
 * The controller-owned grant segment (xsched_grant.h): creating, mapping read-only,
 * writing grants, and identity-checked reading. libc only.
 */
#include "xsched_grant.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(struct xsched_grant_header) == 128, "grant header layout");
_Static_assert(sizeof(struct xsched_grant_slot) == 64 + 16 * XSCHED_MAX_GPUS, "slot layout");

void xsched_grant_path(const char *shm_name, char *out, size_t len)
{
	snprintf(out, len, "/dev/shm/%s%s", shm_name, XSCHED_GRANT_SUFFIX);
}

static bool layout_ok(const struct xsched_grant_header *h)
{
	return h->magic == XSCHED_GRANT_MAGIC && h->version == XSCHED_GRANT_VERSION &&
	       h->header_size == sizeof(struct xsched_grant_header) &&
	       h->total_size == sizeof(struct xsched_grants) && h->max_gpus == XSCHED_MAX_GPUS &&
	       h->max_procs == XSCHED_MAX_PROCS && h->max_prio == XSCHED_MAX_PRIO &&
	       h->slot_size == sizeof(struct xsched_grant_slot);
}

/* Type, owner, mode and size of an open segment; then its header. */
static int check_fd(int fd, struct stat *st)
{
	if (fstat(fd, st))
		return XSCHED_SHM_EOPEN;
	/* Only its owner may write it, and the owner must be someone the reader trusts:
	 * root, or itself (a controller run by the same user). */
	if (!S_ISREG(st->st_mode) || (st->st_mode & (S_IWGRP | S_IWOTH)) ||
	    (st->st_uid != 0 && st->st_uid != geteuid()))
		return XSCHED_SHM_EPERM;
	if ((size_t)st->st_size < sizeof(struct xsched_grant_header))
		return XSCHED_SHM_ETRUNC;
	struct xsched_grant_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return XSCHED_SHM_ETRUNC;
	if (h.magic != XSCHED_GRANT_MAGIC)
		return XSCHED_SHM_EMAGIC;
	if (h.version != XSCHED_GRANT_VERSION)
		return XSCHED_SHM_EVERSION;
	if (!layout_ok(&h))
		return XSCHED_SHM_ELAYOUT;
	if ((size_t)st->st_size < sizeof(struct xsched_grants))
		return XSCHED_SHM_ETRUNC;
	return XSCHED_SHM_OK;
}

static void init_segment(struct xsched_grants *g)
{
	struct xsched_grant_header *h = &g->hdr;
	h->version = XSCHED_GRANT_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = sizeof(*g);
	h->max_gpus = XSCHED_MAX_GPUS;
	h->max_procs = XSCHED_MAX_PROCS;
	h->max_prio = XSCHED_MAX_PRIO;
	h->slot_size = sizeof(struct xsched_grant_slot);
	h->created_ns = xsched_now_ns();
	for (int i = 0; i < XSCHED_MAX_PROCS; i++)
		atomic_store(&g->slots[i].granted_prio, -1);
	atomic_thread_fence(memory_order_release);
	h->magic = XSCHED_GRANT_MAGIC; /* published by rename(), after everything else */
}

static int map_rw(int fd, struct xsched_grant_map *m)
{
	void *p =
	        mmap(NULL, sizeof(struct xsched_grants), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return XSCHED_SHM_EMAP;
	struct stat st;
	if (fstat(fd, &st) == 0) {
		m->dev = st.st_dev;
		m->ino = st.st_ino;
	}
	m->g = p;
	m->size = sizeof(struct xsched_grants);
	return XSCHED_SHM_OK;
}

/* Reuse the existing segment when it is ours and sound. */
static int reuse(const char *path, mode_t mode, struct xsched_grant_map *m)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return XSCHED_SHM_ENOENT;
	struct stat st;
	int rc = check_fd(fd, &st);
	if (rc == XSCHED_SHM_OK && st.st_uid != geteuid())
		rc = XSCHED_SHM_EPERM; /* root's shims trust it; we cannot own it */
	if (rc == XSCHED_SHM_OK && fchmod(fd, mode))
		rc = XSCHED_SHM_EOPEN;
	if (rc == XSCHED_SHM_OK)
		rc = map_rw(fd, m);
	close(fd);
	return rc;
}

int xsched_grant_create(const char *shm_name, mode_t mode, gid_t gid, bool set_gid,
                        struct xsched_grant_map *out)
{
	char path[XSCHED_SHM_NAME_MAX + 32], tmp[XSCHED_SHM_NAME_MAX + 80];
	struct xsched_grant_map m = { 0 };
	if (!xsched_shm_name_ok(shm_name))
		return XSCHED_SHM_EBADNAME;
	mode &= 0644; /* never writable by anyone but the owner */
	xsched_grant_path(shm_name, path, sizeof(path));
	int rc = reuse(path, mode, &m);
	if (rc == XSCHED_SHM_OK) {
		if (set_gid && fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW)) {
			xsched_grant_close(&m);
			return XSCHED_SHM_EOPEN;
		}
		*out = m;
		return XSCHED_SHM_OK;
	}
	snprintf(tmp, sizeof(tmp), "/dev/shm/.%s%s.%d.%llx", shm_name, XSCHED_GRANT_SUFFIX,
	         (int)getpid(), (unsigned long long)xsched_now_ns());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return XSCHED_SHM_EOPEN;
	rc = XSCHED_SHM_OK;
	if (ftruncate(fd, (off_t)sizeof(struct xsched_grants)) ||
	    (set_gid && fchown(fd, (uid_t)-1, gid)) || fchmod(fd, mode))
		rc = XSCHED_SHM_EOPEN;
	else
		rc = map_rw(fd, &m);
	if (rc == XSCHED_SHM_OK) {
		init_segment(m.g);
		/* Replaces a segment that is not ours or not sound; in a sticky /dev/shm only
		 * its owner or root may, and a segment we may not replace is an error. */
		if (rename(tmp, path)) {
			int e = errno;
			xsched_grant_close(&m);
			unlink(tmp);
			errno = e;
			rc = XSCHED_SHM_EOPEN;
		}
	} else {
		unlink(tmp);
	}
	close(fd);
	if (rc == XSCHED_SHM_OK)
		*out = m;
	return rc;
}

/* Open and check the file at the segment's name; fd >= 0 or a negative error. */
static int open_checked(const char *shm_name, struct stat *st)
{
	char path[XSCHED_SHM_NAME_MAX + 32];
	if (!xsched_shm_name_ok(shm_name))
		return XSCHED_SHM_EBADNAME;
	xsched_grant_path(shm_name, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? XSCHED_SHM_ENOENT : XSCHED_SHM_EOPEN;
	int rc = check_fd(fd, st);
	if (rc != XSCHED_SHM_OK) {
		close(fd);
		return rc;
	}
	return fd;
}

int xsched_grant_open_ro(const char *shm_name, struct xsched_grant_map *out)
{
	struct stat st;
	int fd = open_checked(shm_name, &st);
	if (fd < 0)
		return fd;
	void *p = mmap(NULL, sizeof(struct xsched_grants), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return XSCHED_SHM_EMAP;
	out->g = p;
	out->size = sizeof(struct xsched_grants);
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return XSCHED_SHM_OK;
}

int xsched_grant_refresh_ro(const char *shm_name, struct xsched_grant_map *m)
{
	if (!m->g)
		return xsched_grant_open_ro(shm_name, m);
	struct stat st;
	int fd = open_checked(shm_name, &st);
	if (fd < 0)
		return fd;
	int rc = XSCHED_SHM_OK;
	if (st.st_dev != m->dev || st.st_ino != m->ino) {
		void *p = mmap(m->g, m->size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
		if (p == MAP_FAILED) {
			rc = XSCHED_SHM_EMAP; /* the old mapping is untouched */
		} else {
			m->dev = st.st_dev;
			m->ino = st.st_ino;
		}
	}
	close(fd);
	return rc;
}

void xsched_grant_close(struct xsched_grant_map *m)
{
	if (m->g)
		munmap(m->g, m->size);
	m->g = NULL;
}

/* ---- Writer ---- */

static void kick_all(struct xsched_shm *shm)
{
	if (!shm)
		return;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++)
		if (xsched_gpu_at(shm, i))
			xsched_gpu_kick(&shm->gpus[i]);
}

void xsched_controller_beat(struct xsched_grants *g, struct xsched_shm *shm, pid_t pid)
{
	int32_t old = atomic_exchange(&g->hdr.controller_pid, (int32_t)pid);
	atomic_store_explicit(&g->hdr.controller_heartbeat_ns, xsched_now_ns(),
	                      memory_order_release);
	if (old != pid) /* a controller arrived: grants apply now */
		kick_all(shm);
}

static void slot_zero(struct xsched_grant_slot *s)
{
	atomic_store(&s->granted_prio, -1);
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		atomic_store(&s->gpu[i].grant, XSCHED_GRANT_NONE);
		atomic_store(&s->gpu[i].budget_us, 0);
	}
}

void xsched_controller_leave(struct xsched_grants *g, struct xsched_shm *shm)
{
	atomic_store(&g->hdr.controller_pid, 0);
	atomic_store(&g->hdr.controller_heartbeat_ns, 0);
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		atomic_store_explicit(&g->slots[i].pid, 0, memory_order_release);
		slot_zero(&g->slots[i]);
	}
	kick_all(shm);
}

bool xsched_grant_assign(struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time)
{
	if (slot < 0 || slot >= XSCHED_MAX_PROCS)
		return false;
	struct xsched_grant_slot *s = &g->slots[slot];
	if (atomic_load(&s->pid) == pid && atomic_load(&s->start_time) == start_time)
		return true;
	/* Nobody's first, so that no reader pairs the old grants with the new identity. */
	atomic_store_explicit(&s->pid, 0, memory_order_release);
	slot_zero(s);
	atomic_store(&s->start_time, start_time);
	atomic_store_explicit(&s->pid, (int32_t)pid, memory_order_release);
	return true;
}

void xsched_grant_windows(struct xsched_grants *g, struct xsched_shm *shm, int slot, int gpu,
                          uint64_t grant)
{
	if (slot < 0 || slot >= XSCHED_MAX_PROCS)
		return;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		if (gpu >= 0 && i != gpu)
			continue;
		atomic_store_explicit(&g->slots[slot].gpu[i].grant, grant, memory_order_release);
		if (shm && xsched_gpu_at(shm, i))
			xsched_gpu_kick(&shm->gpus[i]);
	}
}

void xsched_grant_budget(struct xsched_grants *g, int slot, int gpu, uint32_t budget_us)
{
	if (slot < 0 || slot >= XSCHED_MAX_PROCS)
		return;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++)
		if (gpu < 0 || i == gpu)
			atomic_store_explicit(&g->slots[slot].gpu[i].budget_us, budget_us,
			                      memory_order_release);
}

void xsched_grant_prio(struct xsched_grants *g, struct xsched_shm *shm, int slot, int prio)
{
	if (slot < 0 || slot >= XSCHED_MAX_PROCS)
		return;
	if (prio >= XSCHED_MAX_PRIO)
		prio = XSCHED_MAX_PRIO - 1;
	atomic_store_explicit(&g->slots[slot].granted_prio, prio < 0 ? -1 : prio,
	                      memory_order_release);
	kick_all(shm);
}

void xsched_grant_clear(struct xsched_grants *g, struct xsched_shm *shm, int slot)
{
	if (slot < 0 || slot >= XSCHED_MAX_PROCS)
		return;
	atomic_store_explicit(&g->slots[slot].pid, 0, memory_order_release);
	slot_zero(&g->slots[slot]);
	kick_all(shm);
}

/* ---- Readers ---- */

bool xsched_controller_fresh(const struct xsched_grants *g, uint64_t now_ns)
{
	if (!g)
		return false;
	uint64_t hb = atomic_load_explicit(&g->hdr.controller_heartbeat_ns, memory_order_acquire);
	if (hb == 0)
		return false;
	/* A beat stamped a little after `now` (a coarse clock) is fresh. */
	return (int64_t)(now_ns - hb) < (int64_t)XSCHED_HEARTBEAT_STALE_NS;
}

int32_t xsched_controller_pid(const struct xsched_grants *g)
{
	if (!g)
		return 0;
	int32_t pid = atomic_load_explicit(&g->hdr.controller_pid, memory_order_relaxed);
	return pid > 0 ? pid : 0;
}

/* The slot when it is (pid, start_time)'s, else NULL. */
static const struct xsched_grant_slot *own_slot(const struct xsched_grants *g, int slot, pid_t pid,
                                                uint64_t start_time)
{
	if (!g || slot < 0 || slot >= XSCHED_MAX_PROCS || pid <= 0)
		return NULL;
	const struct xsched_grant_slot *s = &g->slots[slot];
	if (atomic_load_explicit(&s->pid, memory_order_acquire) != pid ||
	    atomic_load_explicit(&s->start_time, memory_order_relaxed) != start_time)
		return NULL;
	return s;
}

/* After reading a value from s: the identity still holds (it did not change hands while we
 * read, which would pair someone else's value with ours). */
static bool still_mine(const struct xsched_grant_slot *s, pid_t pid)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->pid, memory_order_relaxed) == pid;
}

bool xsched_grant_mine(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time)
{
	return own_slot(g, slot, pid, start_time) != NULL;
}

uint64_t xsched_grant_word(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time,
                           int gpu)
{
	const struct xsched_grant_slot *s = own_slot(g, slot, pid, start_time);
	if (!s || gpu < 0 || gpu >= XSCHED_MAX_GPUS)
		return XSCHED_GRANT_NONE;
	uint64_t w = atomic_load_explicit(&s->gpu[gpu].grant, memory_order_acquire);
	return still_mine(s, pid) ? w : XSCHED_GRANT_NONE;
}

int xsched_granted_prio(const struct xsched_grants *g, int slot, pid_t pid, uint64_t start_time)
{
	const struct xsched_grant_slot *s = own_slot(g, slot, pid, start_time);
	if (!s)
		return -1;
	int p = atomic_load_explicit(&s->granted_prio, memory_order_relaxed);
	if (!still_mine(s, pid) || p < 0 || p >= XSCHED_MAX_PRIO)
		return -1;
	return p;
}

uint32_t xsched_grant_budget_us(const struct xsched_grants *g, int slot, pid_t pid,
                                uint64_t start_time, int gpu)
{
	const struct xsched_grant_slot *s = own_slot(g, slot, pid, start_time);
	if (!s || gpu < 0 || gpu >= XSCHED_MAX_GPUS)
		return 0;
	uint32_t b = atomic_load_explicit(&s->gpu[gpu].budget_us, memory_order_relaxed);
	return still_mine(s, pid) ? b : 0;
}

bool xsched_grant_peek(const struct xsched_grants *g, int slot, struct xsched_grant_peek *out)
{
	if (!g || slot < 0 || slot >= XSCHED_MAX_PROCS)
		return false;
	const struct xsched_grant_slot *s = &g->slots[slot];
	out->pid = atomic_load(&s->pid);
	out->granted_prio = atomic_load(&s->granted_prio);
	out->start_time = atomic_load(&s->start_time);
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		out->grant[i] = atomic_load(&s->gpu[i].grant);
		out->budget_us[i] = atomic_load(&s->gpu[i].budget_us);
	}
	return true;
}
