// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The client's message I/O: send (with a pidfd at HELLO), receive, wait for an answer. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <svmbind/space.h>

#include "client_state.h"

int64_t sb_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const void *buf, size_t len, int pidfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pidfd >= 0) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pidfd, sizeof(int));
	}
	while (len) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -SVMBIND_BROKER_ERR_DISCONNECTED;
			return sb_syserr();
		}
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		len -= (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

int sb_client_send(struct svmbind_client *cl, struct sbw_msg *m, int pidfd)
{
	unsigned char buf[SBW_MAX_MSG];
	int len;

	m->seq = ++cl->seq;
	if (!m->seq)
		m->seq = ++cl->seq;
	len = sbw_encode(m, buf, sizeof(buf));
	if (len < 0)
		return len;
	return send_all(cl->fd, buf, (size_t)len, pidfd);
}

/*
 * An answer costs one recv(), not a recv(), a poll() and a recv(): the wait
 * blocks in recv() itself, bounded by the socket's receive timeout
 * (SO_RCVTIMEO), set once to the call timeout and changed only when the time
 * left is shorter (or much longer), so a deadline is overrun by at most
 * RCVTIMEO_SLACK_MS. A recv() that says EAGAIN anyway (the timeout ran out,
 * or the caller made the socket non-blocking) falls back to poll() for the
 * time left. True when a blocking recv() is bounded by @rest ms.
 */
#define RCVTIMEO_SLACK_MS 5

static bool rcvtimeo_fit(struct svmbind_client *cl, int64_t rest)
{
	struct timeval tv = { .tv_sec = rest / 1000, .tv_usec = (rest % 1000) * 1000 };

	if (cl->rcvtimeo_ms && cl->rcvtimeo_ms <= rest + RCVTIMEO_SLACK_MS && cl->rcvtimeo_ms >= rest / 2)
		return true;
	if (setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return false;
	cl->rcvtimeo_ms = rest;
	return true;
}

int sb_client_recv(struct svmbind_client *cl, struct sbw_msg *m, int64_t deadline)
{
	for (;;) {
		size_t need = SBW_HDR_LEN;
		int64_t rest;
		int ret, flags = MSG_DONTWAIT;

		if (cl->in_len) {
			ret = sbw_parse(cl->in, cl->in_len, m, &need);
			if (ret < 0)
				return ret;
			if (ret > 0) {
				/* consumed later by the caller: keep the bytes until then */
				return ret;
			}
		}
		if (need > sizeof(cl->in))
			return -SVMBIND_BROKER_ERR_TOO_BIG;
		rest = deadline < 0 ? -1 : deadline - sb_client_now_ms();
		if (deadline < 0 || (rest > 0 && rcvtimeo_fit(cl, rest)))
			flags = 0;	/* block, within the time left */
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, flags);

		if (n > 0) {
			cl->in_len += (uint32_t)n;
			continue;
		}
		if (n == 0)
			return -SVMBIND_BROKER_ERR_DISCONNECTED;
		if (errno == ECONNRESET)
			return -SVMBIND_BROKER_ERR_DISCONNECTED;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return sb_syserr();
		struct pollfd p = { .fd = cl->fd, .events = POLLIN };

		rest = deadline < 0 ? -1 : deadline - sb_client_now_ms();
		ret = poll(&p, 1, deadline < 0 ? -1 : rest < 0 ? 0 : (int)rest);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return sb_syserr();
		}
		if (ret == 0)
			return -SVMBIND_BROKER_ERR_TIMEOUT;
	}
}

void sb_client_consume(struct svmbind_client *cl, int len)
{
	memmove(cl->in, cl->in + len, cl->in_len - (uint32_t)len);
	cl->in_len -= (uint32_t)len;
}

void sb_client_note_revoked(struct svmbind_client *cl, const struct sbw_msg *m)
{
	if (cl->bound && m->u.revoked.pasid == cl->pasid) {
		cl->bound = false;
		cl->revoked_pending = true;
		cl->revoke_reason = m->u.revoked.reason;
		pr_info("broker client: our bond (PASID %u) was revoked, reason %u",
			m->u.revoked.pasid, m->u.revoked.reason);
	}
}

/* A code a broker sends is negative: an errno, a library or a broker code. */
bool sb_client_code_valid(int32_t code)
{
	return code < 0 && (code >= -SVMBIND_BROKER_ERR_LAST ||
			    (-code >= SVMBIND_SPACE_ERR_BASE && -code < SVMBIND_SPACE_ERR_END));
}

/*
 * No answer in time, or one that does not parse: whatever the broker did with
 * our request (a bind made after we stopped waiting), its late answer would be
 * read as the answer to the next one. The connection is shut down instead: the
 * broker sees the end of file and revokes what it holds for us.
 */
static void give_up(struct svmbind_client *cl, int why)
{
	if (cl->broken)
		return;
	cl->broken = true;
	cl->bound = false;
	shutdown(cl->fd, SHUT_RDWR);
	pr_err("broker client: %s: the connection is closed (the broker revokes anything it did "
	       "for the unanswered request); connect again", svmbind_strerror(why));
}

/* Wait for the answer to @seq: @want, or ERROR. Notices on the way are noted. */
int sb_client_wait_reply(struct svmbind_client *cl, uint32_t seq, uint8_t want, struct sbw_msg *m,
		      void *data, size_t *data_len)
{
	int64_t deadline = cl->timeout_ms < 0 ? -1 : sb_client_now_ms() + cl->timeout_ms;

	for (;;) {
		int len = sb_client_recv(cl, m, deadline), ret = 0;

		if (len == -SVMBIND_BROKER_ERR_TIMEOUT || len == -SVMBIND_BROKER_ERR_PROTOCOL ||
		    len == -SVMBIND_BROKER_ERR_TOO_BIG)
			give_up(cl, len);
		if (len < 0)
			return len;
		if (m->type == SBW_REVOKED) {
			sb_client_note_revoked(cl, m);
			sb_client_consume(cl, len);
			continue;
		}
		if (m->type == SBW_ERROR && (m->seq == seq || m->seq == 0)) {
			ret = m->u.error.code;
			if (!sb_client_code_valid(ret)) {
				pr_err("broker client: the broker answered with code %d, which is no error code",
				       (int)m->u.error.code);
				ret = -SVMBIND_BROKER_ERR_PROTOCOL;
			}
		} else if (m->type == want && m->seq == seq) {
			if (data && data_len) {
				size_t n = m->data_len < *data_len ? m->data_len : *data_len;

				memcpy(data, m->data, n);
				*data_len = m->data_len;
			} else if (data_len) {
				*data_len = m->data_len;
			}
		} else {
			ret = -SVMBIND_BROKER_ERR_PROTOCOL;
		}
		sb_client_consume(cl, len);
		if (ret == -SVMBIND_BROKER_ERR_PROTOCOL)
			give_up(cl, ret);
		return ret;
	}
}
