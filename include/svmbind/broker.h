/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/**
 * @file svmbind/broker.h
 * @brief The seed's A/B flow, done safely: a bind broker for the device owner
 *        (process A) and a client for every other process (B).
 *
 * A owns a VFIO device and serves, on a Unix socket, requests to bind the
 * requester's own address space. The requester's identity comes from the
 * kernel only (SCM_CREDENTIALS on every message, plus a pidfd: the peer's
 * SO_PEERPIDFD where the kernel has it, else one the client passes and the
 * broker checks names the live process with the credentials' pid); no pid in
 * a payload is ever used. Bonds end when the client unbinds, disconnects,
 * exits (the pidfd), execs or changes credentials (the process-events
 * connector, when available: svmbind_broker_procevents()). The client names
 * the broker as its ptrace tracer around the bind when Yama asks for it.
 *
 * The conventions of svmbind.h hold here: 0 or a negative code, errno set,
 * size-prefixed options, O_CLOEXEC everywhere, failures explained through the
 * logging callback. docs/broker.md tells the design; docs/broker-protocol.md
 * the wire protocol.
 */
#ifndef SVMBIND_BROKER_H
#define SVMBIND_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/svmbind.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_broker Bind broker and client
 *  @brief A (the device owner) binds B (anyone else) on request, with kernel-verified identity.
 *  @note `#include <svmbind/broker.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/**
 * @brief Broker codes, returned negated like the SVMBIND_ERR_* codes.
 *
 * svmbind_strerror() describes them, svmbind_error_errno() gives the classic
 * errno each one refines (in parentheses). Codes a broker sends to a client
 * reach the client's call unchanged, as do library codes (e.g.
 * -SVMBIND_ERR_PTRACE_DENIED, -SVMBIND_ERR_NO_SVM_BIND) and errnos.
 */
enum svmbind_broker_error {
	SVMBIND_BROKER_ERR_BASE = 4100,		/**< first broker code */
	/** A message was malformed: bad magic, unknown type, wrong length, stray fds. (EPROTO) */
	SVMBIND_BROKER_ERR_PROTOCOL = SVMBIND_BROKER_ERR_BASE,
	/** Client and broker share no protocol version. (EPROTONOSUPPORT) */
	SVMBIND_BROKER_ERR_VERSION,
	/** A message is longer than the protocol allows. (EMSGSIZE) */
	SVMBIND_BROKER_ERR_TOO_BIG,
	/** A well-formed message that is not valid now (BIND before HELLO, a reply type from a client). (EPROTO) */
	SVMBIND_BROKER_ERR_UNEXPECTED,
	/** The kernel-verified identity does not hold: the sender is not the process that
	 *  connected (fork or fd passing after connect), or the pidfd names another process. (EPERM) */
	SVMBIND_BROKER_ERR_IDENTITY,
	/** The requesting process has exited. (ESRCH) */
	SVMBIND_BROKER_ERR_PEER_GONE,
	/** The policy does not allow the client's uid. (EACCES) */
	SVMBIND_BROKER_ERR_UID_DENIED,
	/** The policy allows only certain groups and the client is in none of them. (EACCES) */
	SVMBIND_BROKER_ERR_GID_DENIED,
	/** The owner's policy callback refused the client. (EACCES) */
	SVMBIND_BROKER_ERR_POLICY_DENIED,
	/** The broker serves as many connections as its limit allows. (EUSERS) */
	SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS,
	/** The client's uid has as many connections as its limit allows. (EUSERS) */
	SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS_UID,
	/** The broker holds as many bonds as its limit allows. (ENOSPC) */
	SVMBIND_BROKER_ERR_TOO_MANY_BONDS,
	/** The client's uid holds as many bonds as its limit allows. (EDQUOT) */
	SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID,
	/** This connection holds a bond already (one address space, one bond). (EEXIST) */
	SVMBIND_BROKER_ERR_ALREADY_BOUND,
	/** This connection holds no bond (with that PASID). (ENOENT) */
	SVMBIND_BROKER_ERR_NOT_BOUND,
	/** The bond was revoked (exit, exec, credential change, broker shutdown). (ECONNABORTED) */
	SVMBIND_BROKER_ERR_REVOKED,
	/** The owner handles no application requests. (EOPNOTSUPP) */
	SVMBIND_BROKER_ERR_NO_HANDLER,
	/** The broker closed the connection (it stopped, restarted, or dropped this client). (ECONNRESET) */
	SVMBIND_BROKER_ERR_DISCONNECTED,
	/** Yama's ptrace_scope forbids this bind outright (3, or 2 with a broker
	 *  without CAP_SYS_PTRACE); found before asking. (EPERM) */
	SVMBIND_BROKER_ERR_YAMA,
	/** No answer in time (a client's HELLO, or the broker's reply). (ETIMEDOUT) */
	SVMBIND_BROKER_ERR_TIMEOUT,
	/** No usable inherited listening socket (LISTEN_FDS unset, not for us, or not a
	 *  listening AF_UNIX stream socket). (EBADF) */
	SVMBIND_BROKER_ERR_NO_LISTEN_FD,
	/** The client's shared memory would pass the broker's limit
	 *  (svmbind_broker_opts::max_shared_bytes, or 256 regions a connection). (EDQUOT) @since 1.2 */
	SVMBIND_BROKER_ERR_SHARE_LIMIT,
	SVMBIND_BROKER_ERR_END			/**< one past the last broker code */
};

/** @brief Why a bond ended without the client asking (REVOKED notice, svmbind_client_check()). */
enum svmbind_broker_revoke_reason {
	SVMBIND_REVOKED_EXIT = 1,	/**< the client process exited */
	SVMBIND_REVOKED_EXEC = 2,	/**< the client exec'd: its bound address space is gone */
	SVMBIND_REVOKED_CREDS = 3,	/**< the client's credentials changed and the policy no longer allows it */
	SVMBIND_REVOKED_DISCONNECT = 4,	/**< the connection closed */
	SVMBIND_REVOKED_SHUTDOWN = 5,	/**< the broker is stopping */
	SVMBIND_REVOKED_OWNER = 6,	/**< the owner revoked it (svmbind_broker_revoke()) */
};

/* ---- broker (process A) ---- */

/** @brief A bind broker: one device, one listening socket, its clients. Opaque. */
struct svmbind_broker;

/** @brief A client as the kernel vouches for it, for the policy callback. */
struct svmbind_broker_peer {
	size_t sz;		/**< sizeof(struct svmbind_broker_peer) as the library fills it */
	pid_t pid;		/**< the process, in the broker's pid namespace */
	uid_t uid;		/**< its uid (SCM_CREDENTIALS, checked by the kernel at send time) */
	gid_t gid;		/**< its gid (idem) */
	uint32_t nr_groups;	/**< entries in @ref groups */
	const gid_t *groups;	/**< its supplementary groups (/proc/PID/status, read while the pidfd was alive) */
};

/**
 * @brief Policy callback: may this client connect?
 * @param arg   svmbind_broker_opts.policy_arg.
 * @param peer  the client; valid during the call.
 * @return 0 to allow; a negative code to refuse (the client receives it;
 *         -SVMBIND_BROKER_ERR_POLICY_DENIED is the natural one).
 */
typedef int (*svmbind_broker_policy_fn)(void *arg, const struct svmbind_broker_peer *peer);

/** @brief An application request, delivered with the requester's verified bond. */
struct svmbind_broker_req {
	size_t sz;		/**< sizeof(struct svmbind_broker_req) as the library fills it */
	uint32_t type;		/**< the client's request type (the owner's own numbering) */
	uint32_t pasid;		/**< the requester's bond: its address space's PASID */
	pid_t pid;		/**< the requester, verified by the kernel */
	uid_t uid;		/**< its uid */
	gid_t gid;		/**< its gid */
	uint32_t reserved;	/**< 0 (explicit padding) */
	const void *data;	/**< the request's bytes (not NUL-terminated) */
	size_t len;		/**< their number, at most #SVMBIND_BROKER_MAX_DATA */
};

/**
 * @brief Application-request handler.
 *
 * Called from svmbind_broker_dispatch() in the dispatching thread, only for a
 * client that holds a live bond. It may call svmbind_broker_nr_bonds() and
 * svmbind_broker_bond(), not dispatch.
 * @param arg  svmbind_broker_opts.request_arg.
 * @param req  the request; valid during the call.
 * @param reply  a buffer of *@p reply_len bytes (#SVMBIND_BROKER_MAX_DATA).
 * @param[in,out] reply_len  in: the buffer's size; out: the bytes to send back (0 by default).
 * @return the status the client receives: >= 0 the owner's own meaning; < 0 a code.
 */
typedef int (*svmbind_broker_request_fn)(void *arg, const struct svmbind_broker_req *req,
					 void *reply, size_t *reply_len);

/** Largest application request or reply payload, in bytes. */
#define SVMBIND_BROKER_MAX_DATA 4096
/** svmbind_broker_opts.listen_fd: take the socket systemd passed (LISTEN_FDS, the first one). */
#define SVMBIND_BROKER_LISTEN_SYSTEMD (-2)

/** @brief Broker flags. */
enum svmbind_broker_flags {
	/** Allow any uid (else: only the broker's own real uid, plus allow_uids). */
	SVMBIND_BROKER_ANY_UID = 1u << 0,
	/** Revoke a bond when its client's credentials change so that the policy or the
	 *  classic ptrace credential check would refuse it now. */
	SVMBIND_BROKER_REVOKE_ON_CREDS = 1u << 1,
	/** Do not open the process-events connector (exec and credential changes are then
	 *  seen only at the client's next request). */
	SVMBIND_BROKER_NO_PROCEVENTS = 1u << 2,
	/** Ignore SO_PEERPIDFD even where the kernel has it (use the 6.1 scheme: tests). */
	SVMBIND_BROKER_NO_PEERPIDFD = 1u << 3,
	/** PASID spaces (a kernel without the seed's bind): place a client's shared
	 *  regions page by page as the device asks for them (page requests, PRI),
	 *  instead of pinning them all at BIND. @since 1.2 */
	SVMBIND_BROKER_SPACE_ON_DEMAND = 1u << 4,
};

/** @brief Options for svmbind_broker_new(). Zero means the default for every field but `sz`. */
struct svmbind_broker_opts {
	size_t sz;			/**< sizeof(struct svmbind_broker_opts) */
	const char *path;		/**< socket path to create (NULL: use @ref listen_fd) */
	int32_t listen_fd;		/**< 0 with @ref path; else an inherited listening socket
					     (the broker takes it), or #SVMBIND_BROKER_LISTEN_SYSTEMD */
	uint32_t mode;			/**< permissions of the socket file; 0: 0660 */
	uint32_t flags;			/**< enum svmbind_broker_flags */
	uint32_t max_clients;		/**< connections at once; 0: 1024, or fewer where
					     RLIMIT_NOFILE leaves room for fewer (3 fds a client) */
	uint32_t max_clients_per_uid;	/**< connections of one uid, counted from accept (the
					     connector's uid) before the client says anything; 0: max_clients */
	uint32_t max_bonds;		/**< bonds at once; 0: max_clients */
	uint32_t max_bonds_per_uid;	/**< bonds of one uid; 0: max_bonds */
	uint32_t hello_timeout_ms;	/**< a connection must say HELLO within this, and finish
					     each message it begins within this; 0: 5000 */
	const uid_t *allow_uids;	/**< uids allowed besides the broker's own (see flags) */
	const gid_t *allow_gids;	/**< if non-empty: a client must be in one of these groups */
	uint32_t nr_allow_uids;		/**< entries in @ref allow_uids */
	uint32_t nr_allow_gids;		/**< entries in @ref allow_gids */
	svmbind_broker_policy_fn policy;	/**< optional, after the uid and gid lists */
	void *policy_arg;		/**< passed to @ref policy */
	svmbind_broker_request_fn on_request;	/**< optional application-request handler */
	void *request_arg;		/**< passed to @ref on_request */
	/** bytes one connection may share (svmbind_client_share()); 0: no limit of the
	 *  broker's own (pinned pages still count against its RLIMIT_MEMLOCK) @since 1.2 */
	uint64_t max_shared_bytes;
};

/**
 * @brief Create a broker for @p dev, listening on a new socket or an inherited one.
 *
 * With `path`, a stale socket file (nobody listening) is replaced, and the
 * file gets `mode` before the socket listens, so no connection is accepted
 * with looser permissions; the mode is set on the socket before bind(2) and
 * through an `O_PATH` fd of the file it made, never by name, so nothing but
 * that socket ever gets it. An inherited listening socket belongs to the
 * broker once given: a failed start closes it. With #SVMBIND_BROKER_LISTEN_SYSTEMD the first fd of
 * systemd's socket activation is used (sd_listen_fds() when libsystemd was
 * found at build time, else the same LISTEN_PID/LISTEN_FDS protocol read
 * directly). The process-events connector is opened unless
 * #SVMBIND_BROKER_NO_PROCEVENTS; its absence is not an error
 * (svmbind_broker_procevents() tells why, and the log says what is then not
 * revoked at once). The device must stay open while the broker lives.
 * @param dev   the device whose bonds the broker makes.
 * @param opts  the socket is mandatory: `path` or `listen_fd`.
 * @param[out] broker  the new broker; untouched on failure.
 * @return 0, or
 *   - -EINVAL: NULL @p dev or @p broker or @p opts; bad `sz` or unknown
 *     non-zero bytes; unknown flags; both or neither of `path` and `listen_fd`;
 *     `allow_uids` or `allow_gids` NULL with a count;
 *   - -EOVERFLOW: `nr_allow_uids` or `nr_allow_gids` too large for this machine's address space;
 *   - -EEXIST: the file at `path` was replaced by another (a link, another
 *     user's file) right after bind(2): its directory is writable by others;
 *   - -ENAMETOOLONG: `path` does not fit a sockaddr_un;
 *   - -EADDRINUSE: a broker already listens on `path`;
 *   - -SVMBIND_BROKER_ERR_NO_LISTEN_FD: the inherited fd is not a listening
 *     AF_UNIX stream socket, or systemd passed none;
 *   - -ENOMEM, and any errno of socket(2), bind(2), chmod(2), listen(2),
 *     epoll_create1(2), eventfd(2), timerfd_create(2) (e.g. -EACCES, -EMFILE).
 */
SVMBIND_API int svmbind_broker_new(struct svmbind_device *dev, const struct svmbind_broker_opts *opts,
				   struct svmbind_broker **broker);

/**
 * @brief Revoke every bond (clients are told: #SVMBIND_REVOKED_SHUTDOWN), close
 *        every connection and the socket, and remove the socket file it created.
 * @param broker  the broker, or NULL.
 */
SVMBIND_API void svmbind_broker_free(struct svmbind_broker *broker);

/**
 * @brief One fd for the owner's event loop: readable when svmbind_broker_dispatch() has work.
 * @param broker  the broker.
 * @return the fd (an epoll fd, owned by the broker). Cannot fail.
 */
SVMBIND_API int svmbind_broker_fd(const struct svmbind_broker *broker);

/**
 * @brief Serve what is ready: accept, read, answer, revoke. Never blocks on a client.
 * @param broker  the broker.
 * @param timeout_ms  how long to wait for work: 0 none, -1 forever.
 * @return the number of events handled (0 on timeout), or
 *   - -EINVAL: @p broker is NULL;
 *   - -ECANCELED: svmbind_broker_stop() was called (the broker still works:
 *     the next dispatch serves again);
 *   - -SVMBIND_ERR_FORKED: called in a child of the process that created the broker;
 *   - any errno of epoll_wait(2) but EINTR (which counts as 0 events).
 * A client's error never fails the call: that client is answered and dropped.
 */
SVMBIND_API int svmbind_broker_dispatch(struct svmbind_broker *broker, int timeout_ms);

/**
 * @brief Dispatch until svmbind_broker_stop() or an error.
 * @param broker  the broker.
 * @return 0 after svmbind_broker_stop(), or what svmbind_broker_dispatch() returns
 *         on failure (other than -ECANCELED).
 */
SVMBIND_API int svmbind_broker_run(struct svmbind_broker *broker);

/**
 * @brief Make svmbind_broker_run() return (and the current or next dispatch
 *        answer -ECANCELED). Safe from any thread and from a signal handler.
 * @param broker  the broker.
 */
SVMBIND_API void svmbind_broker_stop(struct svmbind_broker *broker);

/**
 * @brief Whether exec and credential changes are revoked as they happen.
 * @param broker  the broker.
 * @return 1 when the process-events connector is open and the kernel
 *   acknowledged the subscription; else the reason it is not, negated: -EPERM
 *   (no CAP_NET_ADMIN), -EOPNOTSUPP (built without libnl-3), -ECANCELED
 *   (#SVMBIND_BROKER_NO_PROCEVENTS), -EPROTONOSUPPORT (kernel without
 *   CONFIG_PROC_EVENTS), -ENOTCONN (no acknowledgment: the kernel ignores
 *   subscriptions from outside the initial pid and user namespaces), or
 *   another errno of the netlink socket. Cannot fail.
 */
SVMBIND_API int svmbind_broker_procevents(const struct svmbind_broker *broker);

/** @brief Live connections. @param broker the broker. @return a count. Cannot fail. */
SVMBIND_API size_t svmbind_broker_nr_clients(struct svmbind_broker *broker);

/** @brief Live bonds. @param broker the broker. @return a count. Cannot fail. */
SVMBIND_API size_t svmbind_broker_nr_bonds(struct svmbind_broker *broker);

/** @brief One bond the broker holds, with its owner. */
struct svmbind_broker_bond {
	size_t sz;		/**< in: sizeof(struct svmbind_broker_bond) as the caller knows it;
				     out: the bytes filled, never more than it was */
	uint32_t pasid;		/**< out: the PASID */
	pid_t pid;		/**< out: the bound process (kernel-verified) */
	uid_t uid;		/**< out: its uid at connection */
	gid_t gid;		/**< out: its gid at connection */
};

/**
 * @brief The @p i-th bond (order changes as bonds come and go).
 * @param broker  the broker.
 * @param i  index from 0.
 * @param[in,out] bond  `sz` set by the caller; at most that many bytes are
 *        written, and `sz` then says how many were (min(caller's, library's)).
 * @return 0, or -ENOENT past the last bond, -EINVAL for NULL or a bad `sz`.
 */
SVMBIND_API int svmbind_broker_bond(struct svmbind_broker *broker, size_t i,
				    struct svmbind_broker_bond *bond);

/**
 * @brief Revoke the bond with @p pasid (its client is told #SVMBIND_REVOKED_OWNER
 *        and keeps its connection).
 * @param broker  the broker.
 * A bond whose address space has ended is only forgotten (its PASID may name
 * another bond by now). Safe from another thread and from the request handler.
 * @param pasid   the bond's PASID.
 * @return 0, or -EINVAL (NULL), -ENOENT (no such bond), or the unbind's error
 *         (after a retry with VFIO_SVM_PASID_RELEASE_FLUSHED where the kernel
 *         answered -EINVAL): then the bond stays listed and its client is not told.
 */
SVMBIND_API int svmbind_broker_revoke(struct svmbind_broker *broker, uint32_t pasid);

/* Forward declaration: svmbind/space.h has the calls. */
struct svmbind_space;

/**
 * @brief The PASID space of a bond made on a kernel without the seed's bind,
 *        for the request handler to serve the device's page requests while it
 *        waits for the device (svmbind_space_dispatch()).
 *
 * Where the kernel has no seed bind (VFIO_DEVICE_BIND_TASK answers ENOTTY) and
 * the device can have PASID spaces (svmbind/space.h), BIND gives the client a
 * PASID whose space holds exactly the regions it shared, at its own virtual
 * addresses. The broker serves that space's page requests in its dispatch;
 * a handler that waits for the device inside the dispatch serves them itself.
 * @param broker  the broker.
 * @param pasid  the bond's PASID (svmbind_broker_req::pasid).
 * @param[out] space  the space, valid until the bond ends (at the latest when
 *        the handler returns, if the client goes meanwhile).
 * @return 0, or -EINVAL (NULL), -ENOENT (no such bond), -EOPNOTSUPP (the bond
 *         is the seed's bind of the whole address space, not a space).
 * @since 1.2
 */
SVMBIND_API int svmbind_broker_space(struct svmbind_broker *broker, uint32_t pasid,
				     struct svmbind_space **space);

/* ---- client (process B) ---- */

/** @brief A connection to a broker. Opaque. */
struct svmbind_client;

/** @brief Client flags. */
enum svmbind_client_flags {
	/** Never call prctl(PR_SET_PTRACER) (the caller arranges Yama itself). */
	SVMBIND_CLIENT_NO_PTRACER = 1u << 0,
};

/** @brief Options for svmbind_client_connect(). */
struct svmbind_client_opts {
	size_t sz;		/**< sizeof(struct svmbind_client_opts) */
	uint32_t flags;		/**< enum svmbind_client_flags */
	int32_t timeout_ms;	/**< per call; 0: 30000; -1: none. A call that times out closes
				     the connection (a late answer is never taken for the next one) */
};

/**
 * @brief Connect to the broker at @p path and introduce ourselves (HELLO).
 *
 * Sends this process's pidfd (pidfd_open(2)) with the kernel's credentials;
 * the broker checks them and its policy before answering.
 * @param path  the broker's socket.
 * @param opts  NULL for defaults.
 * @param[out] client  the connection; untouched on failure.
 * @return 0, or
 *   - -EINVAL: NULL argument, bad options;
 *   - -ENAMETOOLONG: @p path too long for a sockaddr_un;
 *   - -ENOENT, -ECONNREFUSED, -EACCES: no socket there, no broker listening, no permission (connect(2));
 *   - -SVMBIND_BROKER_ERR_TIMEOUT: no answer in time;
 *   - -SVMBIND_BROKER_ERR_DISCONNECTED: the broker closed the connection without a reason;
 *   - any code the broker refuses with: -SVMBIND_BROKER_ERR_UID_DENIED, _GID_DENIED,
 *     _POLICY_DENIED (or the policy's own code), _TOO_MANY_CLIENTS, _TOO_MANY_CLIENTS_UID,
 *     _IDENTITY, _PEER_GONE, _VERSION, _PROTOCOL;
 *   - -ENOSYS: no pidfd_open(2) (Linux < 5.3);
 *   - -ENOMEM, any errno of socket(2), connect(2), sendmsg(2), recvmsg(2).
 */
SVMBIND_API int svmbind_client_connect(const char *path, const struct svmbind_client_opts *opts,
				       struct svmbind_client **client);

/**
 * @brief Close the connection (the broker then revokes the bond, if any).
 * @param client  the connection, or NULL.
 */
SVMBIND_API void svmbind_client_close(struct svmbind_client *client);

/**
 * @brief The connection's socket, for poll(2): readable when a notice (a
 *        revocation) waits; then call svmbind_client_check().
 * @param client  the connection.
 * @return the fd, owned by the connection. Cannot fail.
 */
SVMBIND_API int svmbind_client_fd(const struct svmbind_client *client);

/**
 * @brief The broker's pid, from the kernel (SO_PEERCRED), in our pid namespace.
 * @param client  the connection.
 * @return the pid (0 if it is outside our pid namespace). Cannot fail.
 */
SVMBIND_API pid_t svmbind_client_broker_pid(const struct svmbind_client *client);

/**
 * @brief Ask the broker to bind this process's address space; get the PASID.
 *
 * Where Yama's ptrace_scope (read at connect) is 1 and the broker is not our ancestor, names
 * the broker as our tracer (prctl(PR_SET_PTRACER)) for the bind only and
 * clears it afterwards (a tracer named before is not restored: Linux cannot
 * tell it). Where the scope forbids the bind outright (3; 2 with a broker
 * without CAP_SYS_PTRACE) fails before asking.
 * @param client  the connection.
 * @param[out] pasid  the PASID of our address space on the broker's device.
 * @return 0, or
 *   - -EINVAL: NULL argument;
 *   - -SVMBIND_ERR_FORKED: the connection was made by our parent;
 *   - -SVMBIND_BROKER_ERR_YAMA: Yama forbids it (the log says which scope and the remedy);
 *   - -SVMBIND_BROKER_ERR_IDENTITY: Yama asks that the broker be named our tracer, and the
 *     process that answered is not to be trusted with it (it exited, changed user, does not
 *     own the socket file, or is pid 1): nothing was asked;
 *   - -SVMBIND_BROKER_ERR_ALREADY_BOUND, _TOO_MANY_BONDS, _TOO_MANY_BONDS_UID,
 *     _IDENTITY, _PEER_GONE, _REVOKED (revoked during the bind);
 *   - the broker's bind error: -SVMBIND_ERR_NO_SVM_BIND, -SVMBIND_ERR_NO_PID_BIND,
 *     -SVMBIND_ERR_PTRACE_DENIED, -SVMBIND_ERR_NO_PROCESS,
 *     -SVMBIND_ERR_PASID_EXHAUSTED, -ENODEV, -EINVAL, -ENOMEM...;
 *   - -SVMBIND_BROKER_ERR_DISCONNECTED, -SVMBIND_BROKER_ERR_TIMEOUT, -SVMBIND_BROKER_ERR_PROTOCOL
 *     (the broker's answer did not parse, or its code is no error code); after _TIMEOUT
 *     or _PROTOCOL the connection is shut down (the broker revokes a bond it made) and
 *     every later call answers -SVMBIND_BROKER_ERR_DISCONNECTED;
 *   - any errno of sendmsg(2), recvmsg(2), poll(2), prctl(2).
 */
SVMBIND_API int svmbind_client_bind(struct svmbind_client *client, uint32_t *pasid);

/**
 * @brief Ask the broker to drop our bond.
 * @param client  the connection.
 * @return 0, or -EINVAL, -SVMBIND_ERR_FORKED, -SVMBIND_BROKER_ERR_NOT_BOUND,
 *   -SVMBIND_BROKER_ERR_REVOKED (it was revoked meanwhile: nothing to do),
 *   the broker's svm_unbind() error, -SVMBIND_BROKER_ERR_DISCONNECTED, _TIMEOUT,
 *   _PROTOCOL, any errno of sendmsg(2), recvmsg(2), poll(2).
 */
SVMBIND_API int svmbind_client_unbind(struct svmbind_client *client);

/**
 * @brief Send an application request; wait for the owner's reply.
 *
 * The owner receives it with our verified bond (svmbind_broker_req).
 * @param client  the connection.
 * @param type    the owner's request type.
 * @param data    request bytes (may be NULL when @p len is 0).
 * @param len     at most #SVMBIND_BROKER_MAX_DATA.
 * @param reply   buffer for the reply's bytes (may be NULL with *@p reply_len 0 or NULL @p reply_len).
 * @param[in,out] reply_len  in: the buffer's size; out: the reply's size (bytes beyond the buffer are dropped).
 * @param[out] status  the owner's status (may be NULL).
 * @return 0 when the owner answered (whatever its status), or
 *   - -EINVAL: NULL @p client, @p len too big;
 *   - -SVMBIND_ERR_FORKED; -SVMBIND_BROKER_ERR_NOT_BOUND (bind first);
 *   - -SVMBIND_BROKER_ERR_REVOKED: our bond was revoked (exec, credentials...);
 *   - -SVMBIND_BROKER_ERR_NO_HANDLER: the owner handles no requests;
 *   - -SVMBIND_BROKER_ERR_DISCONNECTED, _TIMEOUT, _PROTOCOL; any errno of
 *     sendmsg(2), recvmsg(2), poll(2).
 */
SVMBIND_API int svmbind_client_request(struct svmbind_client *client, uint32_t type,
				       const void *data, size_t len, void *reply, size_t *reply_len,
				       int32_t *status);

/**
 * @brief Read pending notices without blocking longer than @p timeout_ms.
 * @param client  the connection.
 * @param timeout_ms  0 just looks, -1 waits for a notice.
 * @param[out] reason  the enum svmbind_broker_revoke_reason (may be NULL).
 * @return 1 when our bond has been revoked (once per revocation), 0 when
 *   nothing happened, or -EINVAL, -SVMBIND_ERR_FORKED,
 *   -SVMBIND_BROKER_ERR_DISCONNECTED, -SVMBIND_BROKER_ERR_PROTOCOL, any errno of
 *   recvmsg(2), poll(2).
 */
SVMBIND_API int svmbind_client_check(struct svmbind_client *client, int timeout_ms, uint32_t *reason);

/** @brief What a bond of this broker gives the device (svmbind_client_bind_kind()). @since 1.2 */
enum svmbind_bind_kind {
	/** the seed's bind: the whole address space, pages faulted in as the CPU would */
	SVMBIND_BIND_SEED = 1,
	/** a PASID space: only the regions shared with svmbind_client_share() (or
	 *  _share_alloc()), at our addresses, pinned while mapped */
	SVMBIND_BIND_SPACE = 2,
};

/**
 * @brief Which kind of bond the broker makes (known from its HELLO answer).
 * @param client  the connection.
 * @return an enum svmbind_bind_kind. Cannot fail.
 * @since 1.2
 */
SVMBIND_API int svmbind_client_bind_kind(const struct svmbind_client *client);

/**
 * @brief Share @p len bytes of the file @p fd, from @p offset, mapped in this
 *        process at @p addr, with the broker: they are what its device
 *        reaches at @p addr through our PASID space (#SVMBIND_BIND_SPACE).
 *
 * The fd is passed over the socket (SCM_RIGHTS); the broker keeps its own
 * copy and seals the file against shrinking. Regions shared before BIND are
 * placed at BIND, later ones at once. Our own later munmap(2) or mremap(2)
 * change nothing the device sees: unshare first.
 * @param client  the connection.
 * @param fd  a memfd made with MFD_ALLOW_SEALING (or a shmem or hugetlbfs file), open for writing.
 * @param offset  where in the file the region starts (page-aligned).
 * @param addr  where it is mapped in this process (page-aligned).
 * @param len  bytes (page-aligned, not 0).
 * @param flags  SVMBIND_DMA_READ and/or SVMBIND_DMA_WRITE; 0 means both.
 * @return 0, or -EINVAL (bad arguments), -SVMBIND_ERR_FORKED,
 *   -SVMBIND_BROKER_ERR_VERSION (the broker predates sharing), -EOPNOTSUPP
 *   (the broker makes the seed's bind, #SVMBIND_BIND_SEED: it takes no memory),
 *   -SVMBIND_BROKER_ERR_SHARE_LIMIT, -SVMBIND_SPACE_ERR_NOT_MEMFD,
 *   -SVMBIND_SPACE_ERR_SEALS, -SVMBIND_SPACE_ERR_BEYOND_FILE,
 *   -SVMBIND_SPACE_ERR_OVERLAP, -SVMBIND_SPACE_ERR_IOVA_RANGE,
 *   -SVMBIND_ERR_MEMLOCK (bound: the broker could not pin it),
 *   -SVMBIND_BROKER_ERR_DISCONNECTED, _TIMEOUT, _PROTOCOL, any errno of
 *   sendmsg(2), recvmsg(2), poll(2).
 * @since 1.2
 */
SVMBIND_API int svmbind_client_share(struct svmbind_client *client, int fd, uint64_t offset,
				     void *addr, size_t len, uint32_t flags);

/**
 * @brief Allocate @p len bytes of shared memory (a memfd, mapped here
 *        MAP_SHARED at an address we keep) and share them with the broker.
 * @param client  the connection.
 * @param len  bytes; rounded up to whole pages.
 * @param[out] addr  where the memory is mapped in this process.
 * @return 0, or what svmbind_client_share() returns, or any errno of
 *         memfd_create(2), ftruncate(2), mmap(2).
 * @since 1.2
 */
SVMBIND_API int svmbind_client_share_alloc(struct svmbind_client *client, size_t len, void **addr);

/**
 * @brief Stop sharing the region at @p addr of @p len bytes (as shared): the
 *        broker unmaps it from our space and releases its pins.
 * @param client  the connection.
 * @param addr  the region's address, as shared.
 * @param len  its length, as shared.
 * @return 0, or -EINVAL, -SVMBIND_ERR_FORKED, -SVMBIND_SPACE_ERR_NO_REGION,
 *   -SVMBIND_BROKER_ERR_VERSION, -SVMBIND_BROKER_ERR_DISCONNECTED, _TIMEOUT,
 *   _PROTOCOL, any errno of sendmsg(2), recvmsg(2), poll(2).
 * @since 1.2
 */
SVMBIND_API int svmbind_client_unshare(struct svmbind_client *client, void *addr, size_t len);

/**
 * @brief Unshare memory from svmbind_client_share_alloc() and unmap it.
 * @param client  the connection.
 * @param addr  as returned.
 * @param len  as asked.
 * @return 0, or what svmbind_client_unshare() returns (the memory stays mapped then).
 * @since 1.2
 */
SVMBIND_API int svmbind_client_share_free(struct svmbind_client *client, void *addr, size_t len);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
