// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Input: recvmsg with its credentials and fds, framing, parsing. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_state.h"

/* Ancillary data of one recvmsg: credentials must be there and agree; fds only before HELLO. */
static int take_cmsgs(struct sb_conn *c, struct msghdr *mh)
{
	bool creds = false;
	int ret = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)CMSG_DATA(cm);

			for (size_t i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, &fds[i], sizeof(fd));
				/* one fd: HELLO's pidfd, or (version 2) a SHARE's memfd */
				if (!ret && i == 0 && n == 1 && c->pending_fd < 0 &&
				    (c->state == C_NEW || (c->state == C_READY && c->version >= SBW_VERSION_SHARE)))
					c->pending_fd = fd;
				else {
					close(fd);
					ret = -SVMBIND_BROKER_ERR_PROTOCOL;
				}
			}
		} else if (cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			creds = true;
			if (c->state == C_NEW && !c->have_creds) {
				c->cred_pid = uc.pid;
				c->cred_uid = uc.uid;
				c->cred_gid = uc.gid;
				c->have_creds = true;
			} else if (uc.pid != (c->state == C_NEW ? c->cred_pid : c->pid)) {
				if (!ret)
					ret = -SVMBIND_BROKER_ERR_IDENTITY;
				pr_info("broker: a message on pid %d's connection was sent by pid %d "
					"(forked or handed on after connect): dropping the connection",
					(int)(c->state == C_NEW ? c->cred_pid : c->pid), (int)uc.pid);
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		ret = ret ? ret : -SVMBIND_BROKER_ERR_PROTOCOL;
	if (!creds && !ret)
		ret = -SVMBIND_BROKER_ERR_IDENTITY;
	return ret;
}

/* Parse and handle every complete message in c->in; keep a partial one. */
static void conn_consume(struct svmbind_broker *b, struct sb_conn *c)
{
	uint32_t off = 0;

	while (c->state != C_DEAD && c->in_len - off >= SBW_HDR_LEN) {
		long total = sbw_frame_len(c->in + off, c->in_len - off);
		struct sbw_msg m;
		int len;

		if (total < 0)
			return sb_refuse(b, c, 0, (int)total);
		if (c->in_len - off < (uint32_t)total)
			break;
		len = sbw_parse(c->in + off, (size_t)total, &m, NULL);
		if (len <= 0)
			return sb_refuse(b, c, 0, len ? len : -SVMBIND_BROKER_ERR_PROTOCOL);
		if (!sbw_from_client(m.type))
			return sb_refuse(b, c, m.seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
		sb_handle(b, c, &m);
		off += (uint32_t)total;
	}
	if (c->state == C_DEAD || !off)
		return;
	c->frame_deadline = 0;	/* a whole message came: the next one gets its own time */
	if (c->state == C_READY)
		sb_due_del(b, c);
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in != c->in_small && c->in_len <= IN_SMALL) {
		memcpy(c->in_small, c->in, c->in_len);
		free(c->in);
		c->in = c->in_small;
		c->in_need = IN_SMALL;
	}
}

/*
 * Read what the client sent, as much as fits. With SO_PASSCRED the kernel
 * never returns bytes of two senders in one read, and stops after bytes that
 * carry fds: the credentials (and fds) of a read belong to all its bytes.
 * c->in_need is the buffer's capacity: IN_SMALL, or the frame being read.
 */
void sb_conn_read(struct svmbind_broker *b, struct sb_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;

	for (int round = 0; round < 16 && c->state != C_DEAD; round++) {
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
		ssize_t n;
		int ret;

		if (c->in_len >= SBW_HDR_LEN) {	/* a frame longer than the buffer: grow to it */
			long total = sbw_frame_len(c->in, c->in_len);

			if (total < 0)
				return sb_refuse(b, c, 0, (int)total);
			if ((uint32_t)total > c->in_need) {
				unsigned char *big = malloc((size_t)total);

				if (!big)
					return sb_refuse(b, c, 0, -ENOMEM);
				memcpy(big, c->in, c->in_len);
				if (c->in != c->in_small)
					free(c->in);
				c->in = big;
				c->in_need = (uint32_t)total;
			}
		}
		iov.iov_base = c->in + c->in_len;
		iov.iov_len = c->in_need - c->in_len;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		if (n == 0) {	/* end of file: its credentials say nothing */
			sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		ret = take_cmsgs(c, &mh);
		if (ret)
			return sb_refuse(b, c, 0, ret);
		c->in_len += (uint32_t)n;
		conn_consume(b, c);
		sb_frame_deadline(b, c);
		if ((size_t)n < iov.iov_len)
			return;	/* drained for now: epoll says when there is more */
	}
}
