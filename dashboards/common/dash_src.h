/* SPDX-License-Identifier: MIT */
/*
 * The controller's status segment (ctl_pub.h) as the dashboards read it: mapped read-only,
 * with the controller's mailbox (ctl_box.h) beside it when this user may command the
 * controller, re-opened when the controller restarts (new segments under the same names),
 * and judged live by the controller's pid and heartbeat as `xsched-ctl status` judges it.
 */
#ifndef XSCHED_DASH_SRC_H
#define XSCHED_DASH_SRC_H

#include <stdbool.h>

#include "ctl_box.h"
#include "ctl_pub.h"

enum dash_state {
	DASH_ABSENT, /* no segment: no controller has run, or it stopped cleanly */
	DASH_DENIED, /* the segment exists but this user may not read it */
	DASH_STALE,  /* a segment whose controller is gone or stuck */
	DASH_LIVE,   /* a running controller's consistent snapshot */
};

struct dash_src {
	char shm_name[64];
	const struct ctl_pub *map; /* the mapping, NULL when closed */
	struct ctl_box *rw;        /* the mailbox when this user may post, else NULL */
	int open_errno;            /* why the last open failed */
};

void dash_src_init(struct dash_src *s, const char *shm_name);
/* Snapshot the segment into *out (opening or re-opening it as needed). */
enum dash_state dash_src_read(struct dash_src *s, struct ctl_pub *out);
void dash_src_close(struct dash_src *s);
/* Whether a snapshot's writer is running and beating. */
bool dash_controller_live(const struct ctl_pub *snap);

#endif
