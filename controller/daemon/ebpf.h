/* SPDX-License-Identifier: MIT */
/*
 * The eBPF observer in the controller (optional): burst latencies of GPU processes that run
 * without the shim, so that a service the shim does not see still gets its target held.
 * Processes with the shim are left to it (no launch probes on them). Without the observer
 * (not built, not root, kernel lacking a feature) the controller says once what is missing
 * and uses the shim's telemetry only.
 */
#ifndef XSCHED_CTL_EBPF_H
#define XSCHED_CTL_EBPF_H

#include <stdint.h>

struct ctl_pub_entry;
struct daemon;

void ebpf_start(struct daemon *d);
/* Feed the samples of unshimmed service processes that arrived since the last call. */
void ebpf_poll(struct daemon *d);
/* Entries (observed = 1) for the unshimmed processes it follows, at most max; how many. */
uint32_t ebpf_publish(struct daemon *d, struct ctl_pub_entry *out, uint32_t max);
void ebpf_stop(struct daemon *d);

#endif
