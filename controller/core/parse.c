// SPDX-License-Identifier: MIT
/* Durations, counts, windows and priorities (parse.h). No locale, no strtod: "1e3", "inf",
 * hex and signs are refused rather than half-accepted. */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define DUR_ACCEPTS "expected a number with a unit: us, ms or s (e.g. 500us, 10ms, 1.5s)"

/* Digits [. digits] into an integer scaled by 10^9 (nano-units). NULL on success. */
static const char *decimal_nano(const char **sp, uint64_t *nano)
{
	const char *s = *sp;
	uint64_t whole = 0, frac = 0, scale = 1000000000ull;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		if (whole > (UINT64_MAX / 1000000000ull - 9) / 10)
			return "out of range";
		whole = whole * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			/* Digits past the ninth are below a nano-unit: ignored. */
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
			s++;
			digits++;
		}
	}
	if (!digits)
		return DUR_ACCEPTS;
	*nano = whole * 1000000000ull + frac;
	*sp = s;
	return NULL;
}

const char *parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ns)
{
	/* The number comes scaled by 1e9; dividing by `div` gives nanoseconds. */
	static const struct {
		const char *name;
		uint64_t div;
	} units[] = {
		{ "ns", 1000000000ull },
		{ "us", 1000000ull },
		{ "ms", 1000ull },
		{ "s", 1ull },
	};
	static char range[96];
	uint64_t nano, v;
	const char *err;
	size_t i, nunits = sizeof(units) / sizeof(units[0]);

	if (!s || !*s)
		return DUR_ACCEPTS;
	err = decimal_nano(&s, &nano);
	if (err)
		return err;
	if (!*s)
		return "missing unit: " DUR_ACCEPTS;
	for (i = 0; i < nunits; i++)
		if (!strcmp(s, units[i].name))
			break;
	if (i == nunits)
		return DUR_ACCEPTS;
	v = (nano + units[i].div / 2) / units[i].div;
	if (v < min_ns || v > max_ns) {
		char lo[32], hi[32];

		format_duration(min_ns, lo, sizeof(lo));
		format_duration(max_ns, hi, sizeof(hi));
		snprintf(range, sizeof(range), "expected a duration from %s to %s", lo, hi);
		return range;
	}
	*ns = v;
	return NULL;
}

const char *parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	static char range[80];
	uint64_t x = 0;

	if (!s || !*s)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (x > (UINT64_MAX - 9) / 10)
			goto bad;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (x < min || x > max)
		goto bad;
	*v = x;
	return NULL;
bad:
	snprintf(range, sizeof(range), "expected a whole number from %llu to %llu",
	         (unsigned long long)min, (unsigned long long)max);
	return range;
}

const char *parse_window(const char *s, uint32_t min, uint32_t *w)
{
	static char what[96];
	uint64_t v;

	if (s && !strcmp(s, "unlimited")) {
		*w = PARSE_WINDOW_UNLIMITED;
		return NULL;
	}
	if (parse_u64(s, min, PARSE_WINDOW_UNLIMITED - 1, &v)) {
		snprintf(what, sizeof(what), "expected a command count from %u to %u, or unlimited",
		         min, PARSE_WINDOW_UNLIMITED - 1);
		return what;
	}
	*w = (uint32_t)v;
	return NULL;
}

static const char *const prio_names[] = { "high", "normal", "low" };

const char *priority_name(int prio)
{
	return prio >= 0 && prio < 3 ? prio_names[prio] : NULL;
}

const char *parse_priority(const char *s, int max_level, int *prio)
{
	static char what[80];
	uint64_t v;

	for (int i = 0; i < 3 && i <= max_level; i++)
		if (s && !strcmp(s, prio_names[i])) {
			*prio = i;
			return NULL;
		}
	if (!parse_u64(s, 0, (uint64_t)max_level, &v)) {
		*prio = (int)v;
		return NULL;
	}
	snprintf(what, sizeof(what),
	         "expected high, normal, low or a level from 0 (most urgent) to %d", max_level);
	return what;
}

void format_duration(uint64_t ns, char *buf, unsigned int len)
{
	if (ns >= 1000000000ull && ns % 1000000ull == 0)
		snprintf(buf, len, "%.10gs", (double)ns / 1e9);
	else if (ns >= 1000000ull && ns % 1000ull == 0)
		snprintf(buf, len, "%.10gms", (double)ns / 1e6);
	else if (ns >= 1000ull && ns % 1000ull == 0)
		snprintf(buf, len, "%.10gus", (double)ns / 1e3);
	else if (ns >= 1000ull)
		snprintf(buf, len, "%.3fus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}
