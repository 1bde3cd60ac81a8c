// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The kernel's process-events connector (NETLINK_CONNECTOR, CN_IDX_PROC),
 * read with libnl-3: exec and credential changes of our clients. Compiled
 * with libnl-3 when CMake finds it; without, every call says -EOPNOTSUPP.
 * Joining the group needs CAP_NET_ADMIN. Events carry only pids (of the
 * initial pid namespace): the broker confirms each through the client's pidfd.
 * The kernel silently ignores a subscription from outside the initial pid and
 * user namespaces: a subscription counts only once the kernel acknowledged it.
 */
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static int send_op(struct nl_sock *sk, enum proc_cn_mcast_op op, uint32_t ack)
{
	char buf[sizeof(struct cn_msg) + sizeof(op)] __attribute__((aligned(8)));
	struct cn_msg *cn = (struct cn_msg *)buf;

	memset(buf, 0, sizeof(buf));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->ack = ack;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return nl_send_simple(sk, NLMSG_DONE, 0, buf, sizeof(buf));
}

/*
 * The kernel answers a subscription it takes with a PROC_EVENT_NONE whose
 * cn_msg.ack is ours + 1 and whose ack.err is its verdict, to the whole group,
 * before sendmsg() returns. None: it ignored us (not the initial pid and user
 * namespaces), and no event would ever name our clients' pids. Events read
 * meanwhile are of no client yet: dropped. 0, or -errno.
 */
static int read_ack(int fd, uint32_t ack)
{
	union {
		char b[4096];
		struct nlmsghdr align;
	} buf;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n = recv(fd, buf.b, sizeof(buf.b), MSG_DONTWAIT);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long waited;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf.b; n > 0 && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct cn_msg *cn = NLMSG_DATA(h);
			struct proc_event ev;

			if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*cn) + offsetof(struct proc_event, event_data) +
			    sizeof(ev.event_data.ack) || cn->id.idx != CN_IDX_PROC || cn->ack != ack + 1)
				continue;
			memset(&ev, 0, sizeof(ev));
			memcpy(&ev, cn->data, cn->len < sizeof(ev) ? cn->len : sizeof(ev));
			if (ev.what == PROC_EVENT_NONE)
				return -(int)ev.event_data.ack.err;
		}
		if (n > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= 250)	/* it comes at once; a loaded machine gets slack */
			return -ENOTCONN;
		if (poll(&p, 1, (int)(250 - waited)) < 0 && errno != EINTR)
			return -errno;
	}
}

int sb_procevents_open(struct sb_procevents **out)
{
	struct sb_procevents *pe = calloc(1, sizeof(*pe));
	uint32_t ack;
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
	ack = (uint32_t)getpid() * 2654435761u ^ (uint32_t)(uintptr_t)pe;
	if (ack + 1 == 0)
		ack = 1;
	if (ret < 0 || (ret = send_op(pe->sk, PROC_CN_MCAST_LISTEN, ack)) < 0 ||
	    (ret = nl_socket_set_nonblocking(pe->sk)) < 0) {
		ret = -nle_to_errno(ret);
		goto fail;
	}
	ret = read_ack(nl_socket_get_fd(pe->sk), ack);
	if (ret)
		goto fail;
	*out = pe;
	return 0;
fail:	/* no IGNORE: 6.1 counts listeners globally, and an IGNORE we did not earn would take another's */
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

void sb_procevents_close(struct sb_procevents *pe, bool owner)
{
	if (!pe)
		return;
	if (owner)
		send_op(pe->sk, PROC_CN_MCAST_IGNORE, 0);
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

void sb_procevents_close(struct sb_procevents *pe, bool owner)
{
	(void)pe;
	(void)owner;
}

#endif
