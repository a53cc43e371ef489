// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the controller's config file (controller/core/config.c): the input is
 * the file's text, read by the real config_load() through a memfd.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_config c; /* large (rules): not on the stack */
	char path[64], err[512];
	int fd = memfd_create("xsched-fuzz-config", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&c);
	err[0] = '\0';
	if (config_load(path, &c, err, sizeof(err))) {
		/* A failure says why, on one line. */
		if (!err[0] || strchr(err, '\n'))
			abort();
	} else {
		/* Whatever was accepted is within the documented limits. */
		if (c.interval_ns < CFG_INTERVAL_MIN_NS || c.interval_ns > CFG_INTERVAL_MAX_NS ||
		    c.p99_window_ns < CFG_P99_WINDOW_MIN_NS ||
		    c.p99_window_ns > CFG_P99_WINDOW_MAX_NS || c.window_max < 1 ||
		    c.pol.nrules > POL_MAX_RULES ||
		    (c.pol.default_target_ns && (c.pol.default_target_ns < CFG_TARGET_MIN_NS ||
		                                 c.pol.default_target_ns > CFG_TARGET_MAX_NS)))
			abort();
	}
	close(fd);
	return 0;
}
