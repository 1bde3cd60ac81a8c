// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Requests of a verified client: BIND, UNBIND, REQUEST, and the dispatch of
 * every parsed message. */
#include <sys/ioctl.h>

#include "broker_state.h"

/* Does the library count references on @pasid (it watches its address space)? */
static bool lib_counts_refs(struct svmbind_broker *b, uint32_t pasid)
{
	struct svmbind_bond lb = { .sz = sizeof(lb) };

	for (size_t i = 0; !svmbind_device_bond(b->dev, i, &lb); i++)
		if (lb.pasid == pasid)
			return lb.alive != -1;
	return false;
}

/*
 * Take back the reference a bind just took on @pasid. Where the address space
 * was bound already (@shared) and the library cannot watch it, the library's
 * book holds one entry of one reference (lib/svm.c, record_bond()) while the
 * kernel counts two: drop the kernel's second one directly, so the book and
 * the kernel agree; else through the library.
 */
static void undo_bind(struct svmbind_broker *b, uint32_t pasid, bool shared)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = pasid };
	int ret;

	if (shared && !lib_counts_refs(b, pasid)) {
		ret = ioctl(svmbind_device_fd(b->dev), VFIO_DEVICE_UNBIND_TASK, &s);
		if (ret && errno == EINVAL) {
			s.flags = VFIO_SVM_PASID_RELEASE_FLUSHED;
			ret = ioctl(svmbind_device_fd(b->dev), VFIO_DEVICE_UNBIND_TASK, &s);
		}
		ret = ret ? -errno : 0;
	} else {
		ret = sb_unbind_pasid(b, pasid, false, NULL);
	}
	if (ret)
		pr_warn("broker: undoing a bind of PASID %u: %s (closing the device releases it)",
			pasid, svmbind_strerror(ret));
}

/* The listed bond that shares @pasid with @c's new one: its address space lives
 * (so it is @c's: the kernel hands a live address space's PASID to it alone),
 * or it has ended and the kernel handed its PASID out anew (then it is
 * forgotten, its client told). NULL when none is left. */
static struct sb_conn *pasid_holder(struct svmbind_broker *b, struct sb_conn *c, uint32_t pasid)
{
	struct sb_conn *o, *next;

	for (o = b->pasids[pasid % PID_BUCKETS]; o; o = next) {
		next = o->pnext;
		if (o == c || o->pasid != pasid)
			continue;
		if (sb_witness_state(o->witness, o->maps) == 1 || (o->orphan && sb_bond_is_ours(b, o)))
			return o;
		pr_debug("broker: PASID %u of pid %d was handed out again: that bond had ended",
			 o->pasid, (int)o->pid);
		/* Not sb_revoke_bond(): the library's entry for the PASID is the new bond's now. */
		struct sbw_msg n = { .type = SBW_REVOKED };

		n.u.revoked.pasid = pasid;
		n.u.revoked.reason = sb_peer_alive(o) ? SVMBIND_REVOKED_EXEC : SVMBIND_REVOKED_EXIT;
		if (o->state == C_READY && sb_peer_alive(o))
			o->spent = true;
		sb_bond_del(b, o);
		if (o->orphan)
			sb_orphan_done(b, o);
		else if (o->fd >= 0)
			sb_conn_send(b, o, &n);
	}
	return NULL;
}

