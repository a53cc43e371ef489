/* SPDX-License-Identifier: MIT */
/*
 * online: a latency-critical service in miniature. Requests arrive open-loop at a fixed rate;
 * each is an optional host-to-device copy of the input, K spin kernels on the service's
 * stream, a device-to-host copy of the result, and a stream synchronisation. One request is in
 * flight at a time, as in a bs1 inference server, so a request sent late (because the previous one
 * overran its slot) is measured twice: from the time it was due (what a client sees; free of
 * coordinated omission) and from when it was actually sent (the GPU-side latency).
 *
 * Output: one JSON line on stdout at the end (also when stopped early by SIGINT/SIGTERM).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_api.h"
#include "wl_common.h"

struct online_args {
	struct wl_gpu_args g;
	double rate;
	double duration_s; /* 0: not limited by time */
	bool duration_given;
	uint64_t requests; /* 0: not limited by count */
	unsigned int kernels;
	uint64_t kernel_us;
	uint64_t copy_bytes;
	uint64_t copy_in_bytes;
	int priority;
	bool default_stream;
	uint64_t warmup;
	double step_at_s; /* < 0: no rate step */
	double step_rate;
	const char *latency_log;
};

static void usage(void)
{
	printf("usage: online [options]\n"
	       "  --rate R               requests per second (default 100)\n"
	       "  --duration S           send requests for S seconds (default 5 unless "
	       "--requests)\n"
	       "  --requests N           send N requests (with --duration: whichever ends first)\n"
	       "  --kernels K            spin kernels per request (default 4)\n"
	       "  --kernel-us U          duration of each kernel in microseconds (default 100)\n"
	       "  --copy-bytes B         bytes copied back per request, 0 for none (default 4096)\n"
	       "  --copy-in-bytes B      bytes copied to the device at the start of each request,\n"
	       "                         0 for none (default 0)\n"
	       "  --stream-priority P    priority of the request stream (default 0)\n"
	       "  --default-stream       send requests on the default stream instead\n"
	       "  --warmup N             unmeasured requests sent first, back to back (default "
	       "10)\n"
	       "  --rate-step T:R2       change the rate to R2 at T seconds\n"
	       "  --latency-log FILE     one line per request: due and send time (s), latency "
	       "from\n"
	       "                         send and from due time (ms)\n"
	       "%s"
	       "output: {\"workload\":\"online\",\"requests\",\"rate_target\",\"rate_achieved\","
	       "\"p50_ms\",\"p90_ms\",\"p99_ms\",\"max_ms\",\"mean_ms\",\"p99_sched_ms\","
	       "\"launches\",\"copies\"}\n",
	       wl_gpu_args_help);
}

static void parse_rate_step(struct online_args *a, const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || colon[1] == '\0')
		wl_usage_error("bad --rate-step value '%s': expected T:R2 (seconds:requests per "
		               "second), e.g. 10:200",
		               v);
	char t[64];
	size_t len = (size_t)(colon - v);
	if (len >= sizeof(t))
		wl_usage_error("bad --rate-step value '%s': expected T:R2", v);
	memcpy(t, v, len);
	t[len] = '\0';
	a->step_at_s = wl_parse_double("--rate-step time", t, 0, 1e6);
	a->step_rate = wl_parse_double("--rate-step rate", colon + 1, 1e-3, 1e6);
}

