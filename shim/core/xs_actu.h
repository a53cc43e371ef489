/* SPDX-License-Identifier: MIT */
/*
 * Priority actuators: the native knobs the shim turns for a process, besides its window.
 *
 * Stream priorities. A stream created by the process gets a priority in the band of the
 * device's range that its xsched priority maps to. The range runs from `greatest` (most
 * urgent, numerically lowest: CUDA -5 on recent GPUs, ROCm -1) to `least` (CUDA 0, the
 * default; ROCm 1). It is cut into three contiguous bands, most urgent first, as evenly as
 * integer division allows: high (level 0), normal (level 1), low (levels 2..7); with fewer
 * than three levels high takes the most urgent one and normal and low the least urgent one.
 * The app's own priority (clamped into the range; the plain create calls mean the default,
 * CUDA 0 or ROCm 0) is scaled into the band, so priorities the app orders keep their order
 * (never inverted; two may share a level when the band is narrower than the range). Default
 * streams (legacy, per-thread, the null stream) are created by the runtime and cannot be
 * re-prioritised: their work keeps the default priority.
 *
 * Settings (environment, read once at the first stream creation; a bad value turns that
 * actuator off with one line on stderr naming it and what is accepted):
 *   XSCHED_STREAM_PRIORITY  auto (default: on when the xsched priority is not normal) | on | off
 *   XSCHED_CU_MASK          unset (default: off) | a fraction 0 < f <= 1 of the CUs | a hex mask
 *                           (0x..., CU 0 = bit 0); applied to the new streams of processes
 *                           below normal priority, on HIP only
 *
 * Every actuator that takes effect is reported in the process's slot (XSCHED_ACT_* of
 * xsched_shm.h), so that the controller and its views show it.
 */
#ifndef XS_ACTU_H
#define XS_ACTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xsched_shm.h" /* XSCHED_ACT_* */

/* ---- Pure functions (unit-tested) ---- */

/* The band [*hi, *lo] (most urgent first) of the range for xsched priority `xprio`. */
void xs_stream_prio_band(int least, int greatest, int xprio, int *hi, int *lo);
/* The priority a stream the app asked `app_prio` for gets at xsched priority `xprio`. A
 * range given the wrong way round is taken the right way round. */
int xs_stream_prio_map(int app_prio, int least, int greatest, int xprio);

enum xs_stream_prio_mode {
	XS_STREAM_PRIO_AUTO = 0,
	XS_STREAM_PRIO_ON = 1,
	XS_STREAM_PRIO_OFF = 2,
};
extern const char xs_stream_prio_accepted[];
int xs_parse_stream_prio(const char *s, int *out);

#define XS_CU_WORDS 32 /* up to 1024 CUs */
struct xs_cu_mask {
	bool fraction;               /* else `words` is the mask itself */
	uint32_t ppm;                /* fraction in parts per million, 1..1000000 */
	uint32_t words[XS_CU_WORDS]; /* bit i = CU i */
	unsigned int nwords;         /* words used (the highest non-zero one + 1) */
};
extern const char xs_cu_mask_accepted[];
int xs_parse_cu_mask(const char *s, struct xs_cu_mask *out);
/* The mask for a device of `cus` compute units into out[max]: a fraction enables the first
 * ceil(f * cus) CUs (at least one); a hex mask is kept as given. Returns the words used, 0
 * when the mask enables none of the device's CUs. */
unsigned int xs_cu_mask_build(const struct xs_cu_mask *m, int cus, uint32_t *out, unsigned int max);

/* ---- In the shim ---- */

/* Whether new streams get mapped priorities now; *xprio: the xsched priority to map to.
 * False before the process registered. */
bool xs_stream_prio_active(int *xprio);
/* The CU mask for new streams, or NULL when off (unset, bad, or not below normal). */
const struct xs_cu_mask *xs_cu_mask_active(void);
/* Report actuator XSCHED_ACT_* as in effect (kept until the slot exists, then written). */
void xs_actuator_note(uint32_t bit);
/* Registration: write what was noted before the slot existed. */
void xs_actuators_publish(void);

/* MPS: the control pipe of a running server ($CUDA_MPS_PIPE_DIRECTORY, default
 * /tmp/nvidia-mps, then "/control"), written to path[len]; true when it exists. */
bool xs_mps_running(char *path, size_t len);
/* Whether CUDA_MPS_CLIENT_PRIORITY asks for a priority other than normal (0). */
bool xs_mps_client_prio_set(void);

#endif
