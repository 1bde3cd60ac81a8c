// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Helpers of test_space: the owner's device, client processes, VmPin (space_helpers.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "space_helpers.h"

struct svmdma sd_devs[2];

void owner_open(struct owner *o, int which)
{
	struct svmbind_ctx_opts co = { .sz = sizeof(co), .backend = SVMBIND_BACKEND_IOMMUFD };
	size_t bar_len;
	void *bar;

	memset(o, 0, sizeof(*o));
	o->sd = sd_devs[which];
	ck_assert_int_eq(svmbind_ctx_new(&co, &o->ctx), 0);
	ck_assert_int_eq(svmbind_device_open(o->ctx, o->sd.bdf, NULL, &o->dev), 0);
	ck_assert_int_eq(svmbind_device_map_region(o->dev, 0, PROT_READ | PROT_WRITE, &bar, &bar_len), 0);
	ck_assert_int_eq(madvise(bar, bar_len, MADV_DONTFORK), 0);
	ck_assert_int_eq(svmdma_attach(&o->sd, bar, bar_len, svmbind_device_fd(o->dev)), 0);
}

void owner_close(struct owner *o)
{
	svmbind_ctx_free(o->ctx);
	o->ctx = NULL;
}

/* ---- B ---- */

enum { OP_FILL, OP_CHECK, OP_SAME, OP_OTHER, OP_TRUNC, OP_SEAL, OP_EXIT };
struct op {
	int op, arg;
	uint64_t off, len, off2;
};

static void fill(uint8_t *p, uint64_t len, uint64_t off, int seed)
{
	for (uint64_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + (off + i) * 7 + ((off + i) >> 12));
}

static int64_t b_op(const struct op *o, uint8_t *buf, uint8_t *other, int memfd)
{
	uint8_t tmp[PG];

	switch (o->op) {
	case OP_FILL:
		fill(buf + o->off, o->len, o->off, o->arg);
		return 0;
	case OP_CHECK:
		for (uint64_t d = 0; d < o->len; d += PG) {
			uint64_t n = o->len - d < PG ? o->len - d : PG;

			fill(tmp, n, o->off + d, o->arg);
			if (memcmp(tmp, buf + o->off + d, n))
				return 0;
		}
		return 1;
	case OP_SAME:
		return !memcmp(buf + o->off, buf + o->off2, o->len);
	case OP_OTHER:
		return other[0];
	case OP_TRUNC:
		return ftruncate(memfd, (off_t)o->len) ? -errno : 0;
	case OP_SEAL:
		return fcntl(memfd, F_ADD_SEALS, o->arg) ? -errno : 0;
	}
	return -EINVAL;
}

static void b_main(int sock, unsigned int pages, uint64_t at, int mode)
{
	unsigned int mfd_flags = MFD_CLOEXEC | (mode == MFD_NO_SEALING ? 0 : MFD_ALLOW_SEALING);
	int memfd = memfd_create("client", mfd_flags);
	size_t len = (size_t)pages * PG;
	uint8_t *buf, *other;
	uint64_t hello[2];
	char c[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { hello, sizeof(hello) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c,
			    .msg_controllen = sizeof(c) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	struct op o;

	if (memfd < 0 || ftruncate(memfd, (off_t)len))
		_exit(2);
	buf = mmap((void *)(uintptr_t)at, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0), memfd, 0);
	other = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || other == MAP_FAILED)
		_exit(3);
	memset(buf, 0, len);
	memset(other, 0x5a, PG);
	hello[0] = (uintptr_t)buf;
	hello[1] = (uintptr_t)other;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
	if (sendmsg(sock, &m, 0) != (ssize_t)sizeof(hello))
		_exit(4);
	while (read(sock, &o, sizeof(o)) == (ssize_t)sizeof(o) && o.op != OP_EXIT) {
		int64_t r = b_op(&o, buf, other, memfd);

		if (write(sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(5);
	}
	_exit(0);
}

void client_start(struct client *c, unsigned int pages, uint64_t at, int mode)
{
	uint64_t hello[2];
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { hello, sizeof(hello) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		close(sv[0]);
		b_main(sv[1], pages, at, mode);
	}
	close(sv[1]);
	c->sock = sv[0];
	ck_assert_int_eq(recvmsg(c->sock, &m, MSG_CMSG_CLOEXEC), (ssize_t)sizeof(hello));
	ck_assert_ptr_nonnull(CMSG_FIRSTHDR(&m));
	memcpy(&c->memfd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	c->addr = hello[0];
	c->other = hello[1];
	c->len = (uint64_t)pages * PG;
}

static int64_t client_op(struct client *c, int op, int arg, uint64_t off, uint64_t len)
{
	struct op o = { .op = op, .arg = arg, .off = off, .len = len };
	int64_t r;

	ck_assert_int_eq(write(c->sock, &o, sizeof(o)), (ssize_t)sizeof(o));
	ck_assert_int_eq(read(c->sock, &r, sizeof(r)), (ssize_t)sizeof(r));
	return r;
}

void client_fill(struct client *c, uint64_t off, uint64_t len, int seed)
{
	ck_assert_int_eq(client_op(c, OP_FILL, seed, off, len), 0);
}

int client_check(struct client *c, uint64_t off, uint64_t len, int seed)
{
	return (int)client_op(c, OP_CHECK, seed, off, len);
}

int client_same(struct client *c, uint64_t a, uint64_t b, uint64_t len)
{
	struct op o = { .op = OP_SAME, .off = a, .off2 = b, .len = len };
	int64_t r;

	ck_assert_int_eq(write(c->sock, &o, sizeof(o)), (ssize_t)sizeof(o));
	ck_assert_int_eq(read(c->sock, &r, sizeof(r)), (ssize_t)sizeof(r));
	return (int)r;
}

int client_other_byte(struct client *c)
{
	return (int)client_op(c, OP_OTHER, 0, 0, 0);
}

int client_truncate(struct client *c, uint64_t len)
{
	return (int)client_op(c, OP_TRUNC, 0, 0, len);
}

int client_seal(struct client *c, int seals)
{
	return (int)client_op(c, OP_SEAL, seals, 0, 0);
}

void client_stop(struct client *c)
{
	struct op o = { .op = OP_EXIT };
	int st;

	if (c->pid <= 0)
		return;
	if (write(c->sock, &o, sizeof(o)) != (ssize_t)sizeof(o))
		kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	close(c->sock);
	c->pid = 0;
}

long vm_pin_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

struct serve_arg {
	struct svmbind_space *space;
	svmbind_fault_fn fn;
	void *arg;
};

static int serve(void *p)
{
	struct serve_arg *a = p;
	struct pollfd pf = { .fd = svmbind_space_fault_fd(a->space), .events = POLLIN };

	if (poll(&pf, 1, 10) <= 0)
		return 0;
	return svmbind_space_dispatch(a->space, a->fn, a->arg) < 0 ? -1 : 0;
}

int space_copy(struct owner *o, struct svmbind_space *space, uint32_t ctrl, uint64_t src,
	       uint64_t dst, uint32_t len, uint64_t *fault, svmbind_fault_fn fn, void *arg)
{
	struct serve_arg a = { space, fn, arg };
	bool faults = svmbind_space_fault_fd(space) >= 0;

	return svmdma_copy(&o->sd, svmbind_space_pasid(space), ctrl, src, dst, len, fault,
			   faults ? serve : NULL, &a);
}
