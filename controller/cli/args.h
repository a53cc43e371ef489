/* SPDX-License-Identifier: MIT */
/* Command-line value parsing shared by xsched-ctl's subcommands. */
#ifndef XSCHED_CLI_ARGS_H
#define XSCHED_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* What parse_duration_ns accepts, for error messages. */
#define DURATION_ACCEPTED                                                                          \
	"a positive number with a unit us, ms or s (e.g. 250ms, 1.5s); a bare number is seconds"

/* "250us", "10ms", "1.5s", "2" (seconds) -> nanoseconds; false if malformed, not positive,
 * or longer than a year. */
bool parse_duration_ns(const char *s, uint64_t *ns);

/* A decimal process id > 0. */
bool parse_pid(const char *s, int *pid);

/*
 * Option matching over argv[*i]: `--name VALUE` or `--name=VALUE`. Returns the value and
 * advances *i past a separate value; NULL if argv[*i] is not this option. A missing value
 * sets *missing.
 */
const char *arg_value(int argc, char **argv, int *i, const char *name, bool *missing);

#endif
