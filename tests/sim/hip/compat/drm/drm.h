/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for <drm/drm.h>, used only where the system has none (Debian ships it in
 * libdrm-dev, not with the kernel headers): <linux/kfd_ioctl.h> includes it but takes from it
 * only the kernel's integer types and the ioctl number macros, which these two provide.
 */
#ifndef XSCHED_SIM_COMPAT_DRM_H
#define XSCHED_SIM_COMPAT_DRM_H
#include <linux/ioctl.h>
#include <linux/types.h>
#endif
