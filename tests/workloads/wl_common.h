/* SPDX-License-Identifier: MIT */
/*
 * What every workload shares besides the GPU layer: strict command-line parsing (a bad value
 * is one line naming it and what is accepted, exit 2), the options that pick the vendor and
 * how its entry points are resolved, clocks, and percentiles.
 */
#ifndef XSCHED_WL_COMMON_H
#define XSCHED_WL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu_api.h"

/* The program name used in messages ("online", "batch", ...). */
extern const char *wl_prog;

/* "<prog>: <message>" on stderr, exit 1 (a run-time failure). */
void wl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "<prog>: <message>" on stderr, exit 2 (a bad command line). */
void wl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Option matching over argv[*i]. wl_opt returns the value of `--name VALUE` or `--name=VALUE`
 * (advancing *i past a separate value; a missing value is a usage error), NULL when argv[*i]
 * is another option. wl_flag matches a value-less flag.
 */
const char *wl_opt(int argc, char **argv, int *i, const char *name);
bool wl_flag(const char *arg, const char *name);

/* Number parsers: the whole string must be a number within [min, max], else a usage error
 * naming the option, the value and the accepted range. */
double wl_parse_double(const char *opt, const char *val, double min, double max);
uint64_t wl_parse_u64(const char *opt, const char *val, uint64_t min, uint64_t max);
int wl_parse_int(const char *opt, const char *val, int min, int max);

/* The options every workload takes: --vendor cuda|hip, --resolve getproc|dlsym, --ptds,
 * --device N, --module FILE. Returns true when argv[*i] was one of them. */
struct wl_gpu_args {
	struct gpu_options gpu;
	int device;
};
void wl_gpu_args_init(struct wl_gpu_args *a);
bool wl_gpu_args_parse(struct wl_gpu_args *a, int argc, char **argv, int *i);
/* Opens the vendor library and binds the calling thread to a->device (exit 1 on failure). */
void wl_gpu_start(const struct wl_gpu_args *a);
extern const char wl_gpu_args_help[];

/* SIGINT and SIGTERM ask the workload to stop early: it finishes the request or iteration in
 * hand, prints its JSON line for what it did, and exits 0 (tests stop background load so). */
void wl_catch_stop_signals(void);
bool wl_stopping(void);

/* CLOCK_MONOTONIC in nanoseconds, and an absolute sleep on it (cut short by a stop signal). */
uint64_t wl_now_ns(void);
void wl_sleep_until_ns(uint64_t t);

/* Percentile p (0..100) of n sorted values, nearest-rank; 0 for n == 0. */
double wl_percentile(const double *sorted, size_t n, double p);
void wl_sort_doubles(double *v, size_t n);

#endif
