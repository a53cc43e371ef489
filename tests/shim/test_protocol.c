/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the shared-memory protocol: attaching (and refusing bad segments), GPU
 * records, process slots (claim, exec takeover, reclaim of the dead, a full table), busy
 * counts, latency rings, and the controller's grant segment (identity-checked grants, the
 * heartbeat, read-only mapping, refusal of unsafe or foreign segments).
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "xsched_grant.h"
#include "xsched_shm.h"

static char name[64];

static int setup(void **state)
{
	(void)state;
	static int n;
	snprintf(name, sizeof(name), "xs-unit-proto-%d-%d", (int)getpid(), n++);
	xsched_shm_unlink(name);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char gp[128];
	xsched_grant_path(name, gp, sizeof(gp));
	unlink(gp);
	xsched_shm_unlink(name);
	return 0;
}

static void path_of(char *out, size_t len)
{
	snprintf(out, len, "/dev/shm/%s", name);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(xsched_shm_name_ok("xsched"));
	assert_true(xsched_shm_name_ok("a.b_c-1"));
	assert_false(xsched_shm_name_ok(""));
	assert_false(xsched_shm_name_ok(".hidden"));
	assert_false(xsched_shm_name_ok("a/b"));
	assert_false(xsched_shm_name_ok("../x"));
	assert_false(xsched_shm_name_ok("sp ace"));
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[79] = '\0';
	assert_false(xsched_shm_name_ok(longname));
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open("a/b", true, &m), XSCHED_SHM_EBADNAME);
}

static void test_create_reopen(void **state)
{
	(void)state;
	struct xsched_shm_map a, b;
	assert_int_equal(xsched_shm_open(name, false, &a), XSCHED_SHM_ENOENT);
	assert_int_equal(xsched_shm_open(name, true, &a), XSCHED_SHM_OK);
	assert_true(a.shm->hdr.magic == XSCHED_SHM_MAGIC);
	assert_int_equal(a.shm->hdr.version, XSCHED_SHM_VERSION);
	assert_int_equal(a.shm->hdr.total_size, sizeof(struct xsched_shm));
	assert_int_equal(xsched_shm_open(name, false, &b), XSCHED_SHM_OK);
	a.shm->hdr.reserved[0] = 42;
	assert_int_equal(b.shm->hdr.reserved[0], 42);
	char path[128];
	struct stat st;
	path_of(path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_false(st.st_mode & S_IWOTH);
	assert_false(st.st_mode & S_IROTH);
	xsched_shm_close(&a);
	xsched_shm_close(&b);
}

/* Write a segment with one field altered, return what opening it says. */
static int open_altered(size_t size, void (*alter)(struct xsched_shm_header *))
{
	struct xsched_shm_map m;
	xsched_shm_unlink(name);
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	if (alter)
		alter(&m.shm->hdr);
	xsched_shm_close(&m);
	char path[128];
	path_of(path, sizeof(path));
	assert_int_equal(truncate(path, (off_t)size), 0);
	int rc = xsched_shm_open(name, true, &m);
	if (rc == XSCHED_SHM_OK)
		xsched_shm_close(&m);
	return rc;
}

static void bad_magic(struct xsched_shm_header *h)
{
	h->magic ^= 1;
}
static void bad_version(struct xsched_shm_header *h)
{
	h->version = XSCHED_SHM_VERSION + 1;
}
static void bad_layout(struct xsched_shm_header *h)
{
	h->ring_len = XSCHED_RING_LEN / 2;
}

static void test_refuses_bad_segments(void **state)
{
	(void)state;
	const size_t full = sizeof(struct xsched_shm);
	assert_int_equal(open_altered(full, bad_magic), XSCHED_SHM_EMAGIC);
	assert_int_equal(open_altered(full, bad_version), XSCHED_SHM_EVERSION);
	assert_int_equal(open_altered(full, bad_layout), XSCHED_SHM_ELAYOUT);
	assert_int_equal(open_altered(full / 2, NULL), XSCHED_SHM_ETRUNC);
	assert_int_equal(open_altered(10, NULL), XSCHED_SHM_ETRUNC);
	assert_int_equal(open_altered(0, NULL), XSCHED_SHM_ETRUNC);
	/* A world-writable segment could be anybody's trap. */
	assert_int_equal(open_altered(full, NULL), XSCHED_SHM_OK);
	char path[128];
	path_of(path, sizeof(path));
	assert_int_equal(chmod(path, 0666), 0);
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_EPERM);
	/* Not ours at all (another program's file under that name). */
	xsched_shm_unlink(name);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, world, this is not xsched", 32), 32);
	close(fd);
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_ETRUNC);
}

