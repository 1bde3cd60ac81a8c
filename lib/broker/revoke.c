// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Where bonds end: revocation (unbind while the address space lives, else
 * forget), orphans, closing a connection, the checks before acting for a
 * client (alive, same address space, credentials) and process events.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_state.h"

/*
 * Is @c's bond still the kernel's bond on the address space that said HELLO?
 * The witness answers while the process exists (alive or a zombie). Where it
 * cannot (a maps witness of a reaped process: its address space may live on
 * in a CLONE_VM sibling, or be gone with its PASID handed out anew), the
 * books decide, never a guess: another client listed with the PASID, or the
 * library's book naming another pid or a dead address space, mean it is not.
 */
bool sb_bond_is_ours(struct svmbind_broker *b, struct sb_conn *c)
{
	struct svmbind_bond lb = { .sz = sizeof(lb) };
	int st = sb_witness_state(c->witness, c->maps);

	if (st >= 0)
		return st;
	for (struct sb_conn *o = b->pasids[c->pasid % PID_BUCKETS]; o; o = o->pnext)
		if (o != c && o->pasid == c->pasid)
			return false;
	for (size_t i = 0; !svmbind_device_bond(b->dev, i, &lb); i++)
		if (lb.pasid == c->pasid)
			return lb.pid == c->pid && lb.alive != 0;
	return false;
}

/* svm_unbind; where the kernel insists on a release mode (EINVAL), again with
 * RELEASE_FLUSHED, as the library does at close. 0 once the bond is gone. */
int sb_unbind_pasid(struct svmbind_broker *b, uint32_t pasid, bool live, int *keep)
{
	int ret = live ? svmbind__unbind_live(b->dev, pasid, 0, keep) : svm_unbind(b->dev, pasid, 0);

	if (ret == -EINVAL)
		ret = live ? svmbind__unbind_live(b->dev, pasid, VFIO_SVM_PASID_RELEASE_FLUSHED, keep) :
			     svm_unbind(b->dev, pasid, VFIO_SVM_PASID_RELEASE_FLUSHED);
	if (ret == -SVMBIND_ERR_BOND_GONE || ret == -SVMBIND_ERR_UNKNOWN_PASID)
		ret = 0;
	return ret;
}

/*
 * End @c's bond: unbind it while its address space lives; once that is gone
 * only forget it (the kernel released it, and the PASID may name someone
 * else's bond by now). 0, or the unbind's error: then the bond stays listed
 * (and counted) and the client is told nothing.
 */
int sb_revoke_bond(struct svmbind_broker *b, struct sb_conn *c, uint32_t reason, bool notify)
{
	uint32_t pasid = c->pasid;
	int ret;

	if (!c->bound)
		return 0;
	if (sb_share_space(c->share)) {	/* a PASID space (space_bond.c): no kernel bond to look after */
		sb_space_unbind(b, c);
	} else if (sb_bond_is_ours(b, c)) {
		ret = sb_unbind_pasid(b, pasid, false, NULL);
		if (ret) {
			pr_warn("broker: unbinding PASID %u of pid %d: %s: the bond stays listed (revoke "
				"it again; closing the device releases it)", pasid, (int)c->pid,
				svmbind_strerror(ret));
			return ret;
		}
	} else {
		pr_debug("broker: PASID %u of pid %d: that address space is gone, and the kernel's "
			 "bond with it: forgotten, not unbound", pasid, (int)c->pid);
		svmbind__forget_bond(b->dev, pasid, c->pid);
	}
	sb_bond_del(b, c);
	pr_debug("broker: bond PASID %u of pid %d revoked (reason %u)", pasid, (int)c->pid, reason);
	if (notify && c->fd >= 0) {
		struct sbw_msg m = { .type = SBW_REVOKED };

		m.u.revoked.pasid = pasid;
		m.u.revoked.reason = reason;
		sb_conn_send(b, c, &m);
	}
	return 0;
}

