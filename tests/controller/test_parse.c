// SPDX-License-Identifier: MIT
/* Durations, counts, windows and priorities: accepted forms and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parse.h"

#define ANY 0, UINT64_MAX

static uint64_t dur(const char *s)
{
	uint64_t ns = 0;

	assert_null(parse_duration(s, ANY, &ns));
	return ns;
}

static void durations(void **state)
{
	(void)state;
	assert_int_equal(dur("10ms"), 10000000);
	assert_int_equal(dur("250us"), 250000);
	assert_int_equal(dur("1.5s"), 1500000000);
	assert_int_equal(dur("2.65ms"), 2650000);
	assert_int_equal(dur("0.5us"), 500);
	assert_int_equal(dur("7ns"), 7);
	assert_int_equal(dur(".5ms"), 500000);
	assert_int_equal(dur("3.ms"), 3000000);
	assert_int_equal(dur("0.0000000004s"), 0); /* below a nanosecond */
}

static void duration_refusals(void **state)
{
	const char *bad[] = { "",     "10",    "ms",   "10 ms", "-1ms", "+1ms", "1e3ms", "0x10ms",
		              "infs", "10msx", "10MS", "1..2s", "10m",  "1h",   "nanms" };
	uint64_t ns = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e = parse_duration(bad[i], ANY, &ns);

		if (!e)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(e, "us, ms or s"));
	}
	assert_non_null(parse_duration(NULL, ANY, &ns));
	assert_int_equal(ns, 42); /* untouched on error */
	assert_non_null(strstr(parse_duration("10", ANY, &ns), "missing unit"));
	/* Range, named in the message. */
	const char *e = parse_duration("500ms", 1000000, 100000000, &ns);
	assert_non_null(e);
	assert_string_equal(e, "expected a duration from 1ms to 100ms");
	assert_non_null(parse_duration("99999999999999999999s", ANY, &ns));
}

static void counts_and_windows(void **state)
{
	uint64_t v;
	uint32_t w;

	(void)state;
	assert_null(parse_u64("42", 0, 100, &v));
	assert_int_equal(v, 42);
	assert_string_equal(parse_u64("101", 0, 100, &v), "expected a whole number from 0 to 100");
	assert_non_null(parse_u64("-1", 0, 100, &v));
	assert_non_null(parse_u64("1.0", 0, 100, &v));
	assert_non_null(parse_u64("", 0, 100, &v));
	assert_non_null(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v));
	assert_null(parse_window("unlimited", 1, &w));
	assert_int_equal(w, PARSE_WINDOW_UNLIMITED);
	assert_null(parse_window("0", 0, &w));
	assert_int_equal(w, 0);
	assert_non_null(strstr(parse_window("0", 1, &w), "or unlimited"));
	assert_non_null(parse_window("2147483647", 0, &w));
}

static void priorities(void **state)
{
	int p;

	(void)state;
	assert_null(parse_priority("high", 7, &p));
	assert_int_equal(p, 0);
	assert_null(parse_priority("low", 7, &p));
	assert_int_equal(p, 2);
	assert_null(parse_priority("5", 7, &p));
	assert_int_equal(p, 5);
	assert_non_null(strstr(parse_priority("8", 7, &p), "from 0 (most urgent) to 7"));
	assert_non_null(parse_priority("HIGH", 7, &p));
	assert_non_null(parse_priority("low", 1, &p));
	assert_string_equal(priority_name(1), "normal");
	assert_null(priority_name(3));
}

static void formatting(void **state)
{
	char b[32];

	(void)state;
	format_duration(10000000, b, sizeof(b));
	assert_string_equal(b, "10ms");
	format_duration(1500000, b, sizeof(b));
	assert_string_equal(b, "1.5ms");
	format_duration(2000000000, b, sizeof(b));
	assert_string_equal(b, "2s");
	format_duration(250000, b, sizeof(b));
	assert_string_equal(b, "250us");
	format_duration(1234, b, sizeof(b));
	assert_string_equal(b, "1.234us");
	format_duration(12, b, sizeof(b));
	assert_string_equal(b, "12ns");
	/* Round trip through the parser. */
	for (uint64_t ns = 1; ns < 100000000000ull; ns = ns * 7 + 3) {
		format_duration(ns, b, sizeof(b));
		assert_int_equal(dur(b), ns);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),          cmocka_unit_test(duration_refusals),
		cmocka_unit_test(counts_and_windows), cmocka_unit_test(priorities),
		cmocka_unit_test(formatting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
