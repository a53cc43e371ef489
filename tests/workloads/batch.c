/* SPDX-License-Identifier: MIT */
/*
 * batch: a throughput job that keeps the GPU busy with long kernels. Each of T threads owns M
 * streams; an iteration launches K spin kernels round-robin over the thread's streams and, with
 * --sync iter, waits for all of them (a training step), with --sync none never waits until the
 * end (a pipeline that only fills queues). --mix S:L:N mixes kernel lengths as a real
 * model's do (ResNet-50's run from 2 us to 5.8 ms): every N-th kernel runs L us, the others S
 * us, each length with its own launch shape (grid of 2 blocks for long, 1 for short).
 *
 * Output: one JSON line on stdout at the end (also when stopped early by SIGINT/SIGTERM).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_api.h"
#include "wl_common.h"

struct batch_args {
	struct wl_gpu_args g;
	uint64_t kernel_us;
	unsigned int kernels_per_iter;
	uint64_t iters;    /* per thread; 0: run for duration_s */
	double duration_s; /* 0 with iters == 0: until a stop signal */
	bool duration_given;
	unsigned int streams;
	unsigned int threads;
	bool sync_iter;
	int priority;
	uint64_t mix_short_us, mix_long_us; /* --mix; mix_every 0: off */
	unsigned int mix_every;
};

static void usage(void)
{
	printf("usage: batch [options]\n"
	       "  --kernel-us U          duration of each kernel in microseconds (default 10000)\n"
	       "  --kernels-per-iter K   kernels per iteration (default 8)\n"
	       "  --iters N              iterations per thread\n"
	       "  --duration S           run for S seconds (default 5 unless --iters; 0: until\n"
	       "                         SIGINT/SIGTERM)\n"
	       "  --streams M            streams per thread, 0 = the default stream (default 1)\n"
	       "  --threads T            launching threads (default 1)\n"
	       "  --sync iter|none       wait at the end of each iteration or only at the end "
	       "(default iter)\n"
	       "  --stream-priority P    priority of the streams (default 0)\n"
	       "  --mix S:L:N            every N-th kernel runs L us (grid 2), the others S us\n"
	       "                         (grid 1); replaces --kernel-us\n"
	       "%s"
	       "output: {\"workload\":\"batch\",\"iters\",\"kernels\",\"seconds\",\"iters_per_s\","
	       "\"kernel_us_per_s\",\"launches\"}\n",
	       wl_gpu_args_help);
}

static void parse_mix(struct batch_args *a, const char *v)
{
	unsigned long long s, l, n;
	char end;
	if (sscanf(v, "%llu:%llu:%llu%c", &s, &l, &n, &end) != 3 || s > 60000000 || l > 60000000 ||
	    n < 1 || n > 1000000)
		wl_usage_error("bad --mix value '%s': expected SHORT_US:LONG_US:EVERY with "
		               "durations 0..60000000 and EVERY 1..1000000",
		               v);
	a->mix_short_us = s;
	a->mix_long_us = l;
	a->mix_every = (unsigned int)n;
}

/* The length of the k-th kernel of an iteration, and its grid. */
static uint64_t kernel_len(const struct batch_args *a, unsigned int k, unsigned int *grid)
{
	*grid = 1;
	if (!a->mix_every)
		return a->kernel_us;
	if (k % a->mix_every == a->mix_every - 1) {
		*grid = 2;
		return a->mix_long_us;
	}
	return a->mix_short_us;
}

static void parse(struct batch_args *a, int argc, char **argv)
{
	wl_gpu_args_init(&a->g);
	a->kernel_us = 10000;
	a->kernels_per_iter = 8;
	a->streams = 1;
	a->threads = 1;
	a->sync_iter = true;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (wl_gpu_args_parse(&a->g, argc, argv, &i))
			continue;
		if (wl_flag(argv[i], "--help") || wl_flag(argv[i], "-h")) {
			usage();
			exit(0);
		} else if ((v = wl_opt(argc, argv, &i, "--kernel-us"))) {
			a->kernel_us = wl_parse_u64("--kernel-us", v, 0, 60000000);
		} else if ((v = wl_opt(argc, argv, &i, "--kernels-per-iter"))) {
			a->kernels_per_iter =
			        (unsigned int)wl_parse_u64("--kernels-per-iter", v, 1, 1000000);
		} else if ((v = wl_opt(argc, argv, &i, "--iters"))) {
			a->iters = wl_parse_u64("--iters", v, 1, 1000000000);
		} else if ((v = wl_opt(argc, argv, &i, "--duration"))) {
			a->duration_s = wl_parse_double("--duration", v, 0, 1e6);
			a->duration_given = true;
		} else if ((v = wl_opt(argc, argv, &i, "--streams"))) {
			a->streams = (unsigned int)wl_parse_u64("--streams", v, 0, 64);
		} else if ((v = wl_opt(argc, argv, &i, "--threads"))) {
			a->threads = (unsigned int)wl_parse_u64("--threads", v, 1, 64);
		} else if ((v = wl_opt(argc, argv, &i, "--sync"))) {
			if (strcmp(v, "iter") == 0)
				a->sync_iter = true;
			else if (strcmp(v, "none") == 0)
				a->sync_iter = false;
			else
				wl_usage_error("bad --sync value '%s': expected iter or none", v);
		} else if ((v = wl_opt(argc, argv, &i, "--mix"))) {
			parse_mix(a, v);
		} else if ((v = wl_opt(argc, argv, &i, "--stream-priority"))) {
			a->priority = wl_parse_int("--stream-priority", v, -1000, 1000);
		} else {
			wl_usage_error("unknown option '%s' (see --help)", argv[i]);
		}
	}
	if (a->iters && a->duration_given)
		wl_usage_error("--iters and --duration exclude each other");
	if (!a->iters && !a->duration_given)
		a->duration_s = 5;
}

