/* SPDX-License-Identifier: MIT */
/*
 * xs-shm-fault: damages the protocol segment on purpose, for the fault tests. Everything goes
 * through the protocol header (struct names, not offsets), so a change of layout is a
 * recompile, not a rewrite of the tests.
 *
 *   xs-shm-fault [--shm NAME] magic          the header's magic no longer says xsched
 *   xs-shm-fault [--shm NAME] version        the header claims the next protocol version
 *   xs-shm-fault [--shm NAME] layout         same version, another process-slot size
 *   xs-shm-fault [--shm NAME] truncate BYTES the file shrinks to BYTES (0 .. its size)
 *   xs-shm-fault [--shm NAME] scramble SEED  garbage (from SEED) in the fields that the
 *                                            readers must bound: every slot's ring head and
 *                                            tail, every GPU's busy counts and state
 *   xs-shm-fault [--shm NAME] forge PID START [COMM]
 *                                            a slot for PID with start time START, as left
 *                                            behind by an earlier process of that pid (pid
 *                                            reuse); prints the slot index
 *
 * The segment must exist; magic, version, layout and truncate need only the file (they work
 * on a segment the readers already refuse), scramble and forge attach through the protocol
 * library. Bad arguments: one line on stderr, exit 2; a segment that cannot be opened: exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsched_shm.h"

static const char usage[] =
        "usage: xs-shm-fault [--shm NAME] magic|version|layout|truncate BYTES|scramble SEED|"
        "forge PID START [COMM]\n";

static int bad(const char *what, const char *value, const char *accepted)
{
	fprintf(stderr, "xs-shm-fault: bad %s '%s': expected %s\n", what, value, accepted);
	return 2;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -1 : 0;
}

/* The raw file, mapped whole: for the faults that make the segment unreadable to the
 * protocol library itself. */
static int raw_map(const char *name, void **base, size_t *size, int *fd_out)
{
	char path[XSCHED_SHM_NAME_MAX + 16];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "xs-shm-fault: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*size = (size_t)st.st_size;
	*fd_out = fd;
	*base = NULL;
	if (*size < sizeof(struct xsched_shm_header))
		return 0;
	*base = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*base == MAP_FAILED) {
		fprintf(stderr, "xs-shm-fault: mmap %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

static int header_fault(const char *name, const char *what)
{
	struct xsched_shm_header *h;
	void *base;
	size_t size;
	int fd;

	if (raw_map(name, &base, &size, &fd))
		return 1;
	if (!base) {
		fprintf(stderr, "xs-shm-fault: /dev/shm/%s: %zu bytes, no header to change\n", name,
		        size);
		close(fd);
		return 1;
	}
	h = base;
	if (!strcmp(what, "magic"))
		h->magic = ~XSCHED_SHM_MAGIC;
	else if (!strcmp(what, "version"))
		h->version = XSCHED_SHM_VERSION + 1;
	else
		h->proc_size = (uint32_t)sizeof(struct xsched_proc) + 64;
	munmap(base, size);
	close(fd);
	return 0;
}

static int truncate_to(const char *name, const char *arg)
{
	unsigned long long n;
	void *base;
	size_t size;
	int fd, rc = 0;

	if (raw_map(name, &base, &size, &fd))
		return 1;
	if (base)
		munmap(base, size);
	if (parse_u64(arg, size, &n)) {
		close(fd);
		return bad("truncate size", arg, "a byte count from 0 to the segment's size");
	}
	if (ftruncate(fd, (off_t)n)) {
		fprintf(stderr, "xs-shm-fault: ftruncate: %s\n", strerror(errno));
		rc = 1;
	}
	close(fd);
	return rc;
}

/* xorshift64: reproducible garbage from the seed. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int scramble(struct xsched_shm *shm, const char *arg)
{
	unsigned long long seed;

	if (parse_u64(arg, ULLONG_MAX, &seed) || seed == 0)
		return bad("seed", arg, "a positive integer");
	uint64_t s = seed;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_ring *r = &shm->procs[i].ring;

		atomic_store(&r->head, next(&s));
		atomic_store(&r->tail, next(&s));
	}
	for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
		struct xsched_gpu *gp = &shm->gpus[g];

		for (int p = 0; p < XSCHED_MAX_PRIO; p++)
			atomic_store(&gp->busy[p], (int32_t)next(&s));
		/* Records in use stay findable (their uuid is intact); free ones get junk. */
		if (atomic_load(&gp->state) != XSCHED_GPU_READY)
			atomic_store(&gp->state, (uint32_t)next(&s));
	}
	return 0;
}

static int forge(struct xsched_shm *shm, int argc, char **argv)
{
	unsigned long long pid, start;
	struct xsched_proc *p;

	if (argc < 2)
		return bad("forge arguments", argc ? argv[0] : "", "PID START [COMM]");
	if (parse_u64(argv[0], INT_MAX, &pid) || pid == 0)
		return bad("pid", argv[0], "an integer from 1 to 2147483647");
	if (parse_u64(argv[1], ULLONG_MAX, &start))
		return bad("start time", argv[1], "a non-negative integer (clock ticks)");
	p = xsched_proc_claim(shm, (pid_t)pid, start, argc > 2 ? argv[2] : "forged",
	                      XSCHED_PRIO_NORMAL, XSCHED_WINDOW_UNLIMITED);
	if (!p) {
		fprintf(stderr, "xs-shm-fault: no free slot\n");
		return 1;
	}
	printf("%d\n", (int)(p - shm->procs));
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = xsched_shm_env_name();
	struct xsched_shm_map m;
	int i = 1, rc;

	if (i + 1 < argc && !strcmp(argv[i], "--shm")) {
		name = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!xsched_shm_name_ok(name))
		return bad("segment name", name, "1-63 of A-Z a-z 0-9 . _ -");
	const char *cmd = argv[i++];
	if (!strcmp(cmd, "magic") || !strcmp(cmd, "version") || !strcmp(cmd, "layout"))
		return i == argc ? header_fault(name, cmd) : bad("argument", argv[i], "none");
	if (!strcmp(cmd, "truncate"))
		return i + 1 == argc ? truncate_to(name, argv[i])
		                     : bad("truncate arguments", i < argc ? argv[i] : "", "BYTES");
	if (strcmp(cmd, "scramble") && strcmp(cmd, "forge"))
		return bad("command", cmd, "magic, version, layout, truncate, scramble or forge");
	rc = xsched_shm_open(name, false, &m);
	if (rc) {
		fprintf(stderr, "xs-shm-fault: /dev/shm/%s: %s\n", name, xsched_shm_strerror(rc));
		return 1;
	}
	if (!strcmp(cmd, "scramble"))
		rc = i + 1 == argc ? scramble(m.shm, argv[i])
		                   : bad("scramble arguments", i < argc ? argv[i] : "", "SEED");
	else
		rc = forge(m.shm, argc - i, argv + i);
	xsched_shm_close(&m);
	return rc;
}
