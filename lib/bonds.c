// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * What a device handle's bond book says, for callers: the count and one bond;
 * and the bonds the library forgets without an unbind.
 *
 * svmbind_device_bond() has two versions. struct svmbind_bond grew `alive`
 * in 1.1 inside 1.0's tail padding, so its size did not change and a caller
 * could not tell a library that fills `alive` from one that leaves it 0.
 * LIBSVMBIND_1.2's version writes back in `sz` how many bytes it filled; a
 * program linked against it cannot start on an older library (the dynamic
 * linker refuses the missing version node), so it never reads a padding 0
 * as "gone". LIBSVMBIND_1.0's version, which programs built before 1.2 call,
 * keeps its old contract: `sz` is left as the caller set it.
 */
#include "internal.h"

size_t svmbind_device_nr_bonds(struct svmbind_device *dev)
{
	size_t n;

	pthread_mutex_lock(&dev->lock);
	n = dev->book.live;
	pthread_mutex_unlock(&dev->lock);
	return n;
}

/* Fill @out (sz = the caller's) from bond @i. Returns 0 or a code. */
static int bond_get(struct svmbind_device *dev, size_t i, const struct svmbind_bond *bond,
		    struct svmbind_bond *out)
{
	const struct bond *b;

	if (!dev || !bond)
		return NULL_ARG();
	if (!OPTS_VALID(bond, struct svmbind_bond))
		return FAIL(EINVAL);
	pthread_mutex_lock(&dev->lock);
	b = svmbind__book_at(&dev->book, i);
	if (!b) {
		size_t n = dev->book.live;

		pthread_mutex_unlock(&dev->lock);
		pr_debug("%s: svmbind_device_bond(%zu): the handle holds %zu bond(s)", dev->name, i, n);
		return FAIL(ENOENT);
	}
	*out = (struct svmbind_bond){
		.sz = bond->sz, .pasid = b->pasid, .refs = b->refs, .pid = b->pid,
		.alive = b->witness == WITNESS_NONE ? -1 :
			 b->witness == WITNESS_SELF ? 1 : svmbind__witness_alive(b->witness),
	};
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* LIBSVMBIND_1.2 and later: `sz` comes back as the bytes filled. */
SVMBIND_API int svmbind__device_bond_v1_2(struct svmbind_device *dev, size_t i,
					   struct svmbind_bond *bond);
int svmbind__device_bond_v1_2(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond)
{
	struct svmbind_bond out;
	int ret = bond_get(dev, i, bond, &out);

	if (ret)
		return ret;
	svmbind__copy_out(bond, &out, sizeof(out));
	return svmbind__ok(0);
}
__asm__(".symver svmbind__device_bond_v1_2, svmbind_device_bond@@LIBSVMBIND_1.2");

/* LIBSVMBIND_1.0 (what 1.0 and 1.1 programs call): `sz` is left alone. */
SVMBIND_API int svmbind__device_bond_v1_0(struct svmbind_device *dev, size_t i,
					   struct svmbind_bond *bond);
int svmbind__device_bond_v1_0(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond)
{
	struct svmbind_bond out;
	int ret = bond_get(dev, i, bond, &out);

	if (ret)
		return ret;
	memcpy(bond, &out, bond->sz < sizeof(out) ? bond->sz : sizeof(out));
	return svmbind__ok(0);
}
__asm__(".symver svmbind__device_bond_v1_0, svmbind_device_bond@LIBSVMBIND_1.0");

/* In a forked child: the bonds are the parent's; close our copies of the witnesses only. */
void svmbind__forget_bonds(struct svmbind_device *dev)
{
	for (struct bond *b; (b = svmbind__book_last(&dev->book));)
		svmbind__book_drop(&dev->book, b);
}

void svmbind__forget_bond(struct svmbind_device *dev, uint32_t pasid, pid_t pid)
{
	struct bond *b;

	pthread_mutex_lock(&dev->lock);
	b = svmbind__book_find(&dev->book, pasid);
	if (b && b->pid == pid && b->witness != WITNESS_SELF &&
	    !(b->witness >= 0 && svmbind__witness_alive(b->witness)))
		svmbind__book_drop(&dev->book, b);
	pthread_mutex_unlock(&dev->lock);
}
