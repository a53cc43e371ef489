// SPDX-License-Identifier: MIT
/*
 * `xsched-ctl status [--json]`: the running controller's services and every shimmed
 * process's windows. Without a live controller it shows what the protocol segment alone
 * says (processes, their requests and the windows their shims applied).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"
#include "ctl_commands.h"
#include "ctl_pub.h"
#include "law.h"
#include "parse.h"
#include "xsched_shm.h"

static const char *prio_str(int p, char *buf, size_t len)
{
	const char *n = priority_name(p);

	if (n)
		return n;
	if (p < 0)
		return "-";
	snprintf(buf, len, "%d", p);
	return buf;
}

static const char *win_str(uint32_t w, char *buf, size_t len)
{
	if (w >= XSCHED_WINDOW_UNLIMITED)
		return "unlimited";
	snprintf(buf, len, "%u", w);
	return buf;
}

static const char *dur_str(uint64_t ns, char *buf, size_t len)
{
	if (!ns)
		return "-";
	/* Three significant decimals are plenty for a table. */
	if (ns >= 1000000)
		snprintf(buf, len, "%.3gms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.3gus", (double)ns / 1e3);
	return buf;
}

/* A string as a JSON string literal (names come from processes: escape them). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static bool controller_live(const struct ctl_pub *s)
{
	uint64_t now = xsched_now_ns();

	if (s->stopped || s->pid <= 0)
		return false;
	if (kill(s->pid, 0) && errno != EPERM)
		return false;
	return now < s->beat_ns || now - s->beat_ns < XSCHED_HEARTBEAT_STALE_NS;
}

static void text_controller(const struct ctl_pub *s)
{
	char t[32], iv[32];

	format_duration(s->default_target_ns, t, sizeof(t));
	format_duration(s->interval_ns, iv, sizeof(iv));
	printf("controller: pid %d, interval %s, P99 target %s, window max %u, eBPF %s%s%s\n",
	       s->pid, iv, s->default_target_ns ? t : "none", s->window_max, s->ebpf ? "on" : "off",
	       s->note[0] ? ": " : "", s->note);
}

static void text_services(const struct ctl_pub *s)
{
	char a[32], b[32], c[32], d[32];

	if (!s->nsvcs) {
		printf("\nno service yet (no process with a target has used a GPU)\n");
		return;
	}
	printf("\n%-16s %3s %4s %-11s %9s %9s %6s %9s %9s %5s  %s\n", "SERVICE", "GPU", "PRIO",
	       "STATE", "TARGET", "P99", "N", "ALLOW", "FLOORP99", "LOWER", "WHY");
	for (uint32_t i = 0; i < s->nsvcs && i < CTL_PUB_SVCS; i++) {
		const struct ctl_pub_svc *v = &s->svcs[i];
		char pb[16];

		printf("%-16s %3d %4s %-11s %9s %9s %6llu %9s %9s %5u  %s\n", v->name, v->gpu,
		       prio_str(v->prio, pb, sizeof(pb)), law_state_name((enum law_state)v->state),
		       dur_str(v->target_ns, a, sizeof(a)), dur_str(v->p99_ns, b, sizeof(b)),
		       (unsigned long long)v->window_n,
		       v->x_ns > 0 ? dur_str((uint64_t)v->x_ns, c, sizeof(c)) : "0",
		       dur_str(v->floor_p99_ns, d, sizeof(d)), v->n_low, v->why);
	}
}

/* The actuators in effect, comma-separated ("-": none). */
static const char *act_str(uint32_t bits, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned int i = 0; i < XSCHED_ACT_COUNT; i++)
		if (bits >> i & 1u)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
			                      xsched_act_name(i));
	if (!n)
		snprintf(buf, len, "-");
	return buf;
}

