/* SPDX-License-Identifier: MIT */
/*
 * xsched-run: start a program under libxsched.so.
 *
 *   xsched-run [--priority high|normal|low|0..7] [--window N|unlimited] [--log LEVEL]
 *              [--shm NAME] [--mps-priority auto|on|off] [--stream-priority auto|on|off]
 *              [--cu-mask F|0xMASK] [--] CMD [ARGS...]
 *
 * Prepends libxsched.so to LD_PRELOAD (found at $XSCHED_LIB, else ../lib/libxsched.so next
 * to this program), sets XSCHED_PRIORITY / XSCHED_WINDOW / XSCHED_LOG / XSCHED_SHM /
 * XSCHED_STREAM_PRIORITY / XSCHED_CU_MASK for the options given, and execs CMD. A bad value
 * is one line naming it and what is accepted, exit 2.
 *
 * MPS client priority is fixed when a client connects, so it is set here, before the app
 * starts: below normal priority (low, levels 2..7) the app gets CUDA_MPS_CLIENT_PRIORITY=1
 * when an MPS server runs (--mps-priority auto, the default: its control pipe is in
 * $CUDA_MPS_PIPE_DIRECTORY, default /tmp/nvidia-mps) or always (on); high and normal stay
 * normal. A CUDA_MPS_CLIENT_PRIORITY the user set is never overridden. One line on stderr
 * says what was decided (none with --log quiet).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_actu.h"
#include "xs_config.h"
#include "xsched_shm.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: xsched-run [--priority high|normal|low|0..7] [--window N|unlimited]\n"
	        "                  [--log quiet|info|debug] [--shm NAME]\n"
	        "                  [--mps-priority auto|on|off] [--stream-priority auto|on|off]\n"
	        "                  [--cu-mask F|0xMASK] [--] CMD [ARGS...]\n"
	        "Runs CMD with libxsched.so preloaded: its GPU work is scheduled at the given\n"
	        "priority, with at most N commands in flight while no controller says "
	        "otherwise.\n");
}

static void bad(const char *opt, const char *val, const char *accepted)
{
	fprintf(stderr, "xsched-run: bad %s '%s' (accepted: %s)\n", opt, val, accepted);
	exit(2);
}

/* --name VALUE or --name=VALUE; NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "xsched-run: %s needs a value\n", name);
		exit(2);
	}
	return argv[++*i];
}

/* libxsched.so: $XSCHED_LIB, else <dir of this program>/../lib/libxsched.so. */
static int find_lib(char *out, size_t len)
{
	const char *env = getenv("XSCHED_LIB");
	if (env && *env) {
		snprintf(out, len, "%s", env);
	} else {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return -1;
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (!slash)
			return -1;
		*slash = '\0';
		if ((size_t)snprintf(out, len, "%.*s/../lib/libxsched.so", (int)(len - 24), self) >=
		    len)
			return -1;
	}
	char real[PATH_MAX];
	if (!realpath(out, real) || access(real, R_OK))
		return -1;
	snprintf(out, len, "%s", real);
	return 0;
}

/* LD_PRELOAD with lib first (once). */
static void set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old) {
		setenv("LD_PRELOAD", lib, 1);
		return;
	}
	size_t n = strlen(lib) + strlen(old) + 2;
	char *v = malloc(n);
	if (!v) {
		fprintf(stderr, "xsched-run: out of memory\n");
		exit(1);
	}
	snprintf(v, n, "%s:%s", lib, old);
	setenv("LD_PRELOAD", v, 1);
	free(v);
}

enum {
	MPS_AUTO,
	MPS_ON,
	MPS_OFF
};

