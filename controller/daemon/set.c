// SPDX-License-Identifier: MIT
/*
 * `xsched-ctl set`: changes applied by the running controller through its mailbox
 * (ctl_pub.h), confirmed before this command returns.
 *   set PID --priority P|policy      the operator's level for PID (not capped by policy);
 *                                     "policy" returns it to the rules
 *   set PID --window N|unlimited|auto a static window (no control); "auto" returns it to
 *                                     the controller
 *   set --p99-target DUR              the default service's target
 *   set --allowance DUR|auto          pin every service's allowance, or hand it back
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_opts.h"
#include "config.h"
#include "ctl_commands.h"
#include "ctl_box.h"
#include "parse.h"
#include "policy.h"
#include "xsched_shm.h"

#define SET_WAIT_NS 3000000000ull

static void usage(FILE *out)
{
	fprintf(out, "usage: xsched-ctl set PID --priority high|normal|low|0..7|policy\n"
	             "       xsched-ctl set PID --window N|unlimited|auto\n"
	             "       xsched-ctl set --p99-target DUR\n"
	             "       xsched-ctl set --allowance DUR|auto\n"
	             "Changes what the running controller does; it confirms within an "
	             "interval.\n");
}

/* Post one request and wait for the controller's answer. */
static int post(struct ctl_box *pub, uint32_t kind, int32_t pid, uint64_t start_time, int64_t value)
{
	struct ctl_req *r = NULL;
	uint64_t deadline;
	int result;

	for (int i = 0; i < CTL_BOX_REQS && !r; i++) {
		uint32_t f = CTL_REQ_FREE;

		if (atomic_compare_exchange_strong(&pub->reqs[i].state, &f, CTL_REQ_WRITING))
			r = &pub->reqs[i];
	}
	if (!r) {
		fprintf(stderr, "xsched-ctl set: the controller's mailbox is full; try again\n");
		return CTL_EXIT_FAILURE;
	}
	r->kind = kind;
	r->pid = pid;
	r->start_time = start_time;
	r->value = value;
	r->result = 0;
	atomic_store_explicit(&r->state, CTL_REQ_POSTED, memory_order_release);
	deadline = xsched_now_ns() + SET_WAIT_NS;
	while (atomic_load_explicit(&r->state, memory_order_acquire) != CTL_REQ_DONE) {
		struct timespec ts = { 0, 1000000 };

		if (xsched_now_ns() > deadline) {
			/* Leave it posted: a controller that is merely slow still applies it. */
			fprintf(stderr,
			        "xsched-ctl set: the controller did not answer within 3 s\n");
			return CTL_EXIT_FAILURE;
		}
		nanosleep(&ts, NULL);
	}
	result = r->result;
	atomic_store_explicit(&r->state, CTL_REQ_FREE, memory_order_release);
	if (result == -ESRCH) {
		fprintf(stderr,
		        "xsched-ctl set: process %d is not a shimmed GPU process the "
		        "controller knows\n",
		        (int)pid);
		return CTL_EXIT_FAILURE;
	}
	if (result) {
		fprintf(stderr, "xsched-ctl set: refused by the controller (%s)\n",
		        strerror(-result));
		return CTL_EXIT_FAILURE;
	}
	return 0;
}

/* The caller may not open the mailbox: say which permission it lacks. */
static void denied(void)
{
	char path[160], user[64], group[64];
	uid_t uid;
	gid_t gid;
	mode_t mode;

	if (!ctl_box_owner(ctl_shm_name(), path, sizeof(path), &uid, &gid, &mode)) {
		fprintf(stderr,
		        "xsched-ctl set: permission denied opening the controller's mailbox\n");
		return;
	}
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	snprintf(user, sizeof(user), pw ? "%s" : "uid %.0s%u", pw ? pw->pw_name : "",
	         (unsigned)uid);
	snprintf(group, sizeof(group), gr ? "%s" : "gid %.0s%u", gr ? gr->gr_name : "",
	         (unsigned)gid);
	if (mode & S_IWGRP)
		fprintf(stderr,
		        "xsched-ctl set: permission denied: writing %s needs user %s or group %s "
		        "(the controller's --admin-group)\n",
		        path, user, group);
	else
		fprintf(stderr,
		        "xsched-ctl set: permission denied: writing %s needs user %s (the "
		        "controller's; run it with --admin-group to let a group set)\n",
		        path, user);
}

static struct ctl_box *open_controller(int *rc)
{
	struct ctl_box *box = ctl_box_open(ctl_shm_name());

