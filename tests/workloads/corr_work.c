/* SPDX-License-Identifier: MIT */
/*
 * The correctness sequences. Each thread owns a buffer X and drives it through two streams of
 * different priority whose every hand-over is a cross-stream event wait, the legacy and the
 * per-thread default streams, device-to-device copies, memsets and host round trips. Kernels
 * are `affine` (x*a + b with a odd, so no update can be lost without changing the result) and
 * each spins a while, so that a scheduler that reorders or drops a dependency produces a
 * different digest instead of getting lucky. Then, per device, a captured graph of kernels,
 * a memset and a copy is launched several times.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "gpu_api.h"

static void cpu_affine(uint32_t *x, uint32_t n, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < n; i++)
		x[i] = x[i] * a + b;
}

static void params(uint32_t salt, uint32_t who, uint32_t step, uint32_t k, uint32_t *a, uint32_t *b)
{
	uint64_t h = corr_mix(((uint64_t)salt << 56) ^ ((uint64_t)who << 40) ^
	                      ((uint64_t)step << 8) ^ k);
	*a = (uint32_t)h | 1u;
	*b = (uint32_t)(h >> 32);
}

static uint32_t datum(uint32_t salt, uint32_t who, uint32_t i)
{
	return (uint32_t)corr_mix(((uint64_t)salt << 56) ^ ((uint64_t)who << 32) ^ i);
}

static uint64_t count_mismatches(const uint32_t *got, const uint32_t *want, uint32_t n)
{
	uint64_t bad = 0;
	for (uint32_t i = 0; i < n; i++)
		bad += got[i] != want[i];
	return bad;
}

static void *xalloc(size_t bytes)
{
	void *p = calloc(1, bytes);
	if (!p)
		wl_die("out of memory (%zu bytes)", bytes);
	return p;
}

struct worker {
	pthread_t thread;
	const struct corr_args *a;
	uint32_t salt, t;
	int dev;
	uint32_t *want; /* CPU model of X */
	uint32_t *got;  /* X read back at the end */
	uint64_t mismatches, launches;
};

/* One affine step on the GPU and the same on the CPU model. */
static void affine(struct worker *w, gpu_stream s, gpu_ptr buf, uint32_t *model, uint32_t n,
                   uint32_t step, uint32_t k)
{
	uint32_t a, b;
	params(w->salt, w->t, step, k, &a, &b);
	gpu_check(gpu_launch_affine(s, buf, n, a, b, w->a->kernel_us), "affine launch");
	w->launches++;
	cpu_affine(model, n, a, b);
}

/* Runs step `r` on default stream `d`, bracketed by events so that it is ordered after A's
 * work and before A's next work whatever implicit synchronisation the stream has. */
