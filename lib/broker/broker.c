// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The bind broker (process A): accepts clients on a Unix socket, verifies who
 * they are with the kernel's help only, binds their address spaces through
 * svmbind_bind_pidfd(), and revokes bonds on unbind, disconnect, exit (the
 * pidfd), exec and credential change (procevents.c). One epoll fd; every
 * socket non-blocking; per-client buffers bounded; a bad client is answered
 * and dropped, never waited for. docs/broker.md tells why it is race-free.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "broker_internal.h"

#define MAX_OUT		(64u * 1024)	/* queued replies per client before it is dropped */
#define IN_SMALL	128u		/* control messages fit inline; a long REQUEST grows it */
#define PID_BUCKETS	1024u
#define EVENTS		64
#define FDS_PER_CLIENT	3u		/* socket, pidfd, witness */
#define FDS_BROKER	8u		/* epoll, timer, eventfd, netlink, reserve, and slack */
#define LISTEN_RETRY_MS	100u		/* accept failed for want of memory: try again then */

enum watch_kind { W_LISTEN = 1, W_STOP, W_TIMER, W_PROCEV, W_SOCK, W_PIDFD,
		  W_FAULT /* a PASID space's page requests (share.c) */ };
enum conn_state { C_NEW = 1, C_READY, C_DEAD };

struct watch {
	enum watch_kind kind;
	struct conn *c;
};

struct uidrec {
	uid_t uid;
	uint32_t clients, bonds;
};

struct conn {
	struct watch wsock, wpid;
	enum conn_state state;
	int fd, pidfd, witness, pending_fd;
	int connector;			/* pidfd of who connected (accept to HELLO) */
	pid_t pid;			/* kernel-verified, after HELLO */
	uid_t uid;
	gid_t gid;
	pid_t cred_pid;			/* SCM_CREDENTIALS of the bytes read so far (before HELLO) */
	uid_t cred_uid;
	gid_t cred_gid;
	bool have_creds, bound, counted, closing;
	bool maps;			/* the witness is /proc/PID/maps (peer.c) */
	bool spent;			/* the address space that said HELLO is gone */
	bool orphan;			/* closed, but its bond could not be unbound: still listed */
	uint32_t pasid;
	uint16_t version;		/* the protocol version agreed at HELLO */
	struct sb_share *share;		/* shared regions, the PASID space (share.c); NULL: none */
	struct watch wfault;		/* its page requests, while bound */
	size_t bond_idx;
	uint64_t deadline;		/* HELLO deadline, ms (C_NEW) */
	uint64_t frame_deadline;	/* a message begun must be whole by then, ms (C_READY); 0: none */
	struct conn *prev, *next;	/* all connections */
	struct conn *hnext;		/* pid hash (C_READY) */
	struct conn *pnext;		/* PASID hash (bound) */
	struct conn *dnext;		/* graveyard */
	unsigned char *in;		/* in_small or a heap buffer of need bytes */
	uint32_t in_len, in_need;
	unsigned char *out;
	uint32_t out_len, out_off;
	unsigned char in_small[IN_SMALL];
};

