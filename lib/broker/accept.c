// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Accepting connections (and refusing them when out of fds or slots), the
 * timer of HELLO and half-frame deadlines, the fd budget. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "broker_state.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Connections with a deadline (C_NEW: HELLO; C_READY: the rest of a message
 * begun), oldest first. Every deadline is set to now + hello_ms on a
 * monotonic clock, so appending keeps the queue in deadline order: the timer
 * looks at its head only, whatever the number of connections.
 */
static uint64_t due_of(const struct sb_conn *c)
{
	return c->state == C_NEW ? c->deadline : c->frame_deadline;
}

static void due_add(struct svmbind_broker *b, struct sb_conn *c)
{
	if (c->queued)
		return;
	c->queued = true;
	c->qnext = NULL;
	c->qprev = b->due_tail;
	if (b->due_tail)
		b->due_tail->qnext = c;
	else
		b->due_head = c;
	b->due_tail = c;
}

void sb_due_del(struct svmbind_broker *b, struct sb_conn *c)
{
	if (!c->queued)
		return;
	c->queued = false;
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		b->due_head = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		b->due_tail = c->qprev;
	c->qprev = c->qnext = NULL;
}

static bool timer_needed(struct svmbind_broker *b)
{
	return b->listen_paused || b->due_head;
}

static void arm_timer(struct svmbind_broker *b, bool on)
{
	unsigned int ms = b->hello_ms / 2 ? b->hello_ms / 2 : 1;
	struct itimerspec its = { 0 };

	if (on == b->timer_armed)
		return;
	if (on) {
		if (b->listen_paused && ms > LISTEN_RETRY_MS)
			ms = LISTEN_RETRY_MS;
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
		its.it_interval = its.it_value;
	}
	timerfd_settime(b->timerfd, 0, &its, NULL);
	b->timer_armed = on;
}

/* Once a READY client has sent part of a message, the rest must follow within
 * hello_timeout_ms: half a frame never holds a slot forever. */
void sb_frame_deadline(struct svmbind_broker *b, struct sb_conn *c)
{
	if (c->state != C_READY)
		return;
	if (!c->in_len) {
		c->frame_deadline = 0;
		sb_due_del(b, c);
	} else if (!c->frame_deadline) {
		c->frame_deadline = now_ms() + b->hello_ms;
		due_add(b, c);
		arm_timer(b, true);
	}
}

static void listen_pause(struct svmbind_broker *b)
{
	if (b->listen_paused)
		return;
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->lfd, NULL);
	b->listen_paused = true;
	b->listen_retry = now_ms() + LISTEN_RETRY_MS;
	arm_timer(b, false);	/* re-armed at the retry period */
	arm_timer(b, true);
}

void sb_listen_resume(struct svmbind_broker *b)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &b->wlisten };

	if (!b->listen_paused || epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->lfd, &ev))
		return;
	b->listen_paused = false;
	pr_debug("broker: accepting again");
}

void sb_on_timer(struct svmbind_broker *b)
{
	uint64_t t = now_ms(), ticks;
	struct sb_conn *c;

	(void)!read(b->timerfd, &ticks, sizeof(ticks));
	if (b->listen_paused && t >= b->listen_retry)
		sb_listen_resume(b);
	while ((c = b->due_head) && t >= due_of(c)) {
		sb_due_del(b, c);
		if (c->state == C_NEW) {
			pr_debug("broker: a client said no HELLO within %u ms: dropped", b->hello_ms);
		} else {
			pr_info("broker: client pid %d sent part of a message and not the rest within %u ms: "
				"dropping it", (int)c->pid, b->hello_ms);
		}
		sb_refuse(b, c, 0, -SVMBIND_BROKER_ERR_TIMEOUT);
	}
	if (!timer_needed(b))
		arm_timer(b, false);
}

