// SPDX-License-Identifier: MIT
/* Status segment -> Prometheus text exposition (metrics_text.h). */
#include "metrics_text.h"

#include <inttypes.h>

#include "law.h"
#include "parse.h"
#include "xsched_shm.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped, as the format requires. */
static void label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static const char *prio_label(int p, char *buf, size_t len)
{
	const char *n = priority_name(p);

	if (n)
		return n;
	snprintf(buf, len, "%d", p);
	return buf;
}

static void svc_labels(FILE *f, const struct ctl_pub_svc *v)
{
	char pb[16];

	fputs("service=", f);
	label_value(f, v->name);
	fprintf(f, ",gpu=\"%d\",priority=", v->gpu);
	label_value(f, prio_label(v->prio, pb, sizeof(pb)));
}

static void entry_labels(FILE *f, const struct ctl_pub *s, const struct ctl_pub_entry *x)
{
	char pb[16], comm[sizeof(x->comm) + 1];

	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(x->comm), x->comm);
	fprintf(f, "gpu=\"%d\",pid=\"%d\",comm=", x->gpu, x->pid);
	label_value(f, comm);
	fputs(",priority=", f);
	label_value(f, x->granted >= 0 ? prio_label(x->granted, pb, sizeof(pb)) : "none");
	fputs(",service=", f);
	label_value(f, x->svc >= 0 && (uint32_t)x->svc < s->nsvcs ? s->svcs[x->svc].name : "");
	fprintf(f, ",source=\"%s\"", x->observed ? "ebpf" : "shim");
}

static void seconds(FILE *f, uint64_t ns)
{
	fprintf(f, " %.9g\n", (double)ns / 1e9);
}

static void window(FILE *f, uint32_t w)
{
	if (w >= XSCHED_WINDOW_UNLIMITED)
		fputs(" +Inf\n", f);
	else
		fprintf(f, " %u\n", w);
}

static void services(FILE *f, const struct ctl_pub *s)
{
	uint32_t n = s->nsvcs < CTL_PUB_SVCS ? s->nsvcs : CTL_PUB_SVCS;

#define EACH_SVC(metric, body)                                                                     \
	for (uint32_t i = 0; i < n; i++) {                                                         \
		const struct ctl_pub_svc *v = &s->svcs[i];                                         \
		fputs(metric "{", f);                                                              \
		svc_labels(f, v);                                                                  \
		fputc('}', f);                                                                     \
		body;                                                                              \
	}
	family(f, "xsched_p99_seconds", "gauge",
	       "P99 burst latency of the service over the controller's sliding window.");
	EACH_SVC("xsched_p99_seconds", seconds(f, v->p99_ns))
	family(f, "xsched_p99_target_seconds", "gauge", "P99 burst latency target of the service.");
	EACH_SVC("xsched_p99_target_seconds", seconds(f, v->target_ns))
	family(f, "xsched_allowance_seconds", "gauge",
	       "GPU time the control law lets lower-priority work keep in flight.");
	EACH_SVC("xsched_allowance_seconds", seconds(f, v->x_ns > 0 ? (uint64_t)v->x_ns : 0))
	family(f, "xsched_service_samples_total", "counter",
	       "Burst latency samples the service's law has read.");
	EACH_SVC("xsched_service_samples_total", fprintf(f, " %" PRIu64 "\n", v->samples))
	family(f, "xsched_service_violations_total", "counter",
	       "Control intervals in which the service's P99 exceeded its target.");
	EACH_SVC("xsched_service_violations_total", fprintf(f, " %" PRIu64 "\n", v->violations))
	family(f, "xsched_service_cold_bursts_total", "counter",
	       "Bursts that launched code for the first time, shown but not acted on.");
	EACH_SVC("xsched_service_cold_bursts_total", fprintf(f, " %" PRIu64 "\n", v->cold))
#undef EACH_SVC
	family(f, "xsched_controller_state", "gauge",
	       "Control law state of the service: 1 for the current state, 0 for the others.");
	for (uint32_t i = 0; i < n; i++)
		for (int st = 0; st < LAW_NSTATES; st++) {
			fputs("xsched_controller_state{", f);
			svc_labels(f, &s->svcs[i]);
			fprintf(f, ",state=\"%s\"} %d\n", law_state_name((enum law_state)st),
			        s->svcs[i].state == (uint32_t)st);
		}
}

static void histogram(FILE *f, const struct ctl_pub *s, uint32_t n)
{
	family(f, "xsched_burst_latency_seconds", "histogram",
	       "GPU burst latency: first command submitted while idle to the sync that drained "
	       "it.");
	for (uint32_t i = 0; i < n; i++) {
		const struct ctl_pub_entry *x = &s->entries[i];

		for (unsigned int b = 0; b < CTL_PUB_LAT_BUCKETS; b++) {
			uint64_t ub = ctl_pub_lat_bound_ns(b);

			fputs("xsched_burst_latency_seconds_bucket{", f);
			entry_labels(f, s, x);
			if (ub == UINT64_MAX)
				fputs(",le=\"+Inf\"}", f);
			else
				fprintf(f, ",le=\"%.9g\"}", (double)ub / 1e9);
			fprintf(f, " %" PRIu64 "\n", x->lat_bucket[b]);
		}
		fputs("xsched_burst_latency_seconds_sum{", f);
		entry_labels(f, s, x);
		fputc('}', f);
		seconds(f, x->lat_sum_ns);
		fputs("xsched_burst_latency_seconds_count{", f);
		entry_labels(f, s, x);
		fprintf(f, "} %" PRIu64 "\n", x->lat_count);
	}
}

