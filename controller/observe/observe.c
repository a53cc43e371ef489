// SPDX-License-Identifier: MIT
/* `xsched-ctl observe`: the eBPF observer as a standalone view. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "parse.h"
#include "view.h"
#include "xobs.h"

#define MAX_PIDS        64
#define MAX_LIBS        16
#define PID_MAX         4194304ULL /* the kernel's PID_MAX_LIMIT on 64-bit */
#define MIN_INTERVAL_NS 10000000ULL
#define MAX_DURATION_NS (365ULL * 24 * 3600 * 1000000000ULL)

static const char help[] =
        "usage: xsched-ctl observe [--interval D] [--duration D] [--json] [--histogram]\n"
        "                          [--pid PID]... [--lib PATH]...\n"
        "\n"
        "Watches every process that uses libcuda.so.1 or libamdhip64.so, with eBPF: kernel\n"
        "launches and memory commands (asynchronous copies and memsets) per second, commands in\n"
        "flight, burst latency percentiles (first command while idle to the synchronisation\n"
        "that drains it), time blocked in synchronisation, and GPU driver ioctls. Needs root\n"
        "(CAP_BPF and CAP_PERFMON), kernel BTF and tracefs.\n"
        "\n"
        "  --interval D   print every D (default 1s)\n"
        "  --duration D   stop after D (default: at Ctrl-C)\n"
        "  --json         one JSON object per process per interval, and per process for the run\n"
        "  --histogram    log2 histograms of burst latency and sync wait\n"
        "  --pid PID      only this process (repeatable); its launch and copy probes are attached\n"
        "                 at once\n"
        "  --lib PATH     also attach to this runtime library before any process maps it\n"
        "\n"
        "Durations take a unit: 500us, 250ms, 2s.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct options {
	uint64_t interval_ns, duration_ns;
	bool json, histogram, skip_shimmed;
	pid_t pids[MAX_PIDS];
	size_t npids;
	const char *libs[MAX_LIBS];
	size_t nlibs;
};

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xsched-ctl observe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return XSCHED_EXIT_USAGE;
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .interval_ns = 1000000000ULL };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val, *why;
		bool missing = false;
		uint64_t pid;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			return -1;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--histogram")) {
			o->histogram = true;
		} else if (!strcmp(a, "--skip-shimmed")) {
			o->skip_shimmed = true;
		} else if ((val = arg_value(argc, argv, &i, "--interval", &missing))) {
			why = parse_duration(val, MIN_INTERVAL_NS, MAX_DURATION_NS,
			                     &o->interval_ns);
			if (why)
				return usage_error("invalid --interval '%s': %s", val, why);
		} else if ((val = arg_value(argc, argv, &i, "--duration", &missing))) {
			why = parse_duration(val, 1000000ULL, MAX_DURATION_NS, &o->duration_ns);
			if (why)
				return usage_error("invalid --duration '%s': %s", val, why);
		} else if ((val = arg_value(argc, argv, &i, "--pid", &missing))) {
			why = parse_u64(val, 1, PID_MAX, &pid);
			if (why)
				return usage_error("invalid --pid '%s': %s", val, why);
			if (kill((pid_t)pid, 0) && errno == ESRCH)
				return usage_error("invalid --pid '%s': no such process", val);
			if (o->npids == MAX_PIDS)
				return usage_error("too many --pid options (at most %d)", MAX_PIDS);
			o->pids[o->npids++] = (pid_t)pid;
		} else if ((val = arg_value(argc, argv, &i, "--lib", &missing))) {
			if (o->nlibs == MAX_LIBS)
				return usage_error("too many --lib options (at most %d)", MAX_LIBS);
			o->libs[o->nlibs++] = val;
		} else if (missing) {
			return usage_error("%s needs a value; see --help", a);
		} else {
			return usage_error("unknown option '%s'; see --help", a);
		}
	}
	return 0;
}

static void on_burst(const struct xobs_burst *b, void *ctx)
{
	view_burst(ctx, b);
}

static int report(struct xobs *o, struct view *v)
{
	struct xobs_snapshot snap;
	int err;

	xobs_poll(o, 0);
	err = xobs_snapshot(o, &snap);
	if (err) {
		fprintf(stderr, "xsched-ctl observe: cannot read the counters: %s\n",
		        strerror(-err));
		return err;
	}
	view_interval(v, &snap);
	return 0;
}

static int run(const struct options *opt)
{
	struct view_opts vo = { .json = opt->json, .histogram = opt->histogram, .out = stdout };
	struct xobs_opts xo = {
		.pids = opt->pids,
		.npids = opt->npids,
		.libs = opt->libs,
		.nlibs = opt->nlibs,
		.skip_shimmed = opt->skip_shimmed,
		.on_burst = on_burst,
	};
	uint64_t start, next, end;
	const char *libs[8];
	struct xobs *o;
	struct view *v;
	char err[512];
	size_t nlibs;
	int rc;

	v = view_new(&vo, now_ns());
	if (!v)
		return XSCHED_EXIT_FAILURE;
	xo.ctx = v;
	rc = xobs_open(&o, &xo, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "xsched-ctl observe: %s\n", err);
		view_free(v);
		return rc == XOBS_ERR_MISSING ? XSCHED_EXIT_MISSING : XSCHED_EXIT_FAILURE;
	}
	nlibs = xobs_libraries(o, libs, 8);
	fprintf(opt->json ? stderr : stdout,
	        "Tracing GPU processes (%zu runtime librar%s so far)... Hit Ctrl-C to end.\n",
	        nlibs, nlibs == 1 ? "y" : "ies");
	fflush(opt->json ? stderr : stdout);

	start = now_ns();
	next = start + opt->interval_ns;
	end = opt->duration_ns ? start + opt->duration_ns : UINT64_MAX;
	rc = 0;
	while (!stop && !rc) {
		uint64_t t = now_ns(), until = next < end ? next : end;

		if (t < until) {
			uint64_t ms = (until - t + 999999) / 1000000;

			xobs_poll(o, ms > 100 ? 100 : (int)ms);
			continue;
		}
		if (report(o, v))
			rc = XSCHED_EXIT_FAILURE;
		if (t >= end)
			break;
		xobs_rescan(o);
		next += opt->interval_ns;
		if (next <= t) /* fell behind: skip missed ticks rather than print them all */
			next = t + opt->interval_ns;
	}
	if (stop && report(o, v))
		rc = XSCHED_EXIT_FAILURE;
	view_summary(v);
	xobs_close(o);
	view_free(v);
	return rc;
}

int cmd_observe(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct options opt;
	int rc = parse(argc, argv, &opt);

	if (rc)
		return rc < 0 ? 0 : rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return run(&opt);
}
