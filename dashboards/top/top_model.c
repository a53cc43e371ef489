// SPDX-License-Identifier: MIT
/* Snapshots -> rows, rates, history, order (top.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"
#include "xsched_shm.h"

const char *const top_col_name[COL_N] = {
	[COL_PID] = "PID",       [COL_COMM] = "COMMAND",   [COL_GPU] = "GPU",
	[COL_PRIO] = "PRIO",     [COL_SRC] = "SRC",        [COL_WBUSY] = "W_BUSY",
	[COL_WIDLE] = "W_IDLE",  [COL_INFL] = "INFL",      [COL_LAUNCH] = "LAUNCH/s",
	[COL_COMPL] = "COMPL/s", [COL_BLOCK] = "BLOCKED%", [COL_P50] = "P50",
	[COL_P99] = "P99",
};

void top_message(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_until = t->now + 4000000000ull;
}

static const struct ctl_pub_entry *find_entry(const struct ctl_pub *s, int32_t pid, int32_t gpu)
{
	for (uint32_t i = 0; i < s->nentries && i < CTL_PUB_ENTRIES; i++)
		if (s->entries[i].pid == pid && s->entries[i].gpu == gpu)
			return &s->entries[i];
	return NULL;
}

static double per_s(uint64_t a, uint64_t b, double dt_s)
{
	return a >= b ? (double)(a - b) / dt_s : 0;
}

/* Rates against the base snapshot once enough controller time passed: counters move at
 * the controller's interval, so shorter spans would alias. */
static void update_rates(struct top *t)
{
	const struct ctl_pub *s = t->snap, *b = t->base;
	double dt;

	if (!b->beat_ns || b->pid != s->pid || s->beat_ns < b->beat_ns) {
		memcpy(t->base, s, sizeof(*t->base));
		t->nrates = 0;
		return;
	}
	if (s->beat_ns - b->beat_ns < TOP_RATE_MIN_NS)
		return;
	dt = (double)(s->beat_ns - b->beat_ns) / 1e9;
	t->nrates = 0;
	for (uint32_t i = 0; i < s->nentries && i < CTL_PUB_ENTRIES; i++) {
		const struct ctl_pub_entry *x = &s->entries[i], *o = find_entry(b, x->pid, x->gpu);
		struct top_rate *r = &t->rates[t->nrates];

		if (!o)
			continue;
		t->nrates++;
		r->pid = x->pid;
		r->gpu = x->gpu;
		r->launch_s = per_s(x->launches, o->launches, dt);
		r->compl_s = per_s(x->completions, o->completions, dt);
		r->blocked_pct = per_s(x->blocked_ns, o->blocked_ns, dt) / 1e9 * 100.0;
	}
	memcpy(t->base, s, sizeof(*t->base));
}

static struct top_hist *hist_of(struct top *t, const struct ctl_pub_svc *v)
{
	struct top_hist *free_h = NULL, *oldest = &t->hist[0];

	for (int i = 0; i < CTL_PUB_SVCS; i++) {
		struct top_hist *h = &t->hist[i];

		if (h->used && h->gpu == v->gpu && !strcmp(h->name, v->name))
			return h;
		if (!h->used && !free_h)
			free_h = h;
		if (h->last_seen < oldest->last_seen)
			oldest = h;
	}
	if (!free_h)
		free_h = oldest;
	memset(free_h, 0, sizeof(*free_h));
	free_h->used = true;
	snprintf(free_h->name, sizeof(free_h->name), "%s", v->name);
	free_h->gpu = v->gpu;
	free_h->step_end = t->now + TOP_HIST_STEP_NS;
	free_h->n = 1;
	return free_h;
}

/* One point per half second: the largest P99 shown during it, so that a spike between two
 * refreshes still reaches the sparkline. */
