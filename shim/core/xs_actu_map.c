/* SPDX-License-Identifier: MIT */
/*
 * The actuators' pure parts: the stream-priority bands and mapping, the parsers of their
 * settings, the CU-mask builder and the MPS server check. No shim state: xsched-run and the
 * unit tests link this file alone.
 */
#include "xs_actu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char xs_stream_prio_accepted[] = "auto, on, off";
const char xs_cu_mask_accepted[] =
        "a fraction of the CUs 0 < f <= 1 (e.g. 0.25), or a hex mask 0x... of up to 256 digits "
        "enabling at least one CU";

/* Three bands, one per class: high (0), normal (1), low (2..). */
static int prio_class(int xprio)
{
	return xprio <= 0 ? 0 : xprio == 1 ? 1 : 2;
}

void xs_stream_prio_band(int least, int greatest, int xprio, int *hi, int *lo)
{
	if (least < greatest) {
		int t = least;
		least = greatest;
		greatest = t;
	}
	long n = (long)least - greatest + 1;
	int c = prio_class(xprio);
	long first, last; /* offsets from `greatest` */
	if (n >= 3) {
		first = c * n / 3;
		last = (c + 1) * n / 3 - 1;
	} else {
		/* Too few levels for three bands: only high is raised above the rest. */
		first = last = c == 0 ? 0 : n - 1;
	}
	*hi = (int)(greatest + first);
	*lo = (int)(greatest + last);
}

int xs_stream_prio_map(int app_prio, int least, int greatest, int xprio)
{
	if (least < greatest) {
		int t = least;
		least = greatest;
		greatest = t;
	}
	int hi, lo;
	xs_stream_prio_band(least, greatest, xprio, &hi, &lo);
	if (app_prio < greatest)
		app_prio = greatest;
	if (app_prio > least)
		app_prio = least;
	/* Scale the app's offset into the band: monotone, so the app's order is never inverted. */
	long n = (long)least - greatest + 1, k = (long)lo - hi + 1;
	long o = (long)app_prio - greatest;
	return (int)(hi + o * k / n);
}

int xs_parse_stream_prio(const char *s, int *out)
{
	if (!s)
		return -1;
	if (!strcmp(s, "auto"))
		*out = XS_STREAM_PRIO_AUTO;
	else if (!strcmp(s, "on"))
		*out = XS_STREAM_PRIO_ON;
	else if (!strcmp(s, "off"))
		*out = XS_STREAM_PRIO_OFF;
	else
		return -1;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xs_parse_cu_mask(const char *s, struct xs_cu_mask *out)
{
	if (!s || !*s)
		return -1;
	memset(out, 0, sizeof(*out));
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		const char *d = s + 2;
		size_t len = strlen(d);
		if (!len || len > XS_CU_WORDS * 8)
			return -1;
		/* The last digit holds CUs 0..3. */
		for (size_t i = 0; i < len; i++) {
			int v = hex_digit(d[len - 1 - i]);
			if (v < 0)
				return -1;
			out->words[i / 8] |= (uint32_t)v << (4 * (i % 8));
		}
		for (unsigned int w = 0; w < XS_CU_WORDS; w++)
			if (out->words[w])
				out->nwords = w + 1;
		return out->nwords ? 0 : -1;
	}
	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	char *end;
	errno = 0;
	double f = strtod(s, &end);
	if (errno || *end || !(f > 0.0) || f > 1.0)
		return -1;
	out->fraction = true;
	out->ppm = (uint32_t)(f * 1e6 + 0.5);
	if (!out->ppm)
		out->ppm = 1;
	return 0;
}

unsigned int xs_cu_mask_build(const struct xs_cu_mask *m, int cus, uint32_t *out, unsigned int max)
{
	if (cus <= 0 || !max)
		return 0;
	unsigned int words = (unsigned int)(cus + 31) / 32;
	if (words > max)
		words = max;
	if ((uint64_t)cus > (uint64_t)words * 32)
		cus = (int)(words * 32);
	memset(out, 0, words * sizeof(*out));
	if (m->fraction) {
		uint64_t on = ((uint64_t)m->ppm * (uint64_t)cus + 999999) / 1000000;
		if (on < 1)
			on = 1;
		for (uint64_t i = 0; i < on && i < (uint64_t)cus; i++)
			out[i / 32] |= 1u << (i % 32);
		return words;
	}
	bool any = false;
	for (unsigned int w = 0; w < words; w++) {
		out[w] = w < m->nwords ? m->words[w] : 0;
		if ((w + 1) * 32 > (unsigned int)cus)
			out[w] &= cus % 32 ? (1u << (cus % 32)) - 1 : 0xffffffffu;
		any |= out[w] != 0;
	}
	return any ? words : 0;
}

bool xs_mps_running(char *path, size_t len)
{
	const char *dir = getenv("CUDA_MPS_PIPE_DIRECTORY");
	char buf[4096];
	if (!dir || !*dir)
		dir = "/tmp/nvidia-mps";
	if (!path) {
		path = buf;
		len = sizeof(buf);
	}
	if ((size_t)snprintf(path, len, "%s/control", dir) >= len)
		return false;
	/* The server's control endpoint: a named pipe or a socket, never a plain directory. */
	struct stat st;
	return !stat(path, &st) && !S_ISDIR(st.st_mode);
}

bool xs_mps_client_prio_set(void)
{
	const char *v = getenv("CUDA_MPS_CLIENT_PRIORITY");
	if (!v || !*v)
		return false;
	char *end;
	errno = 0;
	long p = strtol(v, &end, 10);
	return !errno && !*end && p != 0;
}
