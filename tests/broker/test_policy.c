// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Policy refusals, limits, restarts, socket activation, Yama: each with its own code. */
#include <errno.h>
#include <grp.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "helpers.h"
#include "tests.h"

struct as_user {
	const char *path;
	uid_t uid;
	gid_t gid;
	int want;		/* expected code of connect (0) or bind */
	bool bind;
	uint32_t flags;
};

/* In a child: become uid/gid (no supplementary groups), connect (and bind); compare the code. */
static int client_as(void *arg)
{
	struct as_user *a = arg;
	struct svmbind_client_opts co = { .sz = sizeof(co), .flags = a->flags };
	struct svmbind_client *cl;
	uint32_t pasid;
	int ret;

	if (a->uid != (uid_t)-1 &&
	    (setgroups(0, NULL) || setresgid(a->gid, a->gid, a->gid) || setresuid(a->uid, a->uid, a->uid) ||
	     prctl(PR_SET_DUMPABLE, 1)))	/* as after an exec: a setuid makes us non-dumpable */
		return 100;
	ret = svmbind_client_connect(a->path, &co, &cl);
	if (!ret && a->bind)
		ret = svmbind_client_bind(cl, &pasid);
	if (ret != a->want) {
		fprintf(stderr, "client_as uid %d: got %d (%s), want %d (%s)\n", (int)a->uid, ret,
			svmbind_strerror(ret), a->want, svmbind_strerror(a->want));
		return 1;
	}
	return 0;
}

static void expect_as(const char *path, uid_t uid, bool bind, int want)
{
	struct as_user a = { .path = path, .uid = uid, .gid = uid, .want = want, .bind = bind };

	ck_assert_int_eq(bt_wait_child(bt_spawn(client_as, &a)), 0);
}

START_TEST(policy_uid_denied)
{
	struct fx f;

	fx_start(&f, NULL);			/* the broker's own uid (root) only */
	chmod(f.path, 0666);
	expect_as(f.path, 65534, false, -SVMBIND_BROKER_ERR_UID_DENIED);
	expect_as(f.path, 0, false, 0);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

START_TEST(policy_gid_denied)
{
	struct fx f;
	uid_t uids[] = { 65534 };
	gid_t gids[] = { 4242 };
	struct svmbind_broker_opts o = { .sz = sizeof(o), .mode = 0666, .allow_uids = uids,
					 .nr_allow_uids = 1, .allow_gids = gids, .nr_allow_gids = 1 };

	fx_start(&f, &o);
	expect_as(f.path, 65534, false, -SVMBIND_BROKER_ERR_GID_DENIED);
	fx_stop(&f);
}
END_TEST

static int refuse_all(void *arg, const struct svmbind_broker_peer *peer)
{
	int *calls = arg;

	(*calls)++;
	return peer->pid > 0 ? -SVMBIND_BROKER_ERR_POLICY_DENIED : 0;
}

START_TEST(policy_callback_denied)
{
	struct fx f;
	int calls = 0;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .policy = refuse_all, .policy_arg = &calls };
	struct svmbind_client *cl;

	fx_start(&f, &o);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), -SVMBIND_BROKER_ERR_POLICY_DENIED);
	fx_stop(&f);
	ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(limit_clients)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .max_clients = 2 };
	struct svmbind_client *a, *b, *c;

	fx_start(&f, &o);
	ck_code(svmbind_client_connect(f.path, NULL, &a), 0);
	ck_code(svmbind_client_connect(f.path, NULL, &b), 0);
	ck_code(svmbind_client_connect(f.path, NULL, &c), -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS);
	svmbind_client_close(a);
	ck_assert(bt_wait_clients(&f, 1, 5000));
	ck_code(svmbind_client_connect(f.path, NULL, &c), 0);
	svmbind_client_close(b);
	svmbind_client_close(c);
	fx_stop(&f);
}
END_TEST

START_TEST(limit_clients_per_uid)
{
	struct fx f;
	uid_t nobody = 65534;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .mode = 0666, .max_clients_per_uid = 1,
					 .allow_uids = &nobody, .nr_allow_uids = 1 };
	struct svmbind_client *a, *b;

	fx_start(&f, &o);
	ck_code(svmbind_client_connect(f.path, NULL, &a), 0);
	ck_code(svmbind_client_connect(f.path, NULL, &b), -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS_UID);
	expect_as(f.path, 65534, false, 0);	/* another uid has its own count */
	svmbind_client_close(a);
	fx_stop(&f);
}
END_TEST

