// SPDX-License-Identifier: MIT
/*
 * `xsched-ctl top [--interval DUR]`: the loop, the keys, and requests through the
 * controller's `set` mailbox (ctl_pub.h), posted without waiting: the answer is picked up
 * on a later frame, so the screen keeps refreshing meanwhile.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"
#include "commands.h"
#include "config.h"
#include "ctl_commands.h"
#include "parse.h"
#include "policy.h"
#include "top.h"
#include "xsched_shm.h"

#define TOP_MIN_NS      100000000ull /* 10 Hz */
#define TOP_MAX_NS      500000000ull /* 2 Hz */
#define TOP_REQ_WAIT_NS 3000000000ull

static void usage(FILE *out)
{
	fprintf(out, "usage: xsched-ctl top [--interval DUR]\n"
	             "Live view of the controller: per GPU its services' target, P99 and state,\n"
	             "one row per GPU process. --interval is the refresh period, 100ms..500ms\n"
	             "(default 250ms). Keys: ? in the view. Without a terminal it prints\n"
	             "'xsched-ctl status' once.\n");
}

static const char *req_error(int result)
{
	return result == -ESRCH ? "no such process known to the controller" : strerror(-result);
}

/* Post a request; the answer is read by poll_request(). */
static void post(struct top *t, uint32_t kind, int32_t pid, uint64_t start_time, int64_t value,
                 const char *what)
{
	struct ctl_box *pub = t->src.rw;
	struct ctl_req *r;

	if (!pub) {
		top_message(t, "read-only: no write access to the controller's mailbox");
		return;
	}
	if (t->req >= 0) {
		top_message(t, "still waiting for the controller's answer to: %s", t->req_what);
		return;
	}
	for (int i = 0; i < CTL_BOX_REQS; i++) {
		uint32_t f = CTL_REQ_FREE;

		if (!atomic_compare_exchange_strong(&pub->reqs[i].state, &f, CTL_REQ_WRITING))
			continue;
		r = &pub->reqs[i];
		r->kind = kind;
		r->pid = pid;
		r->start_time = start_time;
		r->value = value;
		r->result = 0;
		atomic_store_explicit(&r->state, CTL_REQ_POSTED, memory_order_release);
		t->req = i;
		t->req_map = t->src.map;
		t->req_deadline = xsched_now_ns() + TOP_REQ_WAIT_NS;
		snprintf(t->req_what, sizeof(t->req_what), "%s", what);
		top_message(t, "%s ...", what);
		return;
	}
	top_message(t, "the controller's mailbox is full; try again");
}

static void poll_request(struct top *t)
{
	struct ctl_req *r;

	if (t->req < 0)
		return;
	if (t->src.map != t->req_map || !t->src.rw) {
		/* The controller went away with the segment that held the request. */
		top_message(t, "%s: the controller restarted before answering", t->req_what);
		t->req = -1;
		return;
	}
	r = &t->src.rw->reqs[t->req];
	if (atomic_load_explicit(&r->state, memory_order_acquire) == CTL_REQ_DONE) {
		int result = r->result;

		atomic_store_explicit(&r->state, CTL_REQ_FREE, memory_order_release);
		if (result)
			top_message(t, "%s: refused (%s)", t->req_what, req_error(result));
		else
			top_message(t, "%s: applied", t->req_what);
		t->req = -1;
	} else if (xsched_now_ns() > t->req_deadline) {
		/* Left posted, as `set` leaves it: a slow controller still applies it. */
		top_message(t, "%s: no answer within 3 s", t->req_what);
		t->req = -1;
	}
}

static void move_target(struct top *t, int dir)
{
	uint64_t base = t->want_target_ns && t->now < t->want_until ? t->want_target_ns
	                                                            : t->snap->default_target_ns;
	uint64_t v;
	char what[80], a[32];

	if (t->state != DASH_LIVE || !base) {
		top_message(t, "no default target to move");
		return;
	}
	/* 10% steps, rounded to a microsecond. */
	v = (uint64_t)((double)base * (dir > 0 ? 1.1 : 0.9) / 1000.0 + 0.5) * 1000;
	if (v < CFG_TARGET_MIN_NS)
		v = CFG_TARGET_MIN_NS;
	if (v > CFG_TARGET_MAX_NS)
		v = CFG_TARGET_MAX_NS;
	format_duration(v, a, sizeof(a));
	snprintf(what, sizeof(what), "target %s", a);
	t->want_target_ns = v;
	t->want_until = t->now + 2000000000ull;
	post(t, CTL_REQ_TARGET, 0, 0, (int64_t)v, what);
}

/* A line of input on the bottom row (blocking while typed, as top's own prompts are). */
static bool prompt(const char *label, char *buf, int len)
{
	int rc;

	move(LINES - 1, 0);
	clrtoeol();
	printw("%s", label);
	echo();
	curs_set(1);
	nodelay(stdscr, FALSE);
	timeout(-1);
	rc = getnstr(buf, len - 1);
	noecho();
	curs_set(0);
	return rc == OK;
}

