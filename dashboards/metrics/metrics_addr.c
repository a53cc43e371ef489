// SPDX-License-Identifier: MIT
/* --metrics ADDR (metrics.h): numeric addresses only, loopback when no host is given. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const char *parse_port(const char *s, in_port_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return "the port must be a number from 1 to 65535";
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return "the port must be a number from 1 to 65535";
	*port = htons((in_port_t)v);
	return NULL;
}

const char *metrics_parse_addr(const char *addr, struct metrics_addr *out)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->sa;
	const char *colon, *e;
	char host[64];
	in_port_t port;

	memset(out, 0, sizeof(*out));
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			return "expected [IPv6]:PORT";
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = '\0';
		if ((e = parse_port(close + 2, &port)))
			return e;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return "not a numeric IPv6 address";
		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		out->len = sizeof(*in6);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return NULL;
	}
	colon = strrchr(addr, ':');
	if (!colon)
		return "expected HOST:PORT or :PORT (e.g. 127.0.0.1:9464)";
	if ((size_t)(colon - addr) >= sizeof(host))
		return "host too long";
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if ((e = parse_port(colon + 1, &port)))
		return e;
	if (!host[0] || !strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return "the host must be a numeric IPv4 address, [IPv6], localhost or empty "
		       "(loopback)";
	in4->sin_family = AF_INET;
	in4->sin_port = port;
	out->len = sizeof(*in4);
	out->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return NULL;
}
