// SPDX-License-Identifier: MIT
/*
 * Prints the exporter's exposition of a made-up controller state (one service, a shimmed
 * and an observed process, awkward names) for the tests: promtool checks the format, and
 * the Grafana test takes the metric names the exporter can emit from it.
 */
#include <stdio.h>
#include <string.h>

#include "law.h"
#include "metrics_text.h"
#include "xsched_shm.h"

int main(void)
{
	static struct ctl_pub s;
	struct ctl_pub_entry *e;

	s.pid = 1;
	s.ticks = 42;
	s.default_target_ns = 10000000;
	s.nsvcs = 1;
	snprintf(s.svcs[0].name, sizeof(s.svcs[0].name), "default");
	s.svcs[0].state = LAW_TIGHTENING;
	s.svcs[0].target_ns = 10000000;
	s.svcs[0].p99_ns = 12500000;
	s.svcs[0].x_ns = 1500000;
	s.nentries = 2;
	e = &s.entries[0];
	e->pid = 100;
	memcpy(e->comm, "on\"li\\ne", 8); /* quote and backslash: escaped in labels */
	e->granted = 0;
	e->svc = 0;
	e->w_busy = e->w_idle = XSCHED_WINDOW_UNLIMITED;
	e->launches = 1000;
	e->completions = 990;
	e->inflight = 10;
	e->actuators = XSCHED_ACT_STREAM_PRIO | XSCHED_ACT_CU_MASK;
	e->lat_count = 3;
	e->lat_sum_ns = 6000000;
	for (unsigned int b = 0; b < CTL_PUB_LAT_BUCKETS; b++)
		e->lat_bucket[b] = ctl_pub_lat_bound_ns(b) >= 2500000 ? 3 : 0;
	e->lat_p50_ns = 2000000;
	e->lat_p99_ns = 2500000;
	e = &s.entries[1];
	e->pid = 200;
	memcpy(e->comm, "batch", 5);
	e->granted = 2;
	e->svc = -1;
	e->observed = 1;
	e->w_busy = 0;
	e->w_idle = 2;
	e->blocked_ns = 1500000000;
	e->turn = CTL_TURN_WAITS;
	metrics_write(stdout, &s, true);
	return 0;
}
