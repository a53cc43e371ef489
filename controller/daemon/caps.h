/* SPDX-License-Identifier: MIT */
/*
 * The daemon's privileges after start-up. Everything that needs a privilege happens before
 * (segments created and mapped, the exporter's socket bound, the eBPF programs loaded and
 * attached); afterwards the daemon keeps only what the observer needs to go on attaching its
 * uprobes to processes that start later:
 *   CAP_BPF, CAP_PERFMON      uprobes (perf events) and their BPF links
 *   CAP_SYS_PTRACE,
 *   CAP_DAC_READ_SEARCH       other users' /proc/<pid>/maps and map_files, to find their
 *                             GPU libraries
 *   CAP_SYS_ADMIN             attaching those uprobes fails with EACCES without it (measured
 *                             on 6.18 with perf_event_paranoid 2); on kernels older than
 *                             CAP_BPF (5.8) it also stands for the two above
 * and nothing at all without the observer. The bounding and ambient sets are emptied too,
 * and PR_SET_NO_NEW_PRIVS is set, so that nothing the daemon could execute regains any.
 */
#ifndef XSCHED_CTL_CAPS_H
#define XSCHED_CTL_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Drop to the set above (ebpf: the observer runs). Returns the effective set kept (bit n =
 * capability n); a failure is said on stderr once and is not fatal (the daemon still runs,
 * with what it had). */
uint64_t caps_drop(bool ebpf);
/* The capabilities kept with and without the observer, on this kernel. */
uint64_t caps_keep_mask(bool ebpf);

#endif
