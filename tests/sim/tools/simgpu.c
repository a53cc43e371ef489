/* SPDX-License-Identifier: MIT */
/*
 * simgpu: create, inspect and remove the simulated GPU named by $XSCHED_SIM_NAME.
 *
 *   simgpu create [--mode fifo|timeslice|concurrent] [--devices N] [--slice-us N]
 *   simgpu stats [--pid P] [--json]
 *   simgpu destroy
 */
#include "simgpu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROWS (SIMGPU_MAX_PROCS * SIMGPU_MAX_DEVICES)

static const char usage[] =
        "usage: simgpu create [--mode fifo|timeslice|concurrent] [--devices N] [--slice-us N]\n"
        "       simgpu stats [--pid P] [--json]\n"
        "       simgpu destroy\n"
        "The segment is /dev/shm/$XSCHED_SIM_NAME (default xsched-simgpu).\n";

static int bad(const char *what, const char *value, const char *accepted)
{
	fprintf(stderr, "simgpu: bad %s '%s': expected %s\n", what, value, accepted);
	return 2;
}

static int parse_ul(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno || end == v || *end || *v == '-' || *out < lo || *out > hi ? -1 : 0;
}

static int cmd_create(int argc, char **argv)
{
	struct simgpu_config cfg = { .mode = SIMGPU_FIFO, .devices = 1, .slice_us = 2000 };
	unsigned long x;
	int err;

	/* The environment gives the defaults; options override it. */
	if (simgpu_config_from_env(&cfg))
		return 2;
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--mode") && v) {
			if (simgpu_parse_mode(v, &cfg.mode))
				return bad("--mode", v, "fifo, timeslice or concurrent");
		} else if (!strcmp(opt, "--devices") && v) {
			if (parse_ul(v, 1, SIMGPU_MAX_DEVICES, &x))
				return bad("--devices", v, "an integer from 1 to 4");
			cfg.devices = (unsigned int)x;
		} else if (!strcmp(opt, "--slice-us") && v) {
			if (parse_ul(v, 1, 1000000, &x))
				return bad("--slice-us", v, "an integer from 1 to 1000000");
			cfg.slice_us = (uint32_t)x;
		} else {
			return bad("create option", opt,
			           "--mode MODE, --devices N or --slice-us N, each with a value");
		}
		i++;
	}
	err = simgpu_create(&cfg);
	if (err) {
		fprintf(stderr, "simgpu: cannot create the segment: %s\n", strerror(-err));
		return 1;
	}
	printf("simgpu: created mode=%s devices=%u slice_us=%" PRIu32 "\n",
	       simgpu_mode_name(cfg.mode), cfg.devices, cfg.slice_us);
	return 0;
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int cmd_stats(int argc, char **argv)
{
	static struct simgpu_proc_stats rows[MAX_ROWS];
	bool json = false;
	unsigned long pid = 0;
	int n;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			if (parse_ul(argv[i + 1], 1, 0x7fffffff, &pid))
				return bad("--pid", argv[i + 1],
				           "a process id (a positive integer)");
			i++;
		} else {
			return bad("stats option", argv[i], "--pid P or --json");
		}
	}
	const char *name = getenv("XSCHED_SIM_NAME");
	char path[256];

	snprintf(path, sizeof(path), "/dev/shm/%s", name && *name ? name : "xsched-simgpu");
	if (access(path, F_OK)) {
		fprintf(stderr, "simgpu: no segment %s (make one with 'simgpu create')\n", path);
		return 1;
	}
	if (!simgpu_get_config()) {
		fprintf(stderr, "simgpu: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	n = simgpu_stats((pid_t)pid, rows, MAX_ROWS);
	if (!json)
		printf("%8s %3s %-15s %5s %10s %10s %8s %12s\n", "pid", "dev", "comm", "alive",
		       "submitted", "completed", "max_infl", "busy_us");
	for (int i = 0; i < n; i++) {
		const struct simgpu_proc_stats *r = &rows[i];

		if (json) {
			printf("{\"pid\":%d,\"dev\":%d,\"comm\":", (int)r->pid, r->dev);
			print_json_string(r->comm);
			printf(",\"alive\":%s,\"submitted\":%" PRIu64 ",\"completed\":%" PRIu64
			       ",\"max_inflight\":%" PRIu64 ",\"busy_us\":%" PRIu64
			       ",\"started\":%" PRIu64
			       ",\"wait_max_us\":%.1f,\"wait_total_us\":%.1f"
			       ",\"gaps\":%" PRIu64 ",\"gap_p50_us\":%.1f,\"gap_p90_us\":%.1f"
			       ",\"gap_p99_us\":%.1f}\n",
			       r->alive ? "true" : "false", r->submitted, r->completed,
			       r->max_inflight, r->busy_ns / 1000, r->started,
			       (double)r->wait_max_ns / 1e3, (double)r->wait_total_ns / 1e3,
			       r->gaps, (double)r->gap_p50_ns / 1e3, (double)r->gap_p90_ns / 1e3,
			       (double)r->gap_p99_ns / 1e3);
		} else {
			printf("%8d %3d %-15s %5s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			       " %12" PRIu64 "\n",
			       (int)r->pid, r->dev, r->comm, r->alive ? "yes" : "no", r->submitted,
			       r->completed, r->max_inflight, r->busy_ns / 1000);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: simgpu create|stats|destroy [options] (missing command; "
		                "simgpu --help describes them)\n");
		return 2;
	}
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc - 2, argv + 2);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	if (!strcmp(argv[1], "destroy")) {
		int err;

		if (argc > 2)
			return bad("destroy argument", argv[2], "no arguments");
		err = simgpu_destroy();
		if (err) {
			fprintf(stderr, "simgpu: cannot remove the segment: %s\n", strerror(-err));
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	return bad("command", argv[1], "create, stats or destroy");
}
