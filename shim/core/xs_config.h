/* SPDX-License-Identifier: MIT */
/*
 * The shim's settings, read from the environment once per process image:
 *   XSCHED_PRIORITY  high | normal | low, or a level 0..7 (0 most urgent); default normal
 *   XSCHED_WINDOW    commands in flight, 1..2147483646, or "unlimited" (default)
 *   XSCHED_BUDGET    estimated GPU time in flight: a number and a unit (us, ms, s), e.g.
 *                    "500us", "6ms", "1.5ms", from 1us to 60s; or "none" (default)
 *   XSCHED_LOG       quiet | info (default) | debug
 *   XSCHED_SHM       shared-memory segment name (default "xsched")
 * The parsers are shared with xsched-run, so both accept exactly the same values.
 */
#ifndef XS_CONFIG_H
#define XS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum xs_log_level {
	XS_LOG_QUIET = 0,
	XS_LOG_INFO = 1,
	XS_LOG_DEBUG = 2,
};

struct xs_config {
	int prio;
	uint32_t window;    /* XSCHED_WINDOW_UNLIMITED: no static window */
	uint32_t budget_us; /* 0: no static time bound */
	int log;
	const char *shm_name;
};

/* Each returns 0 and sets *out, or -1 when `s` is not an accepted value. */
int xs_parse_priority(const char *s, int *out);
int xs_parse_window(const char *s, uint32_t *out);
int xs_parse_log(const char *s, int *out);
int xs_parse_budget(const char *s, uint32_t *us);

/* What each accepts, for error messages. */
extern const char xs_priority_accepted[];
extern const char xs_window_accepted[];
extern const char xs_log_accepted[];
extern const char xs_budget_accepted[];

/* Fill *cfg from the environment. On a bad value returns -1 with a one-line reason in
 * why[] naming the variable, the value and what is accepted. */
int xs_config_from_env(struct xs_config *cfg, char *why, size_t why_len);

/* "high", "normal", "low" or the number, in buf. */
const char *xs_prio_name(int prio, char *buf, size_t len);
/* "none" or the budget with its unit ("6ms", "250us"), in buf. */
const char *xs_budget_name(uint32_t us, char *buf, size_t len);
/* "unlimited" or the number, in buf. */
const char *xs_window_name(uint32_t w, char *buf, size_t len);

#endif
