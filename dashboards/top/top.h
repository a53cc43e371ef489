/* SPDX-License-Identifier: MIT */
/*
 * `xsched-ctl top`: a live view of the controller's status segment. top_model.c turns
 * snapshots into rows (rates from successive snapshots), a minute of P99 history per
 * service, sorting and filtering; top_draw.c paints them with ncurses; top_main.c runs the
 * loop, the keys and the `set` mailbox.
 */
#ifndef XSCHED_TOP_H
#define XSCHED_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_pub.h"
#include "dash_src.h"
#include "gpu_util.h"

#define TOP_HIST_STEP_NS 500000000ull /* one history point per half second */
#define TOP_HIST_LEN     120          /* a minute of them */
#define TOP_RATE_MIN_NS  500000000ull /* rates over at least this much controller time */

enum top_col {
	COL_PID,
	COL_COMM,
	COL_GPU,
	COL_PRIO,
	COL_SRC,
	COL_WBUSY,
	COL_WIDLE,
	COL_INFL,
	COL_LAUNCH,
	COL_COMPL,
	COL_BLOCK,
	COL_P50,
	COL_P99,
	COL_N
};

struct top_row {
	const struct ctl_pub_entry *e;
	bool have_rates;
	double launch_s, compl_s, blocked_pct;
};

struct top_rate {
	int32_t pid, gpu;
	double launch_s, compl_s, blocked_pct;
};

struct top_hist {
	bool used;
	char name[32];
	int gpu;
	uint32_t n;        /* points filled, up to TOP_HIST_LEN */
	uint32_t head;     /* index of the newest point */
	uint64_t step_end; /* top's clock at which the newest point closes */
	uint64_t p99[TOP_HIST_LEN];
	uint64_t last_seen;
};

struct top {
	struct dash_src src;
	enum dash_state state;
	struct ctl_pub *snap, *base; /* current, and the one rates are taken against */
	uint64_t now;
	struct top_row rows[CTL_PUB_ENTRIES];
	uint32_t nrows;
	struct top_rate rates[CTL_PUB_ENTRIES];
	uint32_t nrates;
	struct top_hist hist[CTL_PUB_SVCS];
	enum top_col sort;
	bool desc;
	char filter[32];
	int32_t sel_pid, sel_gpu; /* the selected row, kept across re-sorts */
	bool help;
	bool utf8;
	struct gpu_util *util;
	char msg[160];
	uint64_t msg_until;
	/* One `set` request in flight at a time. */
	int req; /* index in the mailbox, -1 none */
	const struct ctl_pub *req_map;
	uint64_t req_deadline;
	char req_what[80];
	uint64_t want_target_ns, want_until;
};

extern const char *const top_col_name[COL_N];

/* Take a snapshot and rebuild rows, rates and history. */
void top_update(struct top *t);
/* The row index of the selection, -1 when no row. */
int top_selected(const struct top *t);
void top_draw(struct top *t);
/* Colour pairs, after initscr(). */
void top_colors(void);
void top_message(struct top *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
