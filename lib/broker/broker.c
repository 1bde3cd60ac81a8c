// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The bind broker (process A): accepts clients on a Unix socket, verifies who
 * they are with the kernel's help only, binds their address spaces through
 * svmbind_bind_pidfd(), and revokes bonds on unbind, disconnect, exit (the
 * pidfd), exec and credential change (procevents.c). One epoll fd; every
 * socket non-blocking; per-client buffers bounded; a bad client is answered
 * and dropped, never waited for. docs/broker.md tells why it is race-free.
 * This file is its public API (start, dispatch, list, revoke, free); the
 * rest lives in the files broker_state.h lists.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "broker_state.h"

int svmbind_broker_dispatch(struct svmbind_broker *b, int timeout_ms)
{
	struct epoll_event evs[EVENTS];
	int n, handled = 0;

	if (!b)
		return NULL_ARG();
	if (svmbind__process_token() != b->token)	/* a forked child: no system call to tell */
		return FAIL(SVMBIND_ERR_FORKED);
	if (atomic_exchange(&b->stop, false)) {
		uint64_t v;

		(void)!read(b->stopfd, &v, sizeof(v));
		return FAIL(ECANCELED);
	}
	n = epoll_wait(b->epfd, evs, EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? svmbind__ok(0) : KFAIL(errno, errno);
	pthread_mutex_lock(&b->lock);
	for (int i = 0; i < n; i++) {
		struct sb_watch *w = evs[i].data.ptr;

		handled++;
		switch (w->kind) {
		case W_LISTEN:
			sb_on_accept(b);
			break;
		case W_STOP:
			break;
		case W_TIMER:
			sb_on_timer(b);
			break;
		case W_PROCEV:
			if (sb_procevents_read(b->pe, sb_on_event, b) < 0) {
				pr_warn("broker: the process-events connector failed: exec and credential "
					"changes are now seen at each client's next request only");
				epoll_ctl(b->epfd, EPOLL_CTL_DEL, sb_procevents_fd(b->pe), NULL);
				sb_procevents_close(b->pe, true);
				b->pe = NULL;
				b->pe_state = -EIO;
			}
			break;
		case W_SOCK:
			if (w->c->state == C_DEAD)
				break;
			if (evs[i].events & EPOLLOUT)
				sb_conn_flush(b, w->c);
			if (w->c->state != C_DEAD && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				sb_conn_read(b, w->c);
			break;
		case W_FAULT:	/* a PASID space's page requests (share.c) */
			if (w->c->state == C_READY)
				sb_share_dispatch(w->c->share);
			break;
		case W_PIDFD:
			if (w->c->state == C_READY) {	/* the process exited */
				pr_debug("broker: pid %d exited", (int)w->c->pid);
				sb_conn_close(b, w->c, SVMBIND_REVOKED_EXIT, true);
			}
			break;
		}
	}
	if (b->nr_orphans)
		sb_reap_orphans(b);
	sb_bury(b);	/* the only place connections are freed while the broker serves */
	pthread_mutex_unlock(&b->lock);
	if (atomic_exchange(&b->stop, false)) {
		uint64_t v;

		(void)!read(b->stopfd, &v, sizeof(v));
		return FAIL(ECANCELED);
	}
	return svmbind__ok(handled);
}

int svmbind_broker_run(struct svmbind_broker *b)
{
	for (;;) {
		int ret = svmbind_broker_dispatch(b, -1);

		if (ret == -ECANCELED)
			return svmbind__ok(0);
		if (ret < 0)
			return ret;
	}
}

void svmbind_broker_stop(struct svmbind_broker *b)
{
	uint64_t one = 1;
	int e = errno;

	atomic_store(&b->stop, true);
	(void)!write(b->stopfd, &one, sizeof(one));
	errno = e;
}

int svmbind_broker_fd(const struct svmbind_broker *b)
{
	return b->epfd;
}

int svmbind_broker_procevents(const struct svmbind_broker *b)
{
	return b->pe_state;
}

size_t svmbind_broker_nr_clients(struct svmbind_broker *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->nr_conns;
	pthread_mutex_unlock(&b->lock);
	return n;
}

size_t svmbind_broker_nr_bonds(struct svmbind_broker *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->nr_bonds;
	pthread_mutex_unlock(&b->lock);
	return n;
}

int svmbind_broker_bond(struct svmbind_broker *b, size_t i, struct svmbind_broker_bond *bond)
{
	struct svmbind_broker_bond out = { .sz = sizeof(out) };

	if (!b || !bond)
		return NULL_ARG();
	if (!OPTS_VALID(bond, struct svmbind_broker_bond))
		return FAIL(EINVAL);
	pthread_mutex_lock(&b->lock);
	if (i >= b->nr_bonds) {
		pthread_mutex_unlock(&b->lock);
		return FAIL(ENOENT);
	}
	out.pasid = b->bonds[i]->pasid;
	out.pid = b->bonds[i]->pid;
	out.uid = b->bonds[i]->uid;
	out.gid = b->bonds[i]->gid;
	pthread_mutex_unlock(&b->lock);
	/* Never more than the caller's sz; sz then says how many bytes were filled. */
	out.sz = bond->sz < sizeof(out) ? bond->sz : sizeof(out);
	memcpy(bond, &out, out.sz);
	return svmbind__ok(0);
}

int svmbind_broker_revoke(struct svmbind_broker *b, uint32_t pasid)
{
	int ret = -ENOENT, kerr = 0;

	if (!b)
		return NULL_ARG();
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->nr_bonds; i++) {
		struct sb_conn *c = b->bonds[i];

		if (c->pasid == pasid) {
			ret = sb_revoke_bond(b, c, SVMBIND_REVOKED_OWNER, true);
			if (ret)
				kerr = svmbind_kernel_errno();
			else if (c->orphan)
				sb_orphan_done(b, c);
			break;
		}
	}
	/* Nothing is freed here: the dispatcher may hold events that point at it. */
	pthread_mutex_unlock(&b->lock);
	return ret ? KFAIL(-ret, kerr) : svmbind__ok(0);
}

static int watch_add(struct svmbind_broker *b, int fd, struct sb_watch *w, enum watch_kind kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	w->kind = kind;
	w->c = NULL;
	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? sb_syserr() : 0;
}

void svmbind_broker_free(struct svmbind_broker *b)
{
	bool owner;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	owner = getpid() == b->owner;
	if (owner) {
		while (b->conns)
			sb_conn_close(b, b->conns, SVMBIND_REVOKED_SHUTDOWN, true);
	} else {	/* a forked child: close our copies, unbind nothing */
		for (struct sb_conn *c = b->conns; c; c = c->next) {
			sb_conn_close_fds(c);
			if (c->witness >= 0)
				close(c->witness);
			c->witness = -1;
			sb_share_free(c->share);	/* only fds close in a child */
			c->share = NULL;
		}
		while (b->conns) {
			struct sb_conn *c = b->conns;

			b->conns = c->next;
			sb_conn_free(c);
		}
	}
	while (b->orphans) {	/* a last try; closing the device releases the rest */
		struct sb_conn *c = b->orphans;

		if (getpid() == b->owner)
			(void)sb_revoke_bond(b, c, SVMBIND_REVOKED_SHUTDOWN, false);
		sb_orphan_done(b, c);
	}
	sb_bury(b);
	pthread_mutex_unlock(&b->lock);
	if (b->path && owner)
		sb_unlink_ours(b->path, b->path_dev, b->path_ino);
	if (b->pe)	/* a forked child must not unsubscribe the socket it shares with its parent */
		sb_procevents_close(b->pe, owner);
	if (b->lfd >= 0)
		close(b->lfd);
	if (b->reserve >= 0)
		close(b->reserve);
	if (b->stopfd >= 0)
		close(b->stopfd);
	if (b->timerfd >= 0)
		close(b->timerfd);
	if (b->epfd >= 0)
		close(b->epfd);
	sb_policy_fini(&b->policy);
	free(b->bonds);
	free(b->uids);
	free(b->path);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

#define KNOWN_FLAGS (SVMBIND_BROKER_ANY_UID | SVMBIND_BROKER_REVOKE_ON_CREDS | \
		     SVMBIND_BROKER_NO_PROCEVENTS | SVMBIND_BROKER_NO_PEERPIDFD | \
		     SVMBIND_BROKER_SPACE_ON_DEMAND)

int svmbind_broker_new(struct svmbind_device *dev, const struct svmbind_broker_opts *opts,
		       struct svmbind_broker **out)
{
	struct svmbind_broker_opts o = { 0 };
	pthread_mutexattr_t ma;
	struct svmbind_broker *b;
	int ret, one = 1;

	if (!dev || !opts || !out)
		return NULL_ARG();
	if (!OPTS_VALID(opts, struct svmbind_broker_opts))
		return FAIL(EINVAL);
	sb_begin();
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	/* From here the broker owns an inherited listening socket: on failure it is closed. */
	if (o.flags & ~KNOWN_FLAGS) {
		pr_err("broker: unknown flags 0x%x", o.flags & ~KNOWN_FLAGS);
		ret = -EINVAL;
		goto drop;
	}
	if (!!o.path == !!o.listen_fd || (!o.path && o.listen_fd < 0 &&
					  o.listen_fd != SVMBIND_BROKER_LISTEN_SYSTEMD)) {
		pr_err("broker: give either a socket path or an inherited listening fd");
		ret = -EINVAL;
		goto drop;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		ret = -ENOMEM;
		goto drop;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&b->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	b->dev = dev;
	b->owner = getpid();
	b->token = svmbind__process_token();
	b->epfd = b->lfd = b->stopfd = b->timerfd = b->reserve = -1;
	b->flags = o.flags;
	b->max_clients = sb_fit_fd_limit(o.max_clients);
	b->max_clients_uid = o.max_clients_per_uid ? o.max_clients_per_uid : b->max_clients;
	b->max_bonds = o.max_bonds ? o.max_bonds : b->max_clients;
	b->max_bonds_uid = o.max_bonds_per_uid ? o.max_bonds_per_uid : b->max_bonds;
	b->hello_ms = o.hello_timeout_ms ? o.hello_timeout_ms : 5000;
	b->on_request = o.on_request;
	b->request_arg = o.request_arg;
	b->spaces = sb_share_spaces(dev);	/* space_bond.c */
	b->max_shared = o.max_shared_bytes;
	b->peerpidfd = !(o.flags & SVMBIND_BROKER_NO_PEERPIDFD) && sb_have_peer_pidfd();
	b->cap_ptrace = svmbind__cap_effective(19 /* CAP_SYS_PTRACE */) == 1;
	ret = sb_policy_init(&b->policy, &o);
	if (ret)
		goto fail;
	if (o.path) {
		b->path = strdup(o.path);
		if (!b->path) {
			ret = -ENOMEM;
			goto fail;
		}
		ret = sb_listen_path(o.path, o.mode ? o.mode : 0660, &b->path_dev, &b->path_ino);
		if (ret < 0) {
			free(b->path);
			b->path = NULL;
			goto fail;
		}
	} else if (o.listen_fd == SVMBIND_BROKER_LISTEN_SYSTEMD) {
		ret = sb_listen_systemd();
	} else {
		ret = sb_listen_inherited(o.listen_fd);
	}
	if (ret < 0)
		goto fail;
	b->lfd = ret;
	/* Accepted sockets inherit SO_PASSCRED: credentials ride on every message from the first. */
	setsockopt(b->lfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->epfd < 0 || b->stopfd < 0 || b->timerfd < 0) {
		ret = sb_syserr();
		goto fail;
	}
	/* Given back when accept() finds no fd, to refuse that connection (sb_on_accept). */
	b->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((ret = watch_add(b, b->lfd, &b->wlisten, W_LISTEN)) ||
	    (ret = watch_add(b, b->stopfd, &b->wstop, W_STOP)) ||
	    (ret = watch_add(b, b->timerfd, &b->wtimer, W_TIMER)))
		goto fail;
	if (o.flags & SVMBIND_BROKER_NO_PROCEVENTS) {
		b->pe_state = -ECANCELED;
	} else {
		ret = sb_procevents_open(&b->pe);
		if (!ret)
			ret = watch_add(b, sb_procevents_fd(b->pe), &b->wprocev, W_PROCEV);
		if (ret) {
			sb_procevents_close(b->pe, true);
			b->pe = NULL;
			b->pe_state = ret;
			pr_info("broker: no process-events connector (%s%s): exec and credential changes "
				"are seen at each client's next request, not as they happen; exit is "
				"always seen (pidfd)", strerror(-ret),
				ret == -EPERM ? ": needs CAP_NET_ADMIN" :
				ret == -EOPNOTSUPP ? ": built without libnl-3" :
				ret == -ENOTCONN ? ": the kernel did not acknowledge the subscription, as it "
				"ignores one from outside the initial pid and user namespaces" : "");
		} else {
			b->pe_state = 1;
		}
	}
	pr_debug("broker: serving %s on %s (identity: %s)", svmbind_device_name(dev),
		 o.path ? o.path : "an inherited socket",
		 b->peerpidfd ? "SO_PEERPIDFD" : "SCM_CREDENTIALS + client pidfd");
	*out = b;
	return sb_done(0);
fail:
	if (b->path)
		sb_unlink_ours(b->path, b->path_dev, b->path_ino);
	if (b->lfd < 0 && !o.path)
		sb_listen_drop(o.listen_fd);
	b->owner = -1;	/* nothing to unbind */
	free(b->path);
	b->path = NULL;
	svmbind_broker_free(b);
	return sb_done(ret);
drop:
	if (o.listen_fd)
		sb_listen_drop(o.listen_fd);
	return sb_done(ret);
}