static void text_entries(const struct ctl_pub *s)
{
	char a[16], b[16], c[16], d[32];

	printf("\n%7s %-15s %3s %-9s %-7s %-8s %9s %9s %9s %9s %8s %s\n", "PID", "COMM", "GPU",
	       "PRIO", "SERVICE", "MODE", "W_BUSY", "W_IDLE", "BUDGET", "CMD", "INFLIGHT",
	       "ACTUATORS");
	for (uint32_t i = 0; i < s->nentries && i < CTL_PUB_ENTRIES; i++) {
		const struct ctl_pub_entry *x = &s->entries[i];
		char prio[24], budget[32], act[64];

		snprintf(prio, sizeof(prio), "%s%s", prio_str(x->granted, a, sizeof(a)),
		         x->capped ? "(cap)" : "");
		if (x->budget_idle_us)
			snprintf(budget, sizeof(budget), "%uus", x->budget_idle_us);
		else
			snprintf(budget, sizeof(budget), "-");
		printf("%7d %-15s %3d %-9s %-7s %-8s %9s %9s %9s %9s %8llu %s\n", x->pid, x->comm,
		       x->gpu, prio,
		       x->svc >= 0 && (uint32_t)x->svc < s->nsvcs ? s->svcs[x->svc].name : "-",
		       x->observed                 ? "observed"
		       : x->fixed                  ? "static"
		       : x->turn == CTL_TURN_WAITS ? "waiting"
		       : x->turn == CTL_TURN_HOLDS ? "turn"
		       : x->controlled             ? "control"
		                                   : "default",
		       win_str(x->w_busy, b, sizeof(b)), win_str(x->w_idle, c, sizeof(c)), budget,
		       dur_str((uint64_t)x->cmd_ns, d, sizeof(d)), (unsigned long long)x->inflight,
		       act_str(x->actuators, act, sizeof(act)));
	}
}

static void json_status(const struct ctl_pub *s, bool live)
{
	printf("{\"controller\":{\"running\":%s", live ? "true" : "false");
	if (live) {
		printf(",\"pid\":%d,\"interval_ns\":%llu,\"default_target_ns\":%llu,"
		       "\"window_max\":%u,\"ebpf\":%s,\"ticks\":%llu,\"note\":",
		       s->pid, (unsigned long long)s->interval_ns,
		       (unsigned long long)s->default_target_ns, s->window_max,
		       s->ebpf ? "true" : "false", (unsigned long long)s->ticks);
		json_str(stdout, s->note);
		printf(",\"metrics_addr\":");
		json_str(stdout, s->metrics_addr);
	}
	printf("},\"services\":[");
	for (uint32_t i = 0; live && i < s->nsvcs && i < CTL_PUB_SVCS; i++) {
		const struct ctl_pub_svc *v = &s->svcs[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, v->name);
		printf(",\"gpu\":%d,\"priority\":%d,\"state\":\"%s\",\"why\":", v->gpu, v->prio,
		       law_state_name((enum law_state)v->state));
		json_str(stdout, v->why);
		printf(",\"target_ns\":%llu,\"p99_ns\":%llu,\"window_samples\":%llu,"
		       "\"allowance_ns\":%.0f,\"idle_top_ns\":%.0f,\"busy_top_ns\":%.0f,"
		       "\"floor_p99_ns\":%llu,\"samples\":%llu,\"violations\":%llu,"
		       "\"cold_bursts\":%llu,\"members\":%u,\"lower\":%u,\"burst_commands\":%.1f}",
		       (unsigned long long)v->target_ns, (unsigned long long)v->p99_ns,
		       (unsigned long long)v->window_n, v->x_ns, v->a_top_ns, v->b_top_ns,
		       (unsigned long long)v->floor_p99_ns, (unsigned long long)v->samples,
		       (unsigned long long)v->violations, (unsigned long long)v->cold, v->members,
		       v->n_low, v->burst_cmds);
	}
	printf("],\"processes\":[");
	for (uint32_t i = 0; i < s->nentries && i < CTL_PUB_ENTRIES; i++) {
		const struct ctl_pub_entry *x = &s->entries[i];

		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", x->pid);
		json_str(stdout, x->comm);
		printf(",\"gpu\":%d,\"requested\":%d,\"granted\":%d,\"capped\":%s,\"service\":",
		       x->gpu, x->requested, x->granted, x->capped ? "true" : "false");
		if (x->svc >= 0 && (uint32_t)x->svc < s->nsvcs)
			json_str(stdout, s->svcs[x->svc].name);
		else
			printf("null");
		printf(",\"mode\":\"%s\",\"w_busy\":%u,\"w_idle\":%u,\"budget_idle_us\":%u,"
		       "\"budget_busy_us\":%u,\"window_applied\":%u,\"cmd_ns\":%.0f,"
		       "\"active\":%s,\"launches\":%llu,\"completions\":%llu,\"inflight\":%llu,"
		       "\"blocked_ns\":%llu,\"bursts\":%llu,",
		       x->fixed        ? "static"
		       : x->controlled ? "control"
		                       : "default",
		       x->w_busy, x->w_idle, x->budget_idle_us, x->budget_busy_us,
		       x->window_applied, x->cmd_ns, x->active ? "true" : "false",
		       (unsigned long long)x->launches, (unsigned long long)x->completions,
		       (unsigned long long)x->inflight, (unsigned long long)x->blocked_ns,
		       (unsigned long long)x->bursts);
		printf("\"actuators\":[");
		for (unsigned int b = 0, k = 0; b < XSCHED_ACT_COUNT; b++)
			if (x->actuators >> b & 1u)
				printf("%s\"%s\"", k++ ? "," : "", xsched_act_name(b));
		printf("],\"turn\":%s,", x->turn == CTL_TURN_HOLDS   ? "\"holds\""
		                         : x->turn == CTL_TURN_WAITS ? "\"waits\""
		                                                     : "null");
		printf("\"observed\":%s,\"lat_p50_ns\":%llu,\"lat_p99_ns\":%llu,"
		       "\"lat_recent_n\":%u,\"lat_count\":%llu,\"lat_sum_ns\":%llu}",
		       x->observed ? "true" : "false", (unsigned long long)x->lat_p50_ns,
		       (unsigned long long)x->lat_p99_ns, x->lat_recent_n,
		       (unsigned long long)x->lat_count, (unsigned long long)x->lat_sum_ns);
	}
	printf("]}\n");
}

