// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Broker error codes (SVMBIND_BROKER_ERR_BASE..): text and classic errno. */
#include <limits.h>

#include "broker_internal.h"

_Static_assert(SVMBIND_BROKER_ERR_BASE == SVMBIND_BROKER_ERR_FIRST, "range agreed with error.c");
_Static_assert(SVMBIND_BROKER_ERR_END - 1 <= SVMBIND_BROKER_ERR_LAST, "range agreed with error.c");

static const struct {
	const char *text;
	int errnum;
} broker_errors[SVMBIND_BROKER_ERR_END - SVMBIND_BROKER_ERR_BASE] = {
#define E(code, err, text) [SVMBIND_BROKER_ERR_##code - SVMBIND_BROKER_ERR_BASE] = { text, err }
	E(PROTOCOL, EPROTO, "broker protocol: malformed message"),
	E(VERSION, EPROTONOSUPPORT, "broker protocol: no common version"),
	E(TOO_BIG, EMSGSIZE, "broker protocol: message too long"),
	E(UNEXPECTED, EPROTO, "broker protocol: message not valid in this state"),
	E(IDENTITY, EPERM, "the kernel-verified identity does not match: the sender is not the process that connected"),
	E(PEER_GONE, ESRCH, "the requesting process has exited"),
	E(UID_DENIED, EACCES, "the broker's policy does not allow this uid"),
	E(GID_DENIED, EACCES, "the broker's policy allows only certain groups, and the client is in none"),
	E(POLICY_DENIED, EACCES, "the broker's policy callback refused this client"),
	E(TOO_MANY_CLIENTS, EUSERS, "the broker serves as many clients as its limit allows"),
	E(TOO_MANY_CLIENTS_UID, EUSERS, "this uid has as many broker connections as its limit allows"),
	E(TOO_MANY_BONDS, ENOSPC, "the broker holds as many bonds as its limit allows"),
	E(TOO_MANY_BONDS_UID, EDQUOT, "this uid holds as many bonds as its limit allows"),
	E(ALREADY_BOUND, EEXIST, "this connection already holds a bond"),
	E(NOT_BOUND, ENOENT, "this connection holds no such bond"),
	E(REVOKED, ECONNABORTED, "the bond was revoked (exit, exec, credential change or broker shutdown)"),
	E(NO_HANDLER, EOPNOTSUPP, "the broker's owner handles no application requests"),
	E(DISCONNECTED, ECONNRESET, "the broker closed the connection"),
	E(YAMA, EPERM, "Yama's ptrace_scope forbids this bind"),
	E(TIMEOUT, ETIMEDOUT, "no answer in time"),
	E(NO_LISTEN_FD, EBADF, "no usable inherited listening socket (LISTEN_FDS)"),
	E(SHARE_LIMIT, EDQUOT, "the client's shared memory would pass the broker's limit "
	  "(share less, or raise max_shared_bytes)"),
#undef E
};

const char *svmbind__broker_strerror(int code, int *errnum)
{
	if (code < 0)
		code = -code;
	if (code < SVMBIND_BROKER_ERR_BASE || code >= SVMBIND_BROKER_ERR_END)
		return NULL;
	if (errnum)
		*errnum = broker_errors[code - SVMBIND_BROKER_ERR_BASE].errnum;
	return broker_errors[code - SVMBIND_BROKER_ERR_BASE].text;
}

/* The errno of the system call that failed in this thread's current broker or
 * client call: what svmbind_kernel_errno() reports when that call returns. A
 * code the other side sent, or the library's own decision, leaves it 0. */
static __thread int sb_kerr;

int sb_syserr(void)
{
	int e = errno;

	sb_kerr = e;
	return -e;
}

void sb_begin(void)
{
	sb_kerr = 0;
}

int sb_done(int ret)
{
	int k = sb_kerr;

	sb_kerr = 0;
	if (ret >= 0)
		return svmbind__ok(ret);
	return svmbind__fail(ret == INT_MIN ? EIO : -ret, k);
}
