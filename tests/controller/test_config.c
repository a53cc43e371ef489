// SPDX-License-Identifier: MIT
/* The config file: directives, rules, and one-line errors naming file, line and value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define MS 1000000ull

static char path[64];

static void write_file(const char *text)
{
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/xsched-ctl-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *text, struct ctl_config *c, char *err, size_t len)
{
	int rc;

	write_file(text);
	config_defaults(c);
	rc = config_load(path, c, err, len);
	unlink(path);
	return rc;
}

static void full_file(void **state)
{
	struct ctl_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(load("# xsched-ctl\n"
	                      "p99-target 10ms\n"
	                      "interval   50ms   # slower\n"
	                      "\n"
	                      "p99-window 2s\n"
	                      "window-max unlimited\n"
	                      "turns 250ms\n"
	                      "max-priority normal\n"
	                      "allowance 2ms\n"
	                      "rule comm=resnet* target=5ms name=resnet\n"
	                      "\trule uid=1001 max-priority=low\r\n"
	                      "rule cgroup=/batch.slice/* priority=low window=4",
	                      &c, err, sizeof(err)),
	                 0);
	assert_int_equal(c.pol.default_target_ns, 10 * MS);
	assert_int_equal(c.interval_ns, 50 * MS);
	assert_int_equal(c.p99_window_ns, 2000 * MS);
	assert_int_equal(c.window_max, 0x7fffffff);
	assert_int_equal(c.turn_ns, 250 * MS);
	assert_int_equal(c.pol.default_max_prio, 1);
	assert_int_equal(c.pin_ns, 2 * MS);
	assert_int_equal(c.pol.nrules, 3);
	assert_string_equal(c.pol.rules[0].comm, "resnet*");
	assert_int_equal(c.pol.rules[0].target_ns, 5 * MS);
	assert_int_equal(c.pol.rules[0].line, 10);
	assert_int_equal(c.pol.rules[1].uid, 1001);
	assert_int_equal(c.pol.rules[1].max_prio, 2);
	assert_true(c.pol.rules[2].has_window);
	assert_int_equal(c.pol.rules[2].window, 4);
}

static void defaults(void **state)
{
	struct ctl_config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.interval_ns, 20 * MS);
	assert_int_equal(c.window_max, 64);
	assert_int_equal(c.turn_ns, 100 * MS);
	assert_int_equal(c.pin_ns, -1);
	assert_int_equal(c.pol.default_target_ns, 0);
}

static void errors_name_line_and_value(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "interval 20\n", ":1: bad value '20' for interval: missing unit" },
		{ "\n\np99-target fast\n", ":3: bad value 'fast' for p99-target: expected a number "
		                           "with a unit" },
		{ "interval 0.1ms\n",
		  ":1: bad value '0.1ms' for interval: expected a duration from "
		  "1ms to 10s" },
		{ "window-max 0\n", ":1: bad value '0' for window-max" },
		{ "turns 1ms\n", ":1: bad value '1ms' for turns: expected off or a quantum" },
		{ "allowance 1min\n", ":1: bad value '1min' for allowance: expected auto or an "
		                      "allowance from 0 to 10s" },
		{ "colour blue\n", ":1: unknown directive 'colour'" },
		{ "interval\n", ":1: 'interval' needs a value" },
		{ "interval 20ms 30ms\n", ":1: unexpected '30ms' after 'interval 20ms'" },
		{ "rule\n", ":1: empty rule" },
		{ "rule comm=x target=soon\n", ":1: bad rule term 'target=soon'" },
		{ "max-priority top\n",
		  ":1: bad value 'top' for max-priority: expected high, normal" },
	};
	struct ctl_config c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(cases[i].text, &c, err, sizeof(err)), -1);
		if (!strstr(err, cases[i].want))
			fail_msg("got '%s', want '%s'", err, cases[i].want);
		assert_non_null(strstr(err, "/tmp/xsched-ctl-test-"));
		assert_null(strchr(err, '\n')); /* one line */
	}
}

static void missing_file(void **state)
{
	struct ctl_config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load("/nonexistent/xsched.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "/nonexistent/xsched.conf: cannot open: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_file),
		cmocka_unit_test(defaults),
		cmocka_unit_test(errors_name_line_and_value),
		cmocka_unit_test(missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
