// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpus of fuzz_shm (corpus/shm/): a few valid and invalid segment prefixes,
 * of the client segment and of the controller's grant segment. Byte 0 of each seed holds
 * fuzz_shm's flags (bit 0: extend to the full layout size; bit 1: a grant segment).
 * Build and run by hand when the layout changes:
 *   cc -std=gnu11 -I../../userspace/protocol gen_shm_seeds.c -o /tmp/gen && /tmp/gen corpus/shm
 */
#include "xsched_grant.h"
#include "xsched_shm.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seeds hold the header, the GPU table and the first process slot up to its ring indices. */
#define SEED_LEN (offsetof(struct xsched_shm, procs) + offsetof(struct xsched_proc, ring.lat))

static unsigned char seg[SEED_LEN];

static void header(void)
{
	struct xsched_shm_header *h = (struct xsched_shm_header *)seg;

	memset(seg, 0, sizeof(seg));
	h->magic = XSCHED_SHM_MAGIC;
	h->version = XSCHED_SHM_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = sizeof(struct xsched_shm);
	h->max_gpus = XSCHED_MAX_GPUS;
	h->max_procs = XSCHED_MAX_PROCS;
	h->max_prio = XSCHED_MAX_PRIO;
	h->ring_len = XSCHED_RING_LEN;
	h->gpu_size = sizeof(struct xsched_gpu);
	h->proc_size = sizeof(struct xsched_proc);
}

/* Grant seeds: the header and the first two slots. */
#define GRANT_LEN (offsetof(struct xsched_grants, slots) + 2 * sizeof(struct xsched_grant_slot))
static unsigned char gseg[GRANT_LEN];

static void grant_header(void)
{
	struct xsched_grant_header *h = (struct xsched_grant_header *)gseg;

	memset(gseg, 0, sizeof(gseg));
	h->magic = XSCHED_GRANT_MAGIC;
	h->version = XSCHED_GRANT_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = sizeof(struct xsched_grants);
	h->max_gpus = XSCHED_MAX_GPUS;
	h->max_procs = XSCHED_MAX_PROCS;
	h->max_prio = XSCHED_MAX_PRIO;
	h->slot_size = sizeof(struct xsched_grant_slot);
	h->controller_pid = 1;
	h->controller_heartbeat_ns = 1;
}

static void gput(const char *dir, const char *name, unsigned char flags, size_t len)
{
	char path[512];
	FILE *f;

	flags |= 2;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&flags, 1, 1, f) != 1 || fwrite(gseg, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void grant_seeds(const char *dir)
{
	struct xsched_grant_header *h = (struct xsched_grant_header *)gseg;
	struct xsched_grant_slot *s =
	        (struct xsched_grant_slot *)(gseg + offsetof(struct xsched_grants, slots));

	grant_header();
	gput(dir, "grant_valid_empty", 1, sizeof(*h));
	/* Slot 0: pid 1 (init: always there) with grants; slot 1: garbage values. */
	s[0].pid = 1;
	s[0].granted_prio = 2;
	s[0].gpu[0].grant = xsched_grant_pack(4, 64);
	s[0].gpu[0].budget_us = 500;
	s[1].pid = -7;
	s[1].granted_prio = 1000;
	s[1].gpu[3].grant = ~0ull;
	gput(dir, "grant_valid_slots", 1, sizeof(gseg));
	h->controller_pid = -3;
	s[0].granted_prio = -100;
	gput(dir, "grant_bad_values", 1, sizeof(gseg));
	grant_header();
	gput(dir, "grant_truncated_header", 0, sizeof(*h) / 2);
	gput(dir, "grant_truncated_body", 0, sizeof(gseg));
	h->magic ^= 1;
	gput(dir, "grant_bad_magic", 1, sizeof(*h));
	grant_header();
	h->version = 9;
	gput(dir, "grant_bad_version", 1, sizeof(*h));
	grant_header();
	h->slot_size = 64;
	gput(dir, "grant_bad_layout", 1, sizeof(*h));
}

static void put(const char *dir, const char *name, unsigned char flags, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&flags, 1, 1, f) != 1 || fwrite(seg, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct xsched_shm_header *h = (struct xsched_shm_header *)seg;
	struct xsched_gpu *g = (struct xsched_gpu *)(seg + offsetof(struct xsched_shm, gpus));
	struct xsched_proc *p = (struct xsched_proc *)(seg + offsetof(struct xsched_shm, procs));
	const char *dir = argc > 1 ? argv[1] : ".";

	header();
	put(dir, "valid_empty", 1, sizeof(*h));
	/* One GPU, one process with a ring holding a few samples and a grant. */
	g->state = XSCHED_GPU_READY;
	g->uuid[0] = 0x5a;
	g->busy[0] = 1;
	g->busy[2] = -4;
	p->pid = 1;
	p->state = XSCHED_PROC_READY;
	memcpy(p->comm, "online-service!!", 16); /* no NUL: a reader must bound it */
	p->gpu[0].busy_prio = 1;
	p->ring.head = 3;
	p->ring.tail = 0;
	put(dir, "valid_proc_ring", 1, sizeof(seg));
	/* Corrupt ring indices: tail past head, and head far ahead. */
	p->ring.head = 2;
	p->ring.tail = 1000;
	put(dir, "ring_tail_past_head", 1, sizeof(seg));
	p->ring.head = ~0ull;
	p->ring.tail = 5;
	put(dir, "ring_head_huge", 1, sizeof(seg));
	p->ring.head = 3;
	p->ring.tail = 0;
	p->gpu[0].busy_prio = 200;
	g->state = 7;
	put(dir, "bad_states", 1, sizeof(seg));
	/* Header faults, each on the full-size file, and truncations. */
	header();
	put(dir, "truncated_header", 0, sizeof(*h) / 2);
	put(dir, "truncated_body", 0, sizeof(seg));
	h->magic ^= 1;
	put(dir, "bad_magic", 1, sizeof(*h));
	header();
	h->version = XSCHED_SHM_VERSION + 1;
	put(dir, "bad_version", 1, sizeof(*h));
	header();
	h->proc_size = 64;
	put(dir, "bad_layout", 1, sizeof(*h));
	header();
	h->total_size = ~0ull;
	put(dir, "bad_total_size", 1, sizeof(*h));
	put(dir, "empty", 0, 0);
	grant_seeds(dir);
	return 0;
}
