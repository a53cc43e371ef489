/* SPDX-License-Identifier: MIT */
/* Command-line option matching shared by xsched-ctl's subcommands (values are parsed with
 * controller/core/parse.h). */
#ifndef XSCHED_CLI_ARGS_H
#define XSCHED_CLI_ARGS_H

#include <stdbool.h>

/*
 * Option matching over argv[*i]: `--name VALUE` or `--name=VALUE`. Returns the value and
 * advances *i past a separate value; NULL if argv[*i] is not this option. A missing value
 * sets *missing (which is otherwise left alone).
 */
const char *arg_value(int argc, char **argv, int *i, const char *name, bool *missing);

#endif
