/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the *.bpf.c programs (BPF side only). */
#ifndef XSCHED_XOBS_BPF_H
#define XSCHED_XOBS_BPF_H

/* Integer log2 without a loop (the BPF instruction set has no count-leading-zeros). */
static __always_inline __u32 xobs_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffULL) << 5;
	v >>= s;
	r |= s;
	s = (v > 0xffff) << 4;
	v >>= s;
	r |= s;
	s = (v > 0xff) << 3;
	v >>= s;
	r |= s;
	s = (v > 0xf) << 2;
	v >>= s;
	r |= s;
	s = (v > 0x3) << 1;
	v >>= s;
	r |= s;
	return r | (__u32)(v >> 1);
}

/* Histogram slot of a duration in nanoseconds (log2 of microseconds). */
static __always_inline __u32 xobs_hist_slot(__u64 ns)
{
	__u32 slot = xobs_log2(ns / 1000);

	return slot < XOBS_HIST_SLOTS ? slot : XOBS_HIST_SLOTS - 1;
}

#endif