/* A connection we will not serve: one ERROR, then closed. */
static void refuse_fd(int fd, int code)
{
	struct sbw_msg m = { .type = SBW_ERROR };
	unsigned char buf[64];
	int len;

	m.u.error.code = code;
	m.u.error.fatal = 1;
	len = sbw_encode(&m, buf, sizeof(buf));
	if (len > 0)
		(void)!send(fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/*
 * Out of fds: a queued connection would wake epoll again at once, forever.
 * Give the reserve fd back to accept it, refuse it, take the reserve again.
 * Without a reserve, stop listening until a connection closes (or a retry).
 */
static bool out_of_fds(struct svmbind_broker *b, int err)
{
	int fd;

	if (!b->fd_starved)
		pr_warn("broker: accept: %s: refusing new connections until some close (each client "
			"takes up to %u fds: raise RLIMIT_NOFILE, or lower max_clients)", strerror(err),
			FDS_PER_CLIENT);
	b->fd_starved = true;
	if (b->reserve < 0) {
		listen_pause(b);
		return false;
	}
	close(b->reserve);
	b->reserve = -1;
	fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		refuse_fd(fd, -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS);
	b->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || b->reserve < 0) {
		listen_pause(b);
		return false;
	}
	return true;
}

void sb_on_accept(struct svmbind_broker *b)
{
	for (int i = 0; i < EVENTS; i++) {
		int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1, ret;
		struct epoll_event ev;
		struct ucred pc;
		socklen_t len = sizeof(pc);
		struct sb_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				if (out_of_fds(b, errno))
					continue;
				return;
			}
			pr_warn("broker: accept: %s: trying again in %u ms", strerror(errno), LISTEN_RETRY_MS);
			listen_pause(b);
			return;
		}
		b->fd_starved = false;
		if (b->nr_conns >= b->max_clients) {
			refuse_fd(fd, -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS);
			continue;
		}
		/* The connector's uid (SO_PEERCRED, fixed at connect) takes a slot of its
		 * uid now: a uid cannot hold more than its share before saying anything. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &pc, &len)) {
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->pidfd = c->witness = c->pending_fd = c->spare = -1;
		ret = sb_slot_take(b, c, pc.uid);
		if (ret) {
			if (ret == -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS_UID)
				pr_debug("broker: uid %u holds %u connections already: refused at accept",
					 (unsigned int)pc.uid, b->max_clients_uid);
			refuse_fd(fd, ret);
			free(c);
			continue;
		}
		c->connector = sb_connector_pidfd(fd, b->peerpidfd);	/* who connected, as a process */
		c->state = C_NEW;
		c->in = c->in_small;
		c->in_need = IN_SMALL;
		c->wsock = (struct sb_watch){ W_SOCK, c };
		c->wpid = (struct sb_watch){ W_PIDFD, c };
		c->wfault = (struct sb_watch){ W_FAULT, c };
		c->deadline = now_ms() + b->hello_ms;
		ev.events = EPOLLIN;
		ev.data.ptr = &c->wsock;
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			sb_slot_put(b, c);
			if (c->connector >= 0)
				close(c->connector);
			close(fd);
			free(c);
			return;
		}
		c->next = b->conns;
		if (b->conns)
			b->conns->prev = c;
		b->conns = c;
		b->nr_conns++;
		due_add(b, c);	/* its HELLO deadline */
		arm_timer(b, true);
	}
}

/*
 * Each client takes up to FDS_PER_CLIENT fds. A max_clients left to its
 * default fits what RLIMIT_NOFILE leaves; one that was asked for and does not
 * fit is kept, with a warning (out of fds, connections are refused, never spun on).
 */
uint32_t sb_fit_fd_limit(uint32_t asked)
{
	struct rlimit rl;
	uint64_t used = 0, room;
	uint32_t want = asked ? asked : 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return want;
	for (int fd = 0; fd < 65536 && (rlim_t)fd < rl.rlim_cur; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			used++;
		if (fd >= 4096)	/* enough to judge; the rest is counted as free */
			break;
	}
	room = rl.rlim_cur > used + FDS_BROKER ? (rl.rlim_cur - used - FDS_BROKER) / FDS_PER_CLIENT : 0;
	if (room >= want)
		return want;
	if (asked) {
		pr_warn("broker: max_clients %u needs about %u fds, and RLIMIT_NOFILE (%llu, %llu in use) "
			"leaves room for %llu clients: beyond that, connections are refused (raise the "
			"limit, e.g. LimitNOFILE= in the unit)", asked, asked * FDS_PER_CLIENT,
			(unsigned long long)rl.rlim_cur, (unsigned long long)used, (unsigned long long)room);
		return asked;
	}
	if (!room)
		room = 1;
	pr_info("broker: RLIMIT_NOFILE %llu (%llu in use) leaves room for %llu clients of %u fds each: "
		"max_clients is %llu (raise the limit, e.g. LimitNOFILE= in the unit, for more)",
		(unsigned long long)rl.rlim_cur, (unsigned long long)used, (unsigned long long)room,
		FDS_PER_CLIENT, (unsigned long long)room);
	return (uint32_t)room;
}
