/* SPDX-License-Identifier: MIT */
/*
 * correctness: a deterministic multi-stream, multi-thread GPU program whose every result is
 * also computed on the CPU, for checking that an interposed scheduler changes nothing. It
 * prints one JSON line with the digest of the GPU's results and of the CPU's, and exits 1 if
 * they differ. --fork runs the same kind of work in a child process too (each process
 * initialises the driver itself, after the fork); --expect-error checks instead that error
 * codes of bad handles come back unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corr.h"
#include "gpu_api.h"

static void usage(void)
{
	printf("usage: correctness [options]\n"
	       "  --threads T          threads, each with its own buffer and streams (default 4)\n"
	       "  --rounds R           rounds of dependent steps per thread (default 8)\n"
	       "  --elems N            32-bit elements per buffer, a multiple of 4 (default 4096)\n"
	       "  --kernel-us U        how long each kernel spins (default 20)\n"
	       "  --devices D          spread the threads over D devices from --device (default "
	       "1)\n"
	       "  --graph-launches G   launches of the captured graph per device (default 4)\n"
	       "  --fork               also run the work in a forked child process\n"
	       "  --expect-error       check the error codes of bad calls instead\n"
	       "  --dangling-handles   with --expect-error, also use destroyed streams and events\n"
	       "                       (undefined on real drivers: for the simulator)\n"
	       "%s"
	       "output: "
	       "{\"workload\":\"correctness\",\"ok\",\"digest\",\"expected\",\"mismatches\","
	       "\"buffers\",\"launches\",\"graph_launches\",\"processes\",\"devices\",\"threads\"}"
	       "\n"
	       "    or, with --expect-error: "
	       "{\"workload\":\"correctness\",\"mode\":\"expect-error\","
	       "\"ok\",\"cases\",\"passed\"}\n"
	       "exit status: 0 when the results (or error codes) are as expected, 1 otherwise\n",
	       wl_gpu_args_help);
}

static void parse(struct corr_args *a, int argc, char **argv)
{
	wl_gpu_args_init(&a->g);
	a->threads = 4;
	a->rounds = 8;
	a->elems = 4096;
	a->kernel_us = 20;
	a->devices = 1;
	a->graph_launches = 4;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (wl_gpu_args_parse(&a->g, argc, argv, &i))
			continue;
		if (wl_flag(argv[i], "--help") || wl_flag(argv[i], "-h")) {
			usage();
			exit(0);
		} else if ((v = wl_opt(argc, argv, &i, "--threads"))) {
			a->threads = (unsigned int)wl_parse_u64("--threads", v, 1, 64);
		} else if ((v = wl_opt(argc, argv, &i, "--rounds"))) {
			a->rounds = (unsigned int)wl_parse_u64("--rounds", v, 1, 100000);
		} else if ((v = wl_opt(argc, argv, &i, "--elems"))) {
			a->elems = (uint32_t)wl_parse_u64("--elems", v, 4, 1u << 26);
			if (a->elems % 4)
				wl_usage_error("bad --elems value '%s': expected a multiple of 4",
				               v);
		} else if ((v = wl_opt(argc, argv, &i, "--kernel-us"))) {
			a->kernel_us = wl_parse_u64("--kernel-us", v, 0, 10000000);
		} else if ((v = wl_opt(argc, argv, &i, "--devices"))) {
			a->devices = (unsigned int)wl_parse_u64("--devices", v, 1, 16);
		} else if ((v = wl_opt(argc, argv, &i, "--graph-launches"))) {
			a->graph_launches =
			        (unsigned int)wl_parse_u64("--graph-launches", v, 1, 10000);
		} else if (wl_flag(argv[i], "--fork")) {
			a->fork = true;
		} else if (wl_flag(argv[i], "--expect-error")) {
			a->expect_error = true;
		} else if (wl_flag(argv[i], "--dangling-handles")) {
			a->dangling = true;
		} else {
			wl_usage_error("unknown option '%s' (see --help)", argv[i]);
		}
	}
	if (a->dangling && !a->expect_error)
		wl_usage_error("--dangling-handles needs --expect-error");
}

/* Initialises the driver in this process and checks that the devices asked for exist. */
static void start(const struct corr_args *a)
{
	wl_gpu_start(&a->g);
	int count = 0;
	gpu_check(gpu->device_count(&count), "device count");
	if ((unsigned int)a->g.device + a->devices > (unsigned int)count)
		wl_die("--devices %u from device %d: only %d device%s", a->devices, a->g.device,
		       count, count == 1 ? "" : "s");
}

static int expect_errors(const struct corr_args *a)
{
	unsigned int cases = 0, passed = 0;
	start(a);
	corr_expect_errors(a, &cases, &passed);
	bool ok = cases == passed;
	printf("{\"workload\":\"correctness\",\"mode\":\"expect-error\",\"ok\":%s,\"cases\":%u,"
	       "\"passed\":%u}\n",
	       ok ? "true" : "false", cases, passed);
	return ok ? 0 : 1;
}

/* The child's half of --fork: its own driver initialisation, its own data (salt 1), its
 * result sent back whole through the pipe. */
static void child(const struct corr_args *a, int fd)
{
	struct corr_result r;
	wl_prog = "correctness (child)";
	start(a);
	corr_run(a, 1, &r);
	ssize_t n = write(fd, &r, sizeof(r));
	_exit(n == (ssize_t)sizeof(r) ? 0 : 1);
}

static bool collect_child(pid_t pid, int fd, struct corr_result *r)
{
	ssize_t n;
	do
		n = read(fd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
	close(fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: the forked child failed (status %d)\n", wl_prog, status);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct corr_args a = { 0 };
	wl_prog = "correctness";
	parse(&a, argc, argv);
	if (a.expect_error)
		return expect_errors(&a);

	/* Fork before anything of the driver exists: a CUDA process cannot use the driver
	 * state it inherits, so each side initialises its own. */
	pid_t pid = -1;
	int fds[2] = { -1, -1 };
	if (a.fork) {
		if (pipe(fds))
			wl_die("pipe: %s", strerror(errno));
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			wl_die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(fds[0]);
			child(&a, fds[1]);
		}
		close(fds[1]);
	}

	struct corr_result r, c = { 0 };
	start(&a);
	corr_run(&a, 0, &r);
	bool ok = r.digest == r.expected && r.mismatches == 0;
	uint64_t digest = r.digest, expected = r.expected;
	if (a.fork) {
		bool child_ok = collect_child(pid, fds[0], &c);
		ok = ok && child_ok && c.digest == c.expected && c.mismatches == 0;
		digest = corr_fnv(corr_fnv(CORR_FNV_INIT, &r.digest, 8), &c.digest, 8);
		expected = corr_fnv(corr_fnv(CORR_FNV_INIT, &r.expected, 8), &c.expected, 8);
	}
	printf("{\"workload\":\"correctness\",\"ok\":%s,\"digest\":\"%016llx\","
	       "\"expected\":\"%016llx\",\"mismatches\":%llu,\"buffers\":%llu,\"launches\":%llu,"
	       "\"graph_launches\":%llu,\"processes\":%d,\"devices\":%u,\"threads\":%u}\n",
	       ok ? "true" : "false", (unsigned long long)digest, (unsigned long long)expected,
	       (unsigned long long)(r.mismatches + c.mismatches),
	       (unsigned long long)(r.buffers + c.buffers),
	       (unsigned long long)(r.launches + c.launches),
	       (unsigned long long)(r.graph_launches + c.graph_launches), a.fork ? 2 : 1, a.devices,
	       a.threads);
	return ok ? 0 : 1;
}