static int hold_bond(void *arg)
{
	struct fx *f = ((void **)arg)[0];
	int *p = ((void **)arg)[1];
	struct svmbind_client *cl;
	uint32_t pasid;
	char c = 'b';

	if (svmbind_client_connect(f->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	(void)!write(p[1], &c, 1);
	pause();
	return 0;
}

/* One bond held by a child; then the next BIND from another process. */
static void limit_bonds_case(uint32_t max_bonds, uint32_t max_per_uid, int want)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .max_bonds = max_bonds,
					 .max_bonds_per_uid = max_per_uid };
	struct svmbind_client *cl;
	uint32_t pasid;
	int p[2];
	char c;
	void *args[2] = { &f, p };
	pid_t h;

	ck_assert_int_eq(pipe(p), 0);
	fx_start(&f, &o);
	h = bt_spawn(hold_bond, args);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), want);
	kill(h, SIGKILL);
	bt_wait_child(h);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
	close(p[0]);
	close(p[1]);
}

START_TEST(limit_bonds)
{
	limit_bonds_case(1, 0, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS);
}
END_TEST

START_TEST(limit_bonds_per_uid)
{
	limit_bonds_case(8, 1, -SVMBIND_BROKER_ERR_TOO_MANY_BONDS_UID);
}
END_TEST

START_TEST(broker_restart_clean_error)
{
	struct fx f;
	struct svmbind_client *cl;
	uint32_t pasid, reason = 0;

	fx_start(&f, NULL);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	fx_stop(&f);				/* the broker goes away */
	ck_assert_int_eq(bt_provider_bonds(), 0);
	ck_code(svmbind_client_check(cl, 5000, &reason), 1);
	ck_assert_uint_eq(reason, SVMBIND_REVOKED_SHUTDOWN);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_DISCONNECTED);
	svmbind_client_close(cl);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), -ENOENT);	/* its socket file is gone */
	fx_start(&f, NULL);			/* a new one */
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

static int crashing_broker(void *arg)
{
	const char *path = arg;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = path };
	struct svmbind_ctx *ctx;
	struct svmbind_device *d;
	struct svmbind_broker *b;

	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bt_device(), NULL, &d) ||
	    svmbind_broker_new(d, &o, &b))
		return 1;
	for (;;)
		svmbind_broker_dispatch(b, -1);
}

START_TEST(broker_crash_restart)
{
	const char *path = "/tmp/bt-crash.sock";
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = path };
	struct svmbind_client *cl;
	struct svmbind_ctx *ctx;
	struct svmbind_device *d;
	struct svmbind_broker *b;
	struct stat st;
	uint32_t pasid;
	pid_t pid = bt_spawn(crashing_broker, (void *)path);

	for (int i = 0; i < 500 && svmbind_client_connect(path, NULL, &cl); i++)
		usleep(10000);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	ck_code(svmbind_ctx_new(NULL, &ctx), 0);
	kill(pid, SIGKILL);			/* it crashes: no cleanup */
	bt_wait_child(pid);
	ck_assert_int_eq(stat(path, &st), 0);	/* its socket file stays behind */
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_DISCONNECTED);
	svmbind_client_close(cl);
	ck_assert(bt_wait_provider_bonds(0, 5000));	/* its device fd closed: bonds gone */
	ck_code(svmbind_device_open(ctx, bt_device(), NULL, &d), 0);
	ck_code(svmbind_broker_new(d, &o, &b), 0);	/* replaces the stale file */
	svmbind_broker_free(b);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(second_broker_same_path_refused)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o) };
	struct svmbind_broker *b2;

	fx_start(&f, NULL);
	o.path = f.path;
	ck_code(svmbind_broker_new(f.dev, &o, &b2), -EADDRINUSE);
	fx_stop(&f);
}
END_TEST