	*rc = CTL_EXIT_FAILURE;
	if (!box && (errno == EACCES || errno == EPERM)) {
		denied();
		*rc = CTL_EXIT_USAGE;
		return NULL;
	}
	if (!box || box->pid <= 0 || (kill(box->pid, 0) && errno != EPERM)) {
		fprintf(stderr,
		        "xsched-ctl set: no controller running on '%s' (start one with "
		        "xsched-ctl run)\n",
		        ctl_shm_name());
		ctl_box_unmap(box);
		return NULL;
	}
	return box;
}

int ctl_set_main(int argc, char **argv)
{
	static const char *const cmd = "set";
	const char *prio = NULL, *window = NULL, *target = NULL, *pin = NULL, *e;
	uint64_t pid = 0, start_time = 0;
	struct ctl_box *pub;
	uint32_t kind;
	int64_t value;
	int rc;

	for (int i = 1; i < argc; i++) {
		bool missing;
		const char *v;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if ((v = ctl_opt(argc, argv, &i, "--priority", &missing)) || missing) {
			if (missing)
				return ctl_usage_error(cmd, "--priority needs a value");
			prio = v;
		} else if ((v = ctl_opt(argc, argv, &i, "--window", &missing)) || missing) {
			if (missing)
				return ctl_usage_error(cmd, "--window needs a value");
			window = v;
		} else if ((v = ctl_opt(argc, argv, &i, "--p99-target", &missing)) || missing) {
			if (missing)
				return ctl_usage_error(cmd, "--p99-target needs a value");
			target = v;
		} else if ((v = ctl_opt(argc, argv, &i, "--allowance", &missing)) || missing) {
			if (missing)
				return ctl_usage_error(cmd, "--allowance needs a value");
			pin = v;
		} else if (argv[i][0] != '-' && !pid) {
			if ((e = parse_u64(argv[i], 1, 4194304, &pid)))
				return ctl_usage_error(cmd, "bad PID '%s': %s", argv[i], e);
		} else {
			return ctl_usage_error(cmd, "unexpected '%s' (see xsched-ctl set --help)",
			                       argv[i]);
		}
	}
	if (!!prio + !!window + !!target + !!pin != 1)
		return ctl_usage_error(cmd, "give exactly one of PID --priority P, PID --window N, "
		                            "--p99-target DUR, --allowance DUR|auto");
	if (pin) {
		if (pid)
			return ctl_usage_error(cmd, "--allowance applies to the controller, not "
			                            "to a PID");
		if ((e = config_parse_allowance(pin, &value)))
			return ctl_usage_error(cmd, "bad --allowance '%s': %s", pin, e);
		kind = CTL_REQ_ALLOWANCE;
	} else if (target) {
		uint64_t ns;

		if (pid)
			return ctl_usage_error(cmd, "--p99-target applies to the controller, not "
			                            "to a PID");
		if ((e = parse_duration(target, CFG_TARGET_MIN_NS, CFG_TARGET_MAX_NS, &ns)))
			return ctl_usage_error(cmd, "bad --p99-target '%s': %s", target, e);
		kind = CTL_REQ_TARGET;
		value = (int64_t)ns;
	} else {
		if (!pid)
			return ctl_usage_error(cmd, "%s needs a PID (xsched-ctl set PID %s ...)",
			                       prio ? "--priority" : "--window",
			                       prio ? "--priority" : "--window");
		if (prio) {
			int p;

			kind = CTL_REQ_PRIORITY;
			if (!strcmp(prio, "policy")) {
				value = -1;
			} else if ((e = parse_priority(prio, POL_LEVELS - 1, &p))) {
				return ctl_usage_error(cmd, "bad --priority '%s': %s, or policy",
				                       prio, e);
			} else {
				value = p;
			}
		} else {
			uint32_t w;

			kind = CTL_REQ_WINDOW;
			if (!strcmp(window, "auto")) {
				value = -1;
			} else if ((e = parse_window(window, 0, &w))) {
				return ctl_usage_error(cmd, "bad --window '%s': %s, or auto",
				                       window, e);
			} else {
				value = w;
			}
		}
		start_time = xsched_proc_start_time((pid_t)pid);
		if (!start_time) {
			fprintf(stderr, "xsched-ctl set: no process %llu\n",
			        (unsigned long long)pid);
			return CTL_EXIT_FAILURE;
		}
	}
	pub = open_controller(&rc);
	if (!pub)
		return rc;
	rc = post(pub, kind, (int32_t)pid, start_time, value);
	ctl_box_unmap(pub);
	if (!rc)
		printf("xsched-ctl set: applied\n");
	return rc;
}
