// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A broker's start: the socket file's mode never reaches a file swapped in
 * for it, a failed start closes the socket it inherited, and the process
 * events it reports are real (a forked child's free, a pid namespace).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hardening.h"
#include "helpers.h"
#include "tests.h"

/* ---- #16.4: a symlink swapped in at start never gets the socket's mode ---- */

struct swapper {
	char dir[64], path[96], link[96];
	const char *target;
};

/* Another user, in the socket's directory: woken by inotify when the socket file
 * is made, it renames a link it prepared over it (as the attacker did). */
static int swap_in_links(void *arg)
{
	struct swapper *s = arg;
	union {
		char b[4096];
		struct inotify_event align;
	} buf;
	int in;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 100;
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, s->dir, IN_CREATE) < 0)
		return 101;	/* without it, one CPU never lets the swap land in time */
	for (;;) {
		unlink(s->link);
		if (symlink(s->target, s->link))
			return 102;
		for (bool sock = false; !sock;) {
			ssize_t n = read(in, buf.b, sizeof(buf.b));

			if (n <= 0)
				return 103;
			for (char *p = buf.b; p < buf.b + n; p += sizeof(struct inotify_event) +
			     ((struct inotify_event *)p)->len)
				if (((struct inotify_event *)p)->len &&
				    !strcmp(((struct inotify_event *)p)->name, "bind.sock"))
					sock = true;
		}
		rename(s->link, s->path);
	}
	return 0;
}

