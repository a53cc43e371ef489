/* SPDX-License-Identifier: MIT */
/*
 * xsched-testctl: a scripted stand-in for the controller, for tests. It attaches to the
 * protocol segment (creating it if absent), creates the controller's grant segment
 * (xsched_grant.h) as the controller does, keeps its heartbeat fresh from a thread, and carries out
 * commands given as arguments (one per argument) and then, with
 * --stdin (the default when no command is given), one per line of standard input:
 *
 *   wait PID [SECONDS]          until PID has a slot (exit 1 on timeout, default 10 s)
 *   set PID busy=N idle=M [gpu=I] [prio=P] [budget=US]
 *                               grant windows (N, M: numbers or "unlimited"), priority and
 *                               time budget (microseconds of GPU time in flight; 0: none,
 *                               the default), the budget written before the grant
 *   suspend PID                 grant windows 0/0
 *   resume PID                  withdraw the grants: the process's own defaults apply
 *   sleep MS
 *   dump                        one JSON object: segment, GPUs, slots (see --dump)
 *   hold                        keep beating until SIGTERM/SIGINT, then leave cleanly
 *   die                         exit at once without cleaning up (the heartbeat goes stale)
 *   quit                        leave cleanly (also at the end of the commands)
 *
 * xsched-testctl --dump [--consume] prints the JSON object without becoming a controller.
 * Latencies are read from the rings without consuming them unless --consume is given; each
 * is [end_ns, latency_ns, gpu, commands, cold] (cold: 1 for a burst with XSCHED_LAT_COLD).
 * --shm NAME overrides $XSCHED_SHM. Bad commands: one line on stderr, exit 2.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xsched_grant.h"
#include "xsched_shm.h"

static struct xsched_shm *shm;
static struct xsched_grants *grants; /* NULL: none (a --dump without a controller) */
static volatile sig_atomic_t stop;
static unsigned int beat_ms = 50;
static bool consume;

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "xsched-testctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
		               .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
		;
}

