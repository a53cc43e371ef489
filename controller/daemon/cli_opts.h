/* SPDX-License-Identifier: MIT */
/* Option matching for the controller's subcommands: `--name VALUE` or `--name=VALUE`. */
#ifndef XSCHED_CTL_CLI_OPTS_H
#define XSCHED_CTL_CLI_OPTS_H

#include <stdbool.h>

#define CTL_EXIT_FAILURE 1
#define CTL_EXIT_USAGE   2

/*
 * If argv[*i] is option `name`, return its value (advancing *i past a separate value), or
 * NULL with *missing set when there is none. NULL with *missing clear: not this option.
 */
const char *ctl_opt(int argc, char **argv, int *i, const char *name, bool *missing);
/* Print "xsched-ctl CMD: <message>" on one line and return CTL_EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The protocol segment's name: XSCHED_SHM or "xsched". */
const char *ctl_shm_name(void);

#endif
