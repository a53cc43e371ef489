/* SPDX-License-Identifier: MIT */
/*
 * Registration and backends.
 *
 * Backends register from their constructors; nothing else happens until one of their hooks
 * runs. The first hook of backend b to run (its runtime is loaded, or the hook would have
 * nothing to call) settles b, and registers the process unless another backend did: reads
 * the settings, lets b resolve its symbols, attaches to the shared segment and claims a slot.
 * Bad settings or a segment that cannot be used leave the whole process passing every call
 * through; a backend whose runtime lacks a symbol leaves only that backend's calls passing
 * through (another runtime may still be used); either is said once on stderr. The backend is
 * settled before the process registers, so a process whose only runtime cannot be used
 * claims no slot and prints one line.
 *
 * A fork child starts unregistered and registers under its own pid when it first uses the
 * GPU; an exec()ed image takes over the slot of the image before it (same pid).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xs_actu.h"
#include "xs_guard.h"
#include "xs_internal.h"
#include "xs_log.h"

struct xs_state xs;
_Atomic int xs_captures;

/* How long a thread waits for another one's registration before passing its call through. */
#define INIT_WAIT_NS 2000000000ull

static _Thread_local bool in_init;
/* Outside `xs`, which a fork child clears: the backends stay linked in. */
static struct xs_backend *backends[XS_MAX_BACKENDS];
static unsigned int nbackends;

void xs_backend_register(struct xs_backend *b)
{
	if (nbackends == XS_MAX_BACKENDS) {
		/* More backends than the build allows for: this one is unknown to the fork
		 * handler, so it never schedules (its calls pass through). */
		atomic_store(&b->state, XS_BE_FAILED);
		return;
	}
	backends[nbackends++] = b;
}

uint64_t xs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t xs_coarse_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void xs_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns, bool shared)
{
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000ull),
		               .tv_nsec = (long)(timeout_ns % 1000000000ull) };
	syscall(SYS_futex, (uint32_t *)word, shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, val, &ts,
	        NULL, 0);
}

void xs_futex_wake(_Atomic uint32_t *word, bool shared)
{
	syscall(SYS_futex, (uint32_t *)word, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, INT_MAX,
	        NULL, NULL, 0);
}

static void init_locks(void)
{
	pthread_mutex_init(&xs.dev_lock, NULL);
	pthread_mutex_init(&xs.table_lock, NULL);
	pthread_mutex_init(&xs.ring_lock, NULL);
	pthread_mutex_init(&xs.capture_lock, NULL);
	pthread_mutex_init(&xs.event_lock, NULL);
	pthread_mutex_init(&xs.grant_lock, NULL);
	for (int i = 0; i < XS_MAX_DEVS; i++)
		xs_dev_reset(&xs.devs[i]);
}

static int passthrough(const char *why)
{
	static int warned;
	xs_warn_once(&warned, "pid %d: %s; passing all calls through", (int)getpid(), why);
	atomic_store_explicit(&xs.state, XS_PASSTHROUGH, memory_order_release);
	return XS_PASSTHROUGH;
}

void xs_grants_poll(void)
{
	struct xsched_grants *g = atomic_load_explicit(&xs.grants, memory_order_acquire);
	uint64_t now = xs_coarse_now_ns();
	if (g && xsched_controller_fresh(g, now))
		return;
	uint64_t last = atomic_load_explicit(&xs.grant_try_ns, memory_order_relaxed);
	if ((last && now - last < XS_GRANT_RETRY_NS) ||
	    !atomic_compare_exchange_strong(&xs.grant_try_ns, &last, now ? now : 1))
		return;
	if (pthread_mutex_trylock(&xs.grant_lock))
		return;
	/* Absent, unsafe or unreadable: no controller, default windows (fail-open). A
	 * controller that replaced the segment is remapped in place. */
	if (xsched_grant_refresh_ro(xs.cfg.shm_name, &xs.gmap) == XSCHED_SHM_OK)
		atomic_store_explicit(&xs.grants, xs.gmap.g, memory_order_release);
	pthread_mutex_unlock(&xs.grant_lock);
}

static void start_line(void)
{
	char p[16], w[48], b[16];
	const struct xsched_grants *g = atomic_load(&xs.grants);
	int ctl = xsched_controller_pid(g);
	xs_prio_name(xs.cfg.prio, p, sizeof(p));
	xs_window_name(xs.cfg.window, w, sizeof(w));
	if (xs.cfg.budget_us) /* said only when set: the line stays as it was otherwise */
		snprintf(w + strlen(w), sizeof(w) - strlen(w), " budget %s",
		         xs_budget_name(xs.cfg.budget_us, b, sizeof(b)));
	if (ctl > 0 && xsched_controller_fresh(g, xs_now_ns()))
		xs_log(XS_LOG_INFO,
		       "pid %d priority %s window %s (default; controller pid %d sets it)",
		       (int)xs.pid, p, w, ctl);
	else
		xs_log(XS_LOG_INFO, "pid %d priority %s window %s (static, no controller)",
		       (int)xs.pid, p, w);
}

/* Another thread is running the one-time step behind `word` (now `busy`): wait for it, so
 * that no command slips past the window uncounted; but not for ever (it may be waiting for a
 * loader lock this thread holds: then this call passes through). Returns what it left. */
static int wait_out(_Atomic int *word, int busy)
{
	uint64_t give_up = xs_now_ns() + INIT_WAIT_NS;
	int s;
	while ((s = atomic_load_explicit(word, memory_order_acquire)) == busy &&
	       xs_now_ns() < give_up)
		sched_yield();
	return s;
}

