// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Who is bound: the sender the kernel vouches for, never a number from a message. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "tests.h"

/* A process that only waits to be killed: a would-be victim. */
static int idle(void *arg)
{
	(void)arg;
	pause();
	return 0;
}

START_TEST(forged_pid_in_bind)
{
	struct fx f;
	pid_t victim = bt_spawn(idle, NULL);
	struct sbw_msg m = { .type = SBW_BIND, .seq = 2 };
	struct svmbind_broker_bond bd = { .sz = sizeof(bd) };
	unsigned char buf[SBW_MAX_MSG];
	int fd;

	fx_start(&f, NULL);
	fd = raw_connect(f.path);
	ck_assert_int_ge(fd, 0);
	ck_code(raw_hello(fd), 0);
	m.u.bind.pid = (uint32_t)victim;	/* "bind that one, please" */
	ck_code(raw_send_msg(fd, &m, -1), 0);
	ck_code(raw_recv(fd, &m, buf, sizeof(buf), 5000), SBW_BIND_OK);
	ck_assert_int_eq(m.u.bind_ok.pid, getpid());
	ck_assert_uint_eq(svmbind_broker_nr_bonds(f.b), 1);
	ck_code(svmbind_broker_bond(f.b, 0, &bd), 0);
	ck_assert_int_eq(bd.pid, getpid());
	ck_assert_int_ne(bd.pid, victim);
	close(fd);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	kill(victim, SIGKILL);
	bt_wait_child(victim);
	fx_stop(&f);
	ck_assert(bt_wait_provider_bonds(0, 5000));
}
END_TEST

START_TEST(forged_pidfd)
{
	struct fx f;
	pid_t victim = bt_spawn(idle, NULL);
	struct sbw_msg m = { .type = SBW_HELLO, .seq = 1 };
	int fd, vfd = (int)syscall(SYS_pidfd_open, victim, 0);

	ck_assert_int_ge(vfd, 0);
	fx_start(&f, NULL);
	fd = raw_connect(f.path);
	m.u.hello.min_version = m.u.hello.max_version = 1;
	ck_code(raw_send_msg(fd, &m, vfd), 0);	/* someone else's pidfd */
	ck_code(raw_expect_error_eof(fd, -SVMBIND_BROKER_ERR_IDENTITY, 5000), 0);
	close(fd);
	close(vfd);
	ck_assert_uint_eq(svmbind_broker_nr_bonds(f.b), 0);
	kill(victim, SIGKILL);
	bt_wait_child(victim);
	fx_stop(&f);
}
END_TEST

