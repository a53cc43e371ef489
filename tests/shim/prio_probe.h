/* SPDX-License-Identifier: MIT */
/*
 * Shared by the stream-priority probes (prio_probe_cuda.c, prio_probe_hip.c): the expected
 * band from the command line, the order check, and the actuator bits of the probe's own
 * slot in the protocol segment ($XSCHED_SHM).
 *
 * A probe creates one stream per priority the app may ask for, most urgent first, through
 * each way an app reaches the runtime, reads back the priority each really got, and checks:
 *   --band none   every stream has the priority it asked for (clamped to the range)
 *   --band HI LO  every one lies in [HI, LO], the most urgent request got HI and the least
 *                 urgent LO, and the order of the requests is never inverted
 * and that the process's slot reports the stream-priority actuator exactly when a band was
 * expected. Each failure is one line on stderr; the exit status is the number of failures.
 */
#ifndef XS_PRIO_PROBE_H
#define XS_PRIO_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsched_shm.h"

struct band {
	bool none;
	int hi, lo;
};

static int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "prio_probe: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		failures++;                                                                        \
	} while (0)

static inline bool parse_band(int argc, char **argv, int *i, struct band *b)
{
	if (*i + 1 < argc && !strcmp(argv[*i], "--band") && !strcmp(argv[*i + 1], "none")) {
		b->none = true;
		*i += 2;
		return true;
	}
	if (*i + 2 < argc && !strcmp(argv[*i], "--band")) {
		b->none = false;
		b->hi = atoi(argv[*i + 1]);
		b->lo = atoi(argv[*i + 2]);
		*i += 3;
		return true;
	}
	return false;
}

/* got[i]: the priority stream i really has, asked[i] what the app asked for, in order from
 * the most urgent request (i = 0) to the least urgent; range [greatest, least]. */
static inline void check_band(const char *how, const struct band *b, const int *asked,
                              const int *got, int n, int greatest, int least)
{
	for (int i = 0; i < n; i++) {
		int want = asked[i] < greatest ? greatest : asked[i] > least ? least : asked[i];
		printf("%s asked %d got %d\n", how, asked[i], got[i]);
		if (b->none && got[i] != want)
			FAIL("%s: asked %d, got %d (want %d: no actuator)", how, asked[i], got[i],
			     want);
		if (!b->none && (got[i] < b->hi || got[i] > b->lo))
			FAIL("%s: asked %d, got %d outside the band [%d, %d]", how, asked[i],
			     got[i], b->hi, b->lo);
		if (i && got[i] < got[i - 1])
			FAIL("%s: order inverted: asked %d got %d, asked %d got %d", how,
			     asked[i - 1], got[i - 1], asked[i], got[i]);
	}
	if (!b->none && n && (got[0] != b->hi || got[n - 1] != b->lo))
		FAIL("%s: the band's ends not used: got %d..%d, band [%d, %d]", how, got[0],
		     got[n - 1], b->hi, b->lo);
}

/* The actuator bits of this process's slot; -1 when it has none. */
static inline long own_actuators(void)
{
	struct xsched_shm_map m;
	if (xsched_shm_open(xsched_shm_env_name(), false, &m))
		return -1;
	struct xsched_proc *p = xsched_proc_find(m.shm, getpid());
	long bits = p ? (long)atomic_load(&p->actuators) : -1;
	xsched_shm_close(&m);
	return bits;
}

static inline void check_actuators(uint32_t want)
{
	long bits = own_actuators();
	printf("actuators %ld\n", bits);
	if (bits != (long)want)
		FAIL("slot reports actuators %ld, want %u", bits, want);
}

#endif
