/* SPDX-License-Identifier: MIT */
/*
 * One libxsched.so serves CUDA and HIP. The core takes a single backend (xs_set_backend)
 * and calls it for markers; this multiplexer is that backend. Each marker operation goes to
 * the backend owning the stream (marker_record, can_record) or the marker (query, wait,
 * release): a backend registered with xs_mux_add() claims its own, and the one registered
 * through xs_set_backend() takes the rest.
 *
 * The CUDA backend registers itself from its constructor with xs_set_backend(). The link of
 * libxsched.so wraps that symbol (-Wl,--wrap=xs_set_backend), so the registration lands
 * here instead of replacing the mux; the core's own xs_set_backend is reached as
 * __real_xs_set_backend. The core's unit tests link the core alone and are unaffected.
 *
 * Settling: the core initialises its backend once, at the first intercepted call. Here that
 * initialises every backend whose runtime is present and succeeds if one is; a backend
 * whose runtime was not loaded yet is settled later by the backend itself, the first time it
 * finds its runtime (xs_mux_settle), before any of its hooks does more than pass through.
 * A process that uses neither runtime never calls any of this.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "xs_interpose.h"

#define MUX_MAX 4

enum {
	MUX_UNTRIED = 0,
	MUX_READY = 1,
	MUX_FAILED = 2,
};

struct mux_entry {
	const struct xs_backend *be;
	bool (*owns_stream)(const struct xs_stream *);
	bool (*owns_mark)(const struct xs_mark *);
	_Atomic int state;
};

static struct mux_entry ents[MUX_MAX];
static unsigned int nents;
static pthread_mutex_t settle_lock = PTHREAD_MUTEX_INITIALIZER;

void __real_xs_set_backend(const struct xs_backend *b);
void __wrap_xs_set_backend(const struct xs_backend *b);

static struct mux_entry *by_stream(const struct xs_stream *s)
{
	struct mux_entry *rest = &ents[0];
	for (unsigned int i = 0; i < nents; i++) {
		if (!ents[i].owns_stream)
			rest = &ents[i];
		else if (ents[i].owns_stream(s))
			return &ents[i];
	}
	return rest;
}

static struct mux_entry *by_mark(const struct xs_mark *m)
{
	struct mux_entry *rest = &ents[0];
	for (unsigned int i = 0; i < nents; i++) {
		if (!ents[i].owns_mark)
			rest = &ents[i];
		else if (ents[i].owns_mark(m))
			return &ents[i];
	}
	return rest;
}

static int mux_marker_record(struct xs_stream *s, struct xs_mark *m)
{
	return by_stream(s)->be->marker_record(s, m);
}

static int mux_marker_query(const struct xs_mark *m)
{
	return by_mark(m)->be->marker_query(m);
}

static void mux_marker_wait(const struct xs_mark *m)
{
	by_mark(m)->be->marker_wait(m);
}

static void mux_marker_release(const struct xs_mark *m)
{
	by_mark(m)->be->marker_release(m);
}

static bool mux_can_record(const struct xs_stream *s)
{
	struct mux_entry *e = by_stream(s);
	/* A stream of a backend that never settled cannot be recorded on. */
	return atomic_load(&e->state) == MUX_READY && e->be->can_record(s);
}

/* settle_lock held */
static bool settle_locked(struct mux_entry *e, char *why, unsigned long why_len)
{
	if (atomic_load(&e->state) == MUX_READY)
		return true;
	int rc = e->be->init(why, why_len);
	atomic_store_explicit(&e->state, rc ? MUX_FAILED : MUX_READY, memory_order_release);
	return !rc;
}

bool xs_mux_settle(const char *name)
{
	char why[256];
	bool ok = false;
	for (unsigned int i = 0; i < nents; i++) {
		struct mux_entry *e = &ents[i];
		if (strcmp(e->be->name, name))
			continue;
		if (atomic_load_explicit(&e->state, memory_order_acquire) == MUX_READY)
			return true;
		pthread_mutex_lock(&settle_lock);
		ok = settle_locked(e, why, sizeof(why));
		pthread_mutex_unlock(&settle_lock);
		break;
	}
	return ok;
}

/* The core's registration: ready if any backend is. Otherwise every backend's reason. */
static int mux_init(char *why, unsigned long why_len)
{
	char one[256];
	size_t used = 0;
	bool any = false;
	why[0] = 0;
	pthread_mutex_lock(&settle_lock);
	for (unsigned int i = 0; i < nents; i++) {
		if (settle_locked(&ents[i], one, sizeof(one))) {
			any = true;
		} else if (used < why_len) {
			int n = snprintf(why + used, why_len - used, "%s%s", used ? "; " : "", one);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	pthread_mutex_unlock(&settle_lock);
	return any ? 0 : -1;
}

static void mux_fork_child(void)
{
	pthread_mutex_init(&settle_lock, NULL);
	for (unsigned int i = 0; i < nents; i++)
		if (ents[i].be->fork_child)
			ents[i].be->fork_child();
}

static const struct xs_backend mux_backend = {
	.name = "mux",
	.marker_record = mux_marker_record,
	.marker_query = mux_marker_query,
	.marker_wait = mux_marker_wait,
	.marker_release = mux_marker_release,
	.can_record = mux_can_record,
	.init = mux_init,
	.fork_child = mux_fork_child,
};

/* From constructors, before any other thread exists. */
void xs_mux_add(const struct xs_backend *b, bool (*owns_stream)(const struct xs_stream *),
                bool (*owns_mark)(const struct xs_mark *))
{
	if (nents == MUX_MAX)
		return;
	ents[nents].be = b;
	ents[nents].owns_stream = owns_stream;
	ents[nents].owns_mark = owns_mark;
	if (nents++ == 0)
		__real_xs_set_backend(&mux_backend);
}

void __wrap_xs_set_backend(const struct xs_backend *b)
{
	xs_mux_add(b, NULL, NULL);
}