struct svmbind_broker {
	pthread_mutex_t lock;		/* recursive: everything below */
	struct svmbind_device *dev;
	pid_t owner;
	int epfd, lfd, stopfd, timerfd;
	int reserve;			/* an fd kept to accept-and-refuse when out of fds */
	bool listen_paused, fd_starved;	/* listener out of epoll; the out-of-fds warning given */
	uint64_t listen_retry;		/* when a paused listener is tried again, ms */
	struct watch wlisten, wstop, wtimer, wprocev;
	char *path;			/* created by us; removed at free */
	dev_t path_dev;
	ino_t path_ino;
	struct sb_policy policy;
	uint32_t flags, max_clients, max_clients_uid, max_bonds, max_bonds_uid, hello_ms;
	svmbind_broker_request_fn on_request;
	void *request_arg;
	struct sb_procevents *pe;
	int pe_state;			/* 1, or why not (-errno) */
	bool peerpidfd, cap_ptrace, timer_armed;
	bool spaces;			/* BIND makes PASID spaces: no seed bind here (share.c) */
	uint64_t max_shared;		/* bytes a connection may share; 0: no limit */
	atomic_bool stop;
	struct conn *conns;
	size_t nr_conns;
	struct conn *graveyard;
	size_t nr_orphans;
	struct conn **bonds;
	size_t nr_bonds, cap_bonds;
	struct uidrec *uids;
	size_t nr_uids, cap_uids;
	struct conn *pids[PID_BUCKETS];
	struct conn *pasids[PID_BUCKETS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- bookkeeping ---- */

static struct uidrec *uid_get(struct svmbind_broker *b, uid_t uid, bool create)
{
	for (size_t i = 0; i < b->nr_uids; i++)
		if (b->uids[i].uid == uid)
			return &b->uids[i];
	if (!create)
		return NULL;
	if (b->nr_uids == b->cap_uids) {
		size_t cap = b->cap_uids ? b->cap_uids * 2 : 8;
		struct uidrec *n = realloc(b->uids, cap * sizeof(*n));

		if (!n)
			return NULL;
		b->uids = n;
		b->cap_uids = cap;
	}
	b->uids[b->nr_uids] = (struct uidrec){ .uid = uid };
	return &b->uids[b->nr_uids++];
}

static void uid_put(struct svmbind_broker *b, struct uidrec *r)
{
	if (r->clients || r->bonds)
		return;
	*r = b->uids[--b->nr_uids];
}

static unsigned int pid_hash(pid_t pid)
{
	return (unsigned int)pid % PID_BUCKETS;
}

static void hash_add(struct svmbind_broker *b, struct conn *c)
{
	c->hnext = b->pids[pid_hash(c->pid)];
	b->pids[pid_hash(c->pid)] = c;
}

static void hash_del(struct svmbind_broker *b, struct conn *c)
{
	for (struct conn **p = &b->pids[pid_hash(c->pid)]; *p; p = &(*p)->hnext) {
		if (*p == c) {
			*p = c->hnext;
			return;
		}
	}
}

static int bond_add(struct svmbind_broker *b, struct conn *c, uint32_t pasid)
{
	struct uidrec *r = uid_get(b, c->uid, true);

	if (!r)
		return -ENOMEM;
	if (b->nr_bonds == b->cap_bonds) {
		size_t cap = b->cap_bonds ? b->cap_bonds * 2 : 16;
		struct conn **n = realloc(b->bonds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->bonds = n;
		b->cap_bonds = cap;
	}
	c->bond_idx = b->nr_bonds;
	b->bonds[b->nr_bonds++] = c;
	c->bound = true;
	c->pasid = pasid;
	c->pnext = b->pasids[pasid % PID_BUCKETS];
	b->pasids[pasid % PID_BUCKETS] = c;
	r->bonds++;
	return 0;
}

static void bond_del(struct svmbind_broker *b, struct conn *c)
{
	struct uidrec *r = uid_get(b, c->uid, false);

	b->bonds[c->bond_idx] = b->bonds[--b->nr_bonds];
	b->bonds[c->bond_idx]->bond_idx = c->bond_idx;
	for (struct conn **p = &b->pasids[c->pasid % PID_BUCKETS]; *p; p = &(*p)->pnext) {
		if (*p == c) {
			*p = c->pnext;
			break;
		}
	}
	c->bound = false;
	if (r) {
		r->bonds--;
		uid_put(b, r);
	}
}

/* ---- output ---- */

static void conn_close(struct svmbind_broker *b, struct conn *c, uint32_t reason, bool notify);

static void watch_out(struct svmbind_broker *b, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = &c->wsock };

	epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue or send one message; false if the client was dropped (too slow, or gone). */
static bool conn_send(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
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
		conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
		return false;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	unsigned char *o = realloc(c->out, c->out_len + (size_t)(len - n));

	if (!o) {
		conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
		return false;
	}
	c->out = o;
	memcpy(c->out + c->out_len, buf + n, (size_t)(len - n));
	c->out_len += (uint32_t)(len - n);
	watch_out(b, c, true);
	return true;
}

static void conn_flush(struct svmbind_broker *b, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		c->out_off += (uint32_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	watch_out(b, c, false);
}

static void send_error(struct svmbind_broker *b, struct conn *c, uint32_t seq, int code, bool fatal)
{
	struct sbw_msg m = { .type = SBW_ERROR, .seq = seq };

	if (code >= 0)
		code = -EIO;
	m.u.error.code = code;
	m.u.error.fatal = fatal;
	if (conn_send(b, c, &m) && fatal)
		conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
}

/* A client that broke the rules: say why, drop it. */
static void refuse(struct svmbind_broker *b, struct conn *c, uint32_t seq, int code)
{
	pr_debug("broker: dropping client pid %d: %s", (int)(c->pid ? c->pid : c->cred_pid),
		 svmbind_strerror(code));
	send_error(b, c, seq, code, true);
	if (c->state != C_DEAD)
		conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
}

/* ---- revocation ---- */

/*
 * Is @c's bond still the kernel's bond on the address space that said HELLO?
 * The witness answers while the process exists (alive or a zombie). Where it
 * cannot (a maps witness of a reaped process: its address space may live on
 * in a CLONE_VM sibling, or be gone with its PASID handed out anew), the
 * books decide, never a guess: another client listed with the PASID, or the
 * library's book naming another pid or a dead address space, mean it is not.
 */
static bool bond_is_ours(struct svmbind_broker *b, struct conn *c)
{
	struct svmbind_bond lb = { .sz = sizeof(lb) };
	int st = sb_witness_state(c->witness, c->maps);

	if (st >= 0)
		return st;
	for (struct conn *o = b->pasids[c->pasid % PID_BUCKETS]; o; o = o->pnext)
		if (o != c && o->pasid == c->pasid)
			return false;
	for (size_t i = 0; !svmbind_device_bond(b->dev, i, &lb); i++)
		if (lb.pasid == c->pasid)
			return lb.pid == c->pid && lb.alive != 0;
	return false;
}

/* svm_unbind; where the kernel insists on a release mode (EINVAL), again with
 * RELEASE_FLUSHED, as the library does at close. 0 once the bond is gone. */
static int unbind_pasid(struct svmbind_broker *b, uint32_t pasid)
{
	int ret = svm_unbind(b->dev, pasid, 0);

	if (ret == -EINVAL)
		ret = svm_unbind(b->dev, pasid, VFIO_SVM_PASID_RELEASE_FLUSHED);
	if (ret == -SVMBIND_ERR_BOND_GONE || ret == -SVMBIND_ERR_UNKNOWN_PASID)
		ret = 0;
	return ret;
}

/* Hook (share.c): free @c's PASID space (detach, unpin), its fault fd out of epoll first. */
static void space_unbind(struct svmbind_broker *b, struct conn *c)
{
	int fd = sb_share_fault_fd(c->share);

	if (fd >= 0)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
	sb_share_unbind(c->share);
}

/*
 * End @c's bond: unbind it while its address space lives; once that is gone
 * only forget it (the kernel released it, and the PASID may name someone
 * else's bond by now). 0, or the unbind's error: then the bond stays listed
 * (and counted) and the client is told nothing.
 */
static int revoke_bond(struct svmbind_broker *b, struct conn *c, uint32_t reason, bool notify)
{
	uint32_t pasid = c->pasid;
	int ret;

	if (!c->bound)
		return 0;
	if (sb_share_space(c->share)) {	/* hook: a PASID space; no kernel bond to look after */
		space_unbind(b, c);
	} else if (bond_is_ours(b, c)) {
		ret = unbind_pasid(b, pasid);
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
	bond_del(b, c);
	pr_debug("broker: bond PASID %u of pid %d revoked (reason %u)", pasid, (int)c->pid, reason);
	if (notify && c->fd >= 0) {
		struct sbw_msg m = { .type = SBW_REVOKED };

		m.u.revoked.pasid = pasid;
		m.u.revoked.reason = reason;
		conn_send(b, c, &m);
	}
	return 0;
}

/* An orphan's bond ended (or the broker stops): free it with the dead. */
static void orphan_done(struct svmbind_broker *b, struct conn *c)
{
	if (c->bound)
		bond_del(b, c);
	if (c->witness >= 0)
		close(c->witness);
	c->witness = -1;
	c->orphan = false;
	b->nr_orphans--;
	c->dnext = b->graveyard;
	b->graveyard = c;
}

/* Orphans whose address space has ended: the kernel released their bonds. */
static void reap_orphans(struct svmbind_broker *b)
{
	for (size_t i = 0; b->nr_orphans && i < b->nr_bonds;) {
		struct conn *c = b->bonds[i];

		if (c->orphan && !bond_is_ours(b, c))
			orphan_done(b, c);	/* bonds[i] is another one now */
		else
			i++;
	}
}

static void listen_resume(struct svmbind_broker *b);
static void frame_deadline(struct svmbind_broker *b, struct conn *c);

/* A connection's slot in its uid's count: taken at accept (SO_PEERCRED's uid). */
static void slot_put(struct svmbind_broker *b, struct conn *c)
{
	struct uidrec *r;

	if (!c->counted)
		return;
	c->counted = false;
	r = uid_get(b, c->uid, false);
	if (r) {
		r->clients--;
		uid_put(b, r);
	}
}

static int slot_take(struct svmbind_broker *b, struct conn *c, uid_t uid)
{
	struct uidrec *r = uid_get(b, uid, true);

	if (!r)
		return -ENOMEM;
	if (r->clients >= b->max_clients_uid) {
		uid_put(b, r);
		return -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS_UID;
	}
	r->clients++;
	c->uid = uid;
	c->counted = true;
	return 0;
}

/* At HELLO: the slot moves to the verified uid (the same, but for a setuid connector). */
static int slot_move(struct svmbind_broker *b, struct conn *c, uid_t uid)
{
	uid_t old = c->uid;
	int ret;

	if (c->counted && old == uid)
		return 0;
	slot_put(b, c);
	ret = slot_take(b, c, uid);
	if (ret)
		c->uid = old;
	return ret;
}

/* Close a connection. Its memory is freed only at the end of a dispatch round
 * (bury()), so events already returned by epoll_wait() never point at freed
 * memory, whichever thread closed it. */
static void conn_close(struct svmbind_broker *b, struct conn *c, uint32_t reason, bool notify)
{
	bool orphan;

	if (c->state == C_DEAD || c->closing)
		return;
	c->closing = true;
	orphan = revoke_bond(b, c, reason, notify) != 0;
	sb_share_free(c->share);	/* hook (share.c): its regions' fds */
	c->share = NULL;
	if (c->out_len > c->out_off)	/* last words, best effort: never wait */
		(void)!send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->pidfd >= 0) {
		if (c->state == C_READY)
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	if (c->pending_fd >= 0)
		close(c->pending_fd);
	if (c->connector >= 0)
		close(c->connector);
	if (!orphan && c->witness >= 0) {
		close(c->witness);
		c->witness = -1;
	}
	if (c->state == C_READY)
		hash_del(b, c);
	slot_put(b, c);
	c->fd = c->pidfd = c->pending_fd = c->connector = -1;
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
		return;
	}
	c->dnext = b->graveyard;
	b->graveyard = c;
	if (b->listen_paused)
		listen_resume(b);	/* a slot and its fds are free */
}

static void conn_free(struct conn *c)
{
	if (c->in != c->in_small)
		free(c->in);
	free(c->out);
	free(c);
}

static void bury(struct svmbind_broker *b)
{
	while (b->graveyard) {
		struct conn *c = b->graveyard;

		b->graveyard = c->dnext;
		conn_free(c);
	}
}

/* The process we verified at HELLO has not exited: its pid is still its own
 * (a pid is not reused while its process exists). A pidfd turns readable when
 * its process exits; one poll(2), no /proc. */
static bool peer_alive(const struct conn *c)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };

	return c->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

/* Would the policy still take this client with the credentials it has now? */
static int creds_recheck(struct svmbind_broker *b, struct conn *c)
{
	struct sb_status st;
	struct svmbind_broker_peer peer = { .sz = sizeof(peer) };
	int ret = sb_proc_status(c->pid, &st);

	if (ret || !peer_alive(c))
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
static bool conn_spent(struct svmbind_broker *b, struct conn *c, bool notify)
{
	if (!c->spent && c->witness >= 0 && sb_witness_state(c->witness, c->maps) == 0) {
		pr_debug("broker: pid %d replaced the address space it said HELLO with (exec): "
			 "its connection is spent", (int)c->pid);
		c->spent = true;
	}
	if (c->spent && c->bound && revoke_bond(b, c, SVMBIND_REVOKED_EXEC, notify))
		conn_close(b, c, SVMBIND_REVOKED_EXEC, false);	/* cannot happen: the witness says gone */
	return c->spent;
}

/* Before acting for a client: it lives, the address space that said HELLO
 * lives, its credentials still pass (when asked and no event source tells
 * us). Returns 0, or the code to answer with (the connection may be closed:
 * check state). */
static int conn_validate(struct svmbind_broker *b, struct conn *c)
{
	if (!peer_alive(c)) {
		conn_close(b, c, SVMBIND_REVOKED_EXIT, true);
		return -SVMBIND_BROKER_ERR_PEER_GONE;
	}
	if (conn_spent(b, c, true))
		return -SVMBIND_BROKER_ERR_REVOKED;
	if ((b->flags & SVMBIND_BROKER_REVOKE_ON_CREDS) && b->pe_state != 1 && creds_recheck(b, c)) {
		if (revoke_bond(b, c, SVMBIND_REVOKED_CREDS, true))
			conn_close(b, c, SVMBIND_REVOKED_CREDS, false);
		return -SVMBIND_BROKER_ERR_REVOKED;
	}
	return 0;
}

/* A process event: confirm through the pidfd before acting. */
static void on_event(void *arg, enum sb_event ev, pid_t tgid)
{
	struct svmbind_broker *b = arg;
	struct conn *c, *next;

	if (!ev) {	/* events were lost: look at every bond */
		for (c = b->conns; c; c = next) {
			next = c->next;
			if (c->state == C_READY && c->bound)
				conn_validate(b, c);
		}
		return;
	}
	for (c = b->pids[pid_hash(tgid)]; c; c = next) {
		next = c->hnext;
		if (c->pid != tgid || c->state != C_READY)
			continue;
		if (!peer_alive(c)) {		/* exited: the pidfd says so too */
			conn_close(b, c, SVMBIND_REVOKED_EXIT, true);
			continue;
		}
		if (ev == SB_EV_EXEC) {
			conn_spent(b, c, true);
		} else if (ev == SB_EV_CREDS && (b->flags & SVMBIND_BROKER_REVOKE_ON_CREDS) &&
			   creds_recheck(b, c)) {
			pr_info("broker: pid %d changed credentials and the policy refuses it now: "
				"revoking%s", (int)c->pid, c->bound ? " its bond" : "");
			if (revoke_bond(b, c, SVMBIND_REVOKED_CREDS, true))
				pr_warn("broker: pid %d: its connection is closed; its bond stays listed "
					"until revoked", (int)c->pid);
			conn_close(b, c, SVMBIND_REVOKED_CREDS, false);
		}
	}
}

/* ---- requests ---- */

static void on_hello(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
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
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	if (v < m->u.hello.min_version || v < SBW_VERSION_MIN)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_VERSION);
	if (!c->have_creds)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	/* Who connected (SO_PEERCRED, at connect time) must be who speaks (SCM_CREDENTIALS, at send time). */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &pc, &len) || pc.pid != c->cred_pid) {
		pr_info("broker: the process that connected (pid %d) is not the one that says HELLO (pid %d): "
			"a socket handed on after connect; refused", (int)pc.pid, (int)c->cred_pid);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	/* The client's own pidfd, always: a client that sends none, or an fd that
	 * is not a pidfd, or another process's, is lying, whatever the kernel
	 * could tell us without it. */
	if (c->pending_fd < 0) {
		pr_info("broker: pid %d sent no pidfd with HELLO: refused (clients pass "
			"pidfd_open(getpid()))", (int)c->cred_pid);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	c->pidfd = c->pending_fd;
	c->pending_fd = -1;
	pid = svmbind__pidfd_pid(c->pidfd);
	if (pid == -ESRCH)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	if (pid != c->cred_pid) {
		char what[128];

		if (pid > 0)
			pr_info("broker: pid %d passed a pidfd that names pid %d: refused", (int)c->cred_pid, pid);
		else if (pid == -EBADF)
			pr_info("broker: pid %d passed an fd that is not a pidfd (%s): refused", (int)c->cred_pid,
				svmbind__fd_path(c->pidfd, what, sizeof(what)) > 0 ? what : "unknown kind");
		else
			pr_info("broker: pid %d passed a pidfd that names no process of this pid namespace "
				"(%s): refused", (int)c->cred_pid, strerror(-pid));
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	/* The connector as a process, not a number: a process that holds the socket
	 * of a connector that died, and was given its pid, is not the connector. */
	if (c->connector < 0) {
		pr_info("broker: the process that connected as pid %d had exited before it was "
			"accepted: refused", (int)c->cred_pid);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	}
	if (!sb_same_process(c->connector, c->pidfd)) {
		pr_info("broker: the process that connected as pid %d is gone; the pid now names "
			"another process, which holds its socket: refused", (int)c->cred_pid);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_IDENTITY);
	}
	close(c->connector);
	c->connector = -1;
	if (sb_proc_status(pid, &st) || svmbind__pidfd_pid(c->pidfd) != pid)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	peer.pid = pid;
	peer.uid = c->cred_uid;
	peer.gid = c->cred_gid;
	peer.nr_groups = st.nr_groups;
	peer.groups = st.groups;
	ret = sb_policy_check(&b->policy, &peer);
	if (ret) {
		pr_info("broker: pid %d (uid %u gid %u) refused by the policy: %s", pid,
			(unsigned int)peer.uid, (unsigned int)peer.gid, svmbind_strerror(ret));
		return refuse(b, c, m->seq, ret);
	}
	ret = slot_move(b, c, peer.uid);
	if (ret)
		return refuse(b, c, m->seq, ret);
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->pidfd, &ev))
		return refuse(b, c, m->seq, -errno);
	/* The witness of the address space that says HELLO: it, and only it, is
	 * what this connection may have bound and served. Opened while the pidfd
	 * names the pid, so it is this process's, not a namesake's. */
	c->witness = sb_witness_open(pid, &c->maps);
	if (c->witness >= 0 && !peer_alive(c)) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PEER_GONE);
	}
	if (c->witness < 0)
		pr_info("broker: pid %d: cannot watch its address space (/proc/%d/mem and maps: %s): "
			"%s", pid, pid, strerror(-c->witness), b->spaces ?	/* hook: share.c */
			"its exec is seen through process events only" : "it will not be bound");
	c->pid = pid;
	c->gid = peer.gid;
	c->version = (uint16_t)v;
	c->state = C_READY;
	hash_add(b, c);
	r.u.hello_ok.version = (uint16_t)v;
	r.u.hello_ok.features = (b->pe_state == 1 ? SBW_F_PROCEVENTS : 0) |
				(b->cap_ptrace ? SBW_F_CAP_SYS_PTRACE : 0) |
				(b->peerpidfd ? SBW_F_PEERPIDFD : 0) |
				(b->spaces && v >= SBW_VERSION_SHARE ? SBW_F_SPACES : 0);
	r.u.hello_ok.max_data = SBW_MAX_DATA;
	pr_debug("broker: client pid %d uid %u gid %u connected", pid, (unsigned int)c->uid,
		 (unsigned int)c->gid);
	conn_send(b, c, &r);
}

