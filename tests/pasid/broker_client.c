// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* B of test_broker_space: a child process that talks to the broker through the
 * client API and does, one step at a time, what the test asks (broker_client.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "broker_client.h"

struct bop {
	int op;
	uint64_t a, b, c;
};

static int kept_fd = -1;	/* B's last BOP_SHARE_MEMFD memfd */

static int64_t b_copy(struct svmbind_client *cl, uint64_t src, uint64_t dst, uint64_t len)
{
	struct bc_work w = { .src = src, .dst = dst, .len = (uint32_t)len };
	struct bc_done d = { 0 };
	size_t rlen = sizeof(d);
	int32_t status = 0;
	int ret = svmbind_client_request(cl, BC_COPY, &w, sizeof(w), &d, &rlen, &status);

	if (ret)
		return ret;
	return status < 0 ? status : (int64_t)d.status;
}

static int64_t b_do(struct svmbind_client **cl, const struct bop *o, const char *path)
{
	uint32_t pasid = 0, reason = 0;
	void *p;
	int ret, fds[2];

	switch (o->op) {
	case BOP_CONNECT:
		return svmbind_client_connect(path, NULL, cl);
	case BOP_BIND:
		ret = svmbind_client_bind(*cl, &pasid);
		return ret ? ret : (int64_t)pasid;
	case BOP_UNBIND:
		return svmbind_client_unbind(*cl);
	case BOP_ALLOC:
		ret = svmbind_client_share_alloc(*cl, o->a, &p);
		return ret ? ret : (int64_t)(uintptr_t)p;
	case BOP_ANON:
		p = mmap(NULL, o->a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		memset(p, 0x5a, o->a);
		return (int64_t)(uintptr_t)p;
	case BOP_FILL:
		for (uint64_t i = 0; i < o->b; i++)
			((uint8_t *)(uintptr_t)o->a)[i] = (uint8_t)(o->c + i * 7 + (i >> 12));
		return 0;
	case BOP_SAME:
		return !memcmp((void *)(uintptr_t)o->a, (void *)(uintptr_t)o->b, o->c);
	case BOP_BYTE:
		return *(volatile uint8_t *)(uintptr_t)o->a;
	case BOP_COPY:
		return b_copy(*cl, o->a, o->b, o->c);
	case BOP_SHARE_PIPE:
		if (pipe2(fds, O_CLOEXEC))
			return -errno;
		ret = svmbind_client_share(*cl, fds[0], 0, (void *)(uintptr_t)o->a, o->b, 0);
		close(fds[0]);
		close(fds[1]);
		return ret;
	case BOP_SHARE_MEMFD:
		fds[0] = memfd_create("b", MFD_CLOEXEC | (unsigned int)o->b);
		if (fds[0] < 0 || ftruncate(fds[0], (off_t)o->a))
			return -errno;
		p = mmap(NULL, o->a, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
		if (p == MAP_FAILED)
			return -errno;
		ret = svmbind_client_share(*cl, fds[0], 0, o->c ? (void *)(uintptr_t)o->c : p, o->a, 0);
		if (kept_fd >= 0)
			close(kept_fd);
		kept_fd = fds[0];	/* for BOP_TRUNCATE */
		return ret ? ret : (int64_t)(uintptr_t)p;
	case BOP_TRUNCATE:
		return ftruncate(kept_fd, (off_t)o->a) ? -errno : 0;
	case BOP_REVOKED:
		ret = svmbind_client_check(*cl, 5000, &reason);
		return ret == 1 ? (int64_t)reason : ret ? ret : -ETIMEDOUT;
	}
	return -EINVAL;
}

static void b_main(int sock, const char *path)
{
	struct svmbind_client *cl = NULL;
	struct bop o;

	while (read(sock, &o, sizeof(o)) == (ssize_t)sizeof(o) && o.op != BOP_EXIT) {
		int64_t r = b_do(&cl, &o, path);

		if (write(sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(5);
	}
	_exit(0);	/* the connection closes with the process: no goodbye */
}

void bc_start(struct bclient *c, const char *path)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		close(sv[0]);
		b_main(sv[1], path);
	}
	close(sv[1]);
	c->sock = sv[0];
}

int64_t bc_op(struct bclient *c, int op, uint64_t a, uint64_t b, uint64_t cc)
{
	struct bop o = { .op = op, .a = a, .b = b, .c = cc };
	int64_t r;

	ck_assert_int_eq(write(c->sock, &o, sizeof(o)), (ssize_t)sizeof(o));
	ck_assert_int_eq(read(c->sock, &r, sizeof(r)), (ssize_t)sizeof(r));
	return r;
}

void bc_stop(struct bclient *c)
{
	struct bop o = { .op = BOP_EXIT };
	int st;

	if (c->pid <= 0)
		return;
	if (write(c->sock, &o, sizeof(o)) != (ssize_t)sizeof(o))
		kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	close(c->sock);
	c->pid = 0;
}