static void test_concurrent_create(void **state)
{
	(void)state;
	enum {
		N = 8
	};
	int pipes[N][2];
	for (int i = 0; i < N; i++) {
		assert_int_equal(pipe(pipes[i]), 0);
		if (fork() == 0) {
			struct xsched_shm_map m;
			uint64_t created = 0;
			if (xsched_shm_open(name, true, &m) == XSCHED_SHM_OK)
				created = m.shm->hdr.created_ns;
			if (write(pipes[i][1], &created, sizeof(created)) != sizeof(created))
				_exit(1);
			_exit(0);
		}
	}
	uint64_t first = 0;
	for (int i = 0; i < N; i++) {
		uint64_t c = 0;
		assert_int_equal(read(pipes[i][0], &c, sizeof(c)), sizeof(c));
		assert_true(c != 0);
		if (!first)
			first = c;
		assert_true(c == first); /* everybody attached to the same segment */
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	while (wait(NULL) > 0)
		;
}

static struct xsched_shm *gpu_shm;

static void *claim_gpus(void *arg)
{
	(void)arg;
	for (int k = 0; k < 4; k++) {
		uint8_t u[16] = { 0 };
		u[0] = (uint8_t)(k + 1);
		if (xsched_gpu_find(gpu_shm, u, true) < 0)
			return (void *)1;
	}
	return NULL;
}

static void test_gpus(void **state)
{
	(void)state;
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	gpu_shm = m.shm;
	uint8_t u[16] = { 0 };
	u[0] = 0x99;
	assert_int_equal(xsched_gpu_find(m.shm, u, false), -1);
	/* Racing claimers of the same four UUIDs end with four records, not more. */
	pthread_t t[6];
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claim_gpus, NULL), 0);
	for (int i = 0; i < 6; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	int ready = 0;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++)
		ready += xsched_gpu_at(m.shm, i) != NULL;
	assert_int_equal(ready, 4);
	int a = xsched_gpu_find(m.shm, u, true);
	assert_int_equal(a, 4);
	assert_int_equal(xsched_gpu_find(m.shm, u, false), a);
	for (int k = 5; k < XSCHED_MAX_GPUS; k++) {
		u[1] = (uint8_t)k;
		assert_int_equal(xsched_gpu_find(m.shm, u, true), k);
	}
	u[1] = 0xee;
	assert_int_equal(xsched_gpu_find(m.shm, u, true), -1); /* full */
	assert_null(xsched_gpu_at(m.shm, -1));
	assert_null(xsched_gpu_at(m.shm, XSCHED_MAX_GPUS));
	xsched_shm_close(&m);
}

static void test_claim_takeover_release(void **state)
{
	(void)state;
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	pid_t me = getpid();
	uint64_t st = xsched_proc_start_time(me);
	assert_true(st > 0);
	assert_true(xsched_proc_alive(me, st));
	assert_false(xsched_proc_alive(me, st + 1)); /* same pid, another process */
	uint64_t gen = atomic_load(&m.shm->hdr.generation);
	struct xsched_proc *p = xsched_proc_claim(m.shm, me, st, "unit", XSCHED_PRIO_LOW, 3);
	assert_non_null(p);
	assert_true(atomic_load(&m.shm->hdr.generation) > gen);
	assert_ptr_equal(xsched_proc_find(m.shm, me), p);
	assert_string_equal(p->comm, "unit");
	assert_int_equal(p->requested_prio, XSCHED_PRIO_LOW);
	assert_int_equal(p->default_window, 3);
	/* exec(): the new image of the same process takes the slot over, bursts dropped. */
	uint8_t u[16] = { 1 };
	int g = xsched_gpu_find(m.shm, u, true);
	xsched_proc_busy_enter(m.shm, p, g, XSCHED_PRIO_HIGH);
	assert_int_equal(atomic_load(&m.shm->gpus[g].busy[XSCHED_PRIO_HIGH]), 1);
	struct xsched_proc *q = xsched_proc_claim(m.shm, me, st, "unit2", XSCHED_PRIO_HIGH, 5);
	assert_ptr_equal(q, p);
	assert_int_equal(atomic_load(&p->image), 1);
	assert_string_equal(p->comm, "unit2");
	assert_int_equal(atomic_load(&m.shm->gpus[g].busy[XSCHED_PRIO_HIGH]), 0);
	int slots = 0;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++)
		slots += xsched_proc_at(m.shm, i) != NULL;
	assert_int_equal(slots, 1);
	xsched_proc_release(m.shm, p);
	assert_null(xsched_proc_find(m.shm, me));
	assert_int_equal(atomic_load(&p->pid), 0);
	xsched_shm_close(&m);
}

