// SPDX-License-Identifier: MIT
/*
 * Painting a frame (top.h). Every frame is erase() + draw + refresh(): ncurses sends only
 * the cells that changed, so nothing flickers; clear() (a full repaint) is never used.
 */
#include <ncurses.h>
#include <stdio.h>
#include <string.h>

#include "law.h"
#include "parse.h"
#include "top.h"
#include "xsched_shm.h"

enum {
	PAIR_HEAD = 1,
	PAIR_OVER,
	PAIR_OK,
	PAIR_BAR
};

static const char *dur(uint64_t ns, char *buf, size_t len)
{
	if (!ns)
		snprintf(buf, len, "-");
	else if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.3gms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.3gus", (double)ns / 1e3);
	return buf;
}

static const char *win(uint32_t w, char *buf, size_t len)
{
	if (w >= XSCHED_WINDOW_UNLIMITED)
		snprintf(buf, len, "unl");
	else
		snprintf(buf, len, "%u", w);
	return buf;
}

static const char *prio(int p, char *buf, size_t len)
{
	const char *n = priority_name(p);

	if (n)
		return n;
	snprintf(buf, len, p < 0 ? "-" : "%d", p);
	return buf;
}

static const char *state_label(uint32_t s)
{
	/* The law's "suspended": lower-priority work is held at window 0. */
	return s == LAW_SUSPENDED ? "suspended batch" : law_state_name((enum law_state)s);
}

/* A minute of P99, scaled 0..2x the target; points above the target in the warning colour. */
static void sparkline(struct top *t, const struct top_hist *h, uint64_t target, int width)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
		                               "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '_', '.', ',', '-', '~', '=', '*', '#' };
	int n = (int)h->n < width ? (int)h->n : width;

	for (int i = 0; i < width - n; i++)
		addch(' ');
	for (int i = n - 1; i >= 0; i--) {
		uint64_t v = h->p99[(h->head + TOP_HIST_LEN - (uint32_t)i) % TOP_HIST_LEN];
		int lvl = target ? (int)((double)v / (2.0 * (double)target) * 8) : 0;
		bool over = target && v > target;

		if (lvl > 7)
			lvl = 7;
		if (over)
			attron(COLOR_PAIR(PAIR_OVER) | A_BOLD);
		if (!v)
			addch(' ');
		else if (t->utf8)
			addstr(blocks[lvl]);
		else
			addch((chtype)ascii[lvl]);
		if (over)
			attroff(COLOR_PAIR(PAIR_OVER) | A_BOLD);
	}
}

static const struct top_hist *hist_find(const struct top *t, const struct ctl_pub_svc *v)
{
	for (int i = 0; i < CTL_PUB_SVCS; i++)
		if (t->hist[i].used && t->hist[i].gpu == v->gpu &&
		    !strcmp(t->hist[i].name, v->name))
			return &t->hist[i];
	return NULL;
}

