// SPDX-License-Identifier: MIT
/* The config file (config.h). */
#include "config.h"
#include "parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void config_defaults(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = 20000000ull;
	c->p99_window_ns = 1000000000ull;
	c->window_max = 64;
	c->turn_ns = CFG_TURN_DEFAULT_NS;
	c->pin_ns = -1;
	policy_init(&c->pol);
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, const char *where,
                                                      const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s: ", where);
	va_list ap;

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static char *next_word(char **s)
{
	char *w;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (!**s)
		return NULL;
	w = *s;
	while (**s && **s != ' ' && **s != '\t')
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

static int rule_line(char *rest, const char *where, unsigned int lineno, struct ctl_config *c,
                     char *err, size_t errlen)
{
	struct pol_rule r;
	char *term;
	int terms = 0;

	pol_rule_init(&r);
	r.line = lineno;
	while ((term = next_word(&rest))) {
		const char *e = policy_parse_term(term, &r);

		if (e)
			return fail(err, errlen, where, "bad rule term '%s': %s", term, e);
		terms++;
	}
	if (!terms)
		return fail(err, errlen, where,
		            "empty rule: expected rule KEY=VALUE ... (e.g. rule comm=resnet* "
		            "target=5ms)");
	if (policy_add(&c->pol, &r))
		return fail(err, errlen, where, "too many rules (at most %d)", POL_MAX_RULES);
	return 0;
}

int config_line(char *line, const char *where, unsigned int lineno, struct ctl_config *c, char *err,
                size_t errlen)
{
	char *hash = strchr(line, '#'), *s = line, *key, *val, *extra;
	const char *e = NULL;
	uint64_t ns;

	if (hash)
		*hash = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	key = next_word(&s);
	if (!key)
		return 0;
	if (!strcmp(key, "rule"))
		return rule_line(s, where, lineno, c, err, errlen);
	val = next_word(&s);
	extra = next_word(&s);
	if (!val)
		return fail(err, errlen, where, "'%s' needs a value", key);
	if (extra)
		return fail(err, errlen, where, "unexpected '%s' after '%s %s'", extra, key, val);
	if (!strcmp(key, "p99-target")) {
		e = parse_duration(val, CFG_TARGET_MIN_NS, CFG_TARGET_MAX_NS, &ns);
		if (!e)
			c->pol.default_target_ns = ns;
	} else if (!strcmp(key, "interval")) {
		e = parse_duration(val, CFG_INTERVAL_MIN_NS, CFG_INTERVAL_MAX_NS, &ns);
		if (!e)
			c->interval_ns = ns;
	} else if (!strcmp(key, "p99-window")) {
		e = parse_duration(val, CFG_P99_WINDOW_MIN_NS, CFG_P99_WINDOW_MAX_NS, &ns);
		if (!e)
			c->p99_window_ns = ns;
	} else if (!strcmp(key, "window-max")) {
		e = parse_window(val, 1, &c->window_max);
	} else if (!strcmp(key, "turns")) {
		e = config_parse_turns(val, &c->turn_ns);
	} else if (!strcmp(key, "max-priority")) {
		e = parse_priority(val, POL_LEVELS - 1, &c->pol.default_max_prio);
	} else if (!strcmp(key, "allowance")) {
		e = config_parse_allowance(val, &c->pin_ns);
	} else {
		return fail(err, errlen, where,
		            "unknown directive '%s' (expected p99-target, interval, p99-window, "
		            "window-max, turns, max-priority, allowance or rule)",
		            key);
	}
	if (e)
		return fail(err, errlen, where, "bad value '%s' for %s: %s", val, key, e);
	return 0;
}

const char *config_parse_turns(const char *s, uint64_t *ns)
{
	if (!strcmp(s, "off")) {
		*ns = 0;
		return NULL;
	}
	if (parse_duration(s, CFG_TURN_MIN_NS, CFG_TURN_MAX_NS, ns))
		return "expected off or a quantum from 10ms to 10s (e.g. 100ms)";
	return NULL;
}

const char *config_parse_allowance(const char *s, int64_t *ns)
{
	uint64_t v;

	if (!strcmp(s, "auto")) {
		*ns = -1;
		return NULL;
	}
	if (parse_duration(s, 0, CFG_ALLOWANCE_MAX_NS, &v))
		return "expected auto or an allowance from 0 to 10s (e.g. 2ms)";
	*ns = (int64_t)v;
	return NULL;
}

int config_load(const char *path, struct ctl_config *c, char *err, size_t errlen)
{
	char line[1024], where[512];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s: line longer than %zu characters", where,
			         sizeof(line) - 2);
			rc = -1;
			break;
		}
		rc = config_line(line, where, lineno, c, err, errlen);
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}
