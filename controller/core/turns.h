/* SPDX-License-Identifier: MIT */
/*
 * Turns: on a time-sliced GPU, lower-priority processes take turns instead of sharing it.
 *
 * Without MPS an NVIDIA GPU time-slices between processes' contexts: one runs at a time,
 * and a context with work keeps the GPU for a slice while the others wait. A burst of the
 * service arriving beside n busy lower contexts waits behind each of them in turn (measured
 * on an H200: ResNet-18's P99 at 2.55x solo beside three ResNet-50 jobs, 1.33x beside one).
 * The lower contexts gain nothing from being runnable together, since they run one at a
 * time anyway; so the controller lets one of them run at a time. The holder is planned as
 * if it were alone under the service (the whole allowance); the others wait with windows of
 * 0 (suspended). The turn passes round robin every quantum, or as soon as the holder has had
 * nothing in flight and launched nothing for two intervals (it then leaves the rotation
 * until it launches again).
 *
 * Members of a GPU's rotation: entries under a service there (not fixed), reported
 * time-sliced by their shim (CUDA without an MPS server), that launched or had work in
 * flight. A waiting member launches nothing, so it would look idle: it stays a member until
 * its own turn shows it idle. Turns apply only while there are two members or more.
 */
#ifndef XSCHED_TURNS_H
#define XSCHED_TURNS_H

#include "plan.h"

#include <stddef.h>
#include <stdint.h>

struct turn_gpu {
	int holder;        /* key of the entry holding the turn; -1: none */
	uint64_t since_ns; /* when it got the turn */
	uint32_t quiet;    /* consecutive intervals the holder was idle */
};

void turns_init(struct turn_gpu *g, size_t ngpus);
/*
 * One interval, before plan_tops(): reads each entry's key, sliced, busy_now and member
 * (kept by the caller across intervals), updates member and sets turn. A holder is counted
 * active. `gpus` is indexed by the entries' gpu, `ngpus` long.
 */
void turns_tick(struct turn_gpu *gpus, size_t ngpus, const struct plan_svc *svcs, size_t nsvcs,
                struct plan_entry *e, size_t ne, uint64_t now_ns, uint64_t quantum_ns);

#endif
