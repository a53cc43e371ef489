// SPDX-License-Identifier: MIT
/*
 * Detaching uprobes off the observer's thread. Closing a uprobe's perf event waits for an
 * RCU grace period: about 0.1 s each on the kernels we run, so the twenty probes of a
 * process that exits would stall the observer for two seconds, during which processes that
 * start are not attached in time. Links are handed to a few threads instead; their waits
 * overlap. The order of detaching does not matter here: the probes of an exited process
 * cannot fire, and at close the maps go too.
 */
#include <pthread.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "internal.h"

#define REAPERS 8

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	struct bpf_link **queue;
	size_t n, cap, busy;
	pthread_t threads[REAPERS];
	size_t nthreads;
} r = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static void *reap(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&r.lock);
	for (;;) {
		struct bpf_link *l;

		while (!r.n)
			pthread_cond_wait(&r.work, &r.lock);
		l = r.queue[--r.n];
		r.busy++;
		pthread_mutex_unlock(&r.lock);
		bpf_link__destroy(l);
		pthread_mutex_lock(&r.lock);
		if (!--r.busy && !r.n)
			pthread_cond_broadcast(&r.idle);
	}
	return NULL;
}

void reaper_destroy_links(struct bpf_link **links, size_t n)
{
	pthread_mutex_lock(&r.lock);
	while (r.nthreads < REAPERS && r.nthreads < n + r.n &&
	       pthread_create(&r.threads[r.nthreads], NULL, reap, NULL) == 0) {
		pthread_detach(r.threads[r.nthreads]);
		r.nthreads++;
	}
	if (r.n + n > r.cap) {
		size_t cap = (r.n + n) * 2;
		struct bpf_link **q = realloc(r.queue, cap * sizeof(*q));

		if (q) {
			r.queue = q;
			r.cap = cap;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!r.nthreads || r.n == r.cap) { /* no thread or no memory: do it here */
			pthread_mutex_unlock(&r.lock);
			bpf_link__destroy(links[i]);
			pthread_mutex_lock(&r.lock);
			continue;
		}
		r.queue[r.n++] = links[i];
	}
	pthread_cond_broadcast(&r.work);
	pthread_mutex_unlock(&r.lock);
	free(links);
}

void reaper_wait(void)
{
	pthread_mutex_lock(&r.lock);
	while (r.n || r.busy)
		pthread_cond_wait(&r.idle, &r.lock);
	pthread_mutex_unlock(&r.lock);
}
