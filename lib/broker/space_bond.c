// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* PASID-space bonds in the broker: BIND where the kernel has no seed bind,
 * SHARE and UNSHARE, and their end; the regions and the space are share.c's. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "broker_state.h"

/* Free @c's PASID space (detach, unpin), its fault fd out of epoll first. */
void sb_space_unbind(struct svmbind_broker *b, struct sb_conn *c)
{
	int fd = sb_share_fault_fd(c->share);

	if (fd >= 0)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
	sb_share_unbind(c->share);
}

/* BIND on a kernel without the seed's bind: a space of the shared regions. */
void sb_space_bind(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_BIND_OK, .seq = m->seq };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->wfault };
	struct sb_uidrec *ur = sb_uid_get(b, c->uid, false);
	uint32_t pasid;
	int ret, fd;

	ret = sb_conn_validate(b, c);	/* no kernel bind to check after: check before */
	if (c->state == C_DEAD)
		return;
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	/* A version-1 client cannot share: it hears what it heard before spaces. */
	if (c->version < SBW_VERSION_SHARE)
		return sb_send_error(b, c, m->seq, -SVMBIND_ERR_NO_SVM_BIND, false);
	if (b->nr_bonds >= b->max_bonds)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS, false);
	if (ur && ur->bonds >= b->max_bonds_uid)
		return sb_send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID, false);
	ret = sb_share_bind(&c->share, b->dev, b->flags & SVMBIND_BROKER_SPACE_ON_DEMAND, c->pid, &pasid);
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	fd = sb_share_fault_fd(c->share);
	ret = fd >= 0 && epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
	if (!ret)
		ret = sb_bond_add(b, c, pasid);
	if (ret) {
		sb_space_unbind(b, c);
		return sb_send_error(b, c, m->seq, ret, false);
	}
	r.u.bind_ok.pasid = pasid;
	r.u.bind_ok.pid = (uint32_t)c->pid;
	pr_debug("broker: pid %d has PASID %u: a space of its shared regions", (int)c->pid, pasid);
	sb_conn_send(b, c, &r);
}

void sb_on_share(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_SHARE_OK, .seq = m->seq };
	int fd = c->pending_fd, ret;

	c->pending_fd = -1;
	if (c->state != C_READY || c->version < SBW_VERSION_SHARE) {
		close(fd);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	}
	ret = sb_conn_validate(b, c);
	if (ret || c->state == C_DEAD) {
		close(fd);
		if (c->state != C_DEAD)
			sb_send_error(b, c, m->seq, ret, false);
		return;
	}
	if (!b->spaces) {	/* the seed's bind reaches everything: nothing to hold on to */
		close(fd);
		pr_info("broker: pid %d shares memory, but this broker binds whole address spaces "
			"(the seed's bind): refused", (int)c->pid);
		return sb_send_error(b, c, m->seq, -EOPNOTSUPP, false);
	}
	ret = sb_share_add(&c->share, fd, m, b->max_shared, c->pid);	/* takes fd */
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	r.u.share_ok.addr = m->u.share.addr;
	r.u.share_ok.len = m->u.share.len;
	sb_conn_send(b, c, &r);
}

void sb_on_unshare(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_UNSHARE_OK, .seq = m->seq };
	int ret;

	if (c->state != C_READY || c->version < SBW_VERSION_SHARE)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	ret = sb_share_remove(c->share, m->u.unshare.addr, m->u.unshare.len);
	if (ret)
		return sb_send_error(b, c, m->seq, ret, false);
	r.u.unshare_ok = m->u.unshare;
	sb_conn_send(b, c, &r);
}

int svmbind_broker_space(struct svmbind_broker *b, uint32_t pasid, struct svmbind_space **space)
{
	int ret = -ENOENT;

	if (!b || !space)
		return NULL_ARG();
	pthread_mutex_lock(&b->lock);
	for (struct sb_conn *c = b->pasids[pasid % PID_BUCKETS]; c; c = c->pnext) {
		if (c->bound && c->pasid == pasid) {
			*space = sb_share_space(c->share);
			ret = *space ? 0 : -EOPNOTSUPP;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return ret ? FAIL(-ret) : svmbind__ok(0);
}