static void *beat_thread(void *arg)
{
	(void)arg;
	for (;;) {
		xsched_controller_beat(grants, shm, getpid());
		sleep_ms(beat_ms);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		die_usage("bad number '%s'", s);
	(void)what;
	return v;
}

static uint32_t parse_window(const char *s)
{
	if (!strcmp(s, "unlimited"))
		return XSCHED_WINDOW_UNLIMITED;
	long v = parse_num(s, "window");
	return v >= XSCHED_WINDOW_UNLIMITED ? XSCHED_WINDOW_UNLIMITED : (uint32_t)v;
}

static struct xsched_proc *find_pid(const char *s)
{
	pid_t pid = (pid_t)parse_num(s, "pid");
	struct xsched_proc *p = xsched_proc_find(shm, pid);
	if (!p)
		fprintf(stderr, "xsched-testctl: no slot for pid %d\n", (int)pid);
	return p;
}

/* The grant slot of p, naming p's process (as the controller's census does). */
static int own(struct xsched_proc *p)
{
	int slot = xsched_proc_index(shm, p);
	xsched_grant_assign(grants, slot, atomic_load(&p->pid), p->start_time);
	return slot;
}

/* ---- dump ---- */

static void print_uuid(const uint8_t *u)
{
	for (int i = 0; i < 16; i++)
		printf("%02x", u[i]);
}

static void print_str(const char *s, size_t max)
{
	putchar('"');
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void dump(void)
{
	static struct xsched_lat lat[XSCHED_RING_LEN];
	uint64_t now = xsched_now_ns();
	uint64_t hb = grants ? atomic_load(&grants->hdr.controller_heartbeat_ns) : 0;
	printf("{\"version\":%u,\"controller_pid\":%d,\"controller_fresh\":%s,"
	       "\"heartbeat_age_ms\":%.1f,\"generation\":%llu,\"gpus\":[",
	       shm->hdr.version, (int)xsched_controller_pid(grants),
	       xsched_controller_fresh(grants, now) ? "true" : "false",
	       hb ? (double)(now - hb) / 1e6 : -1.0,
	       (unsigned long long)atomic_load(&shm->hdr.generation));
	bool first = true;
	for (int i = 0; i < XSCHED_MAX_GPUS; i++) {
		struct xsched_gpu *g = xsched_gpu_at(shm, i);
		if (!g)
			continue;
		printf("%s{\"index\":%d,\"uuid\":\"", first ? "" : ",", i);
		print_uuid(g->uuid);
		printf("\",\"epoch\":%u,\"waiters\":%u,\"busy\":[", atomic_load(&g->epoch),
		       atomic_load(&g->waiters));
		for (int p = 0; p < XSCHED_MAX_PRIO; p++)
			printf("%s%d", p ? "," : "", atomic_load(&g->busy[p]));
		printf("]}");
		first = false;
	}
	printf("],\"procs\":[");
	first = true;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *p = xsched_proc_at(shm, i);
		if (!p)
			continue;
		int pid = atomic_load(&p->pid);
		printf("%s{\"slot\":%d,\"pid\":%d,\"alive\":%s,\"comm\":", first ? "" : ",", i, pid,
		       xsched_proc_alive(pid, p->start_time) ? "true" : "false");
		print_str(p->comm, sizeof(p->comm));
		printf(",\"image\":%u,\"requested_prio\":%d,\"granted_prio\":%d,"
		       "\"default_window\":%u,\"gpus\":[",
		       atomic_load(&p->image), p->requested_prio,
		       xsched_granted_prio(grants, i, pid, p->start_time), p->default_window);
		bool gfirst = true;
		for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
			struct xsched_proc_gpu *pg = &p->gpu[g];
			if (!atomic_load(&pg->used))
				continue;
			uint64_t gr = xsched_grant_word(grants, i, pid, p->start_time, g);
			printf("%s{\"gpu\":%d,\"granted\":%s,\"grant_busy\":%u,\"grant_idle\":%u,"
			       "\"window\":%u,\"busy_prio\":%u,\"launches\":%llu,"
			       "\"completions\":%llu,\"syncs\":%llu,\"blocked_ns\":%llu,"
			       "\"bursts\":%llu,\"inflight\":%llu,\"budget_us\":%u,"
			       "\"budget_applied_us\":%u,\"est_inflight_us\":%u,\"cmd_mean_us\":%u,"
			       "\"cmd_max_us\":%u}",
			       gfirst ? "" : ",", g, xsched_grant_set(gr) ? "true" : "false",
			       xsched_grant_busy(gr), xsched_grant_idle(gr),
			       atomic_load(&pg->window), atomic_load(&pg->busy_prio),
			       (unsigned long long)atomic_load(&pg->launches),
			       (unsigned long long)atomic_load(&pg->completions),
			       (unsigned long long)atomic_load(&pg->syncs),
			       (unsigned long long)atomic_load(&pg->blocked_ns),
			       (unsigned long long)atomic_load(&pg->bursts),
			       (unsigned long long)atomic_load(&pg->inflight),
			       xsched_grant_budget_us(grants, i, pid, p->start_time, g),
			       atomic_load(&pg->budget_applied_us),
			       atomic_load(&pg->est_inflight_us), atomic_load(&pg->cmd_mean_us),
			       atomic_load(&pg->cmd_max_us));
			gfirst = false;
		}
		size_t n = xsched_ring_read(&p->ring, lat, XSCHED_RING_LEN, consume);
		printf("],\"ring_dropped\":%llu,\"latencies\":[",
		       (unsigned long long)atomic_load(&p->ring.dropped));
		for (size_t k = 0; k < n; k++)
			printf("%s[%llu,%llu,%u,%u,%d]", k ? "," : "",
			       (unsigned long long)lat[k].end_ns,
			       (unsigned long long)lat[k].latency_ns, lat[k].gpu,
			       lat[k].commands & XSCHED_LAT_CMDS_MASK,
			       !!(lat[k].commands & XSCHED_LAT_COLD));
		printf("]}");
		first = false;
	}
	printf("]}\n");
	fflush(stdout);
}

/* ---- commands ---- */

static void cmd_set(char **tok, int n)
{
	if (n < 2)
		die_usage("set needs PID and busy=N idle=M%s", "");
	struct xsched_proc *p = find_pid(tok[1]);
	if (!p)
		exit(1);
	uint32_t busy = XSCHED_WINDOW_UNLIMITED, idle = XSCHED_WINDOW_UNLIMITED, budget = 0;
	int gpu = -1, prio = -2;
	for (int i = 2; i < n; i++) {
		if (!strncmp(tok[i], "busy=", 5))
			busy = parse_window(tok[i] + 5);
		else if (!strncmp(tok[i], "idle=", 5))
			idle = parse_window(tok[i] + 5);
		else if (!strncmp(tok[i], "gpu=", 4))
			gpu = (int)parse_num(tok[i] + 4, "gpu");
		else if (!strncmp(tok[i], "prio=", 5))
			prio = (int)parse_num(tok[i] + 5, "prio");
		else if (!strncmp(tok[i], "budget=", 7))
			budget = (uint32_t)parse_num(tok[i] + 7, "budget");
		else
			die_usage("set: unknown argument '%s'", tok[i]);
	}
	int slot = own(p);
	if (prio >= 0)
		xsched_grant_prio(grants, shm, slot, prio);
	/* The budget before the grant word, whose release store publishes it. */
	xsched_grant_budget(grants, slot, gpu, budget);
	xsched_grant_windows(grants, shm, slot, gpu, xsched_grant_pack(busy, idle));
}

