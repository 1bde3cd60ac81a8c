// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The broker's books: per-uid counts of connections and bonds, the pid hash
 * of verified clients, the bond table (listing order) and its PASID hash.
 * No system calls here.
 */
#include <stdlib.h>

#include "broker_state.h"

struct sb_uidrec *sb_uid_get(struct svmbind_broker *b, uid_t uid, bool create)
{
	for (size_t i = 0; i < b->nr_uids; i++)
		if (b->uids[i].uid == uid)
			return &b->uids[i];
	if (!create)
		return NULL;
	if (b->nr_uids == b->cap_uids) {
		size_t cap = b->cap_uids ? b->cap_uids * 2 : 8;
		struct sb_uidrec *n = realloc(b->uids, cap * sizeof(*n));

		if (!n)
			return NULL;
		b->uids = n;
		b->cap_uids = cap;
	}
	b->uids[b->nr_uids] = (struct sb_uidrec){ .uid = uid };
	return &b->uids[b->nr_uids++];
}

static void uid_put(struct svmbind_broker *b, struct sb_uidrec *r)
{
	if (r->clients || r->bonds)
		return;
	*r = b->uids[--b->nr_uids];
}

unsigned int sb_pid_hash(pid_t pid)
{
	return (unsigned int)pid % PID_BUCKETS;
}

void sb_hash_add(struct svmbind_broker *b, struct sb_conn *c)
{
	c->hnext = b->pids[sb_pid_hash(c->pid)];
	b->pids[sb_pid_hash(c->pid)] = c;
}

void sb_hash_del(struct svmbind_broker *b, struct sb_conn *c)
{
	for (struct sb_conn **p = &b->pids[sb_pid_hash(c->pid)]; *p; p = &(*p)->hnext) {
		if (*p == c) {
			*p = c->hnext;
			return;
		}
	}
}

int sb_bond_add(struct svmbind_broker *b, struct sb_conn *c, uint32_t pasid)
{
	struct sb_uidrec *r = sb_uid_get(b, c->uid, true);

	if (!r)
		return -ENOMEM;
	if (b->nr_bonds == b->cap_bonds) {
		size_t cap = b->cap_bonds ? b->cap_bonds * 2 : 16;
		struct sb_conn **n = realloc(b->bonds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->bonds = n;
		b->cap_bonds = cap;
	}
	c->bond_idx = b->nr_bonds;
	b->bonds[b->nr_bonds++] = c;
	c->bound = true;
	c->pasid = pasid;
	c->pnext = b->pasids[pasid % PID_BUCKETS];
	b->pasids[pasid % PID_BUCKETS] = c;
	r->bonds++;
	return 0;
}

void sb_bond_del(struct svmbind_broker *b, struct sb_conn *c)
{
	struct sb_uidrec *r = sb_uid_get(b, c->uid, false);

	b->bonds[c->bond_idx] = b->bonds[--b->nr_bonds];
	b->bonds[c->bond_idx]->bond_idx = c->bond_idx;
	for (struct sb_conn **p = &b->pasids[c->pasid % PID_BUCKETS]; *p; p = &(*p)->pnext) {
		if (*p == c) {
			*p = c->pnext;
			break;
		}
	}
	c->bound = false;
	if (r) {
		r->bonds--;
		uid_put(b, r);
	}
}

/* A connection's slot in its uid's count: taken at accept (SO_PEERCRED's uid). */
void sb_slot_put(struct svmbind_broker *b, struct sb_conn *c)
{
	struct sb_uidrec *r;

	if (!c->counted)
		return;
	c->counted = false;
	r = sb_uid_get(b, c->uid, false);
	if (r) {
		r->clients--;
		uid_put(b, r);
	}
}

int sb_slot_take(struct svmbind_broker *b, struct sb_conn *c, uid_t uid)
{
	struct sb_uidrec *r = sb_uid_get(b, uid, true);

	if (!r)
		return -ENOMEM;
	if (r->clients >= b->max_clients_uid) {
		uid_put(b, r);
		return -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS_UID;
	}
	r->clients++;
	c->uid = uid;
	c->counted = true;
	return 0;
}

/* At HELLO: the slot moves to the verified uid (the same, but for a setuid connector). */
int sb_slot_move(struct svmbind_broker *b, struct sb_conn *c, uid_t uid)
{
	uid_t old = c->uid;
	int ret;

	if (c->counted && old == uid)
		return 0;
	sb_slot_put(b, c);
	ret = sb_slot_take(b, c, uid);
	if (ret)
		c->uid = old;
	return ret;
}
