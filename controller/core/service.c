// SPDX-License-Identifier: MIT
/* A service's estimator views and its law (service.h). */
#include "service.h"

#include <stdio.h>
#include <string.h>

/* Slots of the sliding window: at least one per interval, at most 64 (the window expires
 * with a granularity of window / slots). */
static uint32_t window_slots(uint64_t window_ns, uint64_t interval_ns)
{
	uint64_t n = interval_ns ? window_ns / interval_ns : 64;

	if (n < 1)
		n = 1;
	return n > 64 ? 64 : (uint32_t)n;
}

int svc_init(struct svc *s, const char *name, int gpu, int prio, uint64_t target_ns,
             uint64_t window_ns, uint64_t interval_ns, uint64_t now_ns)
{
	struct law_params p;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->gpu = gpu;
	s->prio = prio;
	if (latwin_init(&s->win, window_ns, window_slots(window_ns, interval_ns), now_ns))
		return -1;
	if (latwin_init(&s->floor, SVC_FLOOR_WINDOW_NS, 20, now_ns)) {
		latwin_free(&s->win);
		return -1;
	}
	law_params_default(&p, target_ns);
	law_init(&s->law, &p, now_ns);
	s->since_start_ns = now_ns;
	return 0;
}

void svc_free(struct svc *s)
{
	latwin_free(&s->win);
	latwin_free(&s->floor);
}

void svc_sample(struct svc *s, uint64_t end_ns, uint64_t latency_ns, uint32_t commands)
{
	uint64_t start_ns = end_ns > latency_ns ? end_ns - latency_ns : 0;

	latwin_add(&s->win, end_ns, latency_ns);
	if (start_ns >= s->since_start_ns) {
		lathist_add(&s->since, latency_ns);
		if (s->law.x_ns <= 0)
			latwin_add(&s->floor, end_ns, latency_ns);
	}
	s->int_n++;
	if (latency_ns > s->law.p.target_ns)
		s->int_viol++;
	if (latency_ns > s->int_max_ns)
		s->int_max_ns = latency_ns;
	s->burst_cmds = s->samples ? s->burst_cmds + 0.1 * ((double)commands - s->burst_cmds)
	                           : (double)commands;
	s->samples++;
}

void svc_cold(struct svc *s)
{
	s->cold++;
}

void svc_restart(struct svc *s, uint64_t now_ns)
{
	lathist_reset(&s->since);
	s->since_start_ns = now_ns;
}

bool svc_tick(struct svc *s, uint64_t now_ns, double a_top_ns, double b_top_ns, bool ff_ok)
{
	struct law_input in;
	bool restart;

	latwin_advance(&s->win, now_ns);
	latwin_advance(&s->floor, now_ns);
	in = (struct law_input){
		.now_ns = now_ns,
		.win_n = latwin_count(&s->win),
		.win_p99_ns = latwin_quantile(&s->win, 0.99),
		.int_n = s->int_n,
		.int_viol = s->int_viol,
		.int_max_ns = s->int_max_ns,
		.since_n = s->since.count,
		.since_p99_ns = lathist_quantile(&s->since, 0.99),
		.floor_n = latwin_count(&s->floor),
		.floor_p99_ns = latwin_quantile(&s->floor, 0.99),
		.a_top_ns = a_top_ns,
		.b_top_ns = b_top_ns,
		.ff_ok = ff_ok,
	};
	s->last_p99_ns = in.win_p99_ns;
	s->last_win_n = in.win_n;
	restart = law_tick(&s->law, &in);
	if (restart)
		svc_restart(s, now_ns);
	s->int_n = s->int_viol = s->int_max_ns = 0;
	return restart;
}
