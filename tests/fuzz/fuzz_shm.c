// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the shared-memory protocol's reader side (userspace/protocol): the
 * input becomes the bytes of a segment in /dev/shm, opened and validated by the real
 * xsched_shm_open() (magic, version, layout sizes, file size, permissions); a segment that
 * passes is then walked the way the controller walks it: GPU records, process slots, busy
 * counts, latency rings (consumed), and dead-slot reclaim. With flag bit 1 the bytes are the
 * controller's grant segment instead (xsched_grant.h), opened by the shim's reader
 * (xsched_grant_open_ro: type, owner, mode, magic, version, layout) and read through every
 * accessor the shim and the tools use: heartbeat, controller pid, identity-checked grants,
 * priorities and budgets.
 *
 * Input: byte 0 holds flags; the rest is the segment from offset 0. Flag bit 0 extends the
 * file with zeros to the full layout size, so that short inputs can reach the readers; without
 * it the file is exactly as long as the input (truncation).
 */
#include "xsched_grant.h"
#include "xsched_shm.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xsched_lat samples[XSCHED_RING_LEN + 1];

static void walk(struct xsched_shm *shm)
{
	static const uint8_t uuid[16] = { 0x5a };
	volatile uint64_t sink = 0;

	for (int i = -1; i <= XSCHED_MAX_GPUS; i++) {
		struct xsched_gpu *g = xsched_gpu_at(shm, i);

		if (!g)
			continue;
		for (int p = -1; p <= XSCHED_MAX_PRIO + 1; p++)
			sink += (uint64_t)xsched_gpu_busy_above(g, p);
	}
	/* A record neither FREE nor READY (CLAIMING, or garbage) makes xsched_gpu_find() wait 200
	 * ms for it (by design: its claimer may be between two stores); skipped here to keep the
	 * fuzzer fast. */
	bool claiming = false;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		uint32_t st = atomic_load(&shm->gpus[i].state);

		claiming |= st != XSCHED_GPU_FREE && st != XSCHED_GPU_READY;
	}
	if (!claiming)
		sink += (uint64_t)xsched_gpu_find(shm, uuid, false);
	for (int i = -1; i <= XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = xsched_proc_at(shm, i);

		if (!p)
			continue;
		sink += strnlen(p->comm, sizeof(p->comm));
		for (int g = 0; g < XSCHED_MAX_GPUS; g++)
			sink += atomic_load(&p->gpu[g].busy_prio);
		size_t n = xsched_ring_read(&p->ring, samples, XSCHED_RING_LEN + 1, false);
		if (n > XSCHED_RING_LEN)
			abort();
		n = xsched_ring_read(&p->ring, samples, XSCHED_RING_LEN + 1, true);
		if (n > XSCHED_RING_LEN)
			abort();
		sink += n;
	}
	sink += (uintptr_t)xsched_proc_find(shm, getpid());
	sink += (uint64_t)xsched_proc_reclaim_dead(shm);
	(void)sink;
}

static void check_grant(uint64_t gr)
{
	if (xsched_grant_busy(gr) > XSCHED_WINDOW_UNLIMITED ||
	    xsched_grant_idle(gr) > XSCHED_WINDOW_UNLIMITED)
		abort();
}

static void walk_grants(const struct xsched_grants *g)
{
	volatile uint64_t sink = 0;
	struct xsched_grant_peek pk;

	sink += xsched_controller_fresh(g, xsched_now_ns());
	sink += (uint64_t)xsched_controller_pid(g);
	if (xsched_controller_pid(g) < 0)
		abort();
	for (int i = -1; i <= XSCHED_MAX_PROCS; i++) {
		bool in = xsched_grant_peek(g, i, &pk);

		if (in != (i >= 0 && i < XSCHED_MAX_PROCS))
			abort();
		if (!in)
			pk.pid = 1, pk.start_time = 0;
		int prio = xsched_granted_prio(g, i, pk.pid, pk.start_time);
		if (prio < -1 || prio >= XSCHED_MAX_PRIO)
			abort();
		sink += xsched_grant_mine(g, i, pk.pid, pk.start_time);
		for (int k = -1; k <= XSCHED_MAX_GPUS; k++) {
			uint64_t gr = xsched_grant_word(g, i, pk.pid, pk.start_time, k);

			check_grant(gr);
			if ((k < 0 || k >= XSCHED_MAX_GPUS || !in) && gr != XSCHED_GRANT_NONE)
				abort();
			sink += gr + xsched_grant_budget_us(g, i, pk.pid, pk.start_time, k);
		}
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[64], path[96], gpath[128];
	struct xsched_shm_map m = { 0 };
	bool grant;
	size_t full;
	int fd, rc;

	if (size < 1)
		return 0;
	if (!name[0]) {
		snprintf(name, sizeof(name), "xsched-fuzz-%d", (int)getpid());
		snprintf(path, sizeof(path), "/dev/shm/%s", name);
		xsched_grant_path(name, gpath, sizeof(gpath));
	}
	grant = data[0] & 2;
	full = grant ? sizeof(struct xsched_grants) : sizeof(struct xsched_shm);
	/* 0644: the grant reader refuses anything group- or world-writable. */
	fd = open(grant ? gpath : path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	if ((data[0] & 1) && size - 1 < full && ftruncate(fd, (off_t)full))
		abort();
	close(fd);
	if (grant) {
		struct xsched_grant_map gm = { 0 };

		rc = xsched_grant_open_ro(name, &gm);
		if (rc == XSCHED_SHM_OK) {
			if (!gm.g || gm.size != sizeof(struct xsched_grants))
				abort();
			walk_grants(gm.g);
			xsched_grant_close(&gm);
		} else if (!xsched_shm_strerror(rc)[0]) {
			abort();
		}
		unlink(gpath);
		return 0;
	}
	rc = xsched_shm_open(name, false, &m);
	if (rc == XSCHED_SHM_OK) {
		if (!m.shm || m.size != sizeof(struct xsched_shm))
			abort();
		walk(m.shm);
		xsched_shm_close(&m);
	} else if (!xsched_shm_strerror(rc)[0]) {
		abort();
	}
	unlink(path);
	return 0;
}
