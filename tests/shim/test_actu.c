/* SPDX-License-Identifier: MIT */
/*
 * The actuators' pure parts (shim/core/xs_actu_map.c): the stream-priority bands and
 * mapping over every small range, the settings' parsers, the CU-mask builder and the MPS
 * server check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_actu.h"

static void bands_of_the_vendor_ranges(void **state)
{
	(void)state;
	int hi, lo;
	/* CUDA on recent GPUs: [-5, 0]. */
	xs_stream_prio_band(0, -5, XSCHED_PRIO_HIGH, &hi, &lo);
	assert_true(hi == -5 && lo == -4);
	xs_stream_prio_band(0, -5, XSCHED_PRIO_NORMAL, &hi, &lo);
	assert_true(hi == -3 && lo == -2);
	xs_stream_prio_band(0, -5, XSCHED_PRIO_LOW, &hi, &lo);
	assert_true(hi == -1 && lo == 0);
	xs_stream_prio_band(0, -5, 7, &hi, &lo); /* every level below normal is low */
	assert_true(hi == -1 && lo == 0);
	/* ROCm: [-1, 1]. */
	xs_stream_prio_band(1, -1, XSCHED_PRIO_HIGH, &hi, &lo);
	assert_true(hi == -1 && lo == -1);
	xs_stream_prio_band(1, -1, XSCHED_PRIO_NORMAL, &hi, &lo);
	assert_true(hi == 0 && lo == 0);
	xs_stream_prio_band(1, -1, XSCHED_PRIO_LOW, &hi, &lo);
	assert_true(hi == 1 && lo == 1);
	/* Two levels (older CUDA GPUs): only high is raised. */
	xs_stream_prio_band(0, -1, XSCHED_PRIO_HIGH, &hi, &lo);
	assert_true(hi == -1 && lo == -1);
	xs_stream_prio_band(0, -1, XSCHED_PRIO_NORMAL, &hi, &lo);
	assert_true(hi == 0 && lo == 0);
	xs_stream_prio_band(0, -1, XSCHED_PRIO_LOW, &hi, &lo);
	assert_true(hi == 0 && lo == 0);
	/* One level, and a range given the wrong way round. */
	xs_stream_prio_band(0, 0, XSCHED_PRIO_HIGH, &hi, &lo);
	assert_true(hi == 0 && lo == 0);
	xs_stream_prio_band(-5, 0, XSCHED_PRIO_HIGH, &hi, &lo);
	assert_true(hi == -5 && lo == -4);
}

/* For every range of 1..16 levels at several offsets: the three bands tile the range in
 * order (three levels or more), and the mapping stays in the band, uses both its ends and
 * never inverts the app's order, for every request in and around the range. */
static void mapping_keeps_order_in_band(void **state)
{
	(void)state;
	for (int greatest = -20; greatest <= 2; greatest += 11) {
		for (int n = 1; n <= 16; n++) {
			int least = greatest + n - 1;
			int prev_lo = greatest - 1;
			for (int c = 0; c < 3; c++) {
				int hi, lo;
				xs_stream_prio_band(least, greatest, c, &hi, &lo);
				assert_true(greatest <= hi && hi <= lo && lo <= least);
				if (n >= 3) {
					assert_int_equal(hi, prev_lo + 1);
					prev_lo = lo;
				}
			}
			if (n >= 3)
				assert_int_equal(prev_lo, least);
			for (int x = 0; x < 8; x++) {
				int hi, lo, prev = greatest - 1;
				xs_stream_prio_band(least, greatest, x, &hi, &lo);
				for (int a = greatest - 3; a <= least + 3; a++) {
					int m = xs_stream_prio_map(a, least, greatest, x);
					assert_true(m >= hi && m <= lo);
					assert_true(m >= prev);
					prev = m;
					assert_int_equal(xs_stream_prio_map(a, greatest, least, x),
					                 m);
				}
				assert_int_equal(xs_stream_prio_map(greatest, least, greatest, x),
				                 hi);
				assert_int_equal(xs_stream_prio_map(least, least, greatest, x), lo);
				assert_int_equal(xs_stream_prio_map(-1000000, least, greatest, x),
				                 hi);
				assert_int_equal(xs_stream_prio_map(1000000, least, greatest, x),
				                 lo);
			}
		}
	}
	/* Exact values on CUDA's range at high: -5..-3 -> -5, -2..0 -> -4. */
	static const int want_high[] = { -5, -5, -5, -4, -4, -4 };
	for (int a = -5; a <= 0; a++)
		assert_int_equal(xs_stream_prio_map(a, 0, -5, XSCHED_PRIO_HIGH), want_high[a + 5]);
}