/* Parent connects and says HELLO; its forked child speaks on the socket. */
START_TEST(fork_after_connect_child_speaks)
{
	struct fx f;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t child;

	fx_start(&f, NULL);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	child = bt_fork();
	if (child == 0) {
		struct sbw_msg m = { .type = SBW_BIND, .seq = 7 };

		bt_close_fds_except(svmbind_client_fd(cl));	/* the broker runs in our parent */
		/* through the library: refused locally */
		if (svmbind_client_bind(cl, &pasid) != -SVMBIND_ERR_FORKED)
			_exit(1);
		/* by hand on the inherited socket: the broker drops the connection */
		if (raw_send_msg(svmbind_client_fd(cl), &m, -1))
			_exit(2);
		int ret = raw_expect_error_eof(svmbind_client_fd(cl), -SVMBIND_BROKER_ERR_IDENTITY, 5000);

		if (ret)
			fprintf(stderr, "child: got %d (%s)\n", ret, svmbind_strerror(ret));
		_exit(ret ? 3 : 0);
	}
	ck_assert_int_eq(bt_wait_child(child), 0);
	ck_assert_uint_eq(svmbind_broker_nr_bonds(f.b), 0);
	ck_assert_int_eq(bt_provider_bonds(), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_DISCONNECTED);
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

/* Parent binds, forks, exits: the bond goes with the parent although its
 * child still holds the socket; the child is told. */
START_TEST(fork_after_connect_parent_exits)
{
	struct fx f;
	int res[2];
	pid_t parent;
	char verdict = 0;

	fx_start(&f, NULL);
	ck_assert_int_eq(pipe(res), 0);
	parent = bt_fork();
	if (parent == 0) {
		struct svmbind_client *cl;
		uint32_t pasid;

		close(res[0]);
		if (svmbind_client_connect(f.path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
			_exit(1);
		if (bt_fork() == 0) {	/* keeps the socket, waits for the notice */
			unsigned char buf[SBW_MAX_MSG];
			struct sbw_msg m;
			int ret = raw_recv(svmbind_client_fd(cl), &m, buf, sizeof(buf), 10000);
			char r = ret == SBW_REVOKED && m.u.revoked.reason == SVMBIND_REVOKED_EXIT ? 'y' : 'n';

			_exit(write(res[1], &r, 1) == 1 ? 0 : 2);
		}
		_exit(0);	/* exits with the connection open in its child */
	}
	close(res[1]);
	ck_assert_int_eq(bt_wait_child(parent), 0);
	ck_assert_int_eq(read(res[0], &verdict, 1), 1);
	ck_assert_msg(verdict == 'y', "the child holding the socket was not told REVOKED(EXIT)");
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_assert(bt_wait_provider_bonds(0, 5000));
	close(res[0]);
	fx_stop(&f);
}
END_TEST

/*
 * PID reuse. In a fresh pid namespace (and mount namespace, for its own
 * /proc), the victim V sends HELLO and BIND and is killed before the broker
 * reads them; ns_last_pid hands V's pid to a newcomer Z. The broker then
 * reads V's messages: it must refuse (V's pidfd is dead), and never bind Z.
 * The test first proves the hazard is real: a plain bind of that pid binds Z.
 */
static int pid_reuse_init(void *arg)
{
	const char *dev = arg;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = "/tmp/bt-reuse.sock",
					 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
	struct svmbind_ctx *ctx;
	struct svmbind_device *d;
	struct svmbind_broker *b;
	int go[2], sent[2], fd;
	pid_t v, z;
	uint32_t pasid;
	char c;
	FILE *nl;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", 0, NULL))
		return 10;
	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, dev, NULL, &d) ||
	    svmbind_broker_new(d, &o, &b))
		return 11;
	if (pipe(go) || pipe(sent))
		return 12;
	v = bt_fork();
	if (v == 0) {
		struct sbw_msg m = { .type = SBW_BIND, .seq = 2 };

		fd = raw_connect(o.path);
		if (fd < 0)
			_exit(1);
		/* HELLO (with our pidfd) and BIND, unanswered yet: the broker is not dispatching */
		struct sbw_msg h = { .type = SBW_HELLO, .seq = 1 };
		int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

		h.u.hello.min_version = h.u.hello.max_version = 1;
		if (raw_send_msg(fd, &h, pidfd) || raw_send_msg(fd, &m, -1))
			_exit(2);
		c = 's';
		(void)!write(sent[1], &c, 1);
		pause();
		_exit(0);
	}
	if (read(sent[0], &c, 1) != 1)
		return 13;
	kill(v, SIGKILL);
	waitpid(v, NULL, 0);			/* reaped: v's number is free */
	nl = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (!nl || fprintf(nl, "%d", (int)v - 1) < 0 || fclose(nl))
		return 14;
	z = bt_fork();
	if (z == 0) {
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (z != v)
		return 15;			/* could not recreate the hazard */
	/* The hazard: a bind by number now binds the newcomer. */
	if (svm_bind_pid(d, z, &pasid) || svm_unbind(d, pasid, 0))
		return 16;
	/* The broker reads the dead client's HELLO and BIND now. */
	for (int i = 0; i < 20; i++)
		svmbind_broker_dispatch(b, 50);
	if (svmbind_broker_nr_bonds(b) || svmbind_device_nr_bonds(d))
		return 17;			/* bound someone */
	if (bt_provider_bonds() != 0)
		return 18;
	if (svmbind_broker_nr_clients(b))
		return 19;			/* the dead client's connection lingers */
	c = 'x';
	(void)!write(go[1], &c, 1);
	waitpid(z, NULL, 0);
	svmbind_broker_free(b);
	svmbind_ctx_free(ctx);
	return 0;
}

START_TEST(pid_reuse_never_binds_newcomer)
{
	pid_t outer = bt_fork();

	if (outer == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID | CLONE_NEWNS))
			_exit(20);
		init = bt_fork();	/* pid 1 of the new namespace */
		if (init == 0)
			_exit(pid_reuse_init((void *)bt_device()));
		_exit(bt_wait_child(init));
	}
	ck_assert_int_eq(bt_wait_child(outer), 0);
}
END_TEST

void add_identity_tests(Suite *s)
{
	TCase *tc = tcase_create("identity");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, forged_pid_in_bind);
	tcase_add_test(tc, forged_pidfd);
	tcase_add_test(tc, fork_after_connect_child_speaks);
	tcase_add_test(tc, fork_after_connect_parent_exits);
	if (!access("/proc/sys/kernel/ns_last_pid", W_OK))
		tcase_add_test(tc, pid_reuse_never_binds_newcomer);
	else	/* not counted as passed: not run, and said so */
		fprintf(stderr, "broker tests: NOT RUN: pid_reuse_never_binds_newcomer (no "
			"/proc/sys/kernel/ns_last_pid: a kernel without CONFIG_CHECKPOINT_RESTORE)\n");
	suite_add_tcase(s, tc);
}
