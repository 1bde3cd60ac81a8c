// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* HELLO: where a connection's identity is established (docs/broker.md,
 * "Identity, and why it is race-free"). */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_state.h"

void sb_on_hello(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_HELLO_OK, .seq = m->seq };
	struct svmbind_broker_peer peer = { .sz = sizeof(peer) };
	struct sb_status st;
	struct ucred pc;
	socklen_t len = sizeof(pc);
	unsigned int v = m->u.hello.max_version < SBW_VERSION_MAX ? m->u.hello.max_version : SBW_VERSION_MAX;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->wpid };
	int pid, ret;

	if (c->state != C_NEW)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	if (v < m->u.hello.min_version || v < SBW_VERSION_MIN)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_VERSION);
	if (!c->have_creds)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	/* Who connected (SO_PEERCRED, at connect time) must be who speaks (SCM_CREDENTIALS, at send time). */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &pc, &len) || pc.pid != c->cred_pid) {
		pr_info("broker: the process that connected (pid %d) is not the one that says HELLO (pid %d): "
			"a socket handed on after connect; refused", (int)pc.pid, (int)c->cred_pid);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	/* The client's own pidfd, always: a client that sends none, or an fd that
	 * is not a pidfd, or another process's, is lying, whatever the kernel
	 * could tell us without it. */
	if (c->pending_fd < 0) {
		pr_info("broker: pid %d sent no pidfd with HELLO: refused (clients pass "
			"pidfd_open(getpid()))", (int)c->cred_pid);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	c->pidfd = c->pending_fd;
	c->pending_fd = -1;
	pid = svmbind__pidfd_pid(c->pidfd);
	if (pid == -ESRCH)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	if (pid != c->cred_pid) {	/* another's pidfd, or no pidfd: say which, and what it is */
		char what[128];

		if (pid > 0)
			pr_info("broker: pid %d passed a pidfd that names pid %d: refused", (int)c->cred_pid, pid);
		else if (pid == -EBADF)
			pr_info("broker: pid %d passed an fd that is not a pidfd (%s): refused", (int)c->cred_pid,
				svmbind__fd_path(c->pidfd, what, sizeof(what)) > 0 ? what : "unknown kind");
		else
			pr_info("broker: pid %d passed a pidfd that names no process of this pid namespace "
				"(%s): refused", (int)c->cred_pid, strerror(-pid));
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	/* The connector as a process, not a number: a process that holds the socket
	 * of a connector that died, and was given its pid, is not the connector. */
	if (c->connector < 0) {
		pr_info("broker: the process that connected as pid %d had exited before it was "
			"accepted: refused", (int)c->cred_pid);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	}
	if (!sb_same_process(c->connector, c->pidfd)) {
		pr_info("broker: the process that connected as pid %d is gone; the pid now names "
			"another process, which holds its socket: refused", (int)c->cred_pid);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	close(c->connector);
	c->connector = -1;
	if (sb_proc_status(pid, &st) || svmbind__pidfd_pid(c->pidfd) != pid)
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	peer.pid = pid;
	peer.uid = c->cred_uid;
	peer.gid = c->cred_gid;
	peer.nr_groups = st.nr_groups;
	peer.groups = st.groups;
	ret = sb_policy_check(&b->policy, &peer);
	if (ret) {
		pr_info("broker: pid %d (uid %u gid %u) refused by the policy: %s", pid,
			(unsigned int)peer.uid, (unsigned int)peer.gid, svmbind_strerror(ret));
		return sb_refuse(b, c, m->seq, ret);
	}
	ret = sb_slot_move(b, c, peer.uid);
	if (ret)
		return sb_refuse(b, c, m->seq, ret);
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->pidfd, &ev))
		return sb_refuse(b, c, m->seq, -errno);
	/* The witness of the address space that says HELLO: it, and only it, is
	 * what this connection may have bound and served. Opened while the pidfd
	 * names the pid, so it is this process's, not a namesake's. */
	c->witness = sb_witness_open(pid, &c->maps);
	if (c->witness >= 0 && !sb_peer_alive(c)) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		return sb_refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	}
	if (c->witness < 0)
		pr_info("broker: pid %d: cannot watch its address space (/proc/%d/mem and maps: %s): "
			"%s", pid, pid, strerror(-c->witness), b->spaces ?	/* space_bond.c */
			"its exec is seen through process events only" : "it will not be bound");
	c->pid = pid;
	c->gid = peer.gid;
	c->version = (uint16_t)v;
	sb_due_del(b, c);	/* the HELLO deadline is met */
	c->state = C_READY;
	sb_hash_add(b, c);
	r.u.hello_ok.version = (uint16_t)v;
	r.u.hello_ok.features = (b->pe_state == 1 ? SBW_F_PROCEVENTS : 0) |
				(b->cap_ptrace ? SBW_F_CAP_SYS_PTRACE : 0) |
				(b->peerpidfd ? SBW_F_PEERPIDFD : 0) |
				(b->spaces && v >= SBW_VERSION_SHARE ? SBW_F_SPACES : 0);
	r.u.hello_ok.max_data = SBW_MAX_DATA;
	pr_debug("broker: client pid %d uid %u gid %u connected", pid, (unsigned int)c->uid,
		 (unsigned int)c->gid);
	sb_conn_send(b, c, &r);
}