START_TEST(socket_mode_never_follows_a_swapped_link)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct swapper s = { .dir = "/tmp/bt-race-XXXXXX" };
	char target[64];
	struct stat st;
	int starts = 0, refused = 0, hits = 0, fd;
	bool no_inotify;
	mode_t old_umask = umask(022);	/* 0666 then needs more than bind() gives */
	pid_t child;

	ck_code(svmbind_ctx_new(NULL, &ctx), 0);
	ck_code(svmbind_device_open(ctx, bt_device(), NULL, &dev), 0);
	ck_assert_ptr_nonnull(mkdtemp(s.dir));
	ck_assert_int_eq(chmod(s.dir, 0777), 0);	/* others may write it, no sticky bit */
	snprintf(s.path, sizeof(s.path), "%s/bind.sock", s.dir);
	snprintf(s.link, sizeof(s.link), "%s/.link", s.dir);
	snprintf(target, sizeof(target), "/tmp/bt-race-target-%d", (int)getpid());
	fd = open(target, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(chmod(target, 0600), 0);
	s.target = target;
	child = bt_spawn(swap_in_links, &s);
	for (int i = 0; i < 60; i++) {
		struct svmbind_broker_opts o = { .sz = sizeof(o), .path = s.path, .mode = 0666,
						 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
		struct svmbind_broker *b;

		unlink(s.path);
		if (svmbind_broker_new(dev, &o, &b))
			refused++;
		else
			svmbind_broker_free(b);
		starts++;
		ck_assert_int_eq(stat(target, &st), 0);
		if ((st.st_mode & 07777) != 0600) {
			hits++;
			chmod(target, 0600);
		}
		ck_assert_int_eq(lstat(target, &st), 0);	/* the target itself is never removed */
	}
	kill(child, SIGKILL);
	no_inotify = bt_wait_child(child) == 101;
	fprintf(stderr, "symlink race: %d starts, %d refused (a link was there), %d changed the target's mode%s\n",
		starts, refused, hits, no_inotify ? "; NOT RUN: this kernel has no inotify (CONFIG_INOTIFY_USER)" : "");
	unlink(s.path);
	unlink(s.link);
	rmdir(s.dir);
	unlink(target);
	umask(old_umask);
	svmbind_ctx_free(ctx);
	ck_assert_msg(hits == 0, "%d of %d broker starts set mode 0666 on a root file through a symlink", hits, starts);
	ck_assert_msg(refused > 0 || no_inotify, "the swapper never got in: the race was not run");
}
END_TEST

/* ---- #18.11: a failed start closes the listening socket it was given ---- */

START_TEST(failed_start_closes_inherited_socket)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_broker *b;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct svmbind_broker_opts o = { .sz = sizeof(o), .listen_fd = l, .nr_allow_uids = 1 };

	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/bt-inh-%d.sock", (int)getpid());
	unlink(a.sun_path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_code(svmbind_ctx_new(NULL, &ctx), 0);
	ck_code(svmbind_device_open(ctx, bt_device(), NULL, &dev), 0);
	ck_code(svmbind_broker_new(dev, &o, &b), -EINVAL);	/* allow_uids NULL with a count */
	errno = 0;
	ck_assert_msg(fcntl(l, F_GETFD) < 0 && errno == EBADF, "the inherited listening socket is still open");
	unlink(a.sun_path);
	svmbind_ctx_free(ctx);
}
END_TEST

/* ---- #18.6: process events are real or reported missing ---- */

struct sleeper {
	const char *path;
	int p[2];
};

static int sleep_holding(void *arg)
{
	struct sleeper *sl = arg;
	struct svmbind_client *cl;
	uint32_t pasid;
	int fd;

	if (svmbind_client_connect(sl->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	(void)!write(sl->p[1], "b", 1);
	fd = svmbind_client_fd(cl);
	fcntl(fd, F_SETFD, 0);	/* the socket outlives the exec: only the exec event tells */
	execl("/bin/sleep", "sleep", "10", (char *)NULL);
	return 2;
}

START_TEST(forked_child_free_keeps_parent_events)
{
	struct fx f;
	struct sleeper sl;
	pid_t child, sleeper;
	char c;

	fx_start(&f, NULL);
	ck_assert_msg(svmbind_broker_procevents(f.b) == 1, "no process-events connector: %s",
		      svmbind_strerror(svmbind_broker_procevents(f.b)));
	fx_pause(&f);
	child = bt_fork();
	if (child == 0) {
		svmbind_broker_free(f.b);	/* the child's copy: must leave the parent's subscription */
		_exit(0);
	}
	ck_assert_int_eq(bt_wait_child(child), 0);
	fx_resume(&f);
	ck_assert_int_eq(pipe(sl.p), 0);
	sl.path = f.path;
	sleeper = bt_spawn(sleep_holding, &sl);
	ck_assert_int_eq(read(sl.p[0], &c, 1), 1);	/* bound; exec follows */
	ck_assert_msg(bt_wait_broker_bonds(&f, 0, 3000) && svmbind_broker_nr_clients(f.b) == 1,
		      "the exec was not seen as it happened (%zu bonds): the child's free silenced the events",
		      svmbind_broker_nr_bonds(f.b));
	kill(sleeper, SIGKILL);
	bt_wait_child(sleeper);
	close(sl.p[0]);
	close(sl.p[1]);
	fx_stop(&f);
}
END_TEST

/* In a new pid namespace (pid 1 there): a broker's procevents() answer. */
static int procevents_in_pidns(void *arg)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = arg };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_broker *b;
	int ret;

	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bt_device(), NULL, &dev) ||
	    svmbind_broker_new(dev, &o, &b))
		return 100;
	ret = svmbind_broker_procevents(b);
	fprintf(stderr, "procevents in a child pid namespace: %d (%s)\n", ret, svmbind_strerror(ret));
	svmbind_broker_free(b);
	svmbind_ctx_free(ctx);
	return ret == 1 ? 1 : ret == -ENOTCONN ? 0 : 2;
}

static int unshare_then(void *arg)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID))
		return 101;
	pid = bt_spawn(procevents_in_pidns, arg);
	return bt_wait_child(pid);
}

START_TEST(events_reported_missing_outside_initial_pidns)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/bt-pidns-%d.sock", (int)getpid());
	ck_assert_int_eq(bt_wait_child(bt_spawn(unshare_then, path)), 0);
}
END_TEST

void add_hardening_start_tests(Suite *s)
{
	TCase *tc = tcase_create("hardening_start");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, socket_mode_never_follows_a_swapped_link);
	tcase_add_test(tc, failed_start_closes_inherited_socket);
	suite_add_tcase(s, tc);
	/* Its own case, so it can run alone: on 6.1 the kernel counts listeners
	 * globally, and a listener another test left behind would hide a lost one. */
	tc = tcase_create("hardening_events");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, forked_child_free_keeps_parent_events);
	tcase_add_test(tc, events_reported_missing_outside_initial_pidns);
	suite_add_tcase(s, tc);
}
