// SPDX-License-Identifier: MIT
/* xsched-ctl: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
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
		usage(stderr);
		return XSCHED_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "xsched-ctl: unknown command '%s'; 'xsched-ctl --help' lists them\n",
	        argv[1]);
	return XSCHED_EXIT_USAGE;
}
