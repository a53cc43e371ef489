/* SPDX-License-Identifier: MIT */
/* Function symbols' file offsets in an ELF shared object: where a uprobe goes. */
#ifndef XSCHED_XOBS_ELFSYM_H
#define XSCHED_XOBS_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/*
 * For each names[i], sets offsets[i] to the file offset of that defined function symbol
 * (from .dynsym, else .symtab), or 0 if the file does not define it. Reads the file
 * through fd without moving its offset. Returns 0, or -errno / -EINVAL (not ELF).
 */
int elfsym_offsets(int fd, const char *const *names, size_t n, uint64_t *offsets);

#endif
