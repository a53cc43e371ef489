/* SPDX-License-Identifier: MIT */
/*
 * launchbench: the cost of one kernel launch, for measuring what an interposed scheduler adds.
 * It launches empty kernels (spin for 0 us) in batches, synchronising between batches so the
 * queue never fills (a full queue would make launches wait for the GPU, not the CPU path).
 * ns_per_launch counts only the time inside the launch calls' loop; launches_per_s is the
 * whole run, synchronisations included.
 *
 * Output: one JSON line on stdout at the end.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gpu_api.h"
#include "wl_common.h"

struct bench_args {
	struct wl_gpu_args g;
	uint64_t launches;
	uint64_t batch;
	uint64_t warmup;
	bool default_stream;
};

static void usage(void)
{
	printf("usage: launchbench [options]\n"
	       "  --launches N      measured launches (default 100000)\n"
	       "  --batch B         launches between synchronisations (default 256)\n"
	       "  --warmup N        unmeasured launches first (default 1000)\n"
	       "  --default-stream  launch on the default stream instead of a created one\n"
	       "%s"
	       "output: {\"workload\":\"launchbench\",\"launches\" (warmup included),\"measured\","
	       "\"seconds\",\"launches_per_s\","
	       "\"ns_per_launch\",\"launch_seconds\"}\n",
	       wl_gpu_args_help);
}

static void parse(struct bench_args *a, int argc, char **argv)
{
	wl_gpu_args_init(&a->g);
	a->launches = 100000;
	a->batch = 256;
	a->warmup = 1000;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (wl_gpu_args_parse(&a->g, argc, argv, &i))
			continue;
		if (wl_flag(argv[i], "--help") || wl_flag(argv[i], "-h")) {
			usage();
			exit(0);
		} else if ((v = wl_opt(argc, argv, &i, "--launches"))) {
			a->launches = wl_parse_u64("--launches", v, 1, 1000000000);
		} else if ((v = wl_opt(argc, argv, &i, "--batch"))) {
			a->batch = wl_parse_u64("--batch", v, 1, 100000);
		} else if ((v = wl_opt(argc, argv, &i, "--warmup"))) {
			a->warmup = wl_parse_u64("--warmup", v, 0, 100000000);
		} else if (wl_flag(argv[i], "--default-stream")) {
			a->default_stream = true;
		} else {
			wl_usage_error("unknown option '%s' (see --help)", argv[i]);
		}
	}
}

/* Launches n empty kernels in batches; returns the nanoseconds spent in the launch loops. */
static uint64_t run(gpu_stream s, uint64_t n, uint64_t batch)
{
	uint64_t in_launch = 0;
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done < batch ? n - done : batch;
		uint64_t t0 = wl_now_ns();
		for (uint64_t i = 0; i < k; i++)
			gpu_check(gpu_launch_spin(s, 0), "kernel launch");
		in_launch += wl_now_ns() - t0;
		gpu_check(gpu->stream_sync(s), "stream synchronize");
		done += k;
	}
	return in_launch;
}

int main(int argc, char **argv)
{
	struct bench_args a = { 0 };
	wl_prog = "launchbench";
	parse(&a, argc, argv);
	wl_gpu_start(&a.g);

	gpu_stream s = NULL;
	if (!a.default_stream)
		gpu_check(gpu->stream_create(&s, false, 0), "stream create");
	run(s, a.warmup, a.batch);
	uint64_t t0 = wl_now_ns();
	uint64_t in_launch = run(s, a.launches, a.batch);
	double seconds = (double)(wl_now_ns() - t0) / 1e9;
	printf("{\"workload\":\"launchbench\",\"launches\":%llu,\"measured\":%llu,"
	       "\"seconds\":%.4f,"
	       "\"launches_per_s\":%.1f,\"ns_per_launch\":%.1f,\"launch_seconds\":%.4f}\n",
	       (unsigned long long)(a.launches + a.warmup), (unsigned long long)a.launches, seconds,
	       (double)a.launches / seconds, (double)in_launch / (double)a.launches,
	       (double)in_launch / 1e9);
	if (!a.default_stream)
		gpu_check(gpu->stream_destroy(s), "stream destroy");
	return 0;
}