/* Does the library count references on @pasid (it watches its address space)? */
static bool lib_counts_refs(struct svmbind_broker *b, uint32_t pasid)
{
	struct svmbind_bond lb = { .sz = sizeof(lb) };

	for (size_t i = 0; !svmbind_device_bond(b->dev, i, &lb); i++)
		if (lb.pasid == pasid)
			return lb.alive != -1;
	return false;
}

/*
 * Take back the reference a bind just took on @pasid. Where the address space
 * was bound already (@shared) and the library cannot watch it, the library's
 * book holds one entry of one reference (lib/svm.c, record_bond()) while the
 * kernel counts two: drop the kernel's second one directly, so the book and
 * the kernel agree; else through the library.
 */
static void undo_bind(struct svmbind_broker *b, uint32_t pasid, bool shared)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = pasid };
	int ret;

	if (shared && !lib_counts_refs(b, pasid)) {
		ret = ioctl(svmbind_device_fd(b->dev), VFIO_DEVICE_UNBIND_TASK, &s);
		if (ret && errno == EINVAL) {
			s.flags = VFIO_SVM_PASID_RELEASE_FLUSHED;
			ret = ioctl(svmbind_device_fd(b->dev), VFIO_DEVICE_UNBIND_TASK, &s);
		}
		ret = ret ? -errno : 0;
	} else {
		ret = unbind_pasid(b, pasid);
	}
	if (ret)
		pr_warn("broker: undoing a bind of PASID %u: %s (closing the device releases it)",
			pasid, svmbind_strerror(ret));
}