static void on_default_stream(struct worker *w, gpu_stream a_stream, gpu_stream d, gpu_event ea,
                              gpu_event ed, gpu_ptr x, uint32_t r)
{
	gpu_check(gpu->event_record(ea, a_stream), "event record");
	gpu_check(gpu->stream_wait_event(d, ea), "stream wait event");
	affine(w, d, x, w->want, w->a->elems, r, 2);
	gpu_check(gpu->event_record(ed, d), "event record on a default stream");
	gpu_check(gpu->stream_wait_event(a_stream, ed), "stream wait event");
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct corr_args *a = w->a;
	uint32_t n = a->elems, half = n / 2;
	size_t bytes = (size_t)n * 4;
	uint32_t *s_model = xalloc(bytes);
	gpu_stream sa, sb, legacy, per_thread;
	gpu_event ea, eb, ed, t0, t1;
	gpu_ptr x, s;
	uint32_t *h;
	int least, greatest, prio;

	gpu_check(gpu_use_device(w->dev), "selecting the device");
	gpu_check(gpu->stream_priority_range(&least, &greatest), "stream priority range");
	gpu_check(gpu->stream_create(&sa, false, greatest), "stream create");
	gpu_check(gpu->stream_create(&sb, false, least), "stream create");
	gpu_check(gpu->stream_get_priority(sa, &prio), "stream get priority");
	if (prio != greatest) {
		fprintf(stderr, "%s: stream priority %d, created with %d\n", wl_prog, prio,
		        greatest);
		w->mismatches++;
	}
	if (!gpu->per_thread_stream(&per_thread))
		per_thread = NULL;
	if (!gpu->legacy_stream(&legacy))
		legacy = per_thread;
	gpu_check(gpu->event_create(&ea, false), "event create");
	gpu_check(gpu->event_create(&eb, false), "event create");
	gpu_check(gpu->event_create(&ed, false), "event create");
	gpu_check(gpu->event_create(&t0, true), "event create");
	gpu_check(gpu->event_create(&t1, true), "event create");
	gpu_check(gpu->mem_alloc(&x, bytes), "device allocation");
	gpu_check(gpu->mem_alloc(&s, bytes), "device allocation");
	gpu_check(gpu->host_alloc((void **)&h, bytes), "host allocation");

	for (uint32_t i = 0; i < n; i++)
		h[i] = w->want[i] = datum(w->salt, w->t, i);
	gpu_check(gpu->memcpy_htod_async(x, h, bytes, sa), "host-to-device copy");
	gpu_check(gpu->event_record(t0, sa), "event record");

	for (uint32_t r = 0; r < a->rounds; r++) {
		affine(w, sa, x, w->want, n, r, 0);
		gpu_check(gpu->event_record(ea, sa), "event record");
		gpu_check(gpu->stream_wait_event(sb, ea), "stream wait event");
		affine(w, sb, x, w->want, n, r, 1);
		gpu_check(gpu->event_record(eb, sb), "event record");
		gpu_check(gpu->stream_wait_event(sa, eb), "stream wait event");

		switch (r % 4) {
		case 0: {
			/* S = [v.. | X[0:half]]; S = affine(S); X[half:] = S[0:half] */
			uint32_t v = datum(w->salt, w->t, 0x40000000u + r);
			gpu_check(gpu->memset32_async(s, v, half, sa), "memset");
			gpu_check(gpu->memcpy_dtod_async(s + bytes / 2, x, bytes / 2, sa),
			          "device-to-device copy");
			for (uint32_t i = 0; i < half; i++) {
				s_model[i] = v;
				s_model[half + i] = w->want[i];
			}
			affine(w, sa, s, s_model, n, r, 3);
			gpu_check(gpu->memcpy_dtod_async(x + bytes / 2, s, bytes / 2, sa),
			          "device-to-device copy");
			memcpy(w->want + half, s_model, bytes / 2);
			break;
		}
		case 1:
			on_default_stream(w, sa, legacy, ea, ed, x, r);
			gpu_check(gpu->event_sync(eb), "event synchronize");
			break;
		case 2: {
			on_default_stream(w, sa, per_thread, ea, ed, x, r);
			int q;
			while ((q = gpu->stream_query(sa)) == gpu->err_not_ready)
				;
			gpu_check(q, "stream query");
			break;
		}
		case 3: {
			/* A host round trip through the synchronous copies. */
			gpu_check(gpu->stream_sync(sa), "stream synchronize");
			gpu_check(gpu->stream_query(sa), "stream query of an idle stream");
			gpu_check(gpu->memcpy_dtoh(h, x, bytes), "synchronous device-to-host copy");
			w->mismatches += count_mismatches(h, w->want, n);
			uint32_t mask = datum(w->salt, w->t, 0x80000000u + r);
			for (uint32_t i = 0; i < n; i++) {
				h[i] ^= mask;
				w->want[i] ^= mask;
			}
			gpu_check(gpu->memcpy_htod(x, h, bytes), "synchronous host-to-device copy");
			/* Ordered for A on every platform, whatever the default stream is. */
			gpu_check(gpu->event_record(ed, NULL), "event record");
			gpu_check(gpu->stream_wait_event(sa, ed), "stream wait event");
			break;
		}
		}
	}

	gpu_check(gpu->memcpy_dtoh_async(h, x, bytes, sa), "device-to-host copy");
	gpu_check(gpu->event_record(t1, sa), "event record");
	gpu_check(gpu->event_sync(t1), "event synchronize");
	float ms = -1;
	gpu_check(gpu->event_elapsed_ms(&ms, t0, t1), "event elapsed time");
	if (!(ms >= 0)) {
		fprintf(stderr, "%s: elapsed time %f ms\n", wl_prog, (double)ms);
		w->mismatches++;
	}
	memcpy(w->got, h, bytes);
	w->mismatches += count_mismatches(w->got, w->want, n);

	gpu_check(gpu->host_free(h), "host free");
	gpu_check(gpu->mem_free(s), "device free");
	gpu_check(gpu->mem_free(x), "device free");
	gpu_event evs[] = { ea, eb, ed, t0, t1 };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		gpu_check(gpu->event_destroy(evs[i]), "event destroy");
	gpu_check(gpu->stream_destroy(sb), "stream destroy");
	gpu_check(gpu->stream_destroy(sa), "stream destroy");
	free(s_model);
	return NULL;
}

/* A graph captured from G = affine(G); SG = affine(memset); G[half:half+quarter] = SG;
 * G = affine(G), launched graph_launches times. */