static void update_hist(struct top *t)
{
	for (uint32_t i = 0; i < t->snap->nsvcs && i < CTL_PUB_SVCS; i++) {
		const struct ctl_pub_svc *v = &t->snap->svcs[i];
		struct top_hist *h = hist_of(t, v);

		h->last_seen = t->now;
		while (t->now >= h->step_end) {
			h->head = (h->head + 1) % TOP_HIST_LEN;
			h->p99[h->head] = 0;
			if (h->n < TOP_HIST_LEN)
				h->n++;
			h->step_end += TOP_HIST_STEP_NS;
			if (t->now - h->step_end > TOP_HIST_LEN * TOP_HIST_STEP_NS)
				h->step_end = t->now + TOP_HIST_STEP_NS; /* top was stopped (^Z) */
		}
		if (v->p99_ns > h->p99[h->head])
			h->p99[h->head] = v->p99_ns;
	}
}

static uint64_t col_key(const struct top *t, const struct top_row *r, enum top_col c)
{
	const struct ctl_pub_entry *e = r->e;

	(void)t;
	switch (c) {
	case COL_PID:
		return (uint64_t)e->pid;
	case COL_GPU:
		return (uint64_t)(int64_t)e->gpu;
	case COL_PRIO:
		return (uint64_t)(int64_t)e->granted;
	case COL_SRC:
		return e->observed;
	case COL_WBUSY:
		return e->w_busy;
	case COL_WIDLE:
		return e->w_idle;
	case COL_INFL:
		return e->inflight;
	case COL_LAUNCH:
		return (uint64_t)(r->launch_s * 1000);
	case COL_COMPL:
		return (uint64_t)(r->compl_s * 1000);
	case COL_BLOCK:
		return (uint64_t)(r->blocked_pct * 1000);
	case COL_P50:
		return e->lat_p50_ns;
	case COL_P99:
		return e->lat_p99_ns;
	default:
		return 0;
	}
}

static struct top *sorting; /* qsort has no context argument in C11 */

static int cmp_rows(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	int r;

	if (sorting->sort == COL_COMM) {
		r = strncmp(x->e->comm, y->e->comm, sizeof(x->e->comm));
	} else {
		uint64_t kx = col_key(sorting, x, sorting->sort),
		         ky = col_key(sorting, y, sorting->sort);

		r = kx < ky ? -1 : kx > ky;
	}
	if (!r) /* ties in a stable order, whatever the direction */
		return x->e->pid != y->e->pid
		               ? (x->e->pid < y->e->pid ? -1 : 1)
		               : (x->e->gpu < y->e->gpu ? -1 : x->e->gpu > y->e->gpu);
	return sorting->desc ? -r : r;
}

static bool matches(const struct top *t, const struct ctl_pub_entry *e)
{
	char pid[16], comm[sizeof(e->comm) + 1];

	if (!t->filter[0])
		return true;
	snprintf(pid, sizeof(pid), "%d", e->pid);
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(e->comm), e->comm);
	return strstr(comm, t->filter) || !strcmp(pid, t->filter);
}

void top_update(struct top *t)
{
	t->now = xsched_now_ns();
	t->state = dash_src_read(&t->src, t->snap);
	t->nrows = 0;
	if (t->state != DASH_LIVE)
		return;
	update_rates(t);
	update_hist(t);
	for (uint32_t i = 0; i < t->snap->nentries && i < CTL_PUB_ENTRIES; i++) {
		const struct ctl_pub_entry *e = &t->snap->entries[i];
		struct top_row *r = &t->rows[t->nrows];

		if (!matches(t, e))
			continue;
		t->nrows++;
		memset(r, 0, sizeof(*r));
		r->e = e;
		for (uint32_t k = 0; k < t->nrates; k++)
			if (t->rates[k].pid == e->pid && t->rates[k].gpu == e->gpu) {
				r->have_rates = true;
				r->launch_s = t->rates[k].launch_s;
				r->compl_s = t->rates[k].compl_s;
				r->blocked_pct = t->rates[k].blocked_pct;
			}
	}
	sorting = t;
	qsort(t->rows, t->nrows, sizeof(t->rows[0]), cmp_rows);
	sorting = NULL;
}

int top_selected(const struct top *t)
{
	for (uint32_t i = 0; i < t->nrows; i++)
		if (t->rows[i].e->pid == t->sel_pid && t->rows[i].e->gpu == t->sel_gpu)
			return (int)i;
	return t->nrows ? 0 : -1;
}