/* The listed bond that shares @pasid with @c's new one: its address space lives
 * (so it is @c's: the kernel hands a live address space's PASID to it alone),
 * or it has ended and the kernel handed its PASID out anew (then it is
 * forgotten, its client told). NULL when none is left. */
static struct conn *pasid_holder(struct svmbind_broker *b, struct conn *c, uint32_t pasid)
{
	struct conn *o, *next;

	for (o = b->pasids[pasid % PID_BUCKETS]; o; o = next) {
		next = o->pnext;
		if (o == c || o->pasid != pasid)
			continue;
		if (sb_witness_state(o->witness, o->maps) == 1 || (o->orphan && bond_is_ours(b, o)))
			return o;
		pr_debug("broker: PASID %u of pid %d was handed out again: that bond had ended",
			 o->pasid, (int)o->pid);
		/* Not revoke_bond(): the library's entry for the PASID is the new bond's now. */
		struct sbw_msg n = { .type = SBW_REVOKED };

		n.u.revoked.pasid = pasid;
		n.u.revoked.reason = peer_alive(o) ? SVMBIND_REVOKED_EXEC : SVMBIND_REVOKED_EXIT;
		if (o->state == C_READY && peer_alive(o))
			o->spent = true;
		bond_del(b, o);
		if (o->orphan)
			orphan_done(b, o);
		else if (o->fd >= 0)
			conn_send(b, o, &n);
	}
	return NULL;
}