/* MPS client priority for an app at xsched priority `prio` (see the top of this file). */
static void mps_priority(int mode, int prio, bool quiet)
{
	char pipe[4096];
	bool running = xs_mps_running(pipe, sizeof(pipe));
	if (mode == MPS_OFF || (mode == MPS_AUTO && !running))
		return;
	const char *user = getenv("CUDA_MPS_CLIENT_PRIORITY");
	const char *where = running ? "MPS server" : "no MPS server found";
	if (user) {
		if (!quiet)
			fprintf(stderr,
			        "xsched-run: %s (%s): keeping CUDA_MPS_CLIENT_PRIORITY=%s set by "
			        "the "
			        "user\n",
			        where, pipe, user);
		return;
	}
	if (prio <= XSCHED_PRIO_NORMAL) /* high and normal stay normal clients */
		return;
	setenv("CUDA_MPS_CLIENT_PRIORITY", "1", 1);
	if (!quiet)
		fprintf(stderr,
		        "xsched-run: %s (%s): CUDA_MPS_CLIENT_PRIORITY=1 (below normal, fixed at "
		        "connect)\n",
		        where, pipe);
}

int main(int argc, char **argv)
{
	const char *prio = NULL, *window = NULL, *log = NULL, *shm = NULL;
	const char *stream_prio = NULL, *cu_mask = NULL;
	int mps = MPS_AUTO;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if ((v = opt_value(argc, argv, &i, "--priority"))) {
			int p;
			if (xs_parse_priority(v, &p))
				bad("--priority", v, xs_priority_accepted);
			prio = v;
		} else if ((v = opt_value(argc, argv, &i, "--window"))) {
			uint32_t w;
			if (xs_parse_window(v, &w))
				bad("--window", v, xs_window_accepted);
			window = v;
		} else if ((v = opt_value(argc, argv, &i, "--log"))) {
			int l;
			if (xs_parse_log(v, &l))
				bad("--log", v, xs_log_accepted);
			log = v;
		} else if ((v = opt_value(argc, argv, &i, "--shm"))) {
			if (!xsched_shm_name_ok(v))
				bad("--shm", v, "1-63 of A-Z a-z 0-9 . _ -, not starting with .");
			shm = v;
		} else if ((v = opt_value(argc, argv, &i, "--mps-priority"))) {
			if (!strcmp(v, "auto"))
				mps = MPS_AUTO;
			else if (!strcmp(v, "on"))
				mps = MPS_ON;
			else if (!strcmp(v, "off"))
				mps = MPS_OFF;
			else
				bad("--mps-priority", v, "auto, on, off");
		} else if ((v = opt_value(argc, argv, &i, "--stream-priority"))) {
			int m;
			if (xs_parse_stream_prio(v, &m))
				bad("--stream-priority", v, xs_stream_prio_accepted);
			stream_prio = v;
		} else if ((v = opt_value(argc, argv, &i, "--cu-mask"))) {
			struct xs_cu_mask m;
			if (xs_parse_cu_mask(v, &m))
				bad("--cu-mask", v, xs_cu_mask_accepted);
			cu_mask = v;
		} else if (a[0] == '-') {
			fprintf(stderr, "xsched-run: unknown option '%s' (see --help)\n", a);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "xsched-run: no command given (see --help)\n");
		return 2;
	}
	char lib[PATH_MAX];
	if (find_lib(lib, sizeof(lib))) {
		fprintf(stderr,
		        "xsched-run: cannot find libxsched.so (set XSCHED_LIB to its path)\n");
		return 1;
	}
	set_preload(lib);
	if (prio)
		setenv("XSCHED_PRIORITY", prio, 1);
	if (window)
		setenv("XSCHED_WINDOW", window, 1);
	if (log)
		setenv("XSCHED_LOG", log, 1);
	if (shm)
		setenv("XSCHED_SHM", shm, 1);
	if (stream_prio)
		setenv("XSCHED_STREAM_PRIORITY", stream_prio, 1);
	if (cu_mask)
		setenv("XSCHED_CU_MASK", cu_mask, 1);
	/* The priority the app will run at: the option, else a valid one already set. */
	int level = XSCHED_PRIO_NORMAL, lv;
	const char *env_prio = getenv("XSCHED_PRIORITY");
	if (env_prio && !xs_parse_priority(env_prio, &lv))
		level = lv;
	const char *env_log = getenv("XSCHED_LOG");
	mps_priority(mps, level, env_log && !strcmp(env_log, "quiet"));
	execvp(argv[i], argv + i);
	int e = errno;
	fprintf(stderr, "xsched-run: cannot run '%s': %s\n", argv[i], strerror(e));
	return e == ENOENT ? 127 : 126;
}
