/* SPDX-License-Identifier: MIT */
/*
 * The controller daemon: attaches to the protocol segment, and every interval reads the
 * shimmed processes' latency rings and counters, runs each service's law and writes the
 * granted priorities and windows, with a heartbeat. SIGINT and SIGTERM make it restore every
 * process's default window (grant cleared, priority left to the process) before it exits;
 * if it dies without that, the shims fall back to their defaults once the heartbeat is
 * stale (XSCHED_HEARTBEAT_STALE_NS).
 */
#ifndef XSCHED_CTL_DAEMON_H
#define XSCHED_CTL_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

struct ctl_opts {
	struct ctl_config cfg;
	const char *shm_name;     /* protocol segment (XSCHED_SHM or "xsched") */
	const char *metrics_addr; /* --metrics, for the exporter; NULL: none */
	bool no_ebpf;             /* --no-ebpf: shim telemetry only, no warning */
	bool verbose;             /* one line per interval in which a law acted */
	bool admin_group_set;     /* --admin-group: its members may `set` too */
	gid_t admin_gid;
};

/* Runs until SIGINT/SIGTERM. Returns the process exit status (0 clean stop, 1 failure). */
int ctl_daemon_run(const struct ctl_opts *o);

#endif
