/* SPDX-License-Identifier: MIT */
/*
 * The controller's mailbox, /dev/shm/<XSCHED_SHM>.set: how `xsched-ctl set` (and `top`'s
 * keys) ask the running controller for a change. Apart from the status segment (ctl_pub.h)
 * because only privileged callers may command the controller: the mailbox is created by
 * the controller, owned by its uid, mode 0600, or 0660 with the group given by
 * `xsched-ctl run --admin-group`; whoever cannot open it read-write cannot post.
 *
 * A client claims a free request (state FREE -> WRITING by CAS), fills it, and publishes it
 * (-> POSTED). The controller applies it on its next interval and marks it DONE with a
 * result; the client reads the result and frees it. Requests name a process by pid and
 * start time, so that a recycled pid is never confused with the process meant.
 */
#ifndef XSCHED_CTL_BOX_H
#define XSCHED_CTL_BOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_BOX_MAGIC   0x31584f4244435358ull /* "XSCDBOX1" little-endian */
#define CTL_BOX_VERSION 1u
#define CTL_BOX_REQS    16

enum ctl_req_state {
	CTL_REQ_FREE = 0,
	CTL_REQ_WRITING = 1,
	CTL_REQ_POSTED = 2,
	CTL_REQ_DONE = 3,
};

enum ctl_req_kind {
	CTL_REQ_PRIORITY = 1,  /* value: level, or -1 to return to policy */
	CTL_REQ_WINDOW = 2,    /* value: static window, or -1 to return to control */
	CTL_REQ_TARGET = 3,    /* value: default target in ns (pid unused) */
	CTL_REQ_ALLOWANCE = 4, /* value: pinned allowance in ns, or -1 for auto (pid unused) */
};

struct ctl_req {
	_Atomic uint32_t state;
	uint32_t kind;
	int32_t pid;
	int32_t result; /* 0 applied, -ESRCH no such shimmed process */
	uint64_t start_time;
	int64_t value;
};

struct ctl_box {
	uint64_t magic;
	uint32_t version;
	uint32_t size;
	int32_t pid; /* the controller that reads it */
	uint32_t reserved;
	struct ctl_req reqs[CTL_BOX_REQS];
};

/* The mailbox's shm_open name for protocol segment `shm_name`, in buf. */
void ctl_box_name(const char *shm_name, char *buf, unsigned int len);
/*
 * Controller: create the mailbox afresh (a stale one, perhaps planted by someone else, is
 * removed first and never reused), mode 0600, or 0660 and group `gid` when set_gid. NULL
 * with errno on failure.
 */
struct ctl_box *ctl_box_create(const char *shm_name, bool set_gid, gid_t gid);
/* Clients: map the mailbox read-write. NULL with errno: ENOENT (no controller), EACCES (not
 * the controller's user nor in its admin group), EPROTO (not a mailbox). */
struct ctl_box *ctl_box_open(const char *shm_name);
void ctl_box_unmap(struct ctl_box *b);
/* Controller leaving: remove the name. */
void ctl_box_remove(const char *shm_name);
/* For a permission error: the mailbox's path, owner uid and group into the caller's
 * buffers; false when it cannot be stat()ed. */
bool ctl_box_owner(const char *shm_name, char *path, unsigned int len, uid_t *uid, gid_t *gid,
                   mode_t *mode);

#endif