static void test_reclaim_dead(void **state)
{
	(void)state;
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	uint8_t u[16] = { 2 };
	int g = xsched_gpu_find(m.shm, u, true);
	pid_t child = fork();
	if (child == 0) {
		struct xsched_shm_map cm;
		if (xsched_shm_open(name, false, &cm))
			_exit(1);
		struct xsched_proc *p =
		        xsched_proc_claim(cm.shm, getpid(), xsched_proc_start_time(getpid()),
		                          "child", XSCHED_PRIO_HIGH, XSCHED_WINDOW_UNLIMITED);
		if (!p)
			_exit(1);
		/* Dies mid-burst: busy at high priority, never leaves. */
		xsched_proc_busy_enter(cm.shm, p, g, XSCHED_PRIO_HIGH);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct xsched_proc *p = xsched_proc_find(m.shm, child);
	assert_non_null(p);
	assert_int_equal(xsched_gpu_busy_above(&m.shm->gpus[g], XSCHED_PRIO_LOW), 1);
	assert_int_equal(xsched_proc_reclaim_dead(m.shm), 1);
	assert_null(xsched_proc_find(m.shm, child));
	assert_int_equal(xsched_gpu_busy_above(&m.shm->gpus[g], XSCHED_PRIO_LOW), 0);
	assert_int_equal(xsched_proc_reclaim_dead(m.shm), 0);
	xsched_shm_close(&m);
}

static void test_table_full(void **state)
{
	(void)state;
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	/* Every slot held by a live process (pid 1 stands in for all of them). */
	uint64_t st1 = xsched_proc_start_time(1);
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = &m.shm->procs[i];
		atomic_store(&p->pid, 1);
		p->start_time = st1;
		atomic_store(&p->state, XSCHED_PROC_READY);
	}
	assert_null(xsched_proc_claim(m.shm, getpid(), xsched_proc_start_time(getpid()), "x", 1,
	                              XSCHED_WINDOW_UNLIMITED));
	/* One of them turns out to be a reused pid: its slot can be had. */
	m.shm->procs[17].start_time = st1 + 12345;
	struct xsched_proc *p = xsched_proc_claim(m.shm, getpid(), xsched_proc_start_time(getpid()),
	                                          "x", 1, XSCHED_WINDOW_UNLIMITED);
	assert_ptr_equal(p, &m.shm->procs[17]);
	xsched_shm_close(&m);
}

static void test_busy_exactly_once(void **state)
{
	(void)state;
	struct xsched_shm_map m;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	uint8_t u[16] = { 3 };
	int g = xsched_gpu_find(m.shm, u, true);
	struct xsched_proc *p = xsched_proc_claim(m.shm, getpid(), xsched_proc_start_time(getpid()),
	                                          "b", 1, XSCHED_WINDOW_UNLIMITED);
	struct xsched_gpu *gr = &m.shm->gpus[g];
	uint32_t epoch = atomic_load(&gr->epoch);
	xsched_proc_busy_enter(m.shm, p, g, XSCHED_PRIO_NORMAL);
	xsched_proc_busy_enter(m.shm, p, g, XSCHED_PRIO_NORMAL);
	assert_int_equal(atomic_load(&gr->busy[XSCHED_PRIO_NORMAL]), 1);
	assert_int_equal(xsched_gpu_busy_above(gr, XSCHED_PRIO_LOW), 1);
	assert_int_equal(xsched_gpu_busy_above(gr, XSCHED_PRIO_NORMAL), 0);
	assert_int_equal(xsched_gpu_busy_above(gr, 100), 1); /* clamped, not out of bounds */
	xsched_proc_busy_leave(m.shm, p, g);
	assert_true(atomic_load(&gr->epoch) != epoch); /* leaving kicked the sleepers */
	xsched_proc_busy_leave(m.shm, p, g);
	assert_int_equal(atomic_load(&gr->busy[XSCHED_PRIO_NORMAL]), 0);
	/* Out-of-range arguments are ignored. */
	xsched_proc_busy_enter(m.shm, p, -1, 0);
	xsched_proc_busy_enter(m.shm, p, g, XSCHED_MAX_PRIO);
	xsched_proc_busy_leave(m.shm, p, XSCHED_MAX_GPUS);
	for (int i = 0; i < XSCHED_MAX_PRIO; i++)
		assert_int_equal(atomic_load(&gr->busy[i]), 0);
	xsched_shm_close(&m);
}

