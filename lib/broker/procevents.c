// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The kernel's process-events connector (NETLINK_CONNECTOR, CN_IDX_PROC),
 * read with libnl-3: exec and credential changes of our clients. Compiled
 * with libnl-3 when CMake finds it; without, every call says -EOPNOTSUPP.
 * Joining the group needs CAP_NET_ADMIN. Events carry only pids (of the
 * initial pid namespace): the broker confirms each through the client's pidfd.
 */
#include <stddef.h>
#include <stdlib.h>

#include "broker_internal.h"

#ifdef SVMBIND_HAVE_LIBNL
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

struct sb_procevents {
	struct nl_sock *sk;
	sb_event_fn fn;
	void *arg;
};

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM: return EPERM;
	case NLE_NOMEM: return ENOMEM;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INTR: return EINTR;
	case NLE_BAD_SOCK: return EBADF;
	case NLE_PROTO_MISMATCH:
	case NLE_OPNOTSUPP: return EPROTONOSUPPORT;
	default: return EIO;
	}
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct sb_procevents *pe = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct cn_msg *cn;
	struct proc_event ev;	/* copied: after the 20-byte cn_msg it is not 8-byte aligned */

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*cn) + offsetof(struct proc_event, event_data))
		return NL_SKIP;
	cn = nlmsg_data(nlh);
	if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC ||
	    cn->len < offsetof(struct proc_event, event_data) ||
	    cn->len > nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(*cn))
		return NL_SKIP;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, cn->data, cn->len < sizeof(ev) ? cn->len : sizeof(ev));
	switch (ev.what) {
	case PROC_EVENT_EXEC:
		pe->fn(pe->arg, SB_EV_EXEC, ev.event_data.exec.process_tgid);
		break;
	case PROC_EVENT_UID:
	case PROC_EVENT_GID:
		pe->fn(pe->arg, SB_EV_CREDS, ev.event_data.id.process_tgid);
		break;
	case PROC_EVENT_EXIT:
		if (ev.event_data.exit.process_pid == ev.event_data.exit.process_tgid)
			pe->fn(pe->arg, SB_EV_EXIT, ev.event_data.exit.process_tgid);
		break;
	default:
		break;
	}
	return NL_SKIP;	/* handled here; libnl's own NLMSG_DONE handling would stop the batch */
}

static int send_op(struct nl_sock *sk, enum proc_cn_mcast_op op)
{
	char buf[sizeof(struct cn_msg) + sizeof(op)] __attribute__((aligned(8)));
	struct cn_msg *cn = (struct cn_msg *)buf;

	memset(buf, 0, sizeof(buf));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return nl_send_simple(sk, NLMSG_DONE, 0, buf, sizeof(buf));
}

int sb_procevents_open(struct sb_procevents **out)
{
	struct sb_procevents *pe = calloc(1, sizeof(*pe));
	int ret;

	if (!pe)
		return -ENOMEM;
	pe->sk = nl_socket_alloc();
	if (!pe->sk) {
		free(pe);
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(pe->sk);
	nl_socket_disable_auto_ack(pe->sk);
	nl_join_groups(pe->sk, CN_IDX_PROC);	/* bound at connect: needs CAP_NET_ADMIN */
	ret = nl_connect(pe->sk, NETLINK_CONNECTOR);
	if (ret < 0) {
		ret = -nle_to_errno(ret);
		goto fail;
	}
	nl_socket_set_buffer_size(pe->sk, 4 << 20, 0);
	ret = nl_socket_modify_cb(pe->sk, NL_CB_MSG_IN, NL_CB_CUSTOM, on_msg, pe);
	if (ret < 0 || (ret = send_op(pe->sk, PROC_CN_MCAST_LISTEN)) < 0 ||
	    (ret = nl_socket_set_nonblocking(pe->sk)) < 0) {
		ret = -nle_to_errno(ret);
		goto fail;
	}
	*out = pe;
	return 0;
fail:
	nl_socket_free(pe->sk);
	free(pe);
	return ret;
}

int sb_procevents_fd(struct sb_procevents *pe)
{
	return nl_socket_get_fd(pe->sk);
}

int sb_procevents_read(struct sb_procevents *pe, sb_event_fn fn, void *arg)
{
	pe->fn = fn;
	pe->arg = arg;
	for (int i = 0; i < 256; i++) {
		int ret = nl_recvmsgs_default(pe->sk);

		if (ret == -NLE_AGAIN)
			return 0;
		if (ret == -NLE_NOMEM || ret == -NLE_MSG_OVERFLOW || ret == -NLE_INTR) {
			/* Overrun (ENOBUFS reads as NLE_NOMEM): events were lost. */
			fn(arg, 0, 0);
			continue;
		}
		if (ret < 0)
			return -nle_to_errno(ret);
	}
	return 0;
}

void sb_procevents_close(struct sb_procevents *pe)
{
	if (!pe)
		return;
	send_op(pe->sk, PROC_CN_MCAST_IGNORE);
	nl_socket_free(pe->sk);
	free(pe);
}

#else /* !SVMBIND_HAVE_LIBNL */

int sb_procevents_open(struct sb_procevents **out)
{
	(void)out;
	return -EOPNOTSUPP;
}

int sb_procevents_fd(struct sb_procevents *pe)
{
	(void)pe;
	return -EBADF;
}

int sb_procevents_read(struct sb_procevents *pe, sb_event_fn fn, void *arg)
{
	(void)pe;
	(void)fn;
	(void)arg;
	return -EOPNOTSUPP;
}

void sb_procevents_close(struct sb_procevents *pe)
{
	(void)pe;
}

#endif