/* Without a controller: one entry per process and GPU straight from the protocol. */
static void from_protocol(struct xsched_shm *shm, struct ctl_pub *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = xsched_proc_at(shm, i);

		if (!p)
			continue;
		for (int g = 0; g < XSCHED_MAX_GPUS && s->nentries < CTL_PUB_ENTRIES; g++) {
			struct ctl_pub_entry *x = &s->entries[s->nentries];
			uint32_t w = atomic_load(&p->gpu[g].window);

			if (!atomic_load(&p->gpu[g].used))
				continue;
			s->nentries++;
			memset(x, 0, sizeof(*x));
			x->pid = atomic_load(&p->pid);
			x->gpu = g;
			memcpy(x->comm, p->comm, sizeof(x->comm));
			x->comm[sizeof(x->comm) - 1] = '\0';
			x->requested = x->granted = p->requested_prio;
			x->svc = -1;
			x->w_busy = x->w_idle = w ? w : p->default_window;
			x->window_applied = w;
			x->actuators = atomic_load(&p->actuators);
			x->launches = atomic_load(&p->gpu[g].launches);
			x->completions = atomic_load(&p->gpu[g].completions);
			x->inflight = atomic_load(&p->gpu[g].inflight);
			x->blocked_ns = atomic_load(&p->gpu[g].blocked_ns);
			x->bursts = atomic_load(&p->gpu[g].bursts);
		}
	}
}

int ctl_status_main(int argc, char **argv)
{
	static struct ctl_pub snap;
	const char *name = ctl_shm_name();
	struct xsched_shm_map map;
	const struct ctl_pub *pub;
	bool json = false, live = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: xsched-ctl status [--json]\n"
			       "The controller's services (state, P99, allowance) and every "
			       "shimmed "
			       "process's windows.\n");
			return 0;
		} else {
			return ctl_usage_error("status", "unknown option '%s' (accepted: --json)",
			                       argv[i]);
		}
	}
	pub = ctl_pub_open_ro(name);
	if (pub) {
		live = ctl_pub_snapshot(pub, &snap) && controller_live(&snap);
		ctl_pub_unmap(pub);
	}
	if (!live) {
		rc = xsched_shm_open(name, false, &map);
		if (rc == XSCHED_SHM_ENOENT) {
			memset(&snap, 0, sizeof(snap));
		} else if (rc != XSCHED_SHM_OK) {
			fprintf(stderr, "xsched-ctl status: cannot read shared memory '%s': %s\n",
			        name, xsched_shm_strerror(rc));
			return CTL_EXIT_FAILURE;
		} else {
			from_protocol(map.shm, &snap);
			xsched_shm_close(&map);
		}
	}
	if (json) {
		json_status(&snap, live);
		return 0;
	}
	if (live) {
		text_controller(&snap);
		text_services(&snap);
	} else {
		printf("controller: not running (processes use their own default windows)\n");
	}
	if (snap.nentries)
		text_entries(&snap);
	else
		printf("\nno shimmed GPU process\n");
	return 0;
}
