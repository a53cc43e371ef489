// SPDX-License-Identifier: MIT
/*
 * What the observer needs from the system, checked before anything is loaded so that a
 * missing piece is named in one line instead of surfacing as a verifier or perf error:
 * privileges, kernel BTF (CO-RE), uprobes, and tracefs for the syscall tracepoints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "internal.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT   38
#define CAP_BPF_BIT       39

#define BTF_PATH    "/sys/kernel/btf/vmlinux"
#define UPROBE_PMU  "/sys/bus/event_source/devices/uprobe/type"
#define TRACEFS     "/sys/kernel/tracing"
#define DEBUGFS_TRC "/sys/kernel/debug/tracing"
#define IOCTL_TP    "events/syscalls/sys_enter_ioctl/id"

static unsigned long long effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool has_cap(unsigned long long caps, int bit)
{
	return caps & (1ULL << bit);
}

/* libbpf looks for tracepoints under debugfs when that is mounted, else under tracefs. */
static const char *tracing_dir(void)
{
	return access(DEBUGFS_TRC, F_OK) == 0 ? DEBUGFS_TRC : TRACEFS;
}

static bool ioctl_tracepoint_present(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tracing_dir(), IOCTL_TP);
	return access(path, R_OK) == 0;
}

static bool tracefs_mounted(void)
{
	char events[128];

	snprintf(events, sizeof(events), "%s/events", tracing_dir());
	return access(events, F_OK) == 0;
}

static int check_tracefs(unsigned long long caps, char *err, size_t errlen)
{
	int mount_err = EPERM;

	if (ioctl_tracepoint_present())
		return 0;
	if (!tracefs_mounted() && has_cap(caps, CAP_SYS_ADMIN_BIT)) {
		if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0 && ioctl_tracepoint_present())
			return 0;
		mount_err = errno;
	}
	if (!tracefs_mounted()) {
		snprintf(err, errlen,
		         "missing tracefs: not mounted at " TRACEFS " and mounting it failed (%s); "
		         "mount -t tracefs nodev " TRACEFS,
		         strerror(mount_err));
		return XOBS_ERR_MISSING;
	}
	snprintf(err, errlen,
	         "missing syscall tracepoints: no syscalls/sys_enter_ioctl under %s/events "
	         "(kernel needs CONFIG_FTRACE_SYSCALLS)",
	         tracing_dir());
	return XOBS_ERR_MISSING;
}

int preflight(char *err, size_t errlen)
{
	unsigned long long caps = effective_caps();
	bool admin = has_cap(caps, CAP_SYS_ADMIN_BIT);

	if (!admin && !(has_cap(caps, CAP_BPF_BIT) && has_cap(caps, CAP_PERFMON_BIT))) {
		const char *which = has_cap(caps, CAP_BPF_BIT)       ? "CAP_PERFMON"
		                    : has_cap(caps, CAP_PERFMON_BIT) ? "CAP_BPF"
		                                                     : "CAP_BPF and CAP_PERFMON";

		snprintf(err, errlen,
		         "missing privileges: %s (or CAP_SYS_ADMIN) not in the effective set; "
		         "run as root",
		         which);
		return XOBS_ERR_MISSING;
	}
	if (access(BTF_PATH, R_OK) != 0) {
		snprintf(err, errlen,
		         "missing kernel BTF: " BTF_PATH
		         " (%s; kernel needs CONFIG_DEBUG_INFO_BTF)",
		         strerror(errno));
		return XOBS_ERR_MISSING;
	}
	if (access(UPROBE_PMU, R_OK) != 0) {
		snprintf(err, errlen,
		         "missing uprobes: " UPROBE_PMU " (%s; kernel needs CONFIG_UPROBE_EVENTS)",
		         strerror(errno));
		return XOBS_ERR_MISSING;
	}
	return check_tracefs(caps, err, errlen);
}