static void graph_phase(const struct corr_args *a, uint32_t salt, int dev, uint32_t *got,
                        uint32_t *want, struct corr_result *out)
{
	uint32_t n = a->elems, quarter = n / 4;
	size_t bytes = (size_t)n * 4;
	uint32_t *sg_model = xalloc(bytes / 4), *h;
	struct worker w = { .a = a, .salt = salt, .t = 1000 + (uint32_t)dev };
	gpu_ptr g, sg;
	gpu_stream c;
	gpu_graph graph;
	gpu_graph_exec exec;

	gpu_check(gpu_use_device(dev), "selecting the device");
	gpu_check(gpu->mem_alloc(&g, bytes), "device allocation");
	gpu_check(gpu->mem_alloc(&sg, bytes / 4), "device allocation");
	gpu_check(gpu->host_alloc((void **)&h, bytes), "host allocation");
	for (uint32_t i = 0; i < n; i++)
		h[i] = want[i] = datum(salt, w.t, i);
	gpu_check(gpu->memcpy_htod(g, h, bytes), "synchronous host-to-device copy");
	/* The capture stream is non-blocking (capturing a stream that the legacy stream
	 * synchronises with is an error), so order the copy before it explicitly. */
	gpu_check(gpu->device_sync(), "device synchronize");
	gpu_check(gpu->stream_create(&c, true, 0), "stream create");

	uint32_t v = datum(salt, w.t, 0x40000000u);
	gpu_check(gpu->capture_begin(c), "begin capture");
	affine(&w, c, g, want, n, 0, 0);
	gpu_check(gpu->memset32_async(sg, v, quarter, c), "memset in capture");
	affine(&w, c, sg, sg_model, quarter, 0, 1);
	gpu_check(gpu->memcpy_dtod_async(g + bytes / 2, sg, bytes / 4, c),
	          "device-to-device copy in capture");
	affine(&w, c, g, want, n, 0, 2);
	gpu_check(gpu->capture_end(c, &graph), "end capture");
	gpu_check(gpu->graph_instantiate(&exec, graph), "graph instantiate");

	/* Capturing ran nothing: the model restarts from the initial data and applies the
	 * captured sequence once per launch. */
	for (uint32_t i = 0; i < n; i++)
		want[i] = h[i];
	for (unsigned int l = 0; l < a->graph_launches; l++) {
		gpu_check(gpu->graph_launch(exec, c), "graph launch");
		out->graph_launches++;
		uint32_t a0, b0, a1, b1, a2, b2;
		params(salt, w.t, 0, 0, &a0, &b0);
		params(salt, w.t, 0, 1, &a1, &b1);
		params(salt, w.t, 0, 2, &a2, &b2);
		cpu_affine(want, n, a0, b0);
		for (uint32_t i = 0; i < quarter; i++)
			sg_model[i] = v;
		cpu_affine(sg_model, quarter, a1, b1);
		memcpy(want + n / 2, sg_model, bytes / 4);
		cpu_affine(want, n, a2, b2);
	}
	gpu_check(gpu->memcpy_dtoh_async(h, g, bytes, c), "device-to-host copy");
	gpu_check(gpu->stream_sync(c), "stream synchronize");
	memcpy(got, h, bytes);
	out->mismatches += count_mismatches(got, want, n);
	out->launches += w.launches;

	gpu_check(gpu->graph_exec_destroy(exec), "graph exec destroy");
	gpu_check(gpu->graph_destroy(graph), "graph destroy");
	gpu_check(gpu->stream_destroy(c), "stream destroy");
	gpu_check(gpu->host_free(h), "host free");
	gpu_check(gpu->mem_free(sg), "device free");
	gpu_check(gpu->mem_free(g), "device free");
	free(sg_model);
}

void corr_run(const struct corr_args *a, uint32_t salt, struct corr_result *out)
{
	size_t bytes = (size_t)a->elems * 4;
	struct worker *w = xalloc(a->threads * sizeof(*w));
	uint32_t *got = xalloc(bytes), *want = xalloc(bytes);

	memset(out, 0, sizeof(*out));
	for (unsigned int t = 0; t < a->threads; t++) {
		w[t] = (struct worker){ .a = a, .salt = salt, .t = t };
		w[t].dev = a->g.device + (int)(t % a->devices);
		w[t].want = xalloc(bytes);
		w[t].got = xalloc(bytes);
		if (pthread_create(&w[t].thread, NULL, work, &w[t]))
			wl_die("cannot start thread %u", t);
	}
	uint64_t digest = CORR_FNV_INIT, expected = CORR_FNV_INIT;
	for (unsigned int t = 0; t < a->threads; t++) {
		pthread_join(w[t].thread, NULL);
		digest = corr_fnv(digest, w[t].got, bytes);
		expected = corr_fnv(expected, w[t].want, bytes);
		out->mismatches += w[t].mismatches;
		out->launches += w[t].launches;
		out->buffers++;
		free(w[t].want);
		free(w[t].got);
	}
	for (unsigned int d = 0; d < a->devices; d++) {
		graph_phase(a, salt, a->g.device + (int)d, got, want, out);
		digest = corr_fnv(digest, got, bytes);
		expected = corr_fnv(expected, want, bytes);
		out->buffers++;
	}
	out->digest = digest;
	out->expected = expected;
	free(got);
	free(want);
	free(w);
}
