/* SPDX-License-Identifier: MIT */
/*
 * What `xsched-ctl observe` prints: a table per interval in the style of bcc's tools, or
 * one JSON object per process per interval, optionally with log2 histograms, and at the
 * end each process's totals over the whole run.
 */
#ifndef XSCHED_OBSERVE_VIEW_H
#define XSCHED_OBSERVE_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "xobs.h"

struct view_opts {
	bool json;
	bool histogram;
	FILE *out;
};

struct view;

struct view *view_new(const struct view_opts *opts, uint64_t start_ns);
/* A burst sample (the observer's on_burst callback). */
void view_burst(struct view *v, const struct xobs_burst *b);
/* Prints the interval ending at snap (counters against the previous snapshot's). Takes
 * ownership of snap. */
void view_interval(struct view *v, struct xobs_snapshot *snap);
/* Prints every process's totals over the run. */
void view_summary(struct view *v);
void view_free(struct view *v);

#endif
