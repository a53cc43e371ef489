/* SPDX-License-Identifier: MIT */
/*
 * Handle tables. A handle encodes its kind, a slot index and the slot's generation:
 *   (kind << 56) | (generation << 24) | ((index + 1) << 4)
 * so it is never NULL, never one of HIP's special stream values (hipStreamPerThread == 2),
 * and a handle whose object was destroyed no longer matches its slot, whatever the slot
 * holds now. Lookups take a lock: the tables are small and calls that use them are not on
 * a path where a mutex matters next to a simulated GPU command.
 */
#include <stdlib.h>

#include "hip_internal.h"

#define MAX_KINDS 8
#define MAX_SLOTS (1u << 20)

struct table {
	void **obj;
	uint32_t *gen;
	uint32_t *free_next;
	uint32_t cap, used, free_head;
};

static struct table tables[MAX_KINDS];
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;

static bool grow(struct table *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	if (cap > MAX_SLOTS)
		return false;
	void **obj = realloc(t->obj, cap * sizeof(*obj));
	if (obj)
		t->obj = obj;
	uint32_t *gen = realloc(t->gen, cap * sizeof(*gen));
	if (gen)
		t->gen = gen;
	uint32_t *next = realloc(t->free_next, cap * sizeof(*next));
	if (next)
		t->free_next = next;
	if (!obj || !gen || !next)
		return false;
	for (uint32_t i = t->cap; i < cap; i++)
		t->gen[i] = 1;
	t->cap = cap;
	return true;
}

static void *encode(enum hip_handle_kind kind, uint32_t gen, uint32_t idx)
{
	return (void *)(uintptr_t)(((uint64_t)kind << 56) | ((uint64_t)(gen & 0xffffffu) << 24) |
	                           ((uint64_t)(idx + 1) << 4));
}

/* The slot a handle names if it is live and of this kind, else UINT32_MAX. */
static uint32_t decode(enum hip_handle_kind kind, const void *handle)
{
	uint64_t h = (uint64_t)(uintptr_t)handle;
	uint32_t idx = (uint32_t)((h >> 4) & 0xfffffu);
	const struct table *t = &tables[kind];
	if ((h >> 56) != (uint64_t)kind || (h & 0xf) || idx == 0 || idx > t->used)
		return UINT32_MAX;
	idx--;
	if (!t->obj[idx] || ((h >> 24) & 0xffffffu) != (t->gen[idx] & 0xffffffu))
		return UINT32_MAX;
	return idx;
}

void *hip_handle_new(enum hip_handle_kind kind, void *obj)
{
	struct table *t = &tables[kind];
	void *h = NULL;
	pthread_mutex_lock(&handles_lock);
	uint32_t idx = UINT32_MAX;
	if (t->free_head) {
		idx = t->free_head - 1;
		t->free_head = t->free_next[idx];
	} else if (t->used < t->cap || grow(t)) {
		idx = t->used++;
	}
	if (idx != UINT32_MAX) {
		t->obj[idx] = obj;
		h = encode(kind, t->gen[idx], idx);
	}
	pthread_mutex_unlock(&handles_lock);
	return h;
}

void *hip_handle_get(enum hip_handle_kind kind, const void *handle)
{
	pthread_mutex_lock(&handles_lock);
	uint32_t idx = decode(kind, handle);
	void *obj = idx == UINT32_MAX ? NULL : tables[kind].obj[idx];
	pthread_mutex_unlock(&handles_lock);
	return obj;
}

void *hip_handle_remove(enum hip_handle_kind kind, const void *handle)
{
	struct table *t = &tables[kind];
	pthread_mutex_lock(&handles_lock);
	uint32_t idx = decode(kind, handle);
	void *obj = NULL;
	if (idx != UINT32_MAX) {
		obj = t->obj[idx];
		t->obj[idx] = NULL;
		t->gen[idx]++;
		t->free_next[idx] = t->free_head;
		t->free_head = idx + 1;
	}
	pthread_mutex_unlock(&handles_lock);
	return obj;
}
