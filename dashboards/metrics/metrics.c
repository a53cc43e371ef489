// SPDX-License-Identifier: MIT
/* The exporter's HTTP side (metrics.h): libmicrohttpd with its internal select thread. */
#include "metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash_src.h"
#include "metrics_text.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct MHD_Daemon *mhd;
	struct dash_src src; /* used by the server's one thread only */
	struct ctl_pub *snap;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, char *body, size_t len,
                             const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
	struct metrics *m = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		body = strdup("only GET\n");
		return body ? reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, strlen(body),
		                    "text/plain")
		            : MHD_NO;
	}
	if (strcmp(url, "/metrics")) {
		body = strdup("xsched-ctl exporter: metrics at /metrics\n");
		return body ? reply(c, MHD_HTTP_NOT_FOUND, body, strlen(body), "text/plain")
		            : MHD_NO;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	metrics_write(f, m->snap, dash_src_read(&m->src, m->snap) == DASH_LIVE);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, body, len, CONTENT_TYPE);
}

struct metrics *metrics_start(const char *addr, const char *shm_name, char *err, size_t errlen)
{
	struct metrics_addr a;
	struct metrics *m;
	const char *e = metrics_parse_addr(addr, &a);
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (e) {
		snprintf(err, errlen, "bad address '%s': %s", addr, e);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m)
		m->snap = malloc(sizeof(*m->snap));
	if (!m || !m->snap) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dash_src_init(&m->src, shm_name);
	if (a.sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One select thread: a scrape is a copy of the segment and some formatting. */
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
	                          (struct sockaddr *)&a.sa, MHD_OPTION_CONNECTION_TIMEOUT,
	                          (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
	                          MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
		         errno ? strerror(errno) : "libmicrohttpd refused");
		free(m->snap);
		free(m);
		return NULL;
	}
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	dash_src_close(&m->src);
	free(m->snap);
	free(m);
}