static void header(struct top *t)
{
	const struct ctl_pub *s = t->snap;
	char a[32], b[32], pb[16];
	bool gpus[XSCHED_MAX_GPUS + 1] = { false };

	format_duration(s->default_target_ns, a, sizeof(a));
	attron(A_BOLD);
	printw("xsched top");
	attroff(A_BOLD);
	printw(" - controller pid %d, default target %s, eBPF %s, %u process(es)%s\n", s->pid, a,
	       s->ebpf ? "on" : "off", s->nentries, t->src.rw ? "" : "  [read-only]");
	for (uint32_t i = 0; i < s->nsvcs && i < CTL_PUB_SVCS; i++)
		if (s->svcs[i].gpu >= 0 && s->svcs[i].gpu < XSCHED_MAX_GPUS)
			gpus[s->svcs[i].gpu] = true;
	for (uint32_t i = 0; i < s->nentries && i < CTL_PUB_ENTRIES; i++)
		if (s->entries[i].gpu >= 0 && s->entries[i].gpu < XSCHED_MAX_GPUS)
			gpus[s->entries[i].gpu] = true;
	for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
		int util = gpus[g] ? gpu_util_get(t->util, g) : -1;
		bool any = false;

		if (!gpus[g])
			continue;
		attron(COLOR_PAIR(PAIR_HEAD) | A_BOLD);
		printw("GPU %d", g);
		attroff(COLOR_PAIR(PAIR_HEAD) | A_BOLD);
		if (util >= 0)
			printw("  util %d%% (%s)", util, gpu_util_source(t->util));
		addch('\n');
		for (uint32_t i = 0; i < s->nsvcs && i < CTL_PUB_SVCS; i++) {
			const struct ctl_pub_svc *v = &s->svcs[i];
			const struct top_hist *h = hist_find(t, v);
			bool over = v->p99_ns > v->target_ns;
			int w = COLS - 14;

			if (v->gpu != g)
				continue;
			any = true;
			printw("  %-12.12s %-6s target %-8s P99 ", v->name,
			       prio(v->prio, pb, sizeof(pb)), dur(v->target_ns, a, sizeof(a)));
			attron(COLOR_PAIR(over ? PAIR_OVER : PAIR_OK) | A_BOLD);
			printw("%-8s", dur(v->p99_ns, b, sizeof(b)));
			attroff(COLOR_PAIR(over ? PAIR_OVER : PAIR_OK) | A_BOLD);
			printw(" %-15s %s\n", state_label(v->state), v->why);
			if (!h)
				continue;
			printw("  P99 last 1m ");
			sparkline(t, h, v->target_ns,
			          w > TOP_HIST_LEN ? TOP_HIST_LEN
			          : w > 0          ? w
			                           : 0);
			addch('\n');
		}
		if (!any)
			printw("  no service with a target on this GPU\n");
	}
}

static void col_title(const struct top *t, enum top_col c, const char *fmt)
{
	char title[16];

	snprintf(title, sizeof(title), "%s%s", top_col_name[c],
	         t->sort == c ? (t->desc ? "v" : "^") : "");
	if (t->sort == c)
		attron(A_UNDERLINE);
	printw(fmt, title);
	if (t->sort == c)
		attroff(A_UNDERLINE);
	addch(' ');
}

static void table(struct top *t)
{
	int sel = top_selected(t);
	char a[16], b[16], c[16], d[16];

	attron(COLOR_PAIR(PAIR_BAR));
	col_title(t, COL_PID, "%7s");
	col_title(t, COL_COMM, "%-15s");
	col_title(t, COL_GPU, "%4s");
	col_title(t, COL_PRIO, "%-7s");
	col_title(t, COL_SRC, "%-5s");
	col_title(t, COL_WBUSY, "%7s");
	col_title(t, COL_WIDLE, "%7s");
	col_title(t, COL_INFL, "%6s");
	col_title(t, COL_LAUNCH, "%10s");
	col_title(t, COL_COMPL, "%10s");
	col_title(t, COL_BLOCK, "%9s");
	col_title(t, COL_P50, "%8s");
	col_title(t, COL_P99, "%8s");
	printw("%-10s %-4s", "SERVICE", "ACT");
	attroff(COLOR_PAIR(PAIR_BAR));
	addch('\n');
	for (uint32_t i = 0; i < t->nrows && getcury(stdscr) < LINES - 2; i++) {
		const struct top_row *r = &t->rows[i];
		const struct ctl_pub_entry *e = r->e;
		const char *svc = e->svc >= 0 && (uint32_t)e->svc < t->snap->nsvcs
		                          ? t->snap->svcs[e->svc].name
		                          : "-";

		if ((int)i == sel)
			attron(A_REVERSE);
		printw("%7d %-15.15s %4d %-7s %-5s %7s %7s %6llu ", e->pid, e->comm, e->gpu,
		       prio(e->granted, a, sizeof(a)), e->observed ? "ebpf" : "shim",
		       win(e->w_busy, b, sizeof(b)), win(e->w_idle, c, sizeof(c)),
		       (unsigned long long)e->inflight);
		if (r->have_rates)
			printw("%10.1f %10.1f %9.1f ", r->launch_s, r->compl_s, r->blocked_pct);
		else
			printw("%10s %10s %9s ", "-", "-", "-");
		printw("%8s ", dur(e->lat_p50_ns, a, sizeof(a)));
		printw("%8s %-10.10s ", dur(e->lat_p99_ns, d, sizeof(d)), svc);
		/* Actuators in effect: M MPS client priority, S stream priorities, C CU mask;
		 * then turns on a time-sliced GPU: H holds the turn, W waits, T time-sliced. */
		printw("%c%c%c%c", e->actuators & XSCHED_ACT_MPS_PRIO ? 'M' : '-',
		       e->actuators & XSCHED_ACT_STREAM_PRIO ? 'S' : '-',
		       e->actuators & XSCHED_ACT_CU_MASK ? 'C' : '-',
		       e->turn == CTL_TURN_HOLDS               ? 'H'
		       : e->turn == CTL_TURN_WAITS             ? 'W'
		       : e->actuators & XSCHED_ACT_TIME_SLICED ? 'T'
		                                               : '-');
		if ((int)i == sel)
			attroff(A_REVERSE);
		addch('\n');
	}
	if (!t->nrows)
		printw(t->filter[0] ? "  no process matches the filter\n" : "  no GPU process\n");
}

