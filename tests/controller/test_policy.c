// SPDX-License-Identifier: MIT
/* Priority caps, rule matching, services and targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "policy.h"

#define MS 1000000ull

static struct pol_rule rule(const char *terms[], size_t n)
{
	struct pol_rule r;

	pol_rule_init(&r);
	for (size_t i = 0; i < n; i++)
		assert_null(policy_parse_term(terms[i], &r));
	return r;
}
static void add(struct policy *pol, struct pol_rule r)
{
	assert_int_equal(policy_add(pol, &r), 0);
}
#define RULE(...)                                                                                  \
	rule((const char *[]){ __VA_ARGS__ },                                                      \
	     sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *))

static void defaults_grant_what_is_asked(void **state)
{
	struct policy pol;
	struct pol_decision d;
	struct pol_proc p = {
		.comm = "online", .uid = 1000, .cgroup = "/user.slice", .requested = 0
	};

	(void)state;
	policy_init(&pol);
	pol.default_target_ns = 10 * MS;
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 0);
	assert_false(d.capped);
	assert_int_equal(d.target_ns, 10 * MS);
	assert_string_equal(d.service, "default");
	p.requested = 2;
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 2);
	assert_int_equal(d.target_ns, 0); /* not a service */
	p.requested = -1;                 /* asked for nothing */
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 1);
	p.requested = 99;
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 1);
}

static void caps(void **state)
{
	struct policy pol;
	struct pol_decision d;
	struct pol_proc p = {
		.comm = "batch", .uid = 1001, .cgroup = "/batch.slice/job1", .requested = 0
	};

	(void)state;
	policy_init(&pol);
	pol.default_target_ns = 10 * MS;
	add(&pol, RULE("uid=1001", "max-priority=low"));
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 2); /* asked for high, allowed low */
	assert_true(d.capped);
	assert_int_equal(d.target_ns, 0);
	/* A default cap for everyone else. */
	pol.default_max_prio = 1;
	p.uid = 1002;
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 1);
	assert_true(d.capped);
	/* An operator's priority= is not capped. */
	add(&pol, RULE("cgroup=/batch.slice/*", "priority=high"));
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 0);
	assert_false(d.capped);
}

static void first_match_and_services(void **state)
{
	struct policy pol;
	struct pol_decision d;
	struct pol_rule r;
	struct pol_proc p = { .comm = "resnet18", .uid = 0, .cgroup = NULL, .requested = 0 };

	(void)state;
	policy_init(&pol);
	pol.default_target_ns = 10 * MS;
	assert_null(policy_parse_target("resnet*=5ms", &r));
	policy_add(&pol, &r);
	add(&pol, RULE("comm=resnet18", "target=1ms", "name=never"));
	add(&pol, RULE("comm=bert", "target=20ms", "name=nlp", "priority=1"));
	add(&pol, RULE("cgroup=/kube/*", "window=4"));
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.target_ns, 5 * MS);
	assert_string_equal(d.service, "resnet*");
	/* A service below level 0: constrains only less urgent levels. */
	p.comm = "bert";
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.prio, 1);
	assert_int_equal(d.target_ns, 20 * MS);
	assert_string_equal(d.service, "nlp");
	/* A cgroup rule cannot match a process whose cgroup is unknown. */
	p.comm = "x";
	p.requested = 2;
	policy_decide(&pol, &p, &d);
	assert_int_equal(d.rule, -1);
	p.cgroup = "/kube/pod1";
	policy_decide(&pol, &p, &d);
	assert_true(d.has_window);
	assert_int_equal(d.window, 4);
}

static void target_arg_refusals(void **state)
{
	struct pol_rule r;

	(void)state;
	assert_non_null(policy_parse_target("resnet", &r));
	assert_non_null(policy_parse_target("=5ms", &r));
	assert_non_null(policy_parse_target("resnet=5", &r));
	assert_non_null(policy_parse_target("resnet=1us", &r)); /* below 10 us */
	assert_non_null(policy_parse_target("a-name-that-is-far-too-long-for-a-service=5ms", &r));
	assert_non_null(policy_parse_term("colour=red", &r));
	assert_non_null(policy_parse_term("uid=-3", &r));
	assert_non_null(policy_parse_term("priority=urgent", &r));
	assert_non_null(policy_parse_term("comm=", &r));
	assert_non_null(policy_parse_term("=x", &r));
}

static void table_full(void **state)
{
	struct policy pol;
	struct pol_rule r;

	(void)state;
	policy_init(&pol);
	pol_rule_init(&r);
	for (int i = 0; i < POL_MAX_RULES; i++)
		assert_int_equal(policy_add(&pol, &r), 0);
	assert_int_equal(policy_add(&pol, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_grant_what_is_asked),
		cmocka_unit_test(caps),
		cmocka_unit_test(first_match_and_services),
		cmocka_unit_test(target_arg_refusals),
		cmocka_unit_test(table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