static void run_command(char *line)
{
	char *tok[16];
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < 16;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 0 || tok[0][0] == '#')
		return;
	if (!strcmp(tok[0], "wait") && n >= 2) {
		pid_t pid = (pid_t)parse_num(tok[1], "pid");
		double limit = n >= 3 ? (double)parse_num(tok[2], "seconds") : 10.0;
		uint64_t end = xsched_now_ns() + (uint64_t)(limit * 1e9);
		while (!xsched_proc_find(shm, pid)) {
			if (xsched_now_ns() > end) {
				fprintf(stderr, "xsched-testctl: pid %d never registered\n",
				        (int)pid);
				exit(1);
			}
			sleep_ms(5);
		}
	} else if (!strcmp(tok[0], "set")) {
		cmd_set(tok, n);
	} else if (!strcmp(tok[0], "suspend") && n == 2) {
		struct xsched_proc *p = find_pid(tok[1]);
		if (!p)
			exit(1);
		xsched_grant_windows(grants, shm, own(p), -1, xsched_grant_pack(0, 0));
	} else if (!strcmp(tok[0], "resume") && n == 2) {
		struct xsched_proc *p = find_pid(tok[1]);
		if (!p)
			exit(1);
		int slot = own(p);
		xsched_grant_prio(grants, shm, slot, -1);
		xsched_grant_windows(grants, shm, slot, -1, XSCHED_GRANT_NONE);
	} else if (!strcmp(tok[0], "sleep") && n == 2) {
		sleep_ms((unsigned long)parse_num(tok[1], "ms"));
	} else if (!strcmp(tok[0], "dump") && n == 1) {
		dump();
	} else if (!strcmp(tok[0], "hold") && n == 1) {
		while (!stop)
			sleep_ms(50);
		xsched_controller_leave(grants, shm);
		exit(0);
	} else if (!strcmp(tok[0], "die") && n == 1) {
		_exit(0);
	} else if (!strcmp(tok[0], "quit") && n == 1) {
		xsched_controller_leave(grants, shm);
		exit(0);
	} else {
		die_usage(
		        "unknown command '%s' (wait, set, suspend, resume, sleep, dump, hold, die, "
		        "quit)",
		        tok[0]);
	}
}

int main(int argc, char **argv)
{
	const char *name = xsched_shm_env_name();
	bool dump_only = false, use_stdin = false;
	int first_cmd = argc;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shm") && i + 1 < argc) {
			name = argv[++i];
		} else if (!strcmp(argv[i], "--dump")) {
			dump_only = true;
		} else if (!strcmp(argv[i], "--consume")) {
			consume = true;
		} else if (!strcmp(argv[i], "--stdin")) {
			use_stdin = true;
		} else if (!strcmp(argv[i], "--beat-ms") && i + 1 < argc) {
			beat_ms = (unsigned int)parse_num(argv[++i], "ms");
		} else if (argv[i][0] == '-') {
			die_usage("unknown option '%s'", argv[i]);
		} else {
			first_cmd = i;
			break;
		}
	}
	struct xsched_shm_map map;
	int rc = xsched_shm_open(name, !dump_only, &map);
	if (rc) {
		fprintf(stderr, "xsched-testctl: /dev/shm/%s: %s\n", name, xsched_shm_strerror(rc));
		return 1;
	}
	shm = map.shm;
	struct xsched_grant_map gmap = { 0 };
	if (dump_only) {
		if (xsched_grant_open_ro(name, &gmap) == XSCHED_SHM_OK)
			grants = gmap.g;
		dump();
		return 0;
	}
	rc = xsched_grant_create(name, 0644, 0, false, &gmap);
	if (rc) {
		fprintf(stderr, "xsched-testctl: /dev/shm/%s%s: %s\n", name, XSCHED_GRANT_SUFFIX,
		        xsched_shm_strerror(rc));
		return 1;
	}
	grants = gmap.g;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	xsched_controller_beat(grants, shm, getpid());
	pthread_t t;
	if (pthread_create(&t, NULL, beat_thread, NULL)) {
		fprintf(stderr, "xsched-testctl: cannot start the heartbeat thread\n");
		return 1;
	}
	for (int i = first_cmd; i < argc; i++)
		run_command(argv[i]);
	if (use_stdin || first_cmd == argc) {
		char line[512];
		while (!stop && fgets(line, sizeof(line), stdin)) {
			run_command(line);
			fflush(stdout);
		}
	}
	xsched_controller_leave(grants, shm);
	return 0;
}
