// SPDX-License-Identifier: MIT
/* The controller's mailbox (ctl_box.h). */
#include "ctl_box.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void ctl_box_name(const char *shm_name, char *buf, unsigned int len)
{
	snprintf(buf, len, "/%s.set", shm_name);
}

static struct ctl_box *map(int fd)
{
	void *m = mmap(NULL, sizeof(struct ctl_box), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

struct ctl_box *ctl_box_create(const char *shm_name, bool set_gid, gid_t gid)
{
	char name[128];
	struct ctl_box *b;
	mode_t mode = set_gid ? 0660 : 0600;
	int fd, e;

	ctl_box_name(shm_name, name, sizeof(name));
	/* Never take over an existing one: whoever created it may still hold it open. */
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if ((set_gid && fchown(fd, (uid_t)-1, gid)) || fchmod(fd, mode) ||
	    ftruncate(fd, sizeof(struct ctl_box))) {
		e = errno;
		close(fd);
		shm_unlink(name);
		errno = e;
		return NULL;
	}
	b = map(fd);
	e = errno;
	close(fd);
	if (!b) {
		shm_unlink(name);
		errno = e;
		return NULL;
	}
	b->version = CTL_BOX_VERSION;
	b->size = sizeof(*b);
	b->pid = (int32_t)getpid();
	atomic_thread_fence(memory_order_release);
	b->magic = CTL_BOX_MAGIC;
	return b;
}

struct ctl_box *ctl_box_open(const char *shm_name)
{
	char name[128];
	struct stat st;
	struct ctl_box *b;
	int fd, e;

	ctl_box_name(shm_name, name, sizeof(name));
	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(struct ctl_box)) {
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	b = map(fd);
	e = errno;
	close(fd);
	if (!b) {
		errno = e;
		return NULL;
	}
	if (b->magic != CTL_BOX_MAGIC || b->version != CTL_BOX_VERSION || b->size != sizeof(*b)) {
		ctl_box_unmap(b);
		errno = EPROTO;
		return NULL;
	}
	return b;
}

void ctl_box_unmap(struct ctl_box *b)
{
	if (b)
		munmap(b, sizeof(*b));
}

void ctl_box_remove(const char *shm_name)
{
	char name[128];

	ctl_box_name(shm_name, name, sizeof(name));
	shm_unlink(name);
}

bool ctl_box_owner(const char *shm_name, char *path, unsigned int len, uid_t *uid, gid_t *gid,
                   mode_t *mode)
{
	char name[128];
	struct stat st;

	ctl_box_name(shm_name, name, sizeof(name));
	snprintf(path, len, "/dev/shm%s", name);
	if (stat(path, &st))
		return false;
	*uid = st.st_uid;
	*gid = st.st_gid;
	*mode = st.st_mode & 07777;
	return true;
}
