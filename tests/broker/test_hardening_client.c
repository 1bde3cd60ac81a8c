// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The client against a broker that is not what it seems (a listener that is
 * not the socket's owner, a reply that comes late, a code that is none), and
 * the conventions at the edges: NULL arguments logged, the kernel's errno kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hardening.h"
#include "helpers.h"
#include "tests.h"

/* ---- #18.7: a client facing a broker that is not what it seems ---- */

enum fake_mode { FAKE_OTHER_UID, FAKE_LATE, FAKE_INT_MIN };

struct fake {
	char path[64];
	enum fake_mode mode;
	int ready_w;
};

/* A broker by hand: answers HELLO, then BIND as @mode says. Exit 0 when it saw what it should. */
static int fake_broker(void *arg)
{
	struct fake *fk = arg;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	unsigned char buf[SBW_MAX_MSG];
	struct sbw_msg m, r = { 0 };
	int l, fd, ret;
	char c = 'r';

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", fk->path);
	unlink(fk->path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || chmod(fk->path, 0666))
		return 100;
	/* the file is root's; whoever listens now is another user */
	if (fk->mode == FAKE_OTHER_UID && setresuid(65534, 65534, 0))
		return 101;
	if (listen(l, 4))
		return 102;
	(void)!write(fk->ready_w, &c, 1);
	fd = accept(l, NULL, NULL);
	if (fd < 0 || raw_recv(fd, &m, buf, sizeof(buf), 5000) != SBW_HELLO)
		return 103;
	r.type = SBW_HELLO_OK;
	r.seq = m.seq;
	r.u.hello_ok.version = 1;
	r.u.hello_ok.max_data = SBW_MAX_DATA;
	if (raw_send_msg(fd, &r, -1))
		return 104;
	ret = raw_recv(fd, &m, buf, sizeof(buf), 5000);
	if (fk->mode == FAKE_OTHER_UID)	/* the client must not have asked (nor named us) */
		return ret == 0 ? 0 : 1;
	if (ret != SBW_BIND)
		return 105;
	memset(&r, 0, sizeof(r));
	r.seq = m.seq;
	if (fk->mode == FAKE_INT_MIN) {
		r.type = SBW_ERROR;
		r.u.error.code = INT_MIN;
		return raw_send_msg(fd, &r, -1) ? 106 : (pause(), 0);
	}
	usleep(1200000);		/* FAKE_LATE: past the client's timeout */
	r.type = SBW_BIND_OK;
	r.u.bind_ok.pasid = 7;
	(void)raw_send_msg(fd, &r, -1);
	/* the client must have given the connection up: end of file */
	ret = raw_recv(fd, &m, buf, sizeof(buf), 1500);
	return ret == 0 || ret == -ECONNRESET ? 0 : 2;
}

static pid_t fake_start(struct fake *fk, enum fake_mode mode)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	snprintf(fk->path, sizeof(fk->path), "/tmp/bt-fake-%d-%d.sock", (int)getpid(), (int)mode);
	fk->mode = mode;
	fk->ready_w = p[1];
	pid = bt_spawn(fake_broker, fk);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	return pid;
}

START_TEST(client_names_no_tracer_that_is_not_the_listener)
{
	struct fake fk;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_OTHER_UID);
	int ret;

	yama(1);
	ck_code(svmbind_client_connect(fk.path, NULL, &cl), 0);
	ret = svmbind_client_bind(cl, &pasid);
	svmbind_client_close(cl);
	yama(0);
	ck_code(ret, -SVMBIND_BROKER_ERR_IDENTITY);
	ck_assert_int_eq(bt_wait_child(pid), 0);
	unlink(fk.path);
}
END_TEST

START_TEST(client_late_reply_closes_connection)
{
	struct fake fk;
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 400 };
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_LATE);
	int32_t status;

	ck_code(svmbind_client_connect(fk.path, &co, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_TIMEOUT);
	usleep(1000000);	/* the late BIND_OK would be here now */
	ck_code(svmbind_client_request(cl, 1, NULL, 0, NULL, NULL, &status), -SVMBIND_BROKER_ERR_DISCONNECTED);
	ck_assert_msg(bt_wait_child(pid) == 0, "the connection stayed open after the timeout");
	svmbind_client_close(cl);
	unlink(fk.path);
}
END_TEST

START_TEST(client_refuses_int_min_code)
{
	struct fake fk;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_INT_MIN);

	ck_code(svmbind_client_connect(fk.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_PROTOCOL);
	svmbind_client_close(cl);
	kill(pid, SIGKILL);
	bt_wait_child(pid);
	unlink(fk.path);
}
END_TEST

/* ---- #18.12: NULL arguments are logged; the kernel's errno is kept ---- */

START_TEST(null_arguments_logged)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = "/tmp/x" };
	struct svmbind_broker *b;
	struct svmbind_client *cl;
	struct svmbind_broker_bond bd = { .sz = sizeof(bd) };
	uint32_t pasid, reason;
	int32_t status;

	log_start();
	ck_code(svmbind_broker_new(NULL, &o, &b), -EINVAL);
	ck_code(svmbind_broker_dispatch(NULL, 0), -EINVAL);
	ck_code(svmbind_broker_bond(NULL, 0, &bd), -EINVAL);
	ck_code(svmbind_broker_revoke(NULL, 1), -EINVAL);
	ck_code(svmbind_client_connect(NULL, NULL, &cl), -EINVAL);
	ck_code(svmbind_client_bind(NULL, &pasid), -EINVAL);
	ck_code(svmbind_client_unbind(NULL), -EINVAL);
	ck_code(svmbind_client_request(NULL, 1, NULL, 0, NULL, NULL, &status), -EINVAL);
	ck_code(svmbind_client_check(NULL, 0, &reason), -EINVAL);
	log_stop();
	ck_assert_int_eq(log_count("svmbind_broker_new: a handle or pointer argument is NULL"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_dispatch: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_bond: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_revoke: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_connect: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_bind: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_unbind: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_request: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_check: a handle"), 1);
}
END_TEST

START_TEST(kernel_errno_kept)
{
	struct svmbind_client *cl;
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .mode = 0666 };

	ck_code(svmbind_client_connect("/tmp/bt-nobody-listens-here.sock", NULL, &cl), -ENOENT);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOENT);	/* connect(2) said so */
	fx_start(&f, &o);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_unbind(cl), -SVMBIND_BROKER_ERR_NOT_BOUND);
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

void add_hardening_client_tests(Suite *s)
{
	TCase *tc = tcase_create("hardening_client");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, client_names_no_tracer_that_is_not_the_listener);
	tcase_add_test(tc, client_late_reply_closes_connection);
	tcase_add_test(tc, client_refuses_int_min_code);
	tcase_add_test(tc, null_arguments_logged);
	tcase_add_test(tc, kernel_errno_kept);
	suite_add_tcase(s, tc);
}