static void space_bind(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m);	/* hook */

static void on_bind(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_BIND_OK, .seq = m->seq };
	struct uidrec *ur;
	struct conn *o;
	uint32_t pasid;
	int ret;

	if (c->state != C_READY)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	ret = conn_validate(b, c);
	if (c->state == C_DEAD)
		return;
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	if (m->u.bind.pid && m->u.bind.pid != (uint32_t)c->pid)
		pr_warn("broker: pid %d says it is pid %u in its BIND: ignored (identity comes from the kernel)",
			(int)c->pid, m->u.bind.pid);
	if (c->bound)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_ALREADY_BOUND, false);
	if (b->spaces)	/* hook: no seed bind in this kernel: a PASID space (share.c) */
		return space_bind(b, c, m);
	if (c->witness < 0)	/* bound, it could not be told from its successor: never guess */
		return send_error(b, c, m->seq, c->witness == -EACCES || c->witness == -EPERM ?
				  -SVMBIND_ERR_PTRACE_DENIED : -SVMBIND_BROKER_ERR_IDENTITY, false);
	if (b->nr_bonds >= b->max_bonds)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS, false);
	ur = uid_get(b, c->uid, false);
	if (ur && ur->bonds >= b->max_bonds_uid)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID, false);

	ret = svmbind_bind_pidfd(b->dev, c->pidfd, &pasid);
	if (ret) {
		if (ret == -SVMBIND_ERR_NO_PROCESS && !peer_alive(c)) {
			conn_close(b, c, SVMBIND_REVOKED_EXIT, false);
			return;
		}
		pr_info("broker: binding pid %d: %s", (int)c->pid, svmbind_strerror(ret));
		return send_error(b, c, m->seq, ret, false);
	}
	/* Whose address space did the kernel bind? The pid's current one: it must
	 * be the one that said HELLO, checked after the bind (an exec before it,
	 * even before this BIND was read, shows as a dead witness). */
	o = pasid_holder(b, c, pasid);
	if (!peer_alive(c) || sb_witness_state(c->witness, c->maps) != 1) {
		undo_bind(b, pasid, o != NULL);
		if (!peer_alive(c)) {
			conn_close(b, c, SVMBIND_REVOKED_EXIT, false);
			return;
		}
		pr_info("broker: pid %d replaced its address space (exec) after its HELLO: the new "
			"program is not bound", (int)c->pid);
		c->spent = true;
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_REVOKED, false);
	}
	if (o) {	/* one address space, two connections (CLONE_VM, threads, or twice) */
		undo_bind(b, pasid, true);
		pr_info("broker: pid %d's address space is bound already, as PASID %u through pid "
			"%d's connection: one bond per address space", (int)c->pid, pasid, (int)o->pid);
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_ALREADY_BOUND, false);
	}
	ret = bond_add(b, c, pasid);
	if (ret) {
		undo_bind(b, pasid, false);
		return send_error(b, c, m->seq, ret, false);
	}
	r.u.bind_ok.pasid = pasid;
	r.u.bind_ok.pid = (uint32_t)c->pid;
	pr_debug("broker: bound pid %d: PASID %u", (int)c->pid, pasid);
	conn_send(b, c, &r);
}