static void on_bind(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_BIND_OK, .seq = m->seq };
	struct sb_uidrec *ur;
	struct sb_conn *o;
	uint32_t pasid;
	int ret;

	if (c->state != C_READY)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	/* Whether the client lives, and still has the address space that said HELLO,
	 * is checked after the bind (svmbind__bind_witnessed(): its pidfd has not
	 * exited, so the pid was its own at the bind; its witness lives). */
	ret = sb_conn_prebind(b, c);
	if (c->state == C_DEAD)
		return;
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	if (m->u.bind.pid && m->u.bind.pid != (uint32_t)c->pid)
		pr_warn("broker: pid %d says it is pid %u in its BIND: ignored (identity comes from the kernel)",
			(int)c->pid, m->u.bind.pid);
	if (c->bound)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_ALREADY_BOUND, false);
	if (b->spaces)	/* no seed bind in this kernel: a PASID space (space_bond.c) */
		return sb_space_bind(b, c, m);
	if (c->witness < 0)	/* bound, it could not be told from its successor: never guess */
		return sb_send_error(b, c, m->seq, c->witness == -EACCES || c->witness == -EPERM ?
				  -SVMBIND_ERR_PTRACE_DENIED : -SVMBIND_BROKER_ERR_IDENTITY, false);
	if (b->nr_bonds >= b->max_bonds)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS, false);
	ur = sb_uid_get(b, c->uid, false);
	if (ur && ur->bonds >= b->max_bonds_uid)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID, false);

	/* The pid verified at HELLO, checked after the bind against the pidfd and the
	 * witness of the address space that said HELLO (a maps witness is read here:
	 * the library keeps none of it). An exec since, even before this BIND was
	 * read, shows as a dead witness: the bind is undone, the connection spent. */
	ret = svmbind__bind_witnessed(b->dev, c->pid, c->pidfd, c->maps ? -1 : c->witness,
				      c->maps ? NULL : &c->spare, &pasid);
	if (ret == -ESTALE || (c->maps && !ret && sb_witness_state(c->witness, c->maps) != 1)) {
		if (!ret)
			undo_bind(b, pasid, pasid_holder(b, c, pasid) != NULL);
		if (!sb_peer_alive(c)) {	/* an exit, not an exec */
			sb_conn_close(b, c, SVMBIND_REVOKED_EXIT, false);
			return;
		}
		pr_info("broker: pid %d replaced its address space (exec) after its HELLO: the new "
			"program is not bound", (int)c->pid);
		c->spent = true;
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_REVOKED, false);
	}
	if (ret) {
		/* Exited, or the address space that said HELLO is gone (an exec the
		 * kernel refused to bind): told as the checks before a request tell it. */
		if (ret == -SVMBIND_ERR_NO_PROCESS || sb_witness_state(c->witness, c->maps) == 0) {
			int why = sb_conn_validate(b, c);

			if (c->state == C_DEAD)
				return;
			if (why)
				return sb_send_error(b, c, m->seq, why, false);
		}
		pr_info("broker: binding pid %d: %s", (int)c->pid, svmbind_strerror(ret));
		return sb_send_error(b, c, m->seq, ret, false);
	}
	o = pasid_holder(b, c, pasid);
	if (o) {	/* one address space, two connections (CLONE_VM, threads, or twice) */
		undo_bind(b, pasid, true);
		pr_info("broker: pid %d's address space is bound already, as PASID %u through pid "
			"%d's connection: one bond per address space", (int)c->pid, pasid, (int)o->pid);
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_ALREADY_BOUND, false);
	}
	ret = sb_bond_add(b, c, pasid);
	if (ret) {
		undo_bind(b, pasid, false);
		return sb_send_error(b, c, m->seq, ret, false);
	}
	r.u.bind_ok.pasid = pasid;
	r.u.bind_ok.pid = (uint32_t)c->pid;
	pr_debug("broker: bound pid %d: PASID %u", (int)c->pid, pasid);
	sb_conn_send(b, c, &r);
}

static void on_unbind(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_UNBIND_OK, .seq = m->seq };
	int ret;

	if (c->state != C_READY)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	ret = sb_conn_validate(b, c);	/* an ended address space is forgotten, never unbound */
	if (c->state == C_DEAD)
		return;
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	if (!c->bound || c->pasid != m->u.unbind.pasid)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NOT_BOUND, false);
	if (sb_share_space(c->share))	/* a PASID space (space_bond.c) */
		sb_space_unbind(b, c);
	else
		ret = sb_unbind_pasid(b, c->pasid, true, c->maps ? NULL : &c->spare);	/* it lives: just checked */
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	r.u.unbind_ok.pasid = c->pasid;
	sb_bond_del(b, c);
	sb_conn_send(b, c, &r);
}

static void on_request(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	unsigned char reply[SBW_MAX_DATA];
	struct sbw_msg r = { .type = SBW_REPLY, .seq = m->seq };
	struct svmbind_broker_req req = { .sz = sizeof(req) };
	size_t rlen = sizeof(reply);
	int ret;

	if (c->state != C_READY)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	if (!b->on_request)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NO_HANDLER, false);
	ret = sb_conn_validate(b, c);
	if (c->state == C_DEAD)
		return;
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	if (!c->bound)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NOT_BOUND, false);
	req.type = m->u.request.app_type;
	req.pasid = c->pasid;
	req.pid = c->pid;
	req.uid = c->uid;
	req.gid = c->gid;
	req.data = m->data;
	req.len = m->data_len;
	ret = b->on_request(b->request_arg, &req, reply, &rlen);
	if (c->state == C_DEAD)
		return;
	r.u.reply.status = ret;
	r.u.reply.app_type = req.type;
	r.data = reply;
	r.data_len = (uint32_t)(rlen > sizeof(reply) ? sizeof(reply) : rlen);
	sb_conn_send(b, c, &r);
}

void sb_handle(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	/* fds only with HELLO (a pidfd) and SHARE (a memfd) */
	if ((c->pending_fd >= 0 && m->type != SBW_HELLO && m->type != SBW_SHARE) ||
	    (c->pending_fd < 0 && m->type == SBW_SHARE))
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PROTOCOL);
	switch (m->type) {
	case SBW_HELLO: return sb_on_hello(b, c, m);
	case SBW_BIND: return on_bind(b, c, m);
	case SBW_UNBIND: return on_unbind(b, c, m);
	case SBW_REQUEST: return on_request(b, c, m);
	case SBW_SHARE: return sb_on_share(b, c, m);		/* space_bond.c */
	case SBW_UNSHARE: return sb_on_unshare(b, c, m);	/* space_bond.c */
	default: return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	}
}
