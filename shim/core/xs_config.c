/* SPDX-License-Identifier: MIT */
#include "xs_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsched_shm.h"

const char xs_priority_accepted[] = "high, normal, low, or a level 0..7";
const char xs_window_accepted[] = "1..2147483646 or unlimited";
const char xs_log_accepted[] = "quiet, info, debug";
const char xs_budget_accepted[] = "a duration from 1us to 60s with unit us, ms or s "
                                  "(e.g. 500us, 6ms, 1.5ms), or none";

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int xs_parse_priority(const char *s, int *out)
{
	unsigned long long v;
	if (!s)
		return -1;
	if (!strcmp(s, "high"))
		*out = XSCHED_PRIO_HIGH;
	else if (!strcmp(s, "normal"))
		*out = XSCHED_PRIO_NORMAL;
	else if (!strcmp(s, "low"))
		*out = XSCHED_PRIO_LOW;
	else if (!parse_uint(s, XSCHED_MAX_PRIO - 1, &v))
		*out = (int)v;
	else
		return -1;
	return 0;
}

int xs_parse_window(const char *s, uint32_t *out)
{
	unsigned long long v;
	if (s && !strcmp(s, "unlimited")) {
		*out = XSCHED_WINDOW_UNLIMITED;
		return 0;
	}
	if (parse_uint(s, XSCHED_WINDOW_UNLIMITED - 1, &v) || v == 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int xs_parse_log(const char *s, int *out)
{
	if (!s)
		return -1;
	if (!strcmp(s, "quiet"))
		*out = XS_LOG_QUIET;
	else if (!strcmp(s, "info"))
		*out = XS_LOG_INFO;
	else if (!strcmp(s, "debug"))
		*out = XS_LOG_DEBUG;
	else
		return -1;
	return 0;
}

int xs_parse_budget(const char *s, uint32_t *us)
{
	static const struct {
		const char *name;
		uint64_t us;
	} units[] = { { "us", 1 }, { "ms", 1000 }, { "s", 1000000 } };
	if (!s)
		return -1;
	if (!strcmp(s, "none")) {
		*us = 0;
		return 0;
	}
	/* Digits, an optional fraction (up to 6 digits, scaled by 1e6), a unit. */
	uint64_t whole = 0, frac = 0, scale = 1000000;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 100000000ull)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return -1; /* more precision than a microsecond's millionth */
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name))
			continue;
		uint64_t v = whole * units[i].us + (frac * units[i].us + 500000) / 1000000;
		if (v < 1 || v > 60000000ull)
			return -1;
		*us = (uint32_t)v;
		return 0;
	}
	return -1;
}

int xs_config_from_env(struct xs_config *cfg, char *why, size_t why_len)
{
	const char *v;
	cfg->prio = XSCHED_PRIO_NORMAL;
	cfg->window = XSCHED_WINDOW_UNLIMITED;
	cfg->budget_us = 0;
	cfg->log = XS_LOG_INFO;
	cfg->shm_name = xsched_shm_env_name();
	/* XSCHED_LOG first, so that a quiet process stays quiet about the others. */
	if ((v = getenv("XSCHED_LOG")) && *v && xs_parse_log(v, &cfg->log)) {
		snprintf(why, why_len, "bad XSCHED_LOG '%s' (accepted: %s)", v, xs_log_accepted);
		return -1;
	}
	if ((v = getenv("XSCHED_PRIORITY")) && *v && xs_parse_priority(v, &cfg->prio)) {
		snprintf(why, why_len, "bad XSCHED_PRIORITY '%s' (accepted: %s)", v,
		         xs_priority_accepted);
		return -1;
	}
	if ((v = getenv("XSCHED_WINDOW")) && *v && xs_parse_window(v, &cfg->window)) {
		snprintf(why, why_len, "bad XSCHED_WINDOW '%s' (accepted: %s)", v,
		         xs_window_accepted);
		return -1;
	}
	if ((v = getenv("XSCHED_BUDGET")) && *v && xs_parse_budget(v, &cfg->budget_us)) {
		snprintf(why, why_len, "bad XSCHED_BUDGET '%s' (accepted: %s)", v,
		         xs_budget_accepted);
		return -1;
	}
	if (!xsched_shm_name_ok(cfg->shm_name)) {
		snprintf(why, why_len, "bad XSCHED_SHM '%s' (accepted: 1-63 of A-Z a-z 0-9 . _ -)",
		         cfg->shm_name);
		return -1;
	}
	return 0;
}

const char *xs_prio_name(int prio, char *buf, size_t len)
{
	static const char *const names[] = { "high", "normal", "low" };
	if (prio >= 0 && prio < 3)
		snprintf(buf, len, "%s", names[prio]);
	else
		snprintf(buf, len, "%d", prio);
	return buf;
}

const char *xs_budget_name(uint32_t us, char *buf, size_t len)
{
	if (!us)
		snprintf(buf, len, "none");
	else if (us % 1000000 == 0)
		snprintf(buf, len, "%us", us / 1000000);
	else if (us % 1000 == 0)
		snprintf(buf, len, "%ums", us / 1000);
	else
		snprintf(buf, len, "%uus", us);
	return buf;
}

const char *xs_window_name(uint32_t w, char *buf, size_t len)
{
	if (w >= XSCHED_WINDOW_UNLIMITED)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%u", w);
	return buf;
}