static void change_priority(struct top *t)
{
	int sel = top_selected(t), p;
	const struct ctl_pub_entry *e;
	char in[16], label[96], what[80];
	const char *err;
	int64_t value;
	uint64_t st;

	if (sel < 0) {
		top_message(t, "no process selected");
		return;
	}
	e = t->rows[sel].e;
	if (e->observed) {
		top_message(t, "pid %d runs without the shim: its priority cannot be set", e->pid);
		return;
	}
	snprintf(label, sizeof(label),
	         "priority for %d %.15s (high|normal|low|0-7|policy): ", e->pid, e->comm);
	int32_t pid = e->pid; /* the snapshot may change under the prompt */
	if (!prompt(label, in, sizeof(in)) || !in[0])
		return;
	if (!strcmp(in, "policy")) {
		value = -1;
	} else if ((err = parse_priority(in, POL_LEVELS - 1, &p))) {
		top_message(t, "bad priority '%s': %s", in, err);
		return;
	} else {
		value = p;
	}
	st = xsched_proc_start_time(pid);
	if (!st) {
		top_message(t, "process %d is gone", pid);
		return;
	}
	snprintf(what, sizeof(what), "priority of %d -> %s", pid, in);
	post(t, CTL_REQ_PRIORITY, pid, st, value, what);
}

static void select_row(struct top *t, int delta)
{
	int sel = top_selected(t) + delta;

	if (!t->nrows)
		return;
	if (sel < 0)
		sel = 0;
	if (sel >= (int)t->nrows)
		sel = (int)t->nrows - 1;
	t->sel_pid = t->rows[sel].e->pid;
	t->sel_gpu = t->rows[sel].e->gpu;
}

/* false: quit. */
static bool key(struct top *t, int ch)
{
	if (t->help) {
		t->help = false;
		return ch != 'q';
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case '?':
	case 'h':
		t->help = true;
		break;
	case '<':
	case KEY_LEFT:
		t->sort = (enum top_col)((t->sort + COL_N - 1) % COL_N);
		break;
	case '>':
	case KEY_RIGHT:
		t->sort = (enum top_col)((t->sort + 1) % COL_N);
		break;
	case 'r':
		t->desc = !t->desc;
		break;
	case '/':
		if (prompt("filter (command or pid, empty: all): ", t->filter, sizeof(t->filter)))
			break;
		t->filter[0] = '\0';
		break;
	case KEY_UP:
	case 'k':
		select_row(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		select_row(t, 1);
		break;
	case '+':
	case '=':
		move_target(t, 1);
		break;
	case '-':
	case '_':
		move_target(t, -1);
		break;
	case 'p':
		change_priority(t);
		break;
	default:
		break;
	}
	return true;
}

static int run(struct top *t, uint64_t interval_ns)
{
	bool go = true;

	setlocale(LC_ALL, "");
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (!initscr()) {
		fprintf(stderr, "xsched-ctl top: cannot initialise the terminal\n");
		return XSCHED_EXIT_FAILURE;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	top_colors();
	while (go) {
		uint64_t next = xsched_now_ns() + interval_ns;
		int ch;

		top_update(t);
		poll_request(t);
		top_draw(t);
		/* Keys are answered at once; otherwise the next frame comes on time. */
		for (;;) {
			uint64_t now = xsched_now_ns();

			timeout(now >= next ? 0 : (int)((next - now) / 1000000));
			ch = getch();
			if (ch == ERR)
				break;
			if (!(go = key(t, ch)))
				break;
			top_update(t);
			top_draw(t);
		}
	}
	endwin();
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static struct ctl_pub snap, base; /* large: not on the stack */
	static struct top t;
	uint64_t interval_ns = 250000000ull;
	int rc;

	for (int i = 1; i < argc; i++) {
		bool missing;
		const char *v, *e;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if ((v = ctl_opt(argc, argv, &i, "--interval", &missing)) || missing) {
			if (missing)
				return ctl_usage_error("top", "--interval needs a value");
			if ((e = parse_duration(v, TOP_MIN_NS, TOP_MAX_NS, &interval_ns)))
				return ctl_usage_error("top", "bad --interval '%s': %s", v, e);
			continue;
		}
		return ctl_usage_error("top", "unknown option '%s' (accepted: --interval DUR)",
		                       argv[i]);
	}
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		char *status_argv[] = { "status", NULL };

		return ctl_status_main(1, status_argv);
	}
	memset(&t, 0, sizeof(t));
	dash_src_init(&t.src, ctl_shm_name());
	t.snap = &snap;
	t.base = &base;
	t.req = -1;
	t.sort = COL_PRIO;
	t.sel_pid = -1;
	t.util = gpu_util_open(ctl_shm_name());
	rc = run(&t, interval_ns);
	gpu_util_close(t.util);
	dash_src_close(&t.src);
	return rc;
}
