// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A device handle's bond book: its bonds in the order they were made, found
 * by PASID through an open-addressing index, so that a bind or an unbind
 * costs the same with one bond as with ten thousand. A dropped entry is only
 * marked (refs 0) and leaves the index; the next reservation compacts the
 * array when at least half of it is dropped. So a walk may drop as it goes:
 * nothing moves until the next reservation. dev->lock held throughout.
 * Pure logic (no system call but close()): tests/pure/test_bondbook.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* MurmurHash3's finaliser: every bit of the PASID reaches the low bits. */
static size_t home(uint32_t pasid, size_t mask)
{
	pasid ^= pasid >> 16;
	pasid *= 0x85ebca6bu;
	pasid ^= pasid >> 13;
	pasid *= 0xc2b2ae35u;
	pasid ^= pasid >> 16;
	return pasid & mask;
}

static void ix_put(struct svmbind__book *k, size_t slot)
{
	size_t m = k->ix_cap - 1, h = home(k->v[slot].pasid, m);

	while (k->ix[h])
		h = (h + 1) & m;
	k->ix[h] = (uint32_t)slot + 1;
}

/* Index position of the live entry for @pasid, or ix_cap when none. */
static size_t ix_pos(const struct svmbind__book *k, uint32_t pasid)
{
	size_t m = k->ix_cap - 1;

	if (!k->ix_cap)
		return 0;
	for (size_t h = home(pasid, m); k->ix[h]; h = (h + 1) & m)
		if (k->v[k->ix[h] - 1].pasid == pasid)
			return h;
	return k->ix_cap;
}

/* Remove index position @h, shifting back the entries after it that probed
 * past it (linear probing keeps no tombstones). */
static void ix_del(struct svmbind__book *k, size_t h)
{
	size_t m = k->ix_cap - 1;

	k->ix[h] = 0;
	for (size_t j = (h + 1) & m; k->ix[j]; j = (j + 1) & m) {
		size_t hj = home(k->v[k->ix[j] - 1].pasid, m);

		/* Leave it when its home lies cyclically in (h, j]. */
		if (h < j ? (hj > h && hj <= j) : (hj > h || hj <= j))
			continue;
		k->ix[h] = k->ix[j];
		k->ix[j] = 0;
		h = j;
	}
}

static void ix_rebuild(struct svmbind__book *k)
{
	memset(k->ix, 0, k->ix_cap * sizeof(*k->ix));
	for (size_t i = 0; i < k->used; i++)
		if (k->v[i].refs)
			ix_put(k, i);
}

struct bond *svmbind__book_find(struct svmbind__book *k, uint32_t pasid)
{
	size_t h = ix_pos(k, pasid);

	return h < k->ix_cap ? &k->v[k->ix[h] - 1] : NULL;
}

/* Make room for one entry before asking the kernel, so that a bond is never
 * made and then lost. 0 or -ENOMEM (the book unchanged). */
int svmbind__book_reserve(struct svmbind__book *k)
{
	size_t cap, ixc, n = 0;
	struct bond *v;
	uint32_t *ix;

	if (k->used < k->cap)
		return 0;
	if (k->used && k->live <= k->used / 2) {	/* compact, order kept */
		for (size_t i = 0; i < k->used; i++)
			if (k->v[i].refs)
				k->v[n++] = k->v[i];
		k->used = n;
		ix_rebuild(k);
		return 0;
	}
	cap = k->cap ? k->cap * 2 : 4;
	ixc = cap * 2;	/* load at most one half */
	if (cap > UINT32_MAX / 2)
		return -ENOMEM;
	v = realloc(k->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	k->v = v;	/* a larger array with the same entries: still a valid book */
	ix = calloc(ixc, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	free(k->ix);
	k->ix = ix;
	k->ix_cap = ixc;
	k->cap = cap;
	ix_rebuild(k);
	return 0;
}

/* Room reserved; @b->pasid not live in the book; @b->refs >= 1. */
struct bond *svmbind__book_add(struct svmbind__book *k, struct bond b)
{
	size_t slot = k->used++;

	k->v[slot] = b;
	ix_put(k, slot);
	k->live++;
	return &k->v[slot];
}

/* Forget @b (its witness closed unless handed on before). */
void svmbind__book_drop(struct svmbind__book *k, struct bond *b)
{
	size_t h = ix_pos(k, b->pasid);

	if (h < k->ix_cap && k->ix[h] - 1 == (uint32_t)(b - k->v))
		ix_del(k, h);
	if (b->witness >= 0)
		close(b->witness);
	b->witness = WITNESS_NONE;
	b->refs = 0;
	k->live--;
	while (k->used && !k->v[k->used - 1].refs)
		k->used--;
}

/* The @i-th live bond in the order made, or NULL. */
struct bond *svmbind__book_at(struct svmbind__book *k, size_t i)
{
	if (k->live == k->used)
		return i < k->used ? &k->v[i] : NULL;
	for (size_t j = 0; j < k->used; j++)
		if (k->v[j].refs && !i--)
			return &k->v[j];
	return NULL;
}

/* The bond made last, or NULL: the array never ends with a dropped entry. */
struct bond *svmbind__book_last(struct svmbind__book *k)
{
	return k->used ? &k->v[k->used - 1] : NULL;
}

void svmbind__book_free(struct svmbind__book *k)
{
	free(k->v);
	free(k->ix);
	*k = (struct svmbind__book){ 0 };
}
