// SPDX-License-Identifier: MIT
/* Opening and snapshotting the controller's status segment (dash_src.h). */
#include "dash_src.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "xsched_shm.h"

void dash_src_init(struct dash_src *s, const char *shm_name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->shm_name, sizeof(s->shm_name), "%s", shm_name);
}

void dash_src_close(struct dash_src *s)
{
	if (s->map)
		ctl_pub_unmap(s->map);
	ctl_box_unmap(s->rw);
	s->map = NULL;
	s->rw = NULL;
}

static bool open_src(struct dash_src *s)
{
	s->map = ctl_pub_open_ro(s->shm_name);
	s->open_errno = s->map ? 0 : errno;
	/* Only the controller's user (or its --admin-group) may command it: others see,
	 * never change. */
	if (s->map)
		s->rw = ctl_box_open(s->shm_name);
	return s->map != NULL;
}

bool dash_controller_live(const struct ctl_pub *snap)
{
	uint64_t now = xsched_now_ns();

	if (snap->stopped || snap->pid <= 0)
		return false;
	if (kill(snap->pid, 0) && errno != EPERM)
		return false;
	return now < snap->beat_ns || now - snap->beat_ns < XSCHED_HEARTBEAT_STALE_NS;
}

enum dash_state dash_src_read(struct dash_src *s, struct ctl_pub *out)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!s->map && !open_src(s))
			return s->open_errno == EACCES || s->open_errno == EPERM ? DASH_DENIED
			                                                         : DASH_ABSENT;
		if (ctl_pub_snapshot(s->map, out) && dash_controller_live(out))
			return DASH_LIVE;
		/* A stopped controller unlinked its segment; a new one made another under the
		 * same name: look again once before calling it stale. */
		dash_src_close(s);
	}
	memset(out, 0, sizeof(*out));
	return DASH_STALE;
}