static void parsers(void **state)
{
	(void)state;
	int m = -1;
	assert_int_equal(xs_parse_stream_prio("auto", &m), 0);
	assert_int_equal(m, XS_STREAM_PRIO_AUTO);
	assert_int_equal(xs_parse_stream_prio("on", &m), 0);
	assert_int_equal(m, XS_STREAM_PRIO_ON);
	assert_int_equal(xs_parse_stream_prio("off", &m), 0);
	assert_int_equal(m, XS_STREAM_PRIO_OFF);
	static const char *const bad_sp[] = { "", "ON", "1", "auto ", "yes", NULL };
	for (int i = 0; i < 5; i++)
		assert_int_equal(xs_parse_stream_prio(bad_sp[i], &m), -1);
	assert_int_equal(xs_parse_stream_prio(NULL, &m), -1);

	struct xs_cu_mask k;
	assert_int_equal(xs_parse_cu_mask("0.25", &k), 0);
	assert_true(k.fraction && k.ppm == 250000);
	assert_int_equal(xs_parse_cu_mask("1", &k), 0);
	assert_true(k.fraction && k.ppm == 1000000);
	assert_int_equal(xs_parse_cu_mask(".5", &k), 0);
	assert_true(k.fraction && k.ppm == 500000);
	assert_int_equal(xs_parse_cu_mask("0x1", &k), 0);
	assert_true(!k.fraction && k.nwords == 1 && k.words[0] == 1);
	assert_int_equal(xs_parse_cu_mask("0X1fFFFFFFF", &k), 0);
	assert_true(k.nwords == 2 && k.words[0] == 0xffffffffu && k.words[1] == 1);
	char big[300] = "0x";
	memset(big + 2, 'f', 256);
	assert_int_equal(xs_parse_cu_mask(big, &k), 0);
	assert_int_equal(k.nwords, XS_CU_WORDS);
	big[258] = 'f';
	assert_int_equal(xs_parse_cu_mask(big, &k), -1);
	static const char *const bad_cu[] = { "",    "0",    "0.0",  "1.01", "-0.5", "abc", "0x",
		                              "0x0", "0x00", "0xg1", "0.5x", "nan",  "inf" };
	for (size_t i = 0; i < sizeof(bad_cu) / sizeof(bad_cu[0]); i++)
		assert_int_equal(xs_parse_cu_mask(bad_cu[i], &k), -1);
}

static void cu_mask_build(void **state)
{
	(void)state;
	struct xs_cu_mask k;
	uint32_t w[XS_CU_WORDS];
	assert_int_equal(xs_parse_cu_mask("0.25", &k), 0);
	assert_int_equal(xs_cu_mask_build(&k, 104, w, XS_CU_WORDS), 4);
	assert_true(w[0] == 0x03ffffffu && !w[1] && !w[2] && !w[3]);
	assert_int_equal(xs_cu_mask_build(&k, 10, w, XS_CU_WORDS), 1); /* ceil(2.5) */
	assert_int_equal(w[0], 0x7u);
	assert_int_equal(xs_parse_cu_mask("0.000001", &k), 0);
	assert_int_equal(xs_cu_mask_build(&k, 104, w, XS_CU_WORDS), 4); /* at least one */
	assert_int_equal(w[0], 1u);
	assert_int_equal(xs_parse_cu_mask("1", &k), 0);
	assert_int_equal(xs_cu_mask_build(&k, 104, w, XS_CU_WORDS), 4);
	assert_true(w[0] == 0xffffffffu && w[2] == 0xffffffffu && w[3] == 0xffu);
	/* A hex mask keeps its bits, less those past the device's CUs. */
	assert_int_equal(xs_parse_cu_mask("0xf000000000000000000000000ff", &k), 0); /* CUs 104.. */
	assert_int_equal(xs_cu_mask_build(&k, 104, w, XS_CU_WORDS), 4);
	assert_true(w[0] == 0xffu && !w[1] && !w[2] && w[3] == 0);
	assert_int_equal(xs_parse_cu_mask("0xf00000000000000000000000000", &k), 0);
	assert_int_equal(xs_cu_mask_build(&k, 104, w, XS_CU_WORDS), 0);
	assert_int_equal(xs_cu_mask_build(&k, 0, w, XS_CU_WORDS), 0);
	assert_int_equal(xs_parse_cu_mask("0xff", &k), 0);
	assert_int_equal(xs_cu_mask_build(&k, 2000, w, 2), 2); /* capped by the caller's array */
	assert_true(w[0] == 0xffu && !w[1]);
}

static void mps_detection(void **state)
{
	(void)state;
	char dir[] = "/tmp/xs-actu-XXXXXX", ctl[64], got[4200];
	assert_non_null(mkdtemp(dir));
	snprintf(ctl, sizeof(ctl), "%s/control", dir);
	setenv("CUDA_MPS_PIPE_DIRECTORY", dir, 1);
	assert_false(xs_mps_running(got, sizeof(got)));
	assert_string_equal(got, ctl);
	assert_int_equal(mkdir(ctl, 0700), 0); /* a directory is no server */
	assert_false(xs_mps_running(NULL, 0));
	assert_int_equal(rmdir(ctl), 0);
	assert_int_equal(mkfifo(ctl, 0600), 0);
	assert_true(xs_mps_running(NULL, 0));
	assert_int_equal(unlink(ctl), 0);
	assert_int_equal(rmdir(dir), 0);
	unsetenv("CUDA_MPS_PIPE_DIRECTORY");
	assert_true(xs_mps_running(got, sizeof(got)) ==
	            (access("/tmp/nvidia-mps/control", F_OK) == 0));
	assert_string_equal(got, "/tmp/nvidia-mps/control");

	unsetenv("CUDA_MPS_CLIENT_PRIORITY");
	assert_false(xs_mps_client_prio_set());
	setenv("CUDA_MPS_CLIENT_PRIORITY", "0", 1);
	assert_false(xs_mps_client_prio_set());
	setenv("CUDA_MPS_CLIENT_PRIORITY", "1", 1);
	assert_true(xs_mps_client_prio_set());
	setenv("CUDA_MPS_CLIENT_PRIORITY", "low", 1);
	assert_false(xs_mps_client_prio_set());
	unsetenv("CUDA_MPS_CLIENT_PRIORITY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bands_of_the_vendor_ranges),
		cmocka_unit_test(mapping_keeps_order_in_band),
		cmocka_unit_test(parsers),
		cmocka_unit_test(cu_mask_build),
		cmocka_unit_test(mps_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
