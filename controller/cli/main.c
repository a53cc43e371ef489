// SPDX-License-Identifier: MIT
/* xsched-ctl: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#ifdef XSCHED_HAVE_CTL
#include "ctl_commands.h"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
#ifdef XSCHED_HAVE_CTL
	{ "run", ctl_run_main, "hold a P99 latency target: xsched-ctl run --p99-target 10ms" },
	{ "status", ctl_status_main, "the controller's services and every process's windows" },
	{ "set", ctl_set_main, "change a process's priority or window, or the target" },
#endif
#ifdef XSCHED_HAVE_TOP
	{ "top", cmd_top, "live view of the controller, its services and every GPU process" },
#endif
#ifdef XSCHED_HAVE_OBSERVE
	{ "observe", cmd_observe, "per-process GPU launches, latency, syncs and ioctls (eBPF)" },
#endif
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: xsched-ctl <command> [options]\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\n'xsched-ctl <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		/* One line, as every usage error: the full list is for --help. */
		fprintf(stderr, "usage: xsched-ctl <command> [options]; 'xsched-ctl --help' lists "
		                "the commands\n");
		return XSCHED_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
#ifdef XSCHED_HAVE_CTL
	/* `xsched-ctl --p99-target 10ms ...` is `run`. */
	if (!strncmp(argv[1], "--p99-target", 12) || !strncmp(argv[1], "--target", 8) ||
	    !strncmp(argv[1], "--config", 8))
		return ctl_run_main(argc, argv);
#endif
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "xsched-ctl: unknown command '%s'; 'xsched-ctl --help' lists them\n",
	        argv[1]);
	return XSCHED_EXIT_USAGE;
}
