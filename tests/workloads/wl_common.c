/* SPDX-License-Identifier: MIT */
#include "wl_common.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *wl_prog = "workload";

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", wl_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void wl_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void wl_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

const char *wl_opt(int argc, char **argv, int *i, const char *name)
{
	const char *arg = argv[*i];
	size_t len = strlen(name);
	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		wl_usage_error("option %s needs a value", name);
	return argv[++*i];
}

bool wl_flag(const char *arg, const char *name)
{
	return strcmp(arg, name) == 0;
}

double wl_parse_double(const char *opt, const char *val, double min, double max)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(val, &end);
	if (errno || end == val || *end != '\0' || !isfinite(v) || v < min || v > max)
		wl_usage_error("bad %s value '%s': expected a number from %g to %g", opt, val, min,
		               max);
	return v;
}

uint64_t wl_parse_u64(const char *opt, const char *val, uint64_t min, uint64_t max)
{
	char *end = NULL;
	errno = 0;
	/* strtoull accepts a sign; a negative count is an error here, not a huge number. */
	unsigned long long v = val[0] == '-' ? 0 : strtoull(val, &end, 10);
	if (val[0] == '-' || errno || end == val || *end != '\0' || v < min || v > max)
		wl_usage_error("bad %s value '%s': expected an integer from %llu to %llu", opt, val,
		               (unsigned long long)min, (unsigned long long)max);
	return v;
}

int wl_parse_int(const char *opt, const char *val, int min, int max)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (errno || end == val || *end != '\0' || v < min || v > max)
		wl_usage_error("bad %s value '%s': expected an integer from %d to %d", opt, val,
		               min, max);
	return (int)v;
}

const char wl_gpu_args_help[] =
        "  --vendor cuda|hip        GPU API (default cuda)\n"
        "  --resolve getproc|dlsym  CUDA entry points through cuGetProcAddress_v2 (default)\n"
        "                           or plain dlsym; HIP always uses dlsym\n"
        "  --ptds                   per-thread default stream entry points (_ptsz/_ptds, _spt)\n"
        "  --device N               device ordinal (default 0)\n"
        "  --module FILE            load kernels from FILE instead of the embedded PTX\n";

void wl_gpu_args_init(struct wl_gpu_args *a)
{
	memset(a, 0, sizeof(*a));
	a->gpu.vendor = GPU_VENDOR_CUDA;
	a->gpu.resolve = GPU_RESOLVE_AUTO;
}

bool wl_gpu_args_parse(struct wl_gpu_args *a, int argc, char **argv, int *i)
{
	const char *v;
	if ((v = wl_opt(argc, argv, i, "--vendor"))) {
		if (strcmp(v, "cuda") == 0)
			a->gpu.vendor = GPU_VENDOR_CUDA;
		else if (strcmp(v, "hip") == 0)
			a->gpu.vendor = GPU_VENDOR_HIP;
		else
			wl_usage_error("bad --vendor value '%s': expected cuda or hip", v);
	} else if ((v = wl_opt(argc, argv, i, "--resolve"))) {
		if (strcmp(v, "getproc") == 0)
			a->gpu.resolve = GPU_RESOLVE_GETPROC;
		else if (strcmp(v, "dlsym") == 0)
			a->gpu.resolve = GPU_RESOLVE_DLSYM;
		else
			wl_usage_error("bad --resolve value '%s': expected getproc or dlsym", v);
	} else if (wl_flag(argv[*i], "--ptds")) {
		a->gpu.ptds = true;
	} else if ((v = wl_opt(argc, argv, i, "--device"))) {
		a->device = wl_parse_int("--device", v, 0, 15);
	} else if ((v = wl_opt(argc, argv, i, "--module"))) {
		a->gpu.module_path = v;
	} else {
		return false;
	}
	return true;
}

void wl_gpu_start(const struct wl_gpu_args *a)
{
	if (a->gpu.vendor == GPU_VENDOR_HIP && a->gpu.resolve == GPU_RESOLVE_GETPROC)
		wl_usage_error("bad --resolve value 'getproc' with --vendor hip: expected dlsym "
		               "(HIP 5.2 has no hipGetProcAddress)");
	gpu_open(wl_prog, &a->gpu);
	int count = 0;
	gpu_check(gpu->device_count(&count), "device count");
	if (a->device >= count)
		wl_die("--device %d: only %d device%s", a->device, count, count == 1 ? "" : "s");
	gpu_check(gpu_use_device(a->device), "selecting the device and loading the kernels");
}

static atomic_bool stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, true);
}

void wl_catch_stop_signals(void)
{
	/* No SA_RESTART: a sleeping workload wakes up at once. */
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool wl_stopping(void)
{
	return atomic_load(&stop_requested);
}

uint64_t wl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void wl_sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
		               .tv_nsec = (long)(t % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !wl_stopping())
		;
}

double wl_percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void wl_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}
