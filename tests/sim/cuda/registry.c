/* SPDX-License-Identifier: MIT */
/*
 * The set of live handles: an open-addressing hash of object addresses to their type. A
 * handle is dereferenced only after it is found here with the expected type.
 */
#include "cuda_sim.h"

#include <stdlib.h>

struct slot {
	uintptr_t key; /* 0: empty, 1: deleted */
	enum obj_type type;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *tab;
static size_t cap, used; /* used counts live and deleted slots */

static size_t hash(uintptr_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static struct slot *find(uintptr_t k)
{
	if (!cap)
		return NULL;
	for (size_t i = hash(k) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (tab[i].key == k)
			return &tab[i];
		if (!tab[i].key)
			return NULL;
	}
}

static void insert(uintptr_t k, enum obj_type type)
{
	size_t i = hash(k) & (cap - 1);

	while (tab[i].key > 1)
		i = (i + 1) & (cap - 1);
	if (!tab[i].key)
		used++;
	tab[i].key = k;
	tab[i].type = type;
}

static void grow(void)
{
	struct slot *old = tab;
	size_t ocap = cap;

	cap = cap ? cap * 2 : 256;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		abort(); /* nothing sensible to return from a driver call here */
	used = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key > 1)
			insert(old[i].key, old[i].type);
	free(old);
}

void reg_add(const void *obj, enum obj_type type)
{
	pthread_mutex_lock(&reg_lock);
	if ((used + 1) * 2 > cap)
		grow();
	insert((uintptr_t)obj, type);
	pthread_mutex_unlock(&reg_lock);
}

void reg_del(const void *obj)
{
	pthread_mutex_lock(&reg_lock);
	struct slot *s = find((uintptr_t)obj);

	if (s)
		s->key = 1;
	pthread_mutex_unlock(&reg_lock);
}

bool reg_has(const void *obj, enum obj_type type)
{
	bool ok;

	if ((uintptr_t)obj <= 1)
		return false;
	pthread_mutex_lock(&reg_lock);
	struct slot *s = find((uintptr_t)obj);

	ok = s && s->type == type;
	pthread_mutex_unlock(&reg_lock);
	return ok;
}

/* After fork the child starts over: the parent's handles are not its own. */
void reg_reset(void)
{
	free(tab);
	tab = NULL;
	cap = used = 0;
	pthread_mutex_init(&reg_lock, NULL);
}