static void parse(struct online_args *a, int argc, char **argv)
{
	wl_gpu_args_init(&a->g);
	a->rate = 100;
	a->kernels = 4;
	a->kernel_us = 100;
	a->copy_bytes = 4096;
	a->warmup = 10;
	a->step_at_s = -1;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (wl_gpu_args_parse(&a->g, argc, argv, &i))
			continue;
		if (wl_flag(argv[i], "--help") || wl_flag(argv[i], "-h")) {
			usage();
			exit(0);
		} else if ((v = wl_opt(argc, argv, &i, "--rate"))) {
			a->rate = wl_parse_double("--rate", v, 1e-3, 1e6);
		} else if ((v = wl_opt(argc, argv, &i, "--duration"))) {
			a->duration_s = wl_parse_double("--duration", v, 0, 1e6);
			a->duration_given = true;
		} else if ((v = wl_opt(argc, argv, &i, "--requests"))) {
			a->requests = wl_parse_u64("--requests", v, 1, 100000000);
		} else if ((v = wl_opt(argc, argv, &i, "--kernels"))) {
			a->kernels = (unsigned int)wl_parse_u64("--kernels", v, 0, 100000);
		} else if ((v = wl_opt(argc, argv, &i, "--kernel-us"))) {
			a->kernel_us = wl_parse_u64("--kernel-us", v, 0, 60000000);
		} else if ((v = wl_opt(argc, argv, &i, "--copy-bytes"))) {
			a->copy_bytes = wl_parse_u64("--copy-bytes", v, 0, 1ull << 32);
		} else if ((v = wl_opt(argc, argv, &i, "--copy-in-bytes"))) {
			a->copy_in_bytes = wl_parse_u64("--copy-in-bytes", v, 0, 1ull << 32);
		} else if ((v = wl_opt(argc, argv, &i, "--stream-priority"))) {
			a->priority = wl_parse_int("--stream-priority", v, -1000, 1000);
		} else if (wl_flag(argv[i], "--default-stream")) {
			a->default_stream = true;
		} else if ((v = wl_opt(argc, argv, &i, "--warmup"))) {
			a->warmup = wl_parse_u64("--warmup", v, 0, 1000000);
		} else if ((v = wl_opt(argc, argv, &i, "--rate-step"))) {
			parse_rate_step(a, v);
		} else if ((v = wl_opt(argc, argv, &i, "--latency-log"))) {
			a->latency_log = v;
		} else {
			wl_usage_error("unknown option '%s' (see --help)", argv[i]);
		}
	}
	if (!a->duration_given && a->requests == 0)
		a->duration_s = 5;
}

struct request_log {
	double *lat_ms, *lat_sched_ms, *due_s, *send_s;
	size_t n, cap;
};

static void log_push(struct request_log *l, double due_s, double send_s, double lat_ms,
                     double lat_sched_ms)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->lat_ms = realloc(l->lat_ms, l->cap * sizeof(double));
		l->lat_sched_ms = realloc(l->lat_sched_ms, l->cap * sizeof(double));
		l->due_s = realloc(l->due_s, l->cap * sizeof(double));
		l->send_s = realloc(l->send_s, l->cap * sizeof(double));
		if (!l->lat_ms || !l->lat_sched_ms || !l->due_s || !l->send_s)
			wl_die("out of memory for %zu latency samples", l->cap);
	}
	l->due_s[l->n] = due_s;
	l->send_s[l->n] = send_s;
	l->lat_ms[l->n] = lat_ms;
	l->lat_sched_ms[l->n] = lat_sched_ms;
	l->n++;
}

struct service {
	const struct online_args *a;
	gpu_stream stream;
	gpu_ptr dbuf, dbuf_in;
	void *hbuf, *hbuf_in;
	uint64_t launches;
	uint64_t copies; /* asynchronous copies queued (memory commands) */
};

static void request(struct service *s)
{
	if (s->a->copy_in_bytes) {
		gpu_check(gpu->memcpy_htod_async(s->dbuf_in, s->hbuf_in, s->a->copy_in_bytes,
		                                 s->stream),
		          "host-to-device copy");
		s->copies++;
	}
	for (unsigned int k = 0; k < s->a->kernels; k++) {
		gpu_check(gpu_launch_spin(s->stream, s->a->kernel_us), "kernel launch");
		s->launches++;
	}
	if (s->a->copy_bytes) {
		gpu_check(gpu->memcpy_dtoh_async(s->hbuf, s->dbuf, s->a->copy_bytes, s->stream),
		          "device-to-host copy");
		s->copies++;
	}
	gpu_check(gpu->stream_sync(s->stream), "stream synchronize");
}

static void write_latency_log(const char *path, const struct request_log *l)
{
	FILE *f = fopen(path, "w");
	if (!f)
		wl_die("cannot write --latency-log %s", path);
	fprintf(f, "# due_s send_s latency_ms latency_from_due_ms\n");
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%.6f %.6f %.4f %.4f\n", l->due_s[i], l->send_s[i], l->lat_ms[i],
		        l->lat_sched_ms[i]);
	if (fclose(f))
		wl_die("cannot write --latency-log %s", path);
}

