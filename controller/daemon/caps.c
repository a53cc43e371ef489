// SPDX-License-Identifier: MIT
/* Dropping capabilities once the daemon is set up (caps.h); raw capset/prctl, no library. */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The highest capability this kernel knows (CAP_LAST_CAP of the running kernel). */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n > 63 ? 63 : n;
}

uint64_t caps_keep_mask(bool ebpf)
{
	uint64_t keep;

	if (!ebpf)
		return 0;
	/* CAP_SYS_ADMIN: measured, a uprobe perf event attached after the drop fails with
	 * EACCES without it (kernel 6.18, perf_event_paranoid 2), CAP_PERFMON notwithstanding. */
	keep = 1ull << CAP_SYS_PTRACE | 1ull << CAP_DAC_READ_SEARCH | 1ull << CAP_SYS_ADMIN;
	if (last_cap() >= CAP_BPF)
		keep |= 1ull << CAP_BPF | 1ull << CAP_PERFMON;
	return keep;
}

uint64_t caps_drop(bool ebpf)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];
	uint64_t keep = caps_keep_mask(ebpf), have;
	int top = last_cap();

	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c)) {
		fprintf(stderr, "xsched-ctl: cannot read capabilities (%s); keeping them\n",
		        strerror(errno));
		return 0;
	}
	have = (uint64_t)c[1].permitted << 32 | c[0].permitted;
	keep &= have;
	/* Bounding set first: dropping from it needs CAP_SETPCAP, which goes next. Without
	 * CAP_SETPCAP (an unprivileged daemon) there is nothing in it to regain anyway. */
	if (have & (1ull << CAP_SETPCAP))
		for (int i = 0; i <= top; i++)
			if (!(keep & (1ull << i)))
				prctl(PR_CAPBSET_DROP, i, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	c[0].effective = c[0].permitted = (uint32_t)keep;
	c[1].effective = c[1].permitted = (uint32_t)(keep >> 32);
	c[0].inheritable = c[1].inheritable = 0;
	if (syscall(SYS_capset, &h, c)) {
		fprintf(stderr, "xsched-ctl: cannot drop capabilities (%s); keeping them\n",
		        strerror(errno));
		keep = have;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fprintf(stderr, "xsched-ctl: cannot set no_new_privs (%s)\n", strerror(errno));
	return keep;
}
