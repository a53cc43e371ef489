/* SPDX-License-Identifier: MIT */
/*
 * xsched-ctl's subcommands. Each takes its own argv (argv[0] is the subcommand's name) and
 * returns the process exit status: 0 success, 1 run-time failure, 2 bad command line,
 * 3 something the system lacks (privileges, kernel features). To add one, declare it here,
 * add a row to the table in main.c, and link its library into xsched-ctl.
 */
#ifndef XSCHED_CLI_COMMANDS_H
#define XSCHED_CLI_COMMANDS_H

#define XSCHED_EXIT_FAILURE 1
#define XSCHED_EXIT_USAGE   2
#define XSCHED_EXIT_MISSING 3

#ifdef XSCHED_HAVE_OBSERVE
int cmd_observe(int argc, char **argv);
#endif
#ifdef XSCHED_HAVE_TOP
int cmd_top(int argc, char **argv); /* dashboards/top */
#endif

#endif
