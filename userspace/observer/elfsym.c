// SPDX-License-Identifier: MIT
/*
 * Symbol lookup with libelf, once per library file: libbpf can resolve a name itself, but
 * re-reads the whole symbol table for every attach, and a process gets dozens of attaches
 * into a library of tens of megabytes.
 */
#include "elfsym.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

/* The file offset of virtual address `addr`, through the loadable segments. */
static uint64_t vaddr_to_offset(Elf *elf, uint64_t addr)
{
	size_t nph = 0;

	if (elf_getphdrnum(elf, &nph))
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_memsz)
			return addr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static int cmp_idx(const void *a, const void *b, void *names)
{
	const char *const *v = names;

	return strcmp(v[*(const size_t *)a], v[*(const size_t *)b]);
}

struct key {
	const char *name;
	const char *const *names;
};

static int cmp_key(const void *k, const void *e)
{
	const struct key *key = k;

	return strcmp(key->name, key->names[*(const size_t *)e]);
}

/* Fills offsets from one symbol table; names still at 0 are looked up. */
static void scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *const *names,
                        const size_t *order, size_t n, uint64_t *offsets)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		struct key k = { .names = names };
		const size_t *hit;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		k.name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!k.name || !*k.name)
			continue;
		hit = bsearch(&k, order, n, sizeof(*order), cmp_key);
		if (hit && !offsets[*hit])
			offsets[*hit] = vaddr_to_offset(elf, sym.st_value);
	}
}

int elfsym_offsets(int fd, const char *const *names, size_t n, uint64_t *offsets)
{
	static const Elf64_Word types[] = { SHT_DYNSYM, SHT_SYMTAB };
	size_t *order;
	Elf *elf;

	memset(offsets, 0, n * sizeof(*offsets));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -EINVAL;
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -EINVAL;
	}
	order = malloc(n * sizeof(*order));
	if (!order) {
		elf_end(elf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_idx, (void *)names);

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) && sh.sh_type == types[t])
				scan_symtab(elf, scn, &sh, names, order, n, offsets);
		}
	}
	free(order);
	elf_end(elf);
	return 0;
}
