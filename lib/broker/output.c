// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The broker's output: replies sent at once, or queued (bounded) until the
 * socket drains; ERROR replies; a client refused and dropped. */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "broker_state.h"

static void watch_out(struct svmbind_broker *b, struct sb_conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = &c->wsock };

	epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue or send one message; false if the client was dropped (too slow, or gone). */
bool sb_conn_send(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m)
{
	unsigned char buf[SBW_MAX_MSG];
	int len = sbw_encode(m, buf, sizeof(buf));
	ssize_t n = 0;

	if (len < 0)
		return false;
	if (!c->out_len) {
		n = send(c->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == len)
			return true;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return false;	/* the peer is gone: the read side sees it */
			n = 0;
		}
	}
	if (c->closing)
		return false;	/* last words that did not fit: dropped */
	if (c->out_len - c->out_off + (size_t)(len - n) > MAX_OUT) {
		pr_warn("broker: client pid %d reads no replies (%u bytes queued): dropping it",
			(int)c->pid, c->out_len - c->out_off);
		sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
		return false;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	unsigned char *o = realloc(c->out, c->out_len + (size_t)(len - n));

	if (!o) {
		sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
		return false;
	}
	c->out = o;
	memcpy(c->out + c->out_len, buf + n, (size_t)(len - n));
	c->out_len += (uint32_t)(len - n);
	watch_out(b, c, true);
	return true;
}

void sb_conn_flush(struct svmbind_broker *b, struct sb_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		c->out_off += (uint32_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	watch_out(b, c, false);
}

void sb_send_error(struct svmbind_broker *b, struct sb_conn *c, uint32_t seq, int code, bool fatal)
{
	struct sbw_msg m = { .type = SBW_ERROR, .seq = seq };

	if (code >= 0)
		code = -EIO;
	m.u.error.code = code;
	m.u.error.fatal = fatal;
	if (sb_conn_send(b, c, &m) && fatal)
		sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
}

/* A client that broke the rules: say why, drop it. */
void sb_refuse(struct svmbind_broker *b, struct sb_conn *c, uint32_t seq, int code)
{
	pr_debug("broker: dropping client pid %d: %s", (int)(c->pid ? c->pid : c->cred_pid),
		 svmbind_strerror(code));
	sb_send_error(b, c, seq, code, true);
	if (c->state != C_DEAD)
		sb_conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
}
