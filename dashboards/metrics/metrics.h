/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus exporter: an HTTP server (libmicrohttpd, its own select thread) that
 * answers GET /metrics with the controller's status segment in the text exposition format
 * (metrics_text.h). It runs inside `xsched-ctl run --metrics ADDR` and only reads.
 *
 * ADDR is HOST:PORT or :PORT. Without a host it listens on 127.0.0.1: the metrics name
 * every GPU process on the machine, so exposing them is the operator's explicit choice
 * (e.g. 0.0.0.0:9464 in a pod whose scraper comes over the network). HOST is a numeric
 * IPv4 or [IPv6] address or "localhost": no name lookups.
 */
#ifndef XSCHED_METRICS_H
#define XSCHED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct metrics;

struct metrics_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	bool loopback;
};

/* Parse ADDR; NULL on success, else what is wrong (for a one-line usage error). */
const char *metrics_parse_addr(const char *addr, struct metrics_addr *out);
/*
 * Listen on ADDR and serve the segment of protocol segment `shm_name`. NULL on failure
 * with the reason in err.
 */
struct metrics *metrics_start(const char *addr, const char *shm_name, char *err, size_t errlen);
void metrics_stop(struct metrics *m);

#endif