static void help(void)
{
	static const char *const lines[] = {
		"xsched top - keys",
		"",
		"  < >        sort by the previous / next column",
		"  r          reverse the order",
		"  /          filter rows by command name or pid (empty: all)",
		"  up down    select a process",
		"  p          change the selected process's priority (policy: back to the rules)",
		"  + -        move the default P99 target up / down by 10% (live)",
		"  q          quit",
		"  ?          this help (any key returns)",
		"",
		"Columns: W_BUSY/W_IDLE windows granted while higher-priority work is busy/idle",
		"(unl: unbounded), INFL commands in flight, BLOCKED% time held by the window,",
		"P50/P99 of the last 128 bursts within 10 s. SRC shim: counted by the shim;",
		"ebpf: observed only, without the shim. ACT native knobs in effect: M MPS client",
		"priority, S stream priorities, C CU mask; then H holds its GPU's turn, W waits",
		"for it, T time-sliced without turns (docs/controller.md, Turns).",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		printw("%s\n", lines[i]);
}

static void footer(struct top *t)
{
	move(LINES - 1, 0);
	attron(COLOR_PAIR(PAIR_BAR));
	if (t->msg[0] && t->now < t->msg_until)
		printw("%s", t->msg);
	else
		printw("sort %s%s%s%s  ? help  q quit", top_col_name[t->sort],
		       t->desc ? " (desc)" : "", t->filter[0] ? "  filter: " : "", t->filter);
	attroff(COLOR_PAIR(PAIR_BAR));
}

void top_draw(struct top *t)
{
	erase();
	if (t->help) {
		help();
	} else if (t->state == DASH_LIVE) {
		header(t);
		addch('\n');
		table(t);
	} else {
		printw("xsched top - %s\n",
		       t->state == DASH_DENIED
		               ? "no permission to read the controller's status segment "
		                 "(/dev/shm/<XSCHED_SHM>.ctl): run as root or in its group"
		       : t->state == DASH_STALE ? "the controller stopped answering"
		                                : "no controller running (xsched-ctl run ...)");
		printw("segment '%s'; waiting for it...\n", t->src.shm_name);
	}
	footer(t);
	refresh();
}

void top_colors(void)
{
	if (!has_colors())
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_HEAD, COLOR_CYAN, -1);
	init_pair(PAIR_OVER, COLOR_RED, -1);
	init_pair(PAIR_OK, COLOR_GREEN, -1);
	init_pair(PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
}