/* Settle b once: XS_BE_READY (or already ON) or XS_BE_FAILED. The settings are read. */
static bool settle(struct xs_backend *b)
{
	int s = atomic_load_explicit(&b->state, memory_order_acquire);
	if (s == XS_BE_IDLE && atomic_compare_exchange_strong(&b->state, &s, XS_BE_SETTLING)) {
		char why[256];
		bool was = in_init;
		in_init = true;
		int rc = b->init(why, sizeof(why));
		in_init = was;
		if (rc)
			xs_log(XS_LOG_INFO, "pid %d: %s; passing %s calls through", (int)getpid(),
			       why, b->name);
		atomic_store_explicit(&b->state, rc ? XS_BE_FAILED : XS_BE_READY,
		                      memory_order_release);
		return !rc;
	}
	if (s == XS_BE_SETTLING)
		s = wait_out(&b->state, XS_BE_SETTLING);
	return s == XS_BE_READY || s == XS_BE_ON;
}

/* Registration by the first backend whose hook runs. XS_UNINIT when that backend cannot be
 * settled: the process stays unregistered, for another runtime it may use. */
static int do_init(struct xs_backend *b)
{
	char why[256];
	struct xs_config cfg;
	if (xs_config_from_env(&cfg, why, sizeof(why)))
		return passthrough(why);
	xs.cfg = cfg;
	xs_log_level = cfg.log;
	xs.pid = getpid();
	if (!settle(b))
		return XS_UNINIT;
	if (!xs.shm) {
		int rc = xsched_shm_open(cfg.shm_name, true, &xs.map);
		if (rc) {
			snprintf(why, sizeof(why), "shared memory /dev/shm/%s: %s", cfg.shm_name,
			         xsched_shm_strerror(rc));
			return passthrough(why);
		}
		xs.shm = xs.map.shm;
		xs_guard_arm(xs.map.shm, xs.map.size);
	}
	char comm[16] = { 0 };
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	xs.start_time = xsched_proc_start_time(xs.pid);
	xs.slot = xsched_proc_claim(xs.shm, xs.pid, xs.start_time, comm, cfg.prio, cfg.window);
	xs.slot_index = xsched_proc_index(xs.shm, xs.slot);
	if (!xs.slot) {
		snprintf(why, sizeof(why), "shared memory /dev/shm/%s: process table full (%d)",
		         cfg.shm_name, XSCHED_MAX_PROCS);
		return passthrough(why);
	}
	/* Busy counts left by processes that died mid-burst would hold our gate closed. */
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = xsched_proc_at(xs.shm, i);
		if (p && p != xs.slot && !xsched_proc_alive(p->pid, p->start_time))
			xsched_proc_drop_busy(xs.shm, p);
	}
	xs_grants_poll();
	start_line();
	atomic_store(&xs.state, XS_ACTIVE);
	/* After the store: an actuator noted meanwhile sees ACTIVE or is seen here. */
	xs_actuators_publish();
	return XS_ACTIVE;
}

/* The process registered (by b if by none before). */
static bool registered(struct xs_backend *b)
{
	int s = atomic_load_explicit(&xs.state, memory_order_acquire);
	if (s == XS_ACTIVE)
		return true;
	if (s == XS_PASSTHROUGH)
		return false;
	int expect = XS_UNINIT;
	if (atomic_compare_exchange_strong(&xs.state, &expect, XS_INITING)) {
		in_init = true;
		s = do_init(b);
		in_init = false;
		atomic_store_explicit(&xs.state, s, memory_order_release);
		return s == XS_ACTIVE;
	}
	return wait_out(&xs.state, XS_INITING) == XS_ACTIVE;
}

bool xs_backend_activate(struct xs_backend *b)
{
	/* A call the shim makes while registering, or into a backend that cannot be used. */
	if (in_init || atomic_load_explicit(&b->state, memory_order_acquire) == XS_BE_FAILED)
		return false;
	if (!registered(b) || !settle(b))
		return false;
	int ready = XS_BE_READY;
	atomic_compare_exchange_strong(&b->state, &ready, XS_BE_ON);
	return true;
}

/* A fork child has one thread and the parent's memory: nothing of the parent's GPU state is
 * valid for it (CUDA contexts do not survive fork). Start again from scratch, without
 * touching the driver or the parent's slot; the shared mapping is kept. */
static void fork_child(void)
{
	struct xsched_shm *shm = xs.shm;
	struct xsched_shm_map map = xs.map;
	struct xsched_grant_map gmap = xs.gmap;
	struct xsched_grants *grants = atomic_load(&xs.grants);
	memset(&xs, 0, sizeof(xs));
	xs.shm = shm;
	xs.map = map;
	xs.gmap = gmap; /* mappings survive fork; our identity in them does not */
	atomic_store(&xs.grants, grants);
	atomic_store(&xs_captures, 0);
	init_locks();
	/* Settled backends stay settled (same image, same symbols) but wait for the child to
	 * register; one caught settling by the fork is settled again. */
	for (unsigned int i = 0; i < nbackends; i++) {
		struct xs_backend *b = backends[i];
		int s = atomic_load(&b->state);
		if (s == XS_BE_ON)
			atomic_store(&b->state, XS_BE_READY);
		else if (s == XS_BE_SETTLING)
			atomic_store(&b->state, XS_BE_IDLE);
		if (b->fork_child)
			b->fork_child();
	}
}

__attribute__((constructor)) static void xs_constructor(void)
{
	init_locks();
	pthread_atfork(NULL, NULL, fork_child);
}

/* At exit, stop counting as busy: lower-priority processes must not wait for us. The slot
 * itself stays (its counters and latencies readable) until reclaimed once the pid is gone. */
__attribute__((destructor)) static void xs_destructor(void)
{
	if (atomic_load(&xs.state) == XS_ACTIVE && xs.slot && xs.pid == getpid())
		xsched_proc_drop_busy(xs.shm, xs.slot);
}