static void on_unbind(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_UNBIND_OK, .seq = m->seq };
	int ret;

	if (c->state != C_READY)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	ret = conn_validate(b, c);	/* an ended address space is forgotten, never unbound */
	if (c->state == C_DEAD)
		return;
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	if (!c->bound || c->pasid != m->u.unbind.pasid)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NOT_BOUND, false);
	if (sb_share_space(c->share))	/* hook: a PASID space (share.c) */
		space_unbind(b, c);
	else
		ret = unbind_pasid(b, c->pasid);
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	r.u.unbind_ok.pasid = c->pasid;
	bond_del(b, c);
	conn_send(b, c, &r);
}

static void on_request(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	unsigned char reply[SBW_MAX_DATA];
	struct sbw_msg r = { .type = SBW_REPLY, .seq = m->seq };
	struct svmbind_broker_req req = { .sz = sizeof(req) };
	size_t rlen = sizeof(reply);
	int ret;

	if (c->state != C_READY)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	if (!b->on_request)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NO_HANDLER, false);
	ret = conn_validate(b, c);
	if (c->state == C_DEAD)
		return;
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	if (!c->bound)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_NOT_BOUND, false);
	req.type = m->u.request.app_type;
	req.pasid = c->pasid;
	req.pid = c->pid;
	req.uid = c->uid;
	req.gid = c->gid;
	req.data = m->data;
	req.len = m->data_len;
	ret = b->on_request(b->request_arg, &req, reply, &rlen);
	if (c->state == C_DEAD)
		return;
	r.u.reply.status = ret;
	r.u.reply.app_type = req.type;
	r.data = reply;
	r.data_len = (uint32_t)(rlen > sizeof(reply) ? sizeof(reply) : rlen);
	conn_send(b, c, &r);
}

/* ---- PASID-space bonds and shared memory: thin hooks into share.c ---- */

/* BIND on a kernel without the seed's bind: a space of the shared regions. */
static void space_bind(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_BIND_OK, .seq = m->seq };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->wfault };
	struct uidrec *ur = uid_get(b, c->uid, false);
	uint32_t pasid;
	int ret, fd;

	/* A version-1 client cannot share: it hears what it heard before spaces. */
	if (c->version < SBW_VERSION_SHARE)
		return send_error(b, c, m->seq, -SVMBIND_ERR_NO_SVM_BIND, false);
	if (b->nr_bonds >= b->max_bonds)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS, false);
	if (ur && ur->bonds >= b->max_bonds_uid)
		return send_error(b, c, m->seq, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID, false);
	ret = sb_share_bind(&c->share, b->dev, b->flags & SVMBIND_BROKER_SPACE_ON_DEMAND, c->pid, &pasid);
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	fd = sb_share_fault_fd(c->share);
	ret = fd >= 0 && epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
	if (!ret)
		ret = bond_add(b, c, pasid);
	if (ret) {
		space_unbind(b, c);
		return send_error(b, c, m->seq, ret, false);
	}
	r.u.bind_ok.pasid = pasid;
	r.u.bind_ok.pid = (uint32_t)c->pid;
	pr_debug("broker: pid %d has PASID %u: a space of its shared regions", (int)c->pid, pasid);
	conn_send(b, c, &r);
}

