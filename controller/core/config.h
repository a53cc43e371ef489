/* SPDX-License-Identifier: MIT */
/*
 * The controller's settings and its config file.
 *
 * File format: one directive per line; '#' starts a comment; blank lines are ignored.
 *
 *	p99-target 10ms          target of the "default" service (level-0 processes)
 *	interval 20ms            control period
 *	p99-window 1s            span of the sliding P99 window
 *	window-max 64            largest window granted (or "unlimited")
 *	turns 100ms              quantum of turns on a time-sliced GPU (turns.h), or "off"
 *	max-priority normal      cap for processes that no rule matches
 *	rule comm=resnet* target=5ms name=resnet
 *	rule uid=1001 max-priority=low
 *	rule cgroup=/batch.slice/job-* priority=low window=4
 *
 * Rules are tried in order, first match wins (policy.h); rules from the command line
 * (--target NAME=DUR) come before the file's. Values given on the command line override the
 * file's.
 */
#ifndef XSCHED_CONFIG_H
#define XSCHED_CONFIG_H

#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_config {
	uint64_t interval_ns;   /* default 20 ms */
	uint64_t p99_window_ns; /* default 1 s */
	uint32_t window_max;    /* default 64 */
	uint64_t turn_ns;       /* quantum of turns (turns.h); 0: off; default 100 ms */
	/* -1 (default): each service's law moves its allowance; >= 0: every service's
	 * allowance is pinned there (--allowance, xsched-ctl set --allowance; law_pin). */
	int64_t pin_ns;
	struct policy pol;
};

/* Limits shared by the command line and the file. */
#define CFG_INTERVAL_MIN_NS   1000000ull       /* 1 ms */
#define CFG_INTERVAL_MAX_NS   10000000000ull   /* 10 s */
#define CFG_P99_WINDOW_MIN_NS 100000000ull     /* 100 ms */
#define CFG_P99_WINDOW_MAX_NS 600000000000ull  /* 10 min */
#define CFG_TARGET_MIN_NS     10000ull         /* 10 us */
#define CFG_TARGET_MAX_NS     3600000000000ull /* 1 h */
#define CFG_TURN_MIN_NS       10000000ull      /* 10 ms */
#define CFG_TURN_MAX_NS       10000000000ull   /* 10 s */
#define CFG_TURN_DEFAULT_NS   100000000ull     /* 100 ms */
#define CFG_ALLOWANCE_MAX_NS  10000000000ull   /* 10 s */

void config_defaults(struct ctl_config *c);
/*
 * Apply a file's directives to c (rules are appended). 0, or -1 with a one-line message in
 * err: "FILE:LINE: bad value 'x' for interval: expected ...".
 */
int config_load(const char *path, struct ctl_config *c, char *err, size_t errlen);
/* "off" (0) or a quantum of turns; NULL, or what is accepted. */
const char *config_parse_turns(const char *s, uint64_t *ns);
/* "auto" (-1) or a pinned allowance of 0..10 s; NULL, or what is accepted. */
const char *config_parse_allowance(const char *s, int64_t *ns);
/* Apply one line (exposed for the tests); `where` prefixes messages ("FILE:LINE"). */
int config_line(char *line, const char *where, unsigned int lineno, struct ctl_config *c, char *err,
                size_t errlen);

#endif
