/* SPDX-License-Identifier: MIT */
/*
 * The controller's status as Prometheus text exposition (format 0.0.4): base units
 * (seconds, commands), counters ending in _total, HELP and TYPE before each family.
 *
 * Services (labels service, gpu, priority): xsched_p99_seconds, xsched_p99_target_seconds,
 * xsched_allowance_seconds, xsched_controller_state (one series per state, 1 for the
 * current), xsched_service_samples_total, xsched_service_violations_total,
 * xsched_service_cold_bursts_total.
 * Processes (labels gpu, pid, comm, priority, service, source=shim|ebpf):
 * xsched_window_commands{window=busy|idle}, xsched_inflight_commands,
 * xsched_launches_total, xsched_completions_total, xsched_blocked_seconds_total,
 * xsched_bursts_total, xsched_burst_latency_seconds (histogram), and the recent
 * xsched_burst_p50_seconds and xsched_burst_p99_seconds (gauges: a summary would claim
 * quantiles over the series' whole life).
 * Controller: xsched_controller_up, xsched_controller_ticks_total, xsched_ebpf_enabled,
 * xsched_default_p99_target_seconds.
 */
#ifndef XSCHED_METRICS_TEXT_H
#define XSCHED_METRICS_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "ctl_pub.h"

/* Write the exposition of snapshot `s` (ignored unless `live`) to f. */
void metrics_write(FILE *f, const struct ctl_pub *s, bool live);

#endif