/* An orphan's bond ended (or the broker stops): free it with the dead. */
void sb_orphan_done(struct svmbind_broker *b, struct sb_conn *c)
{
	if (c->bound)
		sb_bond_del(b, c);
	if (c->witness >= 0)
		close(c->witness);
	c->witness = -1;
	c->orphan = false;
	b->nr_orphans--;
	if (c->oprev)
		c->oprev->onext = c->onext;
	else
		b->orphans = c->onext;
	if (c->onext)
		c->onext->oprev = c->oprev;
	c->dnext = b->graveyard;
	b->graveyard = c;
}

/* Orphans whose address space has ended: the kernel released their bonds. */
void sb_reap_orphans(struct svmbind_broker *b)
{
	struct sb_conn *c, *next;

	for (c = b->orphans; c; c = next) {
		next = c->onext;
		if (!sb_bond_is_ours(b, c))
			sb_orphan_done(b, c);
	}
}

/* Close a connection. Its memory is freed only at the end of a dispatch round
 * (sb_bury()), so events already returned by epoll_wait() never point at freed
 * memory, whichever thread closed it. */
/* The fds a connection holds, but its witness (kept by an orphan): closed, -1. */
void sb_conn_close_fds(struct sb_conn *c)
{
	int *fds[] = { &c->fd, &c->pidfd, &c->pending_fd, &c->connector, &c->spare };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void sb_conn_close(struct svmbind_broker *b, struct sb_conn *c, uint32_t reason, bool notify)
{
	bool orphan;

	if (c->state == C_DEAD || c->closing)
		return;
	c->closing = true;
	sb_due_del(b, c);
	orphan = sb_revoke_bond(b, c, reason, notify) != 0;
	sb_share_free(c->share);	/* share.c: its regions' fds */
	c->share = NULL;
	if (c->out_len > c->out_off)	/* last words, best effort: never wait */
		(void)!send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->pidfd >= 0 && c->state == C_READY)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
	sb_conn_close_fds(c);
	if (!orphan && c->witness >= 0) {
		close(c->witness);
		c->witness = -1;
	}
	if (c->state == C_READY)
		sb_hash_del(b, c);
	sb_slot_put(b, c);
	c->state = C_DEAD;
	if (c->prev)
		c->prev->next = c->next;
	else
		b->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	b->nr_conns--;
	if (orphan) {	/* listed (and counted) until revoked or its address space ends */
		c->orphan = true;
		b->nr_orphans++;
		c->oprev = NULL;
		c->onext = b->orphans;
		if (b->orphans)
			b->orphans->oprev = c;
		b->orphans = c;
		return;
	}
	c->dnext = b->graveyard;
	b->graveyard = c;
	if (b->listen_paused)
		sb_listen_resume(b);	/* a slot and its fds are free */
}

void sb_conn_free(struct sb_conn *c)
{
	if (c->in != c->in_small)
		free(c->in);
	free(c->out);
	free(c);
}

void sb_bury(struct svmbind_broker *b)
{
	while (b->graveyard) {
		struct sb_conn *c = b->graveyard;

		b->graveyard = c->dnext;
		sb_conn_free(c);
	}
}

/* The process we verified at HELLO has not exited: its pid is still its own
 * (a pid is not reused while its process exists). A pidfd turns readable when
 * its process exits; one poll(2), no /proc. */
bool sb_peer_alive(const struct sb_conn *c)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };

	return c->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

/* Would the policy still take this client with the credentials it has now? */
static int creds_recheck(struct svmbind_broker *b, struct sb_conn *c)
{
	struct sb_status st;
	struct svmbind_broker_peer peer = { .sz = sizeof(peer) };
	int ret = sb_proc_status(c->pid, &st);

	if (ret || !sb_peer_alive(c))
		return -SVMBIND_BROKER_ERR_PEER_GONE;
	peer.pid = c->pid;
	peer.uid = st.uid[0];
	peer.gid = st.gid[0];
	peer.nr_groups = st.nr_groups;
	peer.groups = st.groups;
	ret = sb_policy_check(&b->policy, &peer);
	if (!ret && !sb_creds_ptraceable(&st))
		ret = -SVMBIND_ERR_PTRACE_DENIED;
	return ret;
}