static void processes(FILE *f, const struct ctl_pub *s)
{
	uint32_t n = s->nentries < CTL_PUB_ENTRIES ? s->nentries : CTL_PUB_ENTRIES;

#define EACH_ENTRY(metric, extra, body)                                                            \
	for (uint32_t i = 0; i < n; i++) {                                                         \
		const struct ctl_pub_entry *x = &s->entries[i];                                    \
		fputs(metric "{", f);                                                              \
		entry_labels(f, s, x);                                                             \
		fputs(extra "}", f);                                                               \
		body;                                                                              \
	}
	family(f, "xsched_window_commands", "gauge",
	       "Commands the process may keep in flight while higher-priority work is busy or "
	       "idle (+Inf: unbounded).");
	EACH_ENTRY("xsched_window_commands", ",window=\"busy\"", window(f, x->w_busy))
	EACH_ENTRY("xsched_window_commands", ",window=\"idle\"", window(f, x->w_idle))
	family(f, "xsched_inflight_commands", "gauge",
	       "Commands submitted and not yet known complete.");
	EACH_ENTRY("xsched_inflight_commands", "", fprintf(f, " %" PRIu64 "\n", x->inflight))
	family(f, "xsched_launches_total", "counter", "Commands the process submitted.");
	EACH_ENTRY("xsched_launches_total", "", fprintf(f, " %" PRIu64 "\n", x->launches))
	family(f, "xsched_completions_total", "counter", "Commands known complete.");
	EACH_ENTRY("xsched_completions_total", "", fprintf(f, " %" PRIu64 "\n", x->completions))
	family(f, "xsched_blocked_seconds_total", "counter",
	       "Time the process's launches spent held by the launch window.");
	EACH_ENTRY("xsched_blocked_seconds_total", "", seconds(f, x->blocked_ns))
	family(f, "xsched_bursts_total", "counter", "GPU bursts measured.");
	EACH_ENTRY("xsched_bursts_total", "", fprintf(f, " %" PRIu64 "\n", x->bursts))
	family(f, "xsched_burst_p50_seconds", "gauge",
	       "Median of the process's recent burst latencies (last 128 bursts within 10 s).");
	EACH_ENTRY("xsched_burst_p50_seconds", "", seconds(f, x->lat_p50_ns))
	family(f, "xsched_burst_p99_seconds", "gauge",
	       "P99 of the process's recent burst latencies (last 128 bursts within 10 s).");
	EACH_ENTRY("xsched_burst_p99_seconds", "", seconds(f, x->lat_p99_ns))
	family(f, "xsched_actuator", "gauge",
	       "1 when the native priority knob named by `actuator` is in effect for the process "
	       "(MPS client priority, stream priorities, CU mask), or the device time-slices it "
	       "(time_sliced).");
	for (unsigned int b = 0; b < XSCHED_ACT_COUNT; b++)
		for (uint32_t i = 0; i < n; i++) {
			const struct ctl_pub_entry *x = &s->entries[i];
			fputs("xsched_actuator{", f);
			entry_labels(f, s, x);
			fprintf(f, ",actuator=\"%s\"} %u\n", xsched_act_name(b),
			        x->actuators >> b & 1u);
		}
	family(f, "xsched_turn", "gauge",
	       "On a time-sliced GPU: 1 while the process holds its GPU's turn, 2 while it waits "
	       "for it (suspended), 0 without turns.");
	EACH_ENTRY("xsched_turn", "", fprintf(f, " %u\n", x->turn))
#undef EACH_ENTRY
	histogram(f, s, n);
}

void metrics_write(FILE *f, const struct ctl_pub *s, bool live)
{
	family(f, "xsched_controller_up", "gauge", "1 while the xsched controller runs and beats.");
	fprintf(f, "xsched_controller_up %d\n", live);
	if (!live)
		return;
	family(f, "xsched_controller_ticks_total", "counter", "Control intervals run.");
	fprintf(f, "xsched_controller_ticks_total %" PRIu64 "\n", s->ticks);
	family(f, "xsched_ebpf_enabled", "gauge",
	       "1 when the eBPF observer runs (processes without the shim are seen).");
	fprintf(f, "xsched_ebpf_enabled %u\n", s->ebpf ? 1u : 0u);
	family(f, "xsched_default_p99_target_seconds", "gauge",
	       "Target of the default service (moved by xsched-ctl set --p99-target).");
	fprintf(f, "xsched_default_p99_target_seconds %.9g\n", (double)s->default_target_ns / 1e9);
	services(f, s);
	processes(f, s);
}
