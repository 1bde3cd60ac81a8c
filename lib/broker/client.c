// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The broker's client (process B): connect, introduce ourselves, bind, ask, unbind. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_state.h"

#ifndef PR_SET_PTRACER
#define PR_SET_PTRACER 0x59616d61
#endif

static int check_owner(struct svmbind_client *cl)
{
	return svmbind__process_token() == cl->token ? 0 : -SVMBIND_ERR_FORKED;
}

static int check_usable(struct svmbind_client *cl)
{
	if (!cl->broken)
		return 0;
	pr_err("broker client: this connection was closed after a request went unanswered: connect again");
	return -SVMBIND_BROKER_ERR_DISCONNECTED;
}

int svmbind_client_connect(const char *path, const struct svmbind_client_opts *opts,
			   struct svmbind_client **out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct svmbind_client *cl;
	struct sbw_msg m = { .type = SBW_HELLO };
	struct ucred uc;
	struct stat st;
	socklen_t len = sizeof(uc);
	int ret, pidfd;

	if (!path || !out)
		return NULL_ARG();
	if (!OPTS_VALID(opts, struct svmbind_client_opts))
		return FAIL(EINVAL);
	if (strlen(path) >= sizeof(a.sun_path)) {
		pr_err("broker client: socket path '%s' is longer than %zu bytes", path, sizeof(a.sun_path) - 1);
		return FAIL(ENAMETOOLONG);
	}
	sb_begin();
	strcpy(a.sun_path, path);
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return FAIL(ENOMEM);
	cl->broker_pidfd = -1;
	pthread_mutex_init(&cl->lock, NULL);
	cl->owner = getpid();
	cl->token = svmbind__process_token();
	cl->yama = svmbind__ptrace_scope();
	cl->flags = OPTS_GET(opts, flags, 0);
	cl->timeout_ms = OPTS_GET(opts, timeout_ms, 0);
	if (!cl->timeout_ms)
		cl->timeout_ms = 30000;
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0) {
		ret = sb_syserr();
		goto fail;
	}
	if (connect(cl->fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = sb_syserr();
		pr_err("broker client: connect %s: %s%s", path, strerror(-ret),
		       ret == -ENOENT || ret == -ECONNREFUSED ? " (is the broker running?)" :
		       ret == -EACCES ? " (the socket's mode or group does not let us in)" : "");
		goto fail;
	}
	if (!getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len)) {
		cl->broker_pid = uc.pid;
		cl->broker_uid = uc.uid;
	}
	/* Who the broker is, held for the Yama tracer check (broker_is_listener()). */
	cl->file_uid = lstat(path, &st) ? (uid_t)-1 : st.st_uid;
	if (cl->broker_pid > 0) {
		cl->broker_pidfd = sb_have_peer_pidfd() ? sb_peer_pidfd(cl->fd) : sb_pidfd_open(cl->broker_pid);
		if (cl->broker_pidfd < 0)
			cl->broker_pidfd = -1;
	}
	pidfd = sb_pidfd_open(getpid());
	if (pidfd < 0) {
		sb_syserr();	/* sb_pidfd_open left errno as the kernel said */
		ret = pidfd;
		pr_err("broker client: pidfd_open: %s (Linux 5.3 or later is needed)", strerror(-ret));
		goto fail;
	}
	m.u.hello.min_version = SBW_VERSION_MIN;
	m.u.hello.max_version = SBW_VERSION_MAX;
	ret = sb_client_send(cl, &m, pidfd);
	close(pidfd);
	if (ret && ret != -SVMBIND_BROKER_ERR_DISCONNECTED)
		goto fail;
	/* Closed already: a broker that refuses at accept (too many clients) says
	 * why and closes, maybe before our HELLO went out. Its ERROR is read all the
	 * same (a closed socket never blocks the read). */
	ret = sb_client_wait_reply(cl, cl->seq, SBW_HELLO_OK, &m, NULL, NULL);
	if (ret) {
		pr_err("broker client: the broker at %s refused us: %s", path, svmbind_strerror(ret));
		goto fail;
	}
	cl->features = m.u.hello_ok.features;
	cl->version = m.u.hello_ok.version;
	*out = cl;
	return sb_done(0);