static void test_ring(void **state)
{
	(void)state;
	static struct xsched_ring r;
	static struct xsched_lat out[XSCHED_RING_LEN + 8];
	memset(&r, 0, sizeof(r));
	for (unsigned int i = 0; i < XSCHED_RING_LEN; i++) {
		struct xsched_lat s = { .end_ns = i, .latency_ns = 1000 + i };
		assert_true(xsched_ring_push(&r, &s));
	}
	struct xsched_lat extra = { .end_ns = 99999 };
	assert_false(xsched_ring_push(&r, &extra));
	assert_int_equal(atomic_load(&r.dropped), 1);
	assert_int_equal(xsched_ring_read(&r, out, 4, false), 4);
	assert_int_equal(out[0].latency_ns, 1000);
	assert_int_equal(xsched_ring_read(&r, out, XSCHED_RING_LEN + 8, true), XSCHED_RING_LEN);
	assert_int_equal(out[XSCHED_RING_LEN - 1].latency_ns, 1000 + XSCHED_RING_LEN - 1);
	assert_int_equal(xsched_ring_read(&r, out, 8, true), 0);
	assert_true(xsched_ring_push(&r, &extra));
	assert_int_equal(xsched_ring_read(&r, out, 8, true), 1);
	assert_int_equal(out[0].end_ns, 99999);
	/* Corrupt indices: never more than a ring's worth, never out of bounds. */
	atomic_store(&r.head, 1000000);
	atomic_store(&r.tail, 3);
	assert_int_equal(xsched_ring_read(&r, out, XSCHED_RING_LEN + 8, true), XSCHED_RING_LEN);
	atomic_store(&r.head, 5);
	atomic_store(&r.tail, 1000);
	assert_true(xsched_ring_read(&r, out, XSCHED_RING_LEN + 8, true) <= XSCHED_RING_LEN);
}

