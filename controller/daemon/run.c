// SPDX-License-Identifier: MIT
/* `xsched-ctl run`: options, config file, then the daemon. */
#include <grp.h>
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"
#include "config.h"
#include "ctl_commands.h"
#include "daemon.h"
#include "parse.h"
#ifdef XSCHED_HAVE_METRICS
#include "metrics.h"
#endif
#include "xsched_shm.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: xsched-ctl run --p99-target DUR [options]\n"
	             "       xsched-ctl --p99-target DUR [options]\n"
	             "Holds the P99 burst latency of high-priority GPU processes at a target by "
	             "bounding the\n"
	             "commands lower-priority processes keep in flight.\n\n"
	             "  --p99-target DUR      target of level-0 (high) processes, e.g. 10ms\n"
	             "  --target NAME=DUR     a service of its own: processes named NAME (a glob), "
	             "repeatable\n"
	             "  --interval DUR        control period (default 20ms; 1ms..10s)\n"
	             "  --p99-window DUR      span of the P99 shown by status (default 1s)\n"
	             "  --window-max N        largest window granted (default 64, or unlimited)\n"
	             "  --turns DUR|off       on a time-sliced GPU, lower processes take turns of "
	             "DUR\n"
	             "                        (default 100ms; 10ms..10s) instead of sharing it\n"
	             "  --allowance DUR|auto  pin every service's allowance (lower work in "
	             "flight,\n"
	             "                        0..10s) instead of the law moving it (default "
	             "auto)\n"
	             "  --max-priority P      most urgent level a process may claim unless a rule "
	             "says\n"
	             "                        otherwise: high, normal, low or 0..7 (default high)\n"
	             "  --config FILE         settings and rules (see docs/controller.md)\n"
	             "  --metrics ADDR        address for the Prometheus exporter (host:port)\n"
	             "  --no-ebpf             shim telemetry only, without the eBPF observer\n"
	             "  --admin-group GROUP   members of GROUP may use xsched-ctl set (default: "
	             "only this\n"
	             "                        controller's user); see docs/security.md\n"
	             "  -v, --verbose         one line whenever a service's state or allowance "
	             "changes\n"
	             "Durations take a unit: us, ms or s. Values on the command line override the "
	             "file's.\n");
}

struct run_args {
	const char *config;
	const char *target, *interval, *window, *wmax, *turns, *maxprio, *admin, *pin;
	struct pol_rule targets[POL_MAX_RULES];
	size_t ntargets;
	struct ctl_opts o;
};

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const char *const cmd = "run";

	for (int i = 1; i < argc; i++) {
		bool missing;
		const char *v;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return -1;
		}
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			a->o.verbose = true;
			continue;
		}
		if (!strcmp(argv[i], "--no-ebpf")) {
			a->o.no_ebpf = true;
			continue;
		}
#define OPT(name, field)                                                                           \
	if ((v = ctl_opt(argc, argv, &i, name, &missing)) || missing) {                            \
		if (missing)                                                                       \
			return ctl_usage_error(cmd, "%s needs a value", name);                     \
		field = v;                                                                         \
		continue;                                                                          \
	}
		OPT("--p99-target", a->target)
		OPT("--interval", a->interval)
		OPT("--p99-window", a->window)
		OPT("--window-max", a->wmax)
		OPT("--turns", a->turns)
		OPT("--max-priority", a->maxprio)
		OPT("--allowance", a->pin)
		OPT("--config", a->config)
		OPT("--metrics", a->o.metrics_addr)
		OPT("--admin-group", a->admin)
#undef OPT
		if ((v = ctl_opt(argc, argv, &i, "--target", &missing)) || missing) {
			const char *e;

			if (missing)
				return ctl_usage_error(cmd, "--target needs a value");
			if (a->ntargets >= POL_MAX_RULES)
				return ctl_usage_error(cmd, "too many --target (at most %d)",
				                       POL_MAX_RULES);
			e = policy_parse_target(v, &a->targets[a->ntargets]);
			if (e)
				return ctl_usage_error(cmd, "bad --target '%s': %s", v, e);
			a->ntargets++;
			continue;
		}
		return ctl_usage_error(cmd, "unknown option '%s' (see xsched-ctl run --help)",
		                       argv[i]);
	}
	return 0;
}

