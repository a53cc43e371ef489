// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the value parsers (controller/core/parse.c). Input: one selector
 * byte, eight bytes of bounds, then the text to parse (NUL-terminated here). Every accepted
 * value must lie within the bounds asked for; durations must survive format_duration().
 */
#include "parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t bound(const uint8_t *b)
{
	uint32_t x;

	memcpy(&x, b, sizeof(x));
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	uint64_t lo, hi, v = 0;
	uint32_t w = 0;
	int prio = -1;
	char buf[64];

	if (size < 9)
		return 0;
	/* Bounds: 32-bit values, scaled up for durations so that the whole range is reachable. */
	lo = bound(data + 1);
	hi = bound(data + 5);
	s = malloc(size - 9 + 1);
	if (!s)
		abort();
	memcpy(s, data + 9, size - 9);
	s[size - 9] = '\0';
	switch (data[0] % 5) {
	case 0: /* durations, bounds in us */
		lo *= 1000;
		hi *= 1000;
		if (!parse_duration(s, lo, hi, &v)) {
			if (v < lo || v > hi)
				abort();
			format_duration(v, buf, sizeof(buf));
			if (!buf[0])
				abort();
		}
		break;
	case 1: /* durations with the controller's own limits */
		if (!parse_duration(s, 10000ull, 3600000000000ull, &v) &&
		    (v < 10000ull || v > 3600000000000ull))
			abort();
		break;
	case 2:
		if (!parse_u64(s, lo, hi, &v) && (v < lo || v > hi))
			abort();
		/* Differential: whatever is accepted reads the same with strtoull. */
		if (!parse_u64(s, 0, UINT64_MAX, &v) && v != strtoull(s, NULL, 10))
			abort();
		break;
	case 3:
		if (!parse_window(s, (uint32_t)lo, &w) && w != PARSE_WINDOW_UNLIMITED &&
		    (w < (uint32_t)lo || w >= PARSE_WINDOW_UNLIMITED))
			abort();
		break;
	case 4:
		if (!parse_priority(s, (int)(lo % 16), &prio) &&
		    (prio < 0 || prio > (int)(lo % 16)))
			abort();
		if (prio >= 0 && prio < 3 && !priority_name(prio))
			abort();
		break;
	}
	format_duration(lo * 1000 + hi, buf, sizeof(buf));
	free(s);
	return 0;
}
