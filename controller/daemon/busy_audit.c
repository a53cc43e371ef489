// SPDX-License-Identifier: MIT
/* Recompute and repair the GPUs' busy counts (busy_audit.h). */
#include "busy_audit.h"

#include <stdio.h>

#include "daemon_int.h"

/* The level slot i counts at on GPU g, clamped to its granted priority; -1 when it is not
 * busy there. Rewrites a slot that claims more than it was granted. */
static int slot_level(struct busy_audit *a, struct daemon *d, int i, struct xsched_proc *sp, int g)
{
	uint32_t b = atomic_load(&sp->gpu[g].busy_prio);
	const struct dproc *p = &d->procs[i];
	int granted;

	if (b == 0 || b > XSCHED_MAX_PRIO)
		return -1; /* garbage is not counted, and busy_leave ignores it too */
	granted = p->live && p->pid == atomic_load(&sp->pid) ? p->dec.prio : -1;
	if (granted < 0 || (int)b - 1 >= granted)
		return (int)b - 1;
	/* Claims a more urgent level than granted: it counts, and leaves, at its own. */
	if (atomic_compare_exchange_strong(&sp->gpu[g].busy_prio, &b, (uint32_t)granted + 1)) {
		a->clamped++;
		return granted;
	}
	return b == 0 || b > XSCHED_MAX_PRIO ? -1 : (int)b - 1; /* it just left or moved */
}

void busy_audit_run(struct busy_audit *a, struct daemon *d)
{
	int32_t want[XSCHED_MAX_GPUS][XSCHED_MAX_PRIO] = { { 0 } };

	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *sp = xsched_proc_at(d->shm, i);

		if (!sp)
			continue;
		for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
			int lvl = slot_level(a, d, i, sp, g);

			if (lvl >= 0)
				want[g][lvl]++;
		}
	}
	for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
		struct xsched_gpu *gpu = xsched_gpu_at(d->shm, g);
		bool kick = false;

		if (!gpu)
			continue;
		for (int l = 0; l < XSCHED_MAX_PRIO; l++) {
			int32_t have = atomic_load(&gpu->busy[l]);

			if (have == want[g][l]) {
				a->pending[g][l] = false;
				continue;
			}
			if (!a->pending[g][l] || a->seen[g][l] != have ||
			    a->want[g][l] != want[g][l]) {
				/* First sight: maybe a process between its two stores. */
				a->pending[g][l] = true;
				a->seen[g][l] = have;
				a->want[g][l] = want[g][l];
				continue;
			}
			atomic_fetch_add(&gpu->busy[l], want[g][l] - have);
			a->pending[g][l] = false;
			a->repairs++;
			kick |= want[g][l] < have; /* fewer busy: windows may open */
			if (!a->logged) {
				fprintf(stderr,
				        "xsched-ctl: gpu%d: %d process(es) counted busy at level "
				        "%d, "
				        "%d found in the slots; repaired (busy counts are "
				        "re-checked "
				        "every interval)\n",
				        g, (int)have, l, (int)want[g][l]);
				a->logged = true;
			}
		}
		if (kick)
			xsched_gpu_kick(gpu);
	}
}