static void on_share(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_SHARE_OK, .seq = m->seq };
	int fd = c->pending_fd, ret;

	c->pending_fd = -1;
	if (c->state != C_READY || c->version < SBW_VERSION_SHARE) {
		close(fd);
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	}
	ret = conn_validate(b, c);
	if (ret || c->state == C_DEAD) {
		close(fd);
		if (c->state != C_DEAD)
			send_error(b, c, m->seq, ret, false);
		return;
	}
	if (!b->spaces) {	/* the seed's bind reaches everything: nothing to hold on to */
		close(fd);
		pr_info("broker: pid %d shares memory, but this broker binds whole address spaces "
			"(the seed's bind): refused", (int)c->pid);
		return send_error(b, c, m->seq, -EOPNOTSUPP, false);
	}
	ret = sb_share_add(&c->share, fd, m, b->max_shared, c->pid);	/* takes fd */
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	r.u.share_ok.addr = m->u.share.addr;
	r.u.share_ok.len = m->u.share.len;
	conn_send(b, c, &r);
}

static void on_unshare(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	struct sbw_msg r = { .type = SBW_UNSHARE_OK, .seq = m->seq };
	int ret;

	if (c->state != C_READY || c->version < SBW_VERSION_SHARE)
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	ret = sb_share_remove(c->share, m->u.unshare.addr, m->u.unshare.len);
	if (ret)
		return send_error(b, c, m->seq, ret, false);
	r.u.unshare_ok = m->u.unshare;
	conn_send(b, c, &r);
}

static void handle(struct svmbind_broker *b, struct conn *c, const struct sbw_msg *m)
{
	/* fds only with HELLO (a pidfd) and SHARE (a memfd) */
	if ((c->pending_fd >= 0 && m->type != SBW_HELLO && m->type != SBW_SHARE) ||
	    (c->pending_fd < 0 && m->type == SBW_SHARE))
		return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_PROTOCOL);
	switch (m->type) {
	case SBW_HELLO: return on_hello(b, c, m);
	case SBW_BIND: return on_bind(b, c, m);
	case SBW_UNBIND: return on_unbind(b, c, m);
	case SBW_REQUEST: return on_request(b, c, m);
	case SBW_SHARE: return on_share(b, c, m);	/* hook: share.c */
	case SBW_UNSHARE: return on_unshare(b, c, m);	/* hook: share.c */
	default: return refuse(b, c, m->seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
	}
}

/* ---- input ---- */

/* Ancillary data of one recvmsg: credentials must be there and agree; fds only before HELLO. */
static int take_cmsgs(struct conn *c, struct msghdr *mh)
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
static void conn_consume(struct svmbind_broker *b, struct conn *c)
{
	uint32_t off = 0;

	while (c->state != C_DEAD && c->in_len - off >= SBW_HDR_LEN) {
		long total = sbw_frame_len(c->in + off, c->in_len - off);
		struct sbw_msg m;
		int len;

		if (total < 0)
			return refuse(b, c, 0, (int)total);
		if (c->in_len - off < (uint32_t)total)
			break;
		len = sbw_parse(c->in + off, (size_t)total, &m, NULL);
		if (len <= 0)
			return refuse(b, c, 0, len ? len : -SVMBIND_BROKER_ERR_PROTOCOL);
		if (!sbw_from_client(m.type))
			return refuse(b, c, m.seq, -SVMBIND_BROKER_ERR_UNEXPECTED);
		handle(b, c, &m);
		off += (uint32_t)total;
	}
	if (c->state == C_DEAD || !off)
		return;
	c->frame_deadline = 0;	/* a whole message came: the next one gets its own time */
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
static void conn_read(struct svmbind_broker *b, struct conn *c)
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
				return refuse(b, c, 0, (int)total);
			if ((uint32_t)total > c->in_need) {
				unsigned char *big = malloc((size_t)total);

				if (!big)
					return refuse(b, c, 0, -ENOMEM);
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
				conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		if (n == 0) {	/* end of file: its credentials say nothing */
			conn_close(b, c, SVMBIND_REVOKED_DISCONNECT, false);
			return;
		}
		ret = take_cmsgs(c, &mh);
		if (ret)
			return refuse(b, c, 0, ret);
		c->in_len += (uint32_t)n;
		conn_consume(b, c);
		frame_deadline(b, c);
		if ((size_t)n < iov.iov_len)
			return;	/* drained for now: epoll says when there is more */
	}
}

/* ---- accept, timer ---- */

static bool timer_needed(struct svmbind_broker *b)
{
	if (b->listen_paused)
		return true;
	for (struct conn *c = b->conns; c; c = c->next)
		if (c->state == C_NEW || c->frame_deadline)
			return true;
	return false;
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
static void frame_deadline(struct svmbind_broker *b, struct conn *c)
{
	if (c->state != C_READY)
		return;
	if (!c->in_len) {
		c->frame_deadline = 0;
	} else if (!c->frame_deadline) {
		c->frame_deadline = now_ms() + b->hello_ms;
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

static void listen_resume(struct svmbind_broker *b)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &b->wlisten };

	if (!b->listen_paused || epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->lfd, &ev))
		return;
	b->listen_paused = false;
	pr_debug("broker: accepting again");
}

