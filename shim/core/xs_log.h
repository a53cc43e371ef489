/* SPDX-License-Identifier: MIT */
/*
 * stderr messages of the shim, each one line prefixed "xsched: ". Written with one write(2)
 * from a stack buffer, so they are safe in a fork child and never take stdio's locks.
 */
#ifndef XS_LOG_H
#define XS_LOG_H

#include "xs_config.h"

/* The level messages are filtered against (set once the config is read). */
extern int xs_log_level;

void xs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log at XS_LOG_INFO the first time `flag` is seen clear; later calls say nothing. */
void xs_warn_once(int *flag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