static void test_grants_and_heartbeat(void **state)
{
	(void)state;
	uint64_t g = xsched_grant_pack(3, 17);
	assert_true(xsched_grant_set(g));
	assert_int_equal(xsched_grant_busy(g), 3);
	assert_int_equal(xsched_grant_idle(g), 17);
	g = xsched_grant_pack(0, 0);
	assert_true(xsched_grant_set(g));
	assert_int_equal(xsched_grant_busy(g), 0);
	assert_false(xsched_grant_set(XSCHED_GRANT_NONE));
	g = xsched_grant_pack(UINT32_MAX, UINT32_MAX);
	assert_int_equal(xsched_grant_busy(g), XSCHED_WINDOW_UNLIMITED);
	assert_int_equal(xsched_grant_idle(g), XSCHED_WINDOW_UNLIMITED);

	struct xsched_shm_map m;
	struct xsched_grant_map w, r;
	assert_int_equal(xsched_shm_open(name, true, &m), XSCHED_SHM_OK);
	assert_int_equal(xsched_grant_open_ro(name, &r), XSCHED_SHM_ENOENT);
	assert_int_equal(xsched_grant_create(name, 0644, 0, false, &w), XSCHED_SHM_OK);
	assert_int_equal(xsched_grant_open_ro(name, &r), XSCHED_SHM_OK);
	uint64_t now = xsched_now_ns();
	assert_false(xsched_controller_fresh(NULL, now));
	assert_false(xsched_controller_fresh(r.g, now));
	xsched_controller_beat(w.g, m.shm, 4242);
	assert_int_equal(xsched_controller_pid(r.g), 4242);
	assert_true(xsched_controller_fresh(r.g, xsched_now_ns()));
	assert_false(xsched_controller_fresh(r.g, xsched_now_ns() + XSCHED_HEARTBEAT_STALE_NS));

	pid_t me = getpid();
	uint64_t st = xsched_proc_start_time(me);
	struct xsched_proc *p = xsched_proc_claim(m.shm, me, st, "g", 1, XSCHED_WINDOW_UNLIMITED);
	int slot = xsched_proc_index(m.shm, p);
	assert_true(slot >= 0);
	/* No identity yet: nothing applies, whatever the words say. */
	xsched_grant_windows(w.g, m.shm, slot, 2, xsched_grant_pack(1, 2));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me, st, 2)));
	assert_true(xsched_grant_assign(w.g, slot, me, st));
	xsched_grant_windows(w.g, m.shm, slot, 2, xsched_grant_pack(1, 2));
	xsched_grant_budget(w.g, slot, 2, 750);
	xsched_grant_prio(w.g, m.shm, slot, 0);
	assert_true(xsched_grant_mine(r.g, slot, me, st));
	assert_true(xsched_grant_set(xsched_grant_word(r.g, slot, me, st, 2)));
	assert_int_equal(xsched_grant_busy(xsched_grant_word(r.g, slot, me, st, 2)), 1);
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me, st, 1)));
	assert_int_equal(xsched_grant_budget_us(r.g, slot, me, st, 2), 750);
	assert_int_equal(xsched_granted_prio(r.g, slot, me, st), 0);
	/* Another identity (a recycled pid, a reused slot) gets nothing of it. */
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me, st + 1, 2)));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me + 1, st, 2)));
	assert_int_equal(xsched_granted_prio(r.g, slot, me, st + 1), -1);
	assert_int_equal(xsched_grant_budget_us(r.g, slot, me, st + 1, 2), 0);
	assert_false(xsched_grant_set(xsched_grant_word(r.g, -1, me, st, 2)));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, XSCHED_MAX_PROCS, me, st, 2)));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me, st, XSCHED_MAX_GPUS)));
	/* The slot changing hands clears what the old owner had. */
	assert_true(xsched_grant_assign(w.g, slot, me + 1, 99));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me + 1, 99, 2)));
	assert_int_equal(xsched_granted_prio(r.g, slot, me + 1, 99), -1);
	assert_int_equal(xsched_grant_budget_us(r.g, slot, me + 1, 99, 2), 0);
	assert_true(xsched_grant_assign(w.g, slot, me, st));
	xsched_grant_windows(w.g, m.shm, slot, -1, xsched_grant_pack(3, 4));
	xsched_controller_leave(w.g, m.shm);
	assert_false(xsched_controller_fresh(r.g, xsched_now_ns()));
	assert_false(xsched_grant_mine(r.g, slot, me, st));
	assert_false(xsched_grant_set(xsched_grant_word(r.g, slot, me, st, 0)));

	/* The reader's mapping is read-only, and the file is not group/other-writable. */
	char path[128];
	struct stat sb;
	xsched_grant_path(name, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	pid_t c = fork();
	if (c == 0) {
		/* A write through the reader's mapping must fault. */
		signal(SIGSEGV, SIG_DFL);
		atomic_store((_Atomic uint64_t *)&r.g->slots[0].gpu[0].grant, 1);
		_exit(0);
	}
	int ws;
	assert_int_equal(waitpid(c, &ws, 0), c);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSEGV);

	/* A controller restart reuses the segment in place: readers keep their mapping. */
	struct xsched_grant_map w2;
	assert_int_equal(xsched_grant_create(name, 0644, 0, false, &w2), XSCHED_SHM_OK);
	assert_true(w2.ino == r.ino);
	xsched_controller_beat(w2.g, NULL, 77);
	assert_int_equal(xsched_controller_pid(r.g), 77);
	xsched_grant_close(&w2);

	/* A group-writable one is refused by readers and replaced by the controller. */
	assert_int_equal(chmod(path, 0664), 0);
	struct xsched_grant_map r2;
	assert_int_equal(xsched_grant_open_ro(name, &r2), XSCHED_SHM_EPERM);
	assert_int_equal(xsched_grant_create(name, 0644, 0, false, &w2), XSCHED_SHM_OK);
	assert_true(w2.ino != r.ino);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	/* ... and a reader of the old one moves to the new one in place. */
	xsched_controller_beat(w2.g, NULL, 78);
	struct xsched_grants *before = r.g;
	assert_int_equal(xsched_grant_refresh_ro(name, &r), XSCHED_SHM_OK);
	assert_ptr_equal(r.g, before);
	assert_int_equal(xsched_controller_pid(r.g), 78);
	/* Bad magic: refused. */
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint64_t bad = 1;
	assert_int_equal(pwrite(fd, &bad, sizeof(bad), 0), (ssize_t)sizeof(bad));
	close(fd);
	assert_int_equal(xsched_grant_open_ro(name, &r2), XSCHED_SHM_EMAGIC);
	xsched_grant_close(&w2);
	xsched_grant_close(&w);
	xsched_grant_close(&r);
	unlink(path);
	xsched_shm_close(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_takeover_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grants_and_heartbeat, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
