/* SPDX-License-Identifier: MIT */
/*
 * The controller's audit of the GPUs' busy counts (xsched_shm.h), which every process in
 * the segment's group can write: a client could forge counts at urgent levels to push every
 * less urgent process to its W_busy window, or count itself busy at a level above the one
 * it was granted.
 *
 * Every interval the controller recomputes each GPU's counts from the live slots' busy_prio,
 * clamping each slot to the priority the controller granted that process (a slot that
 * claims a more urgent level is rewritten to its granted one). A count that disagrees with
 * the recomputed one in two consecutive audits with the same values (so not a process
 * caught between its two stores) is repaired by the difference, which keeps concurrent
 * enters and leaves intact; the first repair is logged.
 */
#ifndef XSCHED_CTL_BUSY_AUDIT_H
#define XSCHED_CTL_BUSY_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "xsched_shm.h"

struct daemon;

struct busy_audit {
	int32_t seen[XSCHED_MAX_GPUS][XSCHED_MAX_PRIO]; /* count found at the last mismatch */
	int32_t want[XSCHED_MAX_GPUS][XSCHED_MAX_PRIO]; /* ... and what it should have been */
	bool pending[XSCHED_MAX_GPUS][XSCHED_MAX_PRIO];
	uint64_t repairs; /* counts repaired */
	uint64_t clamped; /* slots moved down to their granted level */
	bool logged;
};

/* One audit of d's segment (after the grants of this interval are written). */
void busy_audit_run(struct busy_audit *a, struct daemon *d);

#endif
