// SPDX-License-Identifier: MIT
/*
 * Reading /proc: which runtime libraries a process maps, how to open a file a process
 * names (it may live in another mount namespace), and a file's identity as the kernel
 * maps it, which is what uprobes attach to and what deduplicates libraries.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"

int proc_path(pid_t pid, const char *path, char *out, size_t len)
{
	int n;

	if (path[0] == '/')
		n = snprintf(out, len, "/proc/%d/root%s", (int)pid, path);
	else
		n = snprintf(out, len, "/proc/%d/cwd/%s", (int)pid, path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool proc_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

struct maps_line {
	unsigned long start, end;
	struct file_id id;
	const char *path; /* points into the line; NULL for anonymous mappings */
};

static bool parse_maps_line(char *line, struct maps_line *m)
{
	int path_at = 0;
	char *nl;

	if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu %n", &m->start, &m->end, &m->id.major,
	           &m->id.minor, &m->id.ino, &path_at) < 5)
		return false;
	nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	m->path = path_at && line[path_at] == '/' ? line + path_at : NULL;
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int proc_scan_maps(pid_t pid, bool *shimmed,
                   void (*fn)(pid_t pid, const struct mapped_lib *m, void *arg), void *arg)
{
	struct file_id last = { 0 };
	char name[64], line[PATH_MAX + 128];
	struct maps_line m;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return -errno;
	*shimmed = false;
	while (fgets(line, sizeof(line), f)) {
		const char *base;

		if (!parse_maps_line(line, &m) || !m.path || !m.id.ino)
			continue;
		/* A library is several consecutive mappings of one file. */
		if (m.id.ino == last.ino && m.id.major == last.major && m.id.minor == last.minor)
			continue;
		last = m.id;
		base = base_name(m.path);
		if (strncmp(base, "libxsched", 9) == 0)
			*shimmed = true;
		else if (runtime_of_name(base) >= 0)
			fn(pid, &(struct mapped_lib){ m.path, m.id, m.start, m.end }, arg);
	}
	fclose(f);
	return 0;
}

void purge_dead_threads(int map_fd)
{
	__u32 key, next, *prev = NULL;
	__u32 dead[256];
	size_t n = 0;

	while (n < sizeof(dead) / sizeof(dead[0]) &&
	       bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!proc_alive((pid_t)key))
			dead[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(map_fd, &dead[i]);
}

/* Maps one page of the file and asks our own /proc/self/maps what the kernel mapped:
 * fstat() would give an overlayfs or btrfs-subvolume st_dev instead. */
int file_identity(int fd, struct file_id *id)
{
	char line[PATH_MAX + 128];
	struct maps_line m;
	int err = -ENOENT;
	void *addr;
	FILE *f;

	addr = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
	if (addr == MAP_FAILED)
		return -errno;
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		err = -errno;
		munmap(addr, 1);
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		if (parse_maps_line(line, &m) && m.start == (unsigned long)addr) {
			*id = m.id;
			err = 0;
			break;
		}
	}
	fclose(f);
	munmap(addr, 1);
	return err;
}
