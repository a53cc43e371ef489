/* SPDX-License-Identifier: MIT */
/*
 * The actuators' state in the shim: their settings (read once, at the first stream a
 * backend creates after registration) and the report of those in effect in the process's
 * slot. Contract: xs_actu.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "xs_actu.h"
#include "xs_internal.h"
#include "xs_log.h"

static pthread_once_t settings_once = PTHREAD_ONCE_INIT;
static int stream_mode = XS_STREAM_PRIO_AUTO;
static bool cu_set;
static struct xs_cu_mask cu;
/* Bits noted before the slot existed (and after: publishing twice is harmless). */
static _Atomic uint32_t noted;

static void read_settings(void)
{
	static int bad_sp, bad_cu;
	const char *v = getenv("XSCHED_STREAM_PRIORITY");
	if (v && *v && xs_parse_stream_prio(v, &stream_mode)) {
		stream_mode = XS_STREAM_PRIO_OFF;
		xs_warn_once(&bad_sp,
		             "pid %d: bad XSCHED_STREAM_PRIORITY '%s' (accepted: %s); stream "
		             "priorities off",
		             (int)getpid(), v, xs_stream_prio_accepted);
	}
	v = getenv("XSCHED_CU_MASK");
	if (v && *v) {
		cu_set = !xs_parse_cu_mask(v, &cu);
		if (!cu_set)
			xs_warn_once(&bad_cu,
			             "pid %d: bad XSCHED_CU_MASK '%s' (accepted: %s); CU mask off",
			             (int)getpid(), v, xs_cu_mask_accepted);
	}
}

static bool registered(void)
{
	return atomic_load_explicit(&xs.state, memory_order_acquire) == XS_ACTIVE;
}

bool xs_stream_prio_active(int *xprio)
{
	if (!registered())
		return false;
	pthread_once(&settings_once, read_settings);
	int p = xs.cfg.prio;
	if (stream_mode == XS_STREAM_PRIO_OFF ||
	    (stream_mode == XS_STREAM_PRIO_AUTO && p == XSCHED_PRIO_NORMAL))
		return false;
	*xprio = p;
	return true;
}

const struct xs_cu_mask *xs_cu_mask_active(void)
{
	if (!registered())
		return NULL;
	pthread_once(&settings_once, read_settings);
	return cu_set && xs.cfg.prio > XSCHED_PRIO_NORMAL ? &cu : NULL;
}

void xs_actuator_note(uint32_t bit)
{
	if ((atomic_fetch_or(&noted, bit) & bit) == bit)
		return;
	struct xsched_proc *slot = registered() ? xs.slot : NULL;
	if (slot)
		atomic_fetch_or(&slot->actuators, bit);
}

void xs_actuators_publish(void)
{
	uint32_t bits = atomic_load(&noted);
	if (xs.slot && bits)
		atomic_fetch_or(&xs.slot->actuators, bits);
}