static void on_timer(struct svmbind_broker *b)
{
	uint64_t t = now_ms(), ticks;
	struct conn *c, *next;

	(void)!read(b->timerfd, &ticks, sizeof(ticks));
	if (b->listen_paused && t >= b->listen_retry)
		listen_resume(b);
	for (c = b->conns; c; c = next) {
		next = c->next;
		if (c->state == C_NEW && t >= c->deadline) {
			pr_debug("broker: a client said no HELLO within %u ms: dropped", b->hello_ms);
			refuse(b, c, 0, -SVMBIND_BROKER_ERR_TIMEOUT);
		} else if (c->state == C_READY && c->frame_deadline && t >= c->frame_deadline) {
			pr_info("broker: client pid %d sent part of a message and not the rest within %u ms: "
				"dropping it", (int)c->pid, b->hello_ms);
			refuse(b, c, 0, -SVMBIND_BROKER_ERR_TIMEOUT);
		}
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

static void on_accept(struct svmbind_broker *b)
{
	for (int i = 0; i < EVENTS; i++) {
		int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1, ret;
		struct epoll_event ev;
		struct ucred pc;
		socklen_t len = sizeof(pc);
		struct conn *c;

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
		c->pidfd = c->witness = c->pending_fd = -1;
		ret = slot_take(b, c, pc.uid);
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
		c->wsock = (struct watch){ W_SOCK, c };
		c->wpid = (struct watch){ W_PIDFD, c };
		c->wfault = (struct watch){ W_FAULT, c };
		c->deadline = now_ms() + b->hello_ms;
		ev.events = EPOLLIN;
		ev.data.ptr = &c->wsock;
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			slot_put(b, c);
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
		arm_timer(b, true);
	}
}

/*
 * Each client takes up to FDS_PER_CLIENT fds. A max_clients left to its
 * default fits what RLIMIT_NOFILE leaves; one that was asked for and does not
 * fit is kept, with a warning (out of fds, connections are refused, never spun on).
 */
static uint32_t fit_fd_limit(uint32_t asked)
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

/* ---- public ---- */

int svmbind_broker_dispatch(struct svmbind_broker *b, int timeout_ms)
{
	struct epoll_event evs[EVENTS];
	int n, handled = 0;

	if (!b)
		return NULL_ARG();
	if (getpid() != b->owner)
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
		struct watch *w = evs[i].data.ptr;

		handled++;
		switch (w->kind) {
		case W_LISTEN:
			on_accept(b);
			break;
		case W_STOP:
			break;
		case W_TIMER:
			on_timer(b);
			break;
		case W_PROCEV:
			if (sb_procevents_read(b->pe, on_event, b) < 0) {
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
				conn_flush(b, w->c);
			if (w->c->state != C_DEAD && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				conn_read(b, w->c);
			break;
		case W_FAULT:	/* hook: a PASID space's page requests (share.c) */
			if (w->c->state == C_READY)
				sb_share_dispatch(w->c->share);
			break;
		case W_PIDFD:
			if (w->c->state == C_READY) {	/* the process exited */
				pr_debug("broker: pid %d exited", (int)w->c->pid);
				conn_close(b, w->c, SVMBIND_REVOKED_EXIT, true);
			}
			break;
		}
	}
	if (b->nr_orphans)
		reap_orphans(b);
	bury(b);	/* the only place connections are freed while the broker serves */
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
		struct conn *c = b->bonds[i];

		if (c->pasid == pasid) {
			ret = revoke_bond(b, c, SVMBIND_REVOKED_OWNER, true);
			if (ret)
				kerr = svmbind_kernel_errno();
			else if (c->orphan)
				orphan_done(b, c);
			break;
		}
	}
	/* Nothing is freed here: the dispatcher may hold events that point at it. */
	pthread_mutex_unlock(&b->lock);
	return ret ? KFAIL(-ret, kerr) : svmbind__ok(0);
}

int svmbind_broker_space(struct svmbind_broker *b, uint32_t pasid, struct svmbind_space **space)
{
	int ret = -ENOENT;

	if (!b || !space)
		return NULL_ARG();
	pthread_mutex_lock(&b->lock);
	for (struct conn *c = b->pasids[pasid % PID_BUCKETS]; c; c = c->pnext) {
		if (c->bound && c->pasid == pasid) {
			*space = sb_share_space(c->share);
			ret = *space ? 0 : -EOPNOTSUPP;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return ret ? FAIL(-ret) : svmbind__ok(0);
}

static int watch_add(struct svmbind_broker *b, int fd, struct watch *w, enum watch_kind kind)
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
			conn_close(b, b->conns, SVMBIND_REVOKED_SHUTDOWN, true);
	} else {	/* a forked child: close our copies, unbind nothing */
		for (struct conn *c = b->conns; c; c = c->next) {
			close(c->fd);
			if (c->pidfd >= 0)
				close(c->pidfd);
			if (c->witness >= 0)
				close(c->witness);
			if (c->pending_fd >= 0)
				close(c->pending_fd);
			if (c->connector >= 0)
				close(c->connector);
			sb_share_free(c->share);	/* hook: only fds close in a child */
		}
		while (b->conns) {
			struct conn *c = b->conns;

			b->conns = c->next;
			conn_free(c);
		}
	}
	while (b->nr_orphans) {	/* a last try; closing the device releases the rest */
		for (size_t i = 0; i < b->nr_bonds; i++) {
			struct conn *c = b->bonds[i];

			if (!c->orphan)
				continue;
			if (getpid() == b->owner)
				(void)revoke_bond(b, c, SVMBIND_REVOKED_SHUTDOWN, false);
			orphan_done(b, c);
			break;
		}
	}
	bury(b);
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
	b->epfd = b->lfd = b->stopfd = b->timerfd = b->reserve = -1;
	b->flags = o.flags;
	b->max_clients = fit_fd_limit(o.max_clients);
	b->max_clients_uid = o.max_clients_per_uid ? o.max_clients_per_uid : b->max_clients;
	b->max_bonds = o.max_bonds ? o.max_bonds : b->max_clients;
	b->max_bonds_uid = o.max_bonds_per_uid ? o.max_bonds_per_uid : b->max_bonds;
	b->hello_ms = o.hello_timeout_ms ? o.hello_timeout_ms : 5000;
	b->on_request = o.on_request;
	b->request_arg = o.request_arg;
	b->spaces = sb_share_spaces(dev);	/* hook: share.c */
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
	/* Given back when accept() finds no fd, to refuse that connection (on_accept). */
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