static int bad(const char *opt, const char *val, const char *e)
{
	return ctl_usage_error("run", "bad %s '%s': %s", opt, val, e);
}

/* "host:port" or ":port" with a port of 1..65535. */
static const char *check_addr(const char *s)
{
#ifdef XSCHED_HAVE_METRICS
	struct metrics_addr ma;

	/* The exporter's own parser: exactly what it will listen on, numeric only. */
	return metrics_parse_addr(s, &ma);
#else
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (!colon || parse_u64(colon + 1, 1, 65535, &port))
		return "expected HOST:PORT or :PORT with a port from 1 to 65535 (e.g. :9464)";
	return NULL;
#endif
}

/* Command-line values over the file's; command-line rules before the file's. */
static int apply(struct run_args *a)
{
	struct ctl_config *c = &a->o.cfg;
	struct policy *pol = &c->pol;
	const char *e;
	char err[2048]; /* holds a whole config line (1022 characters) and the reason */
	size_t nfile;

	config_defaults(c);
	if (a->config && config_load(a->config, c, err, sizeof(err)))
		return ctl_usage_error("run", "%s", err);
	if (a->target && (e = parse_duration(a->target, CFG_TARGET_MIN_NS, CFG_TARGET_MAX_NS,
	                                     &pol->default_target_ns)))
		return bad("--p99-target", a->target, e);
	if (a->interval && (e = parse_duration(a->interval, CFG_INTERVAL_MIN_NS,
	                                       CFG_INTERVAL_MAX_NS, &c->interval_ns)))
		return bad("--interval", a->interval, e);
	if (a->window && (e = parse_duration(a->window, CFG_P99_WINDOW_MIN_NS,
	                                     CFG_P99_WINDOW_MAX_NS, &c->p99_window_ns)))
		return bad("--p99-window", a->window, e);
	if (a->wmax && (e = parse_window(a->wmax, 1, &c->window_max)))
		return bad("--window-max", a->wmax, e);
	if (a->turns && (e = config_parse_turns(a->turns, &c->turn_ns)))
		return bad("--turns", a->turns, e);
	if (a->pin && (e = config_parse_allowance(a->pin, &c->pin_ns)))
		return bad("--allowance", a->pin, e);
	if (a->maxprio && (e = parse_priority(a->maxprio, POL_LEVELS - 1, &pol->default_max_prio)))
		return bad("--max-priority", a->maxprio, e);
	if (a->o.metrics_addr && (e = check_addr(a->o.metrics_addr)))
		return bad("--metrics", a->o.metrics_addr, e);
	if (a->admin) {
		const struct group *gr = getgrnam(a->admin);
		uint64_t gid;

		if (gr) {
			a->o.admin_gid = gr->gr_gid;
		} else if (!parse_u64(a->admin, 0, 4294967294ull, &gid)) {
			a->o.admin_gid = (gid_t)gid;
		} else {
			return bad("--admin-group", a->admin,
			           "expected the name or number of an existing group");
		}
		a->o.admin_group_set = true;
	}
	nfile = pol->nrules;
	if (nfile + a->ntargets > POL_MAX_RULES)
		return ctl_usage_error("run",
		                       "too many rules: %zu from --target and %zu from the file "
		                       "(at most %d)",
		                       a->ntargets, nfile, POL_MAX_RULES);
	memmove(&pol->rules[a->ntargets], &pol->rules[0], nfile * sizeof(pol->rules[0]));
	memcpy(&pol->rules[0], a->targets, a->ntargets * sizeof(pol->rules[0]));
	pol->nrules = nfile + a->ntargets;
	if (pol->default_target_ns)
		return 0;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].target_ns)
			return 0;
	return ctl_usage_error("run", "no latency target: give --p99-target DUR (e.g. 10ms), "
	                              "--target NAME=DUR, or a config file that sets one");
}

int ctl_run_main(int argc, char **argv)
{
	static struct run_args a; /* large (rules): not on the stack */
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = apply(&a);
	if (rc)
		return rc;
	a.o.shm_name = ctl_shm_name();
	if (!xsched_shm_name_ok(a.o.shm_name))
		return ctl_usage_error("run",
		                       "bad XSCHED_SHM '%s': expected 1-63 characters of "
		                       "A-Z a-z 0-9 . _ -",
		                       a.o.shm_name);
	return ctl_daemon_run(&a.o);
}
