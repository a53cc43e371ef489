/* SPDX-License-Identifier: MIT */
/* Which runtime-library symbols get which BPF program, with what cookie. */
#ifndef XSCHED_XOBS_PROBES_H
#define XSCHED_XOBS_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The programs of launch.bpf.c, by argument layout and role. */
enum probe_prog {
	PROG_LAUNCH_ARG2,
	PROG_LAUNCH_STACK16,
	PROG_LAUNCH_STACK24,
	PROG_LAUNCH_CFG32,
	PROG_COPY, /* memory commands; the cookie says where the stream argument is */
	PROG_EVENT_RECORD,
	PROG_QUERY_STREAM,
	PROG_QUERY_EVENT,
	PROG_SYNC_STREAM,
	PROG_SYNC_CTX,
	PROG_SYNC_EVENT,
	PROG_SYNC_COPY,
	PROG_STREAM_CREATE,
	PROG_STREAM_DESTROY,
	PROG_COUNT,
};

struct probe_spec {
	const char *sym;
	enum probe_prog prog;
	uint32_t cookie;  /* XOBS_CK_* */
	bool per_process; /* called at command rate: attached per process, not per file */
	bool ret;         /* has a return probe too (xobs_ret) */
};

enum runtime {
	RUNTIME_CUDA,
	RUNTIME_HIP,
	RUNTIME_COUNT,
};

/* The probes for a runtime; *n gets their number. */
const struct probe_spec *probe_specs(enum runtime rt, size_t *n);

/* Which runtime a library file name (basename) belongs to; -1 if none. */
int runtime_of_name(const char *basename);

#endif
