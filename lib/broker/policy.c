// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Who may use the broker: uid and gid lists, then the owner's callback. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker_internal.h"

/* Counts that no allocation of this size_t can hold (32-bit builds) are refused, not wrapped. */
#define FITS(n, type) ((size_t)(n) <= SIZE_MAX / sizeof(type))

int sb_policy_init(struct sb_policy *p, const struct svmbind_broker_opts *o)
{
	memset(p, 0, sizeof(*p));
	if (!FITS(o->nr_allow_uids, uid_t) || !FITS(o->nr_allow_gids, gid_t)) {
		pr_err("broker: %u allowed uids and %u allowed gids do not fit this machine's address space",
		       o->nr_allow_uids, o->nr_allow_gids);
		return -EOVERFLOW;
	}
	p->flags = o->flags;
	p->self_uid = getuid();
	if (o->nr_allow_uids) {
		if (!o->allow_uids)
			return -EINVAL;
		p->uids = malloc(o->nr_allow_uids * sizeof(*p->uids));
		if (!p->uids)
			return -ENOMEM;
		memcpy(p->uids, o->allow_uids, o->nr_allow_uids * sizeof(*p->uids));
		p->nr_uids = o->nr_allow_uids;
	}
	if (o->nr_allow_gids) {
		if (!o->allow_gids) {
			sb_policy_fini(p);
			return -EINVAL;
		}
		p->gids = malloc(o->nr_allow_gids * sizeof(*p->gids));
		if (!p->gids) {
			sb_policy_fini(p);
			return -ENOMEM;
		}
		memcpy(p->gids, o->allow_gids, o->nr_allow_gids * sizeof(*p->gids));
		p->nr_gids = o->nr_allow_gids;
	}
	p->fn = o->policy;
	p->arg = o->policy_arg;
	return 0;
}

void sb_policy_fini(struct sb_policy *p)
{
	free(p->uids);
	free(p->gids);
	p->uids = NULL;
	p->gids = NULL;
}

static bool uid_ok(const struct sb_policy *p, uid_t uid)
{
	if ((p->flags & SVMBIND_BROKER_ANY_UID) || uid == p->self_uid)
		return true;
	for (uint32_t i = 0; i < p->nr_uids; i++)
		if (p->uids[i] == uid)
			return true;
	return false;
}

static bool gid_ok(const struct sb_policy *p, const struct svmbind_broker_peer *peer)
{
	if (!p->nr_gids)
		return true;
	for (uint32_t i = 0; i < p->nr_gids; i++) {
		if (p->gids[i] == peer->gid)
			return true;
		for (uint32_t j = 0; j < peer->nr_groups; j++)
			if (p->gids[i] == peer->groups[j])
				return true;
	}
	return false;
}

int sb_policy_check(const struct sb_policy *p, const struct svmbind_broker_peer *peer)
{
	int ret;

	if (!uid_ok(p, peer->uid))
		return -SVMBIND_BROKER_ERR_UID_DENIED;
	if (!gid_ok(p, peer))
		return -SVMBIND_BROKER_ERR_GID_DENIED;
	if (!p->fn)
		return 0;
	ret = p->fn(p->arg, peer);
	if (ret > 0)
		ret = -SVMBIND_BROKER_ERR_POLICY_DENIED;	/* a refusal all the same */
	return ret;
}
