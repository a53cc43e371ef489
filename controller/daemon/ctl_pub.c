// SPDX-License-Identifier: MIT
/* The controller's status segment (ctl_pub.h). */
#include "ctl_pub.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void ctl_pub_name(const char *shm_name, char *buf, unsigned int len)
{
	snprintf(buf, len, "/%s.ctl", shm_name);
}

static struct ctl_pub *map(int fd)
{
	void *m = mmap(NULL, sizeof(struct ctl_pub), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

struct ctl_pub *ctl_pub_create(const char *shm_name)
{
	char name[128];
	struct ctl_pub *p;
	int fd, e;

	ctl_pub_name(shm_name, name, sizeof(name));
	/* A stale segment (a controller that was killed) is replaced, never reused. */
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (fchmod(fd, 0644) || ftruncate(fd, sizeof(struct ctl_pub))) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	p = map(fd);
	e = errno;
	close(fd);
	if (!p) {
		errno = e;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	p->version = CTL_PUB_VERSION;
	p->size = sizeof(*p);
	atomic_store(&p->seq, 0);
	atomic_thread_fence(memory_order_release);
	p->magic = CTL_PUB_MAGIC;
	return p;
}

void ctl_pub_unmap(const struct ctl_pub *p)
{
	if (p)
		munmap((void *)p, sizeof(*p));
}

void ctl_pub_remove(struct ctl_pub *p, const char *shm_name)
{
	char name[128];

	ctl_pub_begin(p);
	p->stopped = 1;
	p->pid = 0;
	ctl_pub_end(p);
	ctl_pub_name(shm_name, name, sizeof(name));
	shm_unlink(name);
}

void ctl_pub_begin(struct ctl_pub *p)
{
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
	atomic_thread_fence(memory_order_release);
}

void ctl_pub_end(struct ctl_pub *p)
{
	atomic_thread_fence(memory_order_release);
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_release);
}

bool ctl_pub_snapshot(const struct ctl_pub *p, struct ctl_pub *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t s0 = atomic_load_explicit(&p->seq, memory_order_acquire), s1;

		if (s0 & 1) {
			usleep(100);
			continue;
		}
		memcpy(out, p, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		s1 = atomic_load_explicit(&p->seq, memory_order_relaxed);
		if (s0 == s1)
			return true;
	}
	return false;
}

const struct ctl_pub *ctl_pub_open_ro(const char *shm_name)
{
	char name[128];
	struct stat st;
	struct ctl_pub *p;
	void *m;
	int fd, e;

	ctl_pub_name(shm_name, name, sizeof(name));
	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || (size_t)st.st_size < sizeof(struct ctl_pub)) {
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	m = mmap(NULL, sizeof(struct ctl_pub), PROT_READ, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		errno = e;
		return NULL;
	}
	p = m;
	if (p->magic != CTL_PUB_MAGIC || p->version != CTL_PUB_VERSION || p->size != sizeof(*p)) {
		munmap(m, sizeof(*p));
		errno = EPROTO;
		return NULL;
	}
	return p;
}

/* Roughly 1-2.5-5 per decade from 50 us to 2.5 s: GPU bursts of inference services sit in
 * the middle, batch syncs at the top. */
static const uint64_t lat_bounds_ns[CTL_PUB_LAT_BUCKETS] = {
	50000ull,     100000ull,     250000ull,     500000ull,   1000000ull,   2500000ull,
	5000000ull,   10000000ull,   25000000ull,   50000000ull, 100000000ull, 250000000ull,
	500000000ull, 1000000000ull, 2500000000ull, UINT64_MAX,
};

uint64_t ctl_pub_lat_bound_ns(unsigned int i)
{
	return i < CTL_PUB_LAT_BUCKETS ? lat_bounds_ns[i] : UINT64_MAX;
}

unsigned int ctl_pub_lat_bucket(uint64_t ns)
{
	unsigned int i = 0;

	while (i < CTL_PUB_LAT_BUCKETS - 1 && ns > lat_bounds_ns[i])
		i++;
	return i;
}
