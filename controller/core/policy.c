// SPDX-License-Identifier: MIT
/* Rule matching and the priority/target decision (policy.h). */
#include "policy.h"
#include "parse.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* Targets from 10 us to 1 h: anything else is a typo. */
#define TARGET_MIN_NS 10000ull
#define TARGET_MAX_NS 3600000000000ull

void pol_rule_init(struct pol_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->uid = -1;
	r->prio = -1;
	r->max_prio = -1;
}

void policy_init(struct policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->default_max_prio = 0;
	pol->default_prio = 1; /* normal */
}

int policy_add(struct policy *pol, const struct pol_rule *r)
{
	if (pol->nrules >= POL_MAX_RULES)
		return -1;
	pol->rules[pol->nrules++] = *r;
	return 0;
}

static bool copy_str(char *dst, size_t len, const char *src, size_t n)
{
	if (n >= len)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

const char *policy_parse_target(const char *arg, struct pol_rule *r)
{
	const char *eq = arg ? strchr(arg, '=') : NULL;
	const char *err;

	pol_rule_init(r);
	if (!eq || eq == arg)
		return "expected NAME=DURATION (e.g. resnet=5ms)";
	if (!copy_str(r->comm, sizeof(r->comm), arg, (size_t)(eq - arg)) ||
	    !copy_str(r->name, sizeof(r->name), arg, (size_t)(eq - arg)))
		return "expected NAME=DURATION with a NAME of at most 31 characters";
	err = parse_duration(eq + 1, TARGET_MIN_NS, TARGET_MAX_NS, &r->target_ns);
	return err;
}

const char *policy_parse_term(const char *term, struct pol_rule *r)
{
	static char what[160];
	const char *eq = strchr(term, '='), *v;
	size_t klen;
	uint64_t u;
	const char *err = NULL;

	if (!eq || eq == term)
		goto bad_key;
	klen = (size_t)(eq - term);
	v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && !strncmp(term, k, klen))
	if (KEY("comm")) {
		if (!*v || !copy_str(r->comm, sizeof(r->comm), v, strlen(v)))
			return "expected comm=GLOB (a process name pattern, at most 127 "
			       "characters)";
	} else if (KEY("cgroup")) {
		if (!*v || !copy_str(r->cgroup, sizeof(r->cgroup), v, strlen(v)))
			return "expected cgroup=GLOB (a cgroup v2 path pattern, at most 127 "
			       "characters)";
	} else if (KEY("uid")) {
		err = parse_u64(v, 0, 4294967294ull, &u);
		if (!err)
			r->uid = (int64_t)u;
	} else if (KEY("name")) {
		if (!*v || !copy_str(r->name, sizeof(r->name), v, strlen(v)))
			return "expected name=NAME (at most 31 characters)";
	} else if (KEY("target")) {
		err = parse_duration(v, TARGET_MIN_NS, TARGET_MAX_NS, &r->target_ns);
	} else if (KEY("priority")) {
		err = parse_priority(v, POL_LEVELS - 1, &r->prio);
	} else if (KEY("max-priority")) {
		err = parse_priority(v, POL_LEVELS - 1, &r->max_prio);
	} else if (KEY("window")) {
		err = parse_window(v, 0, &r->window);
		if (!err)
			r->has_window = true;
	} else {
		goto bad_key;
	}
#undef KEY
	return err;
bad_key:
	snprintf(what, sizeof(what),
	         "expected KEY=VALUE with KEY one of comm, uid, cgroup (matching) or name, "
	         "target, priority, max-priority, window");
	return what;
}

bool policy_match(const struct pol_rule *r, const struct pol_proc *p)
{
	if (r->comm[0] && (!p->comm || fnmatch(r->comm, p->comm, 0)))
		return false;
	if (r->uid >= 0 && r->uid != p->uid)
		return false;
	if (r->cgroup[0] && (!p->cgroup || fnmatch(r->cgroup, p->cgroup, 0)))
		return false;
	return true;
}

void policy_decide(const struct policy *pol, const struct pol_proc *p, struct pol_decision *d)
{
	const struct pol_rule *r = NULL;
	int want, cap;

	memset(d, 0, sizeof(*d));
	d->rule = -1;
	for (size_t i = 0; i < pol->nrules; i++)
		if (policy_match(&pol->rules[i], p)) {
			r = &pol->rules[i];
			d->rule = (int)i;
			break;
		}
	want = p->requested >= 0 && p->requested < POL_LEVELS ? p->requested : pol->default_prio;
	if (r && r->prio >= 0)
		want = r->prio; /* assigned by the operator: no cap applies */
	cap = r && r->max_prio >= 0 ? r->max_prio : pol->default_max_prio;
	d->prio = want;
	if (!(r && r->prio >= 0) && want < cap) {
		d->prio = cap;
		d->capped = true;
	}
	if (r && r->has_window) {
		d->has_window = true;
		d->window = r->window;
	}
	if (r && r->target_ns) {
		d->target_ns = r->target_ns;
		/* A long comm pattern is cut to the name's size: a name is only shown. */
		snprintf(d->service, sizeof(d->service), "%.*s", POL_NAME_MAX - 1,
		         r->name[0] ? r->name : r->comm);
		if (!d->service[0])
			snprintf(d->service, sizeof(d->service), "rule%d", d->rule + 1);
	} else if (d->prio == 0 && pol->default_target_ns) {
		d->target_ns = pol->default_target_ns;
		snprintf(d->service, sizeof(d->service), "default");
	}
}
