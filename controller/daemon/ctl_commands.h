/* SPDX-License-Identifier: MIT */
/*
 * The controller's subcommands, for xsched-ctl's dispatch table (controller/cli/main.c).
 * Each takes its own argv (argv[0] the subcommand's name) and returns the exit status:
 * 0 success, 1 run-time failure, 2 bad command line (one line on stderr naming the bad
 * value and what is accepted).
 *
 *   xsched-ctl run --p99-target 10ms [--target NAME=DUR]... [--interval 20ms]
 *                  [--p99-window 1s] [--window-max N] [--max-priority P] [--config FILE]
 *                  [--metrics ADDR] [--no-ebpf] [--verbose]
 *   xsched-ctl status [--json]
 *   xsched-ctl set PID --priority P|policy   |   set PID --window N|unlimited|auto
 *   xsched-ctl set --p99-target DUR
 *
 * `xsched-ctl --p99-target 10ms ...` (no subcommand) is `run`: ctl_run_main accepts an
 * argv whose argv[0] is the program name.
 */
#ifndef XSCHED_CTL_COMMANDS_H
#define XSCHED_CTL_COMMANDS_H

int ctl_run_main(int argc, char **argv);
int ctl_status_main(int argc, char **argv);
int ctl_set_main(int argc, char **argv);

#endif
