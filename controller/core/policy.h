/* SPDX-License-Identifier: MIT */
/*
 * Who gets which priority and which latency target.
 *
 * A process asks for a priority level (XSCHED_PRIORITY: 0 most urgent .. 7); policy grants
 * it, or a less urgent one: a process may never claim more than its cap. Rules match a
 * process by name (comm, a glob), uid and cgroup (v2 path, a glob); the first matching rule
 * decides, unmatched processes get the defaults. A rule may
 *   - set the priority outright (priority=), or cap what the process may claim
 *     (max-priority=);
 *   - give the process a P99 target (target=): the processes of one rule on one GPU form a
 *     service, whose target constrains every process of a less urgent level there;
 *   - take the process out of control with a static window (window=).
 * A process granted level 0 that no rule gives a target joins the "default" service with
 * the default target (--p99-target).
 */
#ifndef XSCHED_POLICY_H
#define XSCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_LEVELS    8 /* priority levels 0..7, as in the protocol */
#define POL_NAME_MAX  32
#define POL_GLOB_MAX  128
#define POL_MAX_RULES 64

struct pol_rule {
	char comm[POL_GLOB_MAX];   /* glob on the process name; "" matches any */
	char cgroup[POL_GLOB_MAX]; /* glob on the cgroup v2 path; "" matches any */
	int64_t uid;               /* -1 matches any */
	char name[POL_NAME_MAX];   /* the service's name; "" means the comm pattern */
	uint64_t target_ns;        /* P99 target; 0: none */
	int prio;                  /* priority to grant; -1: what the process asks for */
	int max_prio;              /* most urgent level it may claim; -1: the default cap */
	bool has_window;           /* a static window: this process is not controlled */
	uint32_t window;
	unsigned int line; /* config file line (0: command line), for messages */
};

struct policy {
	uint64_t default_target_ns; /* target of the "default" service; 0: none */
	int default_max_prio;       /* cap for unmatched processes (0: anyone may claim high) */
	int default_prio;           /* for a process asking for no valid level */
	size_t nrules;
	struct pol_rule rules[POL_MAX_RULES];
};

struct pol_proc {
	const char *comm;
	int64_t uid;        /* -1: unknown (matches only rules without uid=) */
	const char *cgroup; /* NULL: unknown (matches only rules without cgroup=) */
	int requested;      /* the level it asks for; out of range: none */
};

struct pol_decision {
	int prio;           /* granted level */
	bool capped;        /* the process asked for more than it got */
	int rule;           /* index of the matching rule, -1: none */
	uint64_t target_ns; /* 0: not a service */
	char service[POL_NAME_MAX];
	bool has_window; /* static window: leave it out of control */
	uint32_t window;
};

void policy_init(struct policy *pol);
void pol_rule_init(struct pol_rule *r);
/* Append a rule; -1 when the table is full. */
int policy_add(struct policy *pol, const struct pol_rule *r);
/* Parse "--target NAME=DUR": a rule matching comm NAME, service NAME, target DUR. NULL or
 * a phrase saying what is accepted. */
const char *policy_parse_target(const char *arg, struct pol_rule *r);
/* Parse one "key=value" term of a rule into r. NULL or a phrase. */
const char *policy_parse_term(const char *term, struct pol_rule *r);
bool policy_match(const struct pol_rule *r, const struct pol_proc *p);
void policy_decide(const struct policy *pol, const struct pol_proc *p, struct pol_decision *d);

#endif