int main(int argc, char **argv)
{
	struct online_args a = { 0 };
	wl_prog = "online";
	parse(&a, argc, argv);
	wl_catch_stop_signals();
	wl_gpu_start(&a.g);

	struct service s = { .a = &a };
	if (!a.default_stream)
		gpu_check(gpu->stream_create(&s.stream, false, a.priority), "stream create");
	/* Buffers are filled with synchronous copies: what `copies` counts (queued memory
	 * commands) is then only the requests' own, whatever the vendor layer makes of a
	 * synchronous memset. */
	if (a.copy_bytes) {
		gpu_check(gpu->mem_alloc(&s.dbuf, a.copy_bytes), "device allocation");
		gpu_check(gpu->host_alloc(&s.hbuf, a.copy_bytes), "host allocation");
		memset(s.hbuf, 0x5a, a.copy_bytes);
		gpu_check(gpu->memcpy_htod(s.dbuf, s.hbuf, a.copy_bytes), "host-to-device copy");
	}
	if (a.copy_in_bytes) {
		gpu_check(gpu->mem_alloc(&s.dbuf_in, a.copy_in_bytes), "device allocation");
		gpu_check(gpu->host_alloc(&s.hbuf_in, a.copy_in_bytes), "host allocation");
		memset(s.hbuf_in, 0xa5, a.copy_in_bytes);
	}
	for (uint64_t i = 0; i < a.warmup && !wl_stopping(); i++)
		request(&s);

	struct request_log log = { 0 };
	double rate = a.rate;
	uint64_t start = wl_now_ns() + 1000000; /* the first request is due 1 ms from now */
	uint64_t due = start, first_send = 0, last_send = 0, last_done = start;
	for (uint64_t n = 0;; n++) {
		double due_s = (double)(due - start) / 1e9;
		if (a.requests && n >= a.requests)
			break;
		if (a.duration_s > 0 && due_s >= a.duration_s)
			break;
		wl_sleep_until_ns(due);
		if (wl_stopping())
			break;
		uint64_t send = wl_now_ns();
		request(&s);
		uint64_t done = wl_now_ns();
		if (n == 0)
			first_send = send;
		last_send = send;
		last_done = done;
		log_push(&log, due_s, (double)(send - start) / 1e9, (double)(done - send) / 1e6,
		         (double)(done - due) / 1e6);
		if (a.step_at_s >= 0 && due_s >= a.step_at_s)
			rate = a.step_rate;
		due += (uint64_t)(1e9 / rate);
	}

	if (a.latency_log)
		write_latency_log(a.latency_log, &log);

	/* Achieved rate: requests per second between the first and the last send, which is the
	 * target rate when every request went out on time. */
	double achieved = 0;
	if (log.n > 1 && last_send > first_send)
		achieved = (double)(log.n - 1) / ((double)(last_send - first_send) / 1e9);
	else if (log.n == 1)
		achieved = 1.0 / ((double)(last_done - start) / 1e9);
	double sum = 0;
	for (size_t i = 0; i < log.n; i++)
		sum += log.lat_ms[i];
	wl_sort_doubles(log.lat_ms, log.n);
	wl_sort_doubles(log.lat_sched_ms, log.n);
	printf("{\"workload\":\"online\",\"requests\":%zu,\"rate_target\":%.3f,"
	       "\"rate_achieved\":%.3f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,"
	       "\"max_ms\":%.4f,\"mean_ms\":%.4f,\"p99_sched_ms\":%.4f,\"launches\":%llu,"
	       "\"copies\":%llu}\n",
	       log.n, a.rate, achieved, wl_percentile(log.lat_ms, log.n, 50),
	       wl_percentile(log.lat_ms, log.n, 90), wl_percentile(log.lat_ms, log.n, 99),
	       log.n ? log.lat_ms[log.n - 1] : 0.0, log.n ? sum / (double)log.n : 0.0,
	       wl_percentile(log.lat_sched_ms, log.n, 99), (unsigned long long)s.launches,
	       (unsigned long long)s.copies);
	fflush(stdout);

	if (a.copy_bytes) {
		gpu_check(gpu->host_free(s.hbuf), "host free");
		gpu_check(gpu->mem_free(s.dbuf), "device free");
	}
	if (a.copy_in_bytes) {
		gpu_check(gpu->host_free(s.hbuf_in), "host free");
		gpu_check(gpu->mem_free(s.dbuf_in), "device free");
	}
	if (!a.default_stream)
		gpu_check(gpu->stream_destroy(s.stream), "stream destroy");
	free(log.lat_ms);
	free(log.lat_sched_ms);
	free(log.due_s);
	free(log.send_s);
	return 0;
}