/* systemd socket activation: LISTEN_PID/LISTEN_FDS and fd 3, in a child of its own. */
static int activated(void *arg)
{
	const char *path = arg;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .listen_fd = SVMBIND_BROKER_LISTEN_SYSTEMD };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct svmbind_ctx *ctx;
	struct svmbind_device *d;
	struct svmbind_broker *b;
	struct svmbind_client *cl;
	uint32_t pasid;
	char pid[16];
	int fd;
	pid_t c;

	int st = -1;

	/* fd 3 first: nothing of ours may sit there */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    (fd != 3 && dup2(fd, 3) != 3))
		return 3;
	if (fd != 3)
		close(fd);
	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bt_device(), NULL, &d))
		return 1;
	unsetenv("LISTEN_FDS");
	if (svmbind_broker_new(d, &o, &b) != -SVMBIND_BROKER_ERR_NO_LISTEN_FD)
		return 2;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	if (svmbind_broker_new(d, &o, &b))
		return 4;
	c = bt_fork();
	if (c == 0)
		_exit(svmbind_client_connect(path, NULL, &cl) || svmbind_client_bind(cl, &pasid) ||
		      svmbind_client_unbind(cl) ? 1 : 0);
	for (int i = 0; i < 500 && waitpid(c, &st, WNOHANG) != c; i++)
		svmbind_broker_dispatch(b, 20);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return 5;
	svmbind_broker_free(b);
	svmbind_ctx_free(ctx);
	unlink(path);
	return 0;
}

START_TEST(systemd_socket_activation)
{
	ck_assert_int_eq(bt_wait_child(bt_spawn(activated, "/tmp/bt-sd.sock")), 0);
}
END_TEST

/* Yama: a broker and a client of the same unprivileged uid, siblings. */
static int yama_broker(void *arg)
{
	const char *path = arg;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = path, .mode = 0666,
					 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
	struct svmbind_ctx *ctx;
	struct svmbind_device *d;
	struct svmbind_broker *b;

	/* the device is opened as root, then the broker drops to uid 990, no capabilities */
	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bt_device(), NULL, &d))
		return 1;
	if (setgroups(0, NULL) || setresgid(990, 990, 990) || setresuid(990, 990, 990))
		return 2;
	if (svmbind_broker_new(d, &o, &b))
		return 3;
	for (;;)
		svmbind_broker_dispatch(b, -1);
}

static void yama_case(int scope, uint32_t flags, int want)
{
	const char *path = "/tmp/bt-yama.sock";
	struct as_user a = { .path = path, .uid = 990, .gid = 990, .want = want, .bind = true,
			     .flags = flags };
	FILE *y = fopen("/proc/sys/kernel/yama/ptrace_scope", "w");
	pid_t b;
	int ret;

	ck_assert_ptr_nonnull(y);
	fprintf(y, "%d", scope);
	ck_assert_int_eq(fclose(y), 0);
	unlink(path);
	b = bt_spawn(yama_broker, (void *)path);
	for (int i = 0; i < 500 && access(path, F_OK); i++)
		usleep(10000);
	ret = bt_wait_child(bt_spawn(client_as, &a));
	kill(b, SIGKILL);
	bt_wait_child(b);
	y = fopen("/proc/sys/kernel/yama/ptrace_scope", "w");
	fprintf(y, "0");
	fclose(y);
	ck_assert_int_eq(ret, 0);
	ck_assert(bt_wait_provider_bonds(0, 5000));
}

START_TEST(yama1_client_names_tracer)
{
	yama_case(1, 0, 0);
}
END_TEST

START_TEST(yama1_without_tracer_denied)
{
	yama_case(1, SVMBIND_CLIENT_NO_PTRACER, -SVMBIND_ERR_PTRACE_DENIED);
}
END_TEST

START_TEST(yama2_refused_before_asking)
{
	yama_case(2, 0, -SVMBIND_BROKER_ERR_YAMA);
}
END_TEST

void add_policy_tests(Suite *s)
{
	TCase *tc = tcase_create("policy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, policy_uid_denied);
	tcase_add_test(tc, policy_gid_denied);
	tcase_add_test(tc, policy_callback_denied);
	tcase_add_test(tc, limit_clients);
	tcase_add_test(tc, limit_clients_per_uid);
	tcase_add_test(tc, limit_bonds);
	tcase_add_test(tc, limit_bonds_per_uid);
	tcase_add_test(tc, broker_restart_clean_error);
	tcase_add_test(tc, broker_crash_restart);
	tcase_add_test(tc, second_broker_same_path_refused);
	tcase_add_test(tc, systemd_socket_activation);
	tcase_add_test(tc, yama1_client_names_tracer);
	tcase_add_test(tc, yama1_without_tracer_denied);
	tcase_add_test(tc, yama2_refused_before_asking);
	suite_add_tcase(s, tc);
}