/* Has the address space that said HELLO been replaced (exec)? The process
 * lives (checked before), so the witness answers exactly. Once it has, the
 * connection is spent: its bond is revoked and it is never bound again. */
static bool conn_spent(struct svmbind_broker *b, struct sb_conn *c, bool notify)
{
	if (!c->spent && c->witness >= 0 && sb_witness_state(c->witness, c->maps) == 0) {
		pr_debug("broker: pid %d replaced the address space it said HELLO with (exec): "
			 "its connection is spent", (int)c->pid);
		c->spent = true;
	}
	if (c->spent && c->bound && sb_revoke_bond(b, c, SVMBIND_REVOKED_EXEC, notify))
		sb_conn_close(b, c, SVMBIND_REVOKED_EXEC, false);	/* cannot happen: the witness says gone */
	return c->spent;
}

/* Before acting for a client: it lives, the address space that said HELLO
 * lives, its credentials still pass (when asked and no event source tells
 * us). Returns 0, or the code to answer with (the connection may be closed:
 * check state). */
int sb_conn_validate(struct svmbind_broker *b, struct sb_conn *c)
{
	if (!sb_peer_alive(c)) {
		sb_conn_close(b, c, SVMBIND_REVOKED_EXIT, true);
		return -SVMBIND_BROKER_ERR_PEER_GONE;
	}
	if (conn_spent(b, c, true))
		return -SVMBIND_BROKER_ERR_REVOKED;
	if ((b->flags & SVMBIND_BROKER_REVOKE_ON_CREDS) && b->pe_state != 1 && creds_recheck(b, c)) {
		if (sb_revoke_bond(b, c, SVMBIND_REVOKED_CREDS, true))
			sb_conn_close(b, c, SVMBIND_REVOKED_CREDS, false);
		return -SVMBIND_BROKER_ERR_REVOKED;
	}
	return 0;
}

/* Before a BIND on a connection not bound yet, no system call: whether the
 * client lives and whether the address space that said HELLO is still its own
 * is checked after the bind (request.c), where the bind is undone if not. A
 * connection spent, or bound, or whose credentials are to be re-read, gets the
 * full checks. */
int sb_conn_prebind(struct svmbind_broker *b, struct sb_conn *c)
{
	if (c->bound || c->spent || ((b->flags & SVMBIND_BROKER_REVOKE_ON_CREDS) && b->pe_state != 1))
		return sb_conn_validate(b, c);
	return 0;
}

/* A process event: confirm through the pidfd before acting. */
void sb_on_event(void *arg, enum sb_event ev, pid_t tgid)
{
	struct svmbind_broker *b = arg;
	struct sb_conn *c, *next;

	if (!ev) {	/* events were lost: look at every bond */
		for (c = b->conns; c; c = next) {
			next = c->next;
			if (c->state == C_READY && c->bound)
				sb_conn_validate(b, c);
		}
		return;
	}
	for (c = b->pids[sb_pid_hash(tgid)]; c; c = next) {
		next = c->hnext;
		if (c->pid != tgid || c->state != C_READY)
			continue;
		if (!sb_peer_alive(c)) {		/* exited: the pidfd says so too */
			sb_conn_close(b, c, SVMBIND_REVOKED_EXIT, true);
			continue;
		}
		if (ev == SB_EV_EXEC) {
			conn_spent(b, c, true);
		} else if (ev == SB_EV_CREDS && (b->flags & SVMBIND_BROKER_REVOKE_ON_CREDS) &&
			   creds_recheck(b, c)) {
			pr_info("broker: pid %d changed credentials and the policy refuses it now: "
				"revoking%s", (int)c->pid, c->bound ? " its bond" : "");
			if (sb_revoke_bond(b, c, SVMBIND_REVOKED_CREDS, true))
				pr_warn("broker: pid %d: its connection is closed; its bond stays listed "
					"until revoked", (int)c->pid);
			sb_conn_close(b, c, SVMBIND_REVOKED_CREDS, false);
		}
	}
}
