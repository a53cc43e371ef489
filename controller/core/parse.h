/* SPDX-License-Identifier: MIT */
/*
 * Parsing of the values the controller accepts on its command line and in its config
 * file. Each parser returns NULL on success, or a short phrase saying what is accepted, for
 * the caller's one-line error: "xsched-ctl: bad --p99-target '10': <phrase>". A phrase may
 * live in a static buffer: it is valid until the next call of the same parser.
 */
#ifndef XSCHED_PARSE_H
#define XSCHED_PARSE_H

#include <stdint.h>

/* "250us", "10ms", "1.5s" (also "ns"): a decimal number and a unit, in [min, max] ns. */
const char *parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ns);
/* A decimal integer in [min, max]. */
const char *parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v);
/* A window size: a command count in [min, max] (< XSCHED_WINDOW_UNLIMITED) or "unlimited",
 * which yields PARSE_WINDOW_UNLIMITED. */
#define PARSE_WINDOW_UNLIMITED 0x7fffffffu
const char *parse_window(const char *s, uint32_t min, uint32_t *w);
/* A priority level: "high" (0), "normal" (1), "low" (2) or 0..max_level. */
const char *parse_priority(const char *s, int max_level, int *prio);
/* A name for the protocol's per-priority names: the inverse of parse_priority (for 0..2),
 * else NULL. */
const char *priority_name(int prio);
/* Format ns as the shortest exact-enough duration ("10ms", "1.5ms", "250us"). */
void format_duration(uint64_t ns, char *buf, unsigned int len);

#endif
