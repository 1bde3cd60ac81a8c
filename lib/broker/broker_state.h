/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Private to the broker (lib/broker/, not the client): its state, and the
 * functions its files share. Where things live:
 *   book.c     per-uid counts, the pid hash, the bond table and its PASID hash
 *   output.c   replies: sent at once or queued (bounded); ERROR; refuse
 *   revoke.c   where bonds end: revocation, orphans, closing a connection,
 *              the checks before acting for a client, process events
 *   hello.c    HELLO: where a connection's identity is established
 *   request.c  BIND, UNBIND, REQUEST; the dispatch of parsed messages
 *   input.c    recvmsg, credentials and fds of each read, framing, parsing
 *   accept.c   accept (and refusal), HELLO and half-frame deadlines, fd budget
 *   broker.c   the public API: new, dispatch, run, stop, list, revoke, free
 */
#ifndef SVMBIND_BROKER_STATE_H
#define SVMBIND_BROKER_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

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

struct sb_watch {
	enum watch_kind kind;
	struct sb_conn *c;
};

struct sb_uidrec {
	uid_t uid;
	uint32_t clients, bonds;
};

struct sb_conn {
	struct sb_watch wsock, wpid;
	enum conn_state state;
	int fd, pidfd, witness, pending_fd;
	int connector;			/* pidfd of who connected (accept to HELLO) */
	int spare;			/* the library's copy of the witness, given back at UNBIND
					 * for the next BIND (not maps), or -1 */
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
	struct sb_watch wfault;		/* its page requests, while bound */
	size_t bond_idx;
	uint64_t deadline;		/* HELLO deadline, ms (C_NEW) */
	uint64_t frame_deadline;	/* a message begun must be whole by then, ms (C_READY); 0: none */
	struct sb_conn *prev, *next;	/* all connections */
	struct sb_conn *hnext;		/* pid hash (C_READY) */
	struct sb_conn *pnext;		/* PASID hash (bound) */
	struct sb_conn *dnext;		/* graveyard */
	struct sb_conn *qprev, *qnext;	/* deadline queue (accept.c), while queued */
	bool queued;
	struct sb_conn *oprev, *onext;	/* orphans (revoke.c), while orphan */
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
	uint64_t token;			/* the owner's fork token (fork.c) */
	int epfd, lfd, stopfd, timerfd;
	int reserve;			/* an fd kept to accept-and-refuse when out of fds */
	bool listen_paused, fd_starved;	/* listener out of epoll; the out-of-fds warning given */
	uint64_t listen_retry;		/* when a paused listener is tried again, ms */
	struct sb_watch wlisten, wstop, wtimer, wprocev;
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
	struct sb_conn *conns;
	size_t nr_conns;
	struct sb_conn *graveyard;
	struct sb_conn *due_head, *due_tail;	/* deadline queue, oldest first (accept.c) */
	size_t nr_orphans;
	struct sb_conn *orphans;	/* closed, their bonds still listed: reaped each round */
	struct sb_conn **bonds;
	size_t nr_bonds, cap_bonds;
	struct sb_uidrec *uids;
	size_t nr_uids, cap_uids;
	struct sb_conn *pids[PID_BUCKETS];
	struct sb_conn *pasids[PID_BUCKETS];
};

/* ---- book.c ---- */

HIDDEN struct sb_uidrec *sb_uid_get(struct svmbind_broker *b, uid_t uid, bool create);
HIDDEN unsigned int sb_pid_hash(pid_t pid);
HIDDEN void sb_hash_add(struct svmbind_broker *b, struct sb_conn *c);	/* by c->pid (C_READY) */
HIDDEN void sb_hash_del(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN int sb_bond_add(struct svmbind_broker *b, struct sb_conn *c, uint32_t pasid);	/* 0 or -ENOMEM */
HIDDEN void sb_bond_del(struct svmbind_broker *b, struct sb_conn *c);
/* A connection's slot in its uid's count: taken at accept, moved at HELLO. */
HIDDEN void sb_slot_put(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN int sb_slot_take(struct svmbind_broker *b, struct sb_conn *c, uid_t uid);
HIDDEN int sb_slot_move(struct svmbind_broker *b, struct sb_conn *c, uid_t uid);

/* ---- output.c ---- */

/* Queue or send one message; false if the client was dropped (too slow, or gone). */
HIDDEN bool sb_conn_send(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);
HIDDEN void sb_conn_flush(struct svmbind_broker *b, struct sb_conn *c);	/* EPOLLOUT */
HIDDEN void sb_send_error(struct svmbind_broker *b, struct sb_conn *c, uint32_t seq, int code, bool fatal);
/* A client that broke the rules: say why, drop it. */
HIDDEN void sb_refuse(struct svmbind_broker *b, struct sb_conn *c, uint32_t seq, int code);

/* ---- revoke.c ---- */

HIDDEN bool sb_bond_is_ours(struct svmbind_broker *b, struct sb_conn *c);
/* @live: the caller has just seen the address space live (its witness): not read
 * again; then the book's copy of the witness may come back in *@keep (or NULL). */
HIDDEN int sb_unbind_pasid(struct svmbind_broker *b, uint32_t pasid, bool live, int *keep);
HIDDEN int sb_revoke_bond(struct svmbind_broker *b, struct sb_conn *c, uint32_t reason, bool notify);
HIDDEN void sb_orphan_done(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN void sb_reap_orphans(struct svmbind_broker *b);
HIDDEN void sb_conn_close_fds(struct sb_conn *c);	/* all but the witness */
HIDDEN void sb_conn_close(struct svmbind_broker *b, struct sb_conn *c, uint32_t reason, bool notify);
HIDDEN void sb_conn_free(struct sb_conn *c);
HIDDEN void sb_bury(struct svmbind_broker *b);	/* free the closed: end of a dispatch round only */
HIDDEN bool sb_peer_alive(const struct sb_conn *c);
/* Before acting for a client: 0, or the code to answer with (check c->state). */
HIDDEN int sb_conn_validate(struct svmbind_broker *b, struct sb_conn *c);
/* The same before a BIND, lighter: whether it lives is checked after the bind. */
HIDDEN int sb_conn_prebind(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN void sb_on_event(void *arg, enum sb_event ev, pid_t tgid);

/* ---- hello.c, request.c, input.c ---- */

/* ---- PASID-space bonds (space_bond.c) ---- */
HIDDEN void sb_space_unbind(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN void sb_space_bind(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);
HIDDEN void sb_on_share(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);
HIDDEN void sb_on_unshare(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);

HIDDEN void sb_on_hello(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);
HIDDEN void sb_handle(struct svmbind_broker *b, struct sb_conn *c, const struct sbw_msg *m);
HIDDEN void sb_conn_read(struct svmbind_broker *b, struct sb_conn *c);

/* ---- accept.c ---- */

HIDDEN void sb_frame_deadline(struct svmbind_broker *b, struct sb_conn *c);
/* Off the deadline queue (HELLO done, a whole message read, closed); O(1). */
HIDDEN void sb_due_del(struct svmbind_broker *b, struct sb_conn *c);
HIDDEN void sb_listen_resume(struct svmbind_broker *b);
HIDDEN void sb_on_timer(struct svmbind_broker *b);
HIDDEN void sb_on_accept(struct svmbind_broker *b);
HIDDEN uint32_t sb_fit_fd_limit(uint32_t asked);

#endif
