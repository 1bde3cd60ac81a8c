/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Private to the broker and client (lib/broker/). */
#ifndef SVMBIND_BROKER_INTERNAL_H
#define SVMBIND_BROKER_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include <svmbind/broker.h>

#include "../internal.h"
#include "wire.h"

/* ---- errors (errors.c) ---- */

/* A system call just failed: its -errno, remembered as the kernel's errno of
 * the public call under way (svmbind_kernel_errno()). */
HIDDEN int sb_syserr(void);
/* A public call begins: nothing failed in it yet. */
HIDDEN void sb_begin(void);
/* A public call ends with @ret: 0/positive, or a code (errno set, and the
 * kernel errno of the system call that failed in it, if one did). */
HIDDEN int sb_done(int ret);

/* ---- kernel-verified identity (peer.c) ---- */

HIDDEN int sb_pidfd_open(pid_t pid);			/* fd or -errno */
HIDDEN int sb_peer_pidfd(int sock);			/* SO_PEERPIDFD: fd or -errno */
HIDDEN bool sb_have_peer_pidfd(void);			/* probed once */
/* The process that connected (SO_PEERPIDFD, else a pidfd of SO_PEERCRED's pid
 * taken at accept): fd or -errno. */
HIDDEN int sb_connector_pidfd(int sock, bool peerpidfd);
/* Do two pidfds name one process? (pidfs inodes, else live pid numbers) */
HIDDEN bool sb_same_process(int conn, int hello);
/* The address-space witness: /proc/PID/mem, else /proc/PID/maps (*maps set):
 * fd or -errno. Its state: 1 that address space lives, 0 it is torn down,
 * -1 unknown (no witness, or a maps witness of a reaped process). */
HIDDEN int sb_witness_open(pid_t pid, bool *maps);
HIDDEN int sb_witness_state(int fd, bool maps);

enum { SB_MAX_GROUPS = 64 };
struct sb_status {
	uid_t uid[4];		/* real, effective, saved, fs */
	gid_t gid[4];
	uint32_t nr_groups;
	gid_t groups[SB_MAX_GROUPS];
};
HIDDEN int sb_proc_status(pid_t pid, struct sb_status *st);	/* 0 or -errno */
/* Would the kernel's PTRACE_MODE_ATTACH_REALCREDS credential part let us at
 * a process with these credentials (same real uid/gid as all of its ids,
 * or our CAP_SYS_PTRACE)? Yama and dumpability are not judged here. */
HIDDEN bool sb_creds_ptraceable(const struct sb_status *st);

/* ---- policy (policy.c) ---- */

struct sb_policy {
	uint32_t flags;
	uid_t self_uid;
	uid_t *uids;
	gid_t *gids;
	uint32_t nr_uids, nr_gids;
	svmbind_broker_policy_fn fn;
	void *arg;
};
HIDDEN int sb_policy_init(struct sb_policy *p, const struct svmbind_broker_opts *o);
HIDDEN void sb_policy_fini(struct sb_policy *p);
/* 0, or -SVMBIND_BROKER_ERR_UID_DENIED / _GID_DENIED / the callback's code. */
HIDDEN int sb_policy_check(const struct sb_policy *p, const struct svmbind_broker_peer *peer);

/* ---- listening socket (listen.c) ---- */

/* A listening, non-blocking, close-on-exec socket; *created set when we made path. */
HIDDEN int sb_listen_path(const char *path, unsigned int mode, dev_t *dev, ino_t *ino);
/* Remove the socket file at @path if it is still the one we made (lstat: a link is not followed). */
HIDDEN void sb_unlink_ours(const char *path, dev_t dev, ino_t ino);
HIDDEN int sb_listen_inherited(int fd);
/* A start that failed: close the inherited listening socket it was given (opts.listen_fd). */
HIDDEN void sb_listen_drop(int listen_fd);
HIDDEN int sb_listen_systemd(void);

/* ---- process events (procevents.c) ---- */

struct sb_procevents;
enum sb_event { SB_EV_EXEC = 1, SB_EV_CREDS = 2, SB_EV_EXIT = 3 };
typedef void (*sb_event_fn)(void *arg, enum sb_event ev, pid_t tgid);
/* 0 and *out, or the reason it cannot be had (-EPERM, -EOPNOTSUPP, -ENOTCONN:
 * the kernel did not acknowledge the subscription, ...). */
HIDDEN int sb_procevents_open(struct sb_procevents **out);
HIDDEN int sb_procevents_fd(struct sb_procevents *pe);
/* Read what is pending; call fn for each event. 0, or -errno (then close it). */
HIDDEN int sb_procevents_read(struct sb_procevents *pe, sb_event_fn fn, void *arg);
/* @owner: the process that opened it; a forked child closes its copy without
 * unsubscribing (the socket is its parent's too). */
HIDDEN void sb_procevents_close(struct sb_procevents *pe, bool owner);

/* ---- the client's calls for client_share.c (client.c) ---- */

/* HELLO_OK's features. */
HIDDEN uint32_t sb_client_features(const struct svmbind_client *cl);
/* One version-2 request carrying @fd (-1: none); the answer @want lands in *m. 0 or a code. */
HIDDEN int sb_client_call(struct svmbind_client *cl, struct sbw_msg *m, int fd, uint8_t want);

/* ---- shared memory and PASID spaces (share.c) ---- */

/* One connection's shared regions (SHARE) and, once bound on a kernel without
 * the seed's bind, the PASID space that holds them at the client's addresses. */
struct sb_share;
/* Whether BIND makes PASID spaces for @dev: no seed bind, an iommufd context. */
HIDDEN bool sb_share_spaces(struct svmbind_device *dev);
/* SHARE: take @fd (always: closed on failure). @limit: bytes a connection may
 * share, 0 none. 0 or a code to answer with. */
HIDDEN int sb_share_add(struct sb_share **sh, int fd, const struct sbw_msg *m, uint64_t limit,
			pid_t pid);
/* UNSHARE: 0 or -SVMBIND_SPACE_ERR_NO_REGION (or the unmap's code). */
HIDDEN int sb_share_remove(struct sb_share *sh, uint64_t addr, uint64_t len);
/* BIND: a new space of @dev holding every region shared so far. 0 and *pasid, or a code. */
HIDDEN int sb_share_bind(struct sb_share **sh, struct svmbind_device *dev, bool on_demand,
			 pid_t pid, uint32_t *pasid);
HIDDEN struct svmbind_space *sb_share_space(const struct sb_share *sh);	/* NULL: not bound */
HIDDEN int sb_share_fault_fd(const struct sb_share *sh);		/* -1: none */
/* Serve the space's waiting page requests: only inside shared regions. */
HIDDEN void sb_share_dispatch(struct sb_share *sh);
/* Revocation: free the space (PASID detached, every pin released); the regions stay shared. */
HIDDEN void sb_share_unbind(struct sb_share *sh);
/* Connection closed: the space and every region (its fd) go. NULL is fine. */
HIDDEN void sb_share_free(struct sb_share *sh);

#endif