struct worker {
	pthread_t thread;
	const struct batch_args *a;
	pthread_barrier_t *start_line;
	uint64_t start_ns;
	uint64_t iters, launches;
	uint64_t kernel_us; /* GPU time launched */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct batch_args *a = w->a;
	unsigned int nstreams = a->streams ? a->streams : 1;
	gpu_stream *streams = calloc(nstreams, sizeof(*streams));
	if (!streams)
		wl_die("out of memory");

	gpu_check(gpu_use_device(a->g.device), "selecting the device");
	for (unsigned int i = 0; i < a->streams; i++)
		gpu_check(gpu->stream_create(&streams[i], false, a->priority), "stream create");
	pthread_barrier_wait(w->start_line);

	uint64_t deadline =
	        a->duration_s > 0 ? w->start_ns + (uint64_t)(a->duration_s * 1e9) : UINT64_MAX;
	for (uint64_t it = 0; !wl_stopping(); it++) {
		if (a->iters ? it >= a->iters : wl_now_ns() >= deadline)
			break;
		for (unsigned int k = 0; k < a->kernels_per_iter; k++) {
			unsigned int grid;
			uint64_t us = kernel_len(a, k, &grid);
			gpu_check(gpu_launch_spin_grid(streams[k % nstreams], us, grid),
			          "kernel launch");
			w->launches++;
			w->kernel_us += us;
		}
		if (a->sync_iter)
			for (unsigned int i = 0; i < nstreams; i++)
				gpu_check(gpu->stream_sync(streams[i]), "stream synchronize");
		w->iters++;
	}
	for (unsigned int i = 0; i < nstreams; i++)
		gpu_check(gpu->stream_sync(streams[i]), "stream synchronize");
	for (unsigned int i = 0; i < a->streams; i++)
		gpu_check(gpu->stream_destroy(streams[i]), "stream destroy");
	free(streams);
	return NULL;
}

int main(int argc, char **argv)
{
	struct batch_args a = { 0 };
	wl_prog = "batch";
	parse(&a, argc, argv);
	wl_catch_stop_signals();
	wl_gpu_start(&a.g);

	struct worker *w = calloc(a.threads, sizeof(*w));
	pthread_barrier_t start_line;
	if (!w || pthread_barrier_init(&start_line, NULL, a.threads + 1))
		wl_die("cannot set up %u threads", a.threads);
	for (unsigned int t = 0; t < a.threads; t++) {
		w[t].a = &a;
		w[t].start_line = &start_line;
	}
	for (unsigned int t = 0; t < a.threads; t++)
		if (pthread_create(&w[t].thread, NULL, work, &w[t]))
			wl_die("cannot start thread %u", t);
	/* Every thread has its streams before the clock starts; they read start_ns after the
	 * barrier, which orders this write before their reads. */
	uint64_t start = wl_now_ns();
	for (unsigned int t = 0; t < a.threads; t++)
		w[t].start_ns = start;
	pthread_barrier_wait(&start_line);

	uint64_t iters = 0, launches = 0, kernel_us = 0;
	for (unsigned int t = 0; t < a.threads; t++) {
		pthread_join(w[t].thread, NULL);
		iters += w[t].iters;
		launches += w[t].launches;
		kernel_us += w[t].kernel_us;
	}
	double seconds = (double)(wl_now_ns() - start) / 1e9;
	printf("{\"workload\":\"batch\",\"iters\":%llu,\"kernels\":%llu,\"seconds\":%.4f,"
	       "\"iters_per_s\":%.3f,\"kernel_us_per_s\":%.1f,\"launches\":%llu}\n",
	       (unsigned long long)iters, (unsigned long long)launches, seconds,
	       (double)iters / seconds, (double)kernel_us / seconds, (unsigned long long)launches);
	pthread_barrier_destroy(&start_line);
	free(w);
	return 0;
}
