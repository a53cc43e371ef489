// SPDX-License-Identifier: MIT
/*
 * sec_client: a hostile client of the protocol, for the security tests (docs/security.md).
 *
 *   sec_client probe NAME
 *       Tries every way to write the controller's grant segment /dev/shm/NAME.grant as the
 *       calling user: open O_RDWR, mmap PROT_WRITE of a read-only descriptor, mprotect of
 *       the reader's mapping, a controller's create (replace). Prints one JSON object with
 *       what each attempt got; exit 0 when every write was refused, 1 when one succeeded.
 *
 *   sec_client forge NAME [--prio P] [--wait-s S]
 *       Registers like a shim (a slot requesting priority P, default 0 = high) on a GPU,
 *       waits for the controller to grant it something, then forges the busy counts: +5 at
 *       level 0 of the GPU, and its own slot counted busy at level 0 (above what it may be
 *       granted). Prints one JSON object: the grant before and after, the counts it left and
 *       what the controller repaired them to, and how long that took. Exit 0 when it ran
 *       (the test judges the figures), 1 when it could not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "xsched_grant.h"
#include "xsched_shm.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const char *err_name(int e)
{
	return e == 0 ? "none" : e == EACCES ? "EACCES" : e == EPERM ? "EPERM" : strerror(e);
}

static int probe(const char *name)
{
	char path[128];
	int writable = 0;
	xsched_grant_path(name, path, sizeof(path));

	int fd = open(path, O_RDWR | O_CLOEXEC);
	int e_rdwr = fd < 0 ? errno : 0;
	if (fd >= 0) {
		writable = 1;
		close(fd);
	}
	int e_map = -1, e_prot = -1, e_read = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e_read = errno;
	} else {
		void *p = mmap(NULL, sizeof(struct xsched_grants), PROT_READ | PROT_WRITE,
		               MAP_SHARED, fd, 0);
		e_map = p == MAP_FAILED ? errno : 0;
		if (p != MAP_FAILED) {
			writable = 1;
			munmap(p, sizeof(struct xsched_grants));
		}
		close(fd);
	}
	struct xsched_grant_map m = { 0 };
	int rc = xsched_grant_open_ro(name, &m);
	if (rc == XSCHED_SHM_OK) {
		e_prot = mprotect(m.g, m.size, PROT_READ | PROT_WRITE) ? errno : 0;
		if (!e_prot)
			writable = 1;
		xsched_grant_close(&m);
	}
	struct xsched_grant_map w = { 0 };
	int rc_create = xsched_grant_create(name, 0644, 0, false, &w);
	if (rc_create == XSCHED_SHM_OK) {
		writable = 1;
		xsched_grant_close(&w);
	}
	printf("{\"uid\":%d,\"open_rdwr\":\"%s\",\"open_rdonly\":\"%s\",\"mmap_write\":\"%s\","
	       "\"reader_open\":\"%s\",\"mprotect_write\":\"%s\",\"replace\":\"%s\","
	       "\"writable\":%s}\n",
	       (int)geteuid(), err_name(e_rdwr), err_name(e_read),
	       e_map < 0 ? "not tried" : err_name(e_map), xsched_shm_strerror(rc),
	       e_prot < 0 ? "not tried" : err_name(e_prot), xsched_shm_strerror(rc_create),
	       writable ? "true" : "false");
	return writable;
}

struct seen {
	uint64_t grant;
	int prio;
	uint32_t budget;
};

static struct seen look(const struct xsched_grants *g, int slot, pid_t pid, uint64_t st, int gpu)
{
	struct seen s = {
		.grant = xsched_grant_word(g, slot, pid, st, gpu),
		.prio = xsched_granted_prio(g, slot, pid, st),
		.budget = xsched_grant_budget_us(g, slot, pid, st, gpu),
	};
	return s;
}

static void print_seen(const char *key, struct seen s)
{
	printf("\"%s\":{\"set\":%s,\"w_busy\":%u,\"w_idle\":%u,\"prio\":%d,\"budget_us\":%u}", key,
	       xsched_grant_set(s.grant) ? "true" : "false", xsched_grant_busy(s.grant),
	       xsched_grant_idle(s.grant), s.prio, s.budget);
}

static int forge(const char *name, int prio, int wait_s)
{
	struct xsched_shm_map map;
	int rc = xsched_shm_open(name, true, &map);
	if (rc) {
		fprintf(stderr, "sec_client: /dev/shm/%s: %s\n", name, xsched_shm_strerror(rc));
		return 1;
	}
	struct xsched_shm *shm = map.shm;
	static const uint8_t uuid[16] = "sec-test-gpu-00";
	int gpu = xsched_gpu_find(shm, uuid, true);
	pid_t me = getpid();
	uint64_t st = xsched_proc_start_time(me);
	struct xsched_proc *p =
	        xsched_proc_claim(shm, me, st, "sec_client", prio, XSCHED_WINDOW_UNLIMITED);
	if (gpu < 0 || !p) {
		fprintf(stderr, "sec_client: no GPU record or slot\n");
		return 1;
	}
	int slot = xsched_proc_index(shm, p);
	atomic_store(&p->gpu[gpu].used, 1);
	atomic_fetch_add(&p->gpu[gpu].launches, 1);

	/* What the controller grants us (it may take an interval or two to notice us). */
	struct xsched_grant_map gm = { 0 };
	uint64_t end = xsched_now_ns() + (uint64_t)wait_s * 1000000000ull;
	struct seen before = { 0 };
	while (xsched_now_ns() < end) {
		if (!gm.g)
			xsched_grant_open_ro(name, &gm);
		if (gm.g && xsched_controller_fresh(gm.g, xsched_now_ns())) {
			before = look(gm.g, slot, me, st, gpu);
			if (xsched_grant_set(before.grant) && before.prio >= 0)
				break;
		}
		sleep_ms(10);
	}
	if (!xsched_grant_set(before.grant) || before.prio < 0) {
		fprintf(stderr, "sec_client: the controller granted nothing within %d s\n", wait_s);
		return 1;
	}
	sleep_ms(300); /* let the grant settle: it must not change because of what follows */
	before = look(gm.g, slot, me, st, gpu);

	/* Forge: five phantom processes busy at level 0, and ourselves counted at level 0. */
	struct xsched_gpu *g = &shm->gpus[gpu];
	int32_t busy0 = atomic_load(&g->busy[0]);
	atomic_fetch_add(&g->busy[0], 5);
	xsched_proc_busy_enter(shm, p, gpu, 0);
	int32_t forged0 = atomic_load(&g->busy[0]);
	uint64_t t0 = xsched_now_ns(), repaired_ns = 0;
	int want_level = before.prio;
	while (xsched_now_ns() - t0 < (uint64_t)wait_s * 1000000000ull) {
		uint32_t bp = atomic_load(&p->gpu[gpu].busy_prio);
		if (atomic_load(&g->busy[0]) == busy0 && bp == (uint32_t)want_level + 1 &&
		    atomic_load(&g->busy[want_level]) >= 1) {
			repaired_ns = xsched_now_ns() - t0;
			break;
		}
		sleep_ms(5);
	}
	sleep_ms(300); /* the grant a few intervals later */
	struct seen after = look(gm.g, slot, me, st, gpu);
	printf("{\"pid\":%d,\"slot\":%d,\"gpu\":%d,\"requested_prio\":%d,", (int)me, slot, gpu,
	       prio);
	print_seen("before", before);
	putchar(',');
	print_seen("after", after);
	printf(",\"busy0_before\":%d,\"busy0_forged\":%d,\"busy0_now\":%d,\"own_busy_prio\":%u,"
	       "\"busy_at_granted\":%d,\"repaired\":%s,\"repair_ms\":%.1f}\n",
	       (int)busy0, (int)forged0, (int)atomic_load(&g->busy[0]),
	       atomic_load(&p->gpu[gpu].busy_prio), (int)atomic_load(&g->busy[want_level]),
	       repaired_ns ? "true" : "false", (double)repaired_ns / 1e6);
	fflush(stdout);
	xsched_proc_release(shm, p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "probe"))
		return probe(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "forge")) {
		int prio = 0, wait_s = 10;
		for (int i = 3; i + 1 < argc; i += 2) {
			if (!strcmp(argv[i], "--prio"))
				prio = atoi(argv[i + 1]);
			else if (!strcmp(argv[i], "--wait-s"))
				wait_s = atoi(argv[i + 1]);
		}
		if (prio < 0 || prio >= XSCHED_MAX_PRIO || wait_s <= 0) {
			fprintf(stderr,
			        "sec_client: bad --prio or --wait-s (accepted: 0..%d, >0)\n",
			        XSCHED_MAX_PRIO - 1);
			return 2;
		}
		return forge(argv[2], prio, wait_s);
	}
	fprintf(stderr, "usage: sec_client probe NAME | forge NAME [--prio P] [--wait-s S]\n");
	return 2;
}