fail:
	if (cl->fd >= 0)
		close(cl->fd);
	if (cl->broker_pidfd >= 0)
		close(cl->broker_pidfd);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	return sb_done(ret);
}

void svmbind_client_close(struct svmbind_client *cl)
{
	if (!cl)
		return;
	close(cl->fd);
	if (cl->broker_pidfd >= 0)
		close(cl->broker_pidfd);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

int svmbind_client_fd(const struct svmbind_client *cl)
{
	return cl->fd;
}

pid_t svmbind_client_broker_pid(const struct svmbind_client *cl)
{
	return cl->broker_pid;
}

/* Is @pid one of our ancestors? */
static bool is_ancestor(pid_t pid)
{
	pid_t p = getppid();

	for (int depth = 0; p > 1 && depth < 64; depth++) {
		char path[64], buf[1024], *s;

		if (p == pid)
			return true;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
		FILE *f = fopen(path, "re");

		if (!f)
			return false;
		s = NULL;
		while (fgets(buf, sizeof(buf), f))
			if (!strncmp(buf, "PPid:", 5)) {
				s = buf + 5;
				break;
			}
		fclose(f);
		if (!s)
			return false;
		p = (pid_t)strtol(s, NULL, 10);
	}
	return p == pid;
}

/* What Yama asks before the broker may bind us: 0 nothing, 1 name it our tracer, or a refusal. */
static int yama_plan(struct svmbind_client *cl)
{
	int scope = cl->yama;

	if (scope < 0 || scope == 0)
		return 0;
	if (scope == 3) {
		pr_err("broker client: Yama ptrace_scope is 3: no process may bind another's address "
		       "space until reboot (set kernel.yama.ptrace_scope below 3 at boot)");
		return -SVMBIND_BROKER_ERR_YAMA;
	}
	if (scope == 2) {
		if (cl->features & SBW_F_CAP_SYS_PTRACE)
			return 0;
		pr_err("broker client: Yama ptrace_scope is 2: only a broker with CAP_SYS_PTRACE may bind "
		       "us, and this one has not (give the broker CAP_SYS_PTRACE, or set the scope to 1)");
		return -SVMBIND_BROKER_ERR_YAMA;
	}
	if (cl->flags & SVMBIND_CLIENT_NO_PTRACER || (cl->features & SBW_F_CAP_SYS_PTRACE))
		return 0;
	if (!cl->broker_pid) {
		pr_err("broker client: Yama ptrace_scope is 1 and the broker is outside our pid "
		       "namespace: we cannot name it our tracer (run it in our namespace, or give it CAP_SYS_PTRACE)");
		return -SVMBIND_BROKER_ERR_YAMA;
	}
	return is_ancestor(cl->broker_pid) ? 0 : 1;
}

/*
 * Before naming the broker our tracer (Yama then lets that process and all
 * its descendants trace us): it must be the process that listens on the
 * socket we connected to, still alive with the same pid and uid, and the
 * owner of the socket file; never init (its descendants are everyone).
 */
static int broker_is_listener(struct svmbind_client *cl)
{
	struct sb_status st;
	const char *why = NULL;

	if (cl->broker_pid == 1)
		why = "it is pid 1 (socket activation?): naming it would let every process trace us";
	else if (cl->broker_pidfd < 0 || svmbind__pidfd_pid(cl->broker_pidfd) != cl->broker_pid)
		why = "that process has exited (its pid may name another process now)";
	else if (cl->file_uid != cl->broker_uid)
		why = "it does not own the socket file it answers on";
	else if (sb_proc_status(cl->broker_pid, &st) || st.uid[1] != cl->broker_uid ||
		 svmbind__pidfd_pid(cl->broker_pidfd) != cl->broker_pid)
		why = "its user changed since it listened";
	if (!why)
		return 0;
	pr_err("broker client: Yama ptrace_scope is 1 and the broker must be named our tracer, but the "
	       "process that answered (pid %d, uid %u; socket file owner uid %d) is not to be trusted: %s "
	       "(give the broker CAP_SYS_PTRACE, or start the client from it)", (int)cl->broker_pid,
	       (unsigned int)cl->broker_uid, (int)cl->file_uid, why);
	return -SVMBIND_BROKER_ERR_IDENTITY;
}

int svmbind_client_bind(struct svmbind_client *cl, uint32_t *pasid)
{
	struct sbw_msg m = { .type = SBW_BIND };
	int ret, plan;

	if (!cl || !pasid)
		return NULL_ARG();
	ret = check_owner(cl);
	if (ret)
		return FAIL(-ret);
	sb_begin();
	pthread_mutex_lock(&cl->lock);
	ret = check_usable(cl);
	if (ret)
		goto out;
	plan = yama_plan(cl);
	if (plan == 1)
		plan = broker_is_listener(cl) ? -SVMBIND_BROKER_ERR_IDENTITY : 1;
	if (plan < 0) {
		ret = plan;
		goto out;
	}
	if (plan == 1)
		pr_info("broker client: Yama ptrace_scope is 1 and the broker (pid %d) is not our ancestor: "
			"naming it our tracer for the bind", (int)cl->broker_pid);
	if (plan == 1 && prctl(PR_SET_PTRACER, (unsigned long)cl->broker_pid, 0, 0, 0)) {
		ret = sb_syserr();
		pr_err("broker client: prctl(PR_SET_PTRACER, %d): %s", (int)cl->broker_pid, strerror(-ret));
		goto out;
	}
	m.u.bind.pid = 0;	/* the broker takes our identity from the kernel */
	ret = sb_client_send(cl, &m, -1);
	if (!ret)
		ret = sb_client_wait_reply(cl, cl->seq, SBW_BIND_OK, &m, NULL, NULL);
	if (plan == 1)
		prctl(PR_SET_PTRACER, 0, 0, 0, 0);	/* the bond is made: no tracer needed any more */
	if (!ret) {
		cl->bound = true;
		cl->revoked_pending = false;
		cl->pasid = m.u.bind_ok.pasid;
		*pasid = cl->pasid;
	} else if (ret == -SVMBIND_ERR_PTRACE_DENIED) {
		pr_err("broker client: the broker (pid %d) may not bind us: the ptrace check refused "
		       "(it needs our real uid and gid, or CAP_SYS_PTRACE; Yama scope %d)",
		       (int)cl->broker_pid, cl->yama);
	} else if (ret == -SVMBIND_ERR_NO_SVM_BIND) {
		pr_err("broker client: the broker's device has no SVM bind in this kernel "
		       "(VFIO_DEVICE_BIND_TASK is not in mainline Linux; it needs the seed patch or a provider driver)");
	}
out:
	pthread_mutex_unlock(&cl->lock);
	return sb_done(ret);
}

int svmbind_client_unbind(struct svmbind_client *cl)
{
	struct sbw_msg m = { .type = SBW_UNBIND };
	int ret;

	if (!cl)
		return NULL_ARG();
	ret = check_owner(cl);
	if (ret)
		return FAIL(-ret);
	sb_begin();
	pthread_mutex_lock(&cl->lock);
	ret = check_usable(cl);
	if (ret)
		goto out;
	if (!cl->bound) {
		ret = cl->revoked_pending ? -SVMBIND_BROKER_ERR_REVOKED : -SVMBIND_BROKER_ERR_NOT_BOUND;
		cl->revoked_pending = false;
		goto out;
	}
	m.u.unbind.pasid = cl->pasid;
	ret = sb_client_send(cl, &m, -1);
	if (!ret)
		ret = sb_client_wait_reply(cl, cl->seq, SBW_UNBIND_OK, &m, NULL, NULL);
	if (!ret || ret == -SVMBIND_BROKER_ERR_NOT_BOUND)
		cl->bound = false;
	if (ret == -SVMBIND_BROKER_ERR_NOT_BOUND && cl->revoked_pending)
		ret = -SVMBIND_BROKER_ERR_REVOKED;
out:
	pthread_mutex_unlock(&cl->lock);
	return sb_done(ret);
}

int svmbind_client_request(struct svmbind_client *cl, uint32_t type, const void *data, size_t len,
			   void *reply, size_t *reply_len, int32_t *status)
{
	struct sbw_msg m = { .type = SBW_REQUEST };
	size_t dummy = 0;
	int ret;

	if (!cl || (len && !data))
		return NULL_ARG();
	if (len > SBW_MAX_DATA) {
		pr_err("broker client: a request of %zu bytes: at most %u", len, SBW_MAX_DATA);
		return FAIL(EINVAL);
	}
	ret = check_owner(cl);
	if (ret)
		return FAIL(-ret);
	sb_begin();
	pthread_mutex_lock(&cl->lock);
	ret = check_usable(cl);
	if (ret)
		goto out;
	if (!cl->bound && cl->revoked_pending) {
		ret = -SVMBIND_BROKER_ERR_REVOKED;
		goto out;
	}
	m.u.request.app_type = type;
	m.data = data;
	m.data_len = (uint32_t)len;
	ret = sb_client_send(cl, &m, -1);
	if (!ret)
		ret = sb_client_wait_reply(cl, cl->seq, SBW_REPLY, &m, reply, reply_len ? reply_len : &dummy);
	if (!ret && status)
		*status = m.u.reply.status;
	if (ret == -SVMBIND_BROKER_ERR_REVOKED)
		cl->revoked_pending = false;	/* told now */
out:
	pthread_mutex_unlock(&cl->lock);
	return sb_done(ret);
}

int svmbind_client_check(struct svmbind_client *cl, int timeout_ms, uint32_t *reason)
{
	int64_t deadline;
	int ret = 0;

	if (!cl)
		return NULL_ARG();
	ret = check_owner(cl);
	if (ret)
		return FAIL(-ret);
	sb_begin();
	pthread_mutex_lock(&cl->lock);
	ret = check_usable(cl);
	if (ret)
		goto out;
	deadline = timeout_ms < 0 ? -1 : sb_client_now_ms() + timeout_ms;
	while (!cl->revoked_pending) {
		struct sbw_msg m;
		int len = sb_client_recv(cl, &m, deadline);

		if (len == -SVMBIND_BROKER_ERR_TIMEOUT) {
			ret = 0;
			break;
		}
		if (len < 0) {
			ret = len;
			break;
		}
		sb_client_consume(cl, len);
		if (m.type == SBW_REVOKED)
			sb_client_note_revoked(cl, &m);
		else if (m.type == SBW_ERROR && m.u.error.fatal)
			ret = sb_client_code_valid(m.u.error.code) ? m.u.error.code : -SVMBIND_BROKER_ERR_PROTOCOL;
		else
			ret = -SVMBIND_BROKER_ERR_PROTOCOL;
		if (ret)
			break;
	}
	if (!ret && cl->revoked_pending) {
		cl->revoked_pending = false;
		if (reason)
			*reason = cl->revoke_reason;
		ret = 1;
	}
out:
	pthread_mutex_unlock(&cl->lock);
	return sb_done(ret);
}

/* ---- for client_share.c ---- */

uint32_t sb_client_features(const struct svmbind_client *cl)
{
	return cl->features;
}

int sb_client_call(struct svmbind_client *cl, struct sbw_msg *m, int fd, uint8_t want)
{
	int ret = check_owner(cl);

	if (ret)
		return ret;
	pthread_mutex_lock(&cl->lock);
	ret = check_usable(cl);
	if (!ret && cl->version < SBW_VERSION_SHARE) {
		pr_err("broker client: the broker speaks protocol version %u: it cannot take shared "
		       "memory (version %u); update the broker", cl->version, SBW_VERSION_SHARE);
		ret = -SVMBIND_BROKER_ERR_VERSION;
	}
	if (!ret)
		ret = sb_client_send(cl, m, fd);
	if (!ret)
		ret = sb_client_wait_reply(cl, cl->seq, want, m, NULL, NULL);
	pthread_mutex_unlock(&cl->lock);
	return ret;
}
