// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Bonds made, used and ended: unbind, exit, exec, credential change, a client killed mid-request. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "svmref_uapi.h"
#include "tests.h"

enum { REQ_WRITE = 1, REQ_SLOW = 99 };

struct handler_state {
	struct fx *f;
	atomic_int entered;
	pid_t last_pid;
	uint32_t last_pasid;
};

/* REQ_WRITE: data = u64 va; the "device" writes "PONG" there through the requester's PASID. */
static int handler(void *arg, const struct svmbind_broker_req *req, void *reply, size_t *reply_len)
{
	struct handler_state *h = arg;
	uint64_t va;
	char text[5] = "PONG";
	struct svmref_dma d = { .argsz = sizeof(d), .flags = SVMREF_DMA_WRITE, .len = 5,
				.buf = (uintptr_t)text };

	h->last_pid = req->pid;
	h->last_pasid = req->pasid;
	atomic_fetch_add(&h->entered, 1);
	if (req->type == REQ_SLOW) {
		usleep(300000);
		*reply_len = 0;
		return 0;
	}
	if (req->type != REQ_WRITE || req->len != sizeof(va))
		return -EINVAL;
	memcpy(&va, req->data, sizeof(va));
	d.pasid = req->pasid;
	d.va = va;
	if (ioctl(svmbind_device_fd(h->f->dev), SVMREF_DEVICE_PASID_DMA, &d))
		return -errno;
	*reply_len = (size_t)snprintf(reply, *reply_len, "ok %u", req->pasid);
	return 7;
}

static void start(struct fx *f, struct handler_state *h, uint32_t flags, const uid_t *uids, uint32_t n)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .flags = flags, .on_request = handler,
					 .request_arg = h, .allow_uids = uids, .nr_allow_uids = n };

	memset(h, 0, sizeof(*h));
	h->f = f;
	fx_start(f, &o);
}

START_TEST(bind_request_unbind)
{
	struct fx f;
	struct handler_state h;
	struct svmbind_client *cl;
	struct svmbind_broker_bond bd = { .sz = sizeof(bd) };
	char *buf = calloc(1, 64), reply[64];
	size_t rlen = sizeof(reply);
	uint64_t va = (uintptr_t)buf;
	int32_t status = 0;
	uint32_t pasid;

	start(&f, &h, 0, NULL, 0);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_ALREADY_BOUND);
	ck_assert_int_eq(bt_provider_bonds(), 1);
	ck_code(svmbind_broker_bond(f.b, 0, &bd), 0);
	ck_assert_int_eq(bd.pid, getpid());
	ck_assert_uint_eq(bd.pasid, pasid);
	ck_assert_uint_eq(bd.uid, getuid());
	ck_code(svmbind_client_request(cl, REQ_WRITE, &va, sizeof(va), reply, &rlen, &status), 0);
	ck_assert_int_eq(status, 7);
	ck_assert_str_eq(buf, "PONG");		/* the device wrote into our address space */
	ck_assert_int_eq(h.last_pid, getpid());	/* delivered with the verified bond */
	ck_assert_uint_eq(h.last_pasid, pasid);
	ck_code(svmbind_client_unbind(cl), 0);
	ck_code(svmbind_client_unbind(cl), -SVMBIND_BROKER_ERR_NOT_BOUND);
	ck_assert_int_eq(bt_provider_bonds(), 0);
	ck_code(svmbind_client_request(cl, REQ_WRITE, &va, sizeof(va), reply, &rlen, &status),
		-SVMBIND_BROKER_ERR_NOT_BOUND);
	svmbind_client_close(cl);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
	free(buf);
}
END_TEST

static int bind_and_exit(void *arg)
{
	struct fx *f = arg;
	struct svmbind_client *cl;
	uint32_t pasid;

	if (svmbind_client_connect(f->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	return 0;	/* exit without unbinding or closing */
}

START_TEST(exit_revokes)
{
	struct fx f;
	struct handler_state h;

	start(&f, &h, 0, NULL, 0);
	ck_assert_int_eq(bt_wait_child(bt_spawn(bind_and_exit, &f)), 0);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_assert(bt_wait_provider_bonds(0, 5000));
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

/* Bind, keep the socket across exec; the successor checks what it is told. */
static int bind_and_exec(void *arg)
{
	const char *mode = ((const char *const *)arg)[0];
	struct fx *f = ((void *const *)arg)[1];
	struct svmbind_client *cl;
	uint32_t pasid;
	char fdstr[16];

	if (svmbind_client_connect(f->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	fcntl(svmbind_client_fd(cl), F_SETFD, 0);
	snprintf(fdstr, sizeof(fdstr), "%d", svmbind_client_fd(cl));
	execl("/proc/self/exe", "test_broker", "--successor", fdstr, mode, (char *)NULL);
	return 2;
}

int successor_main(int argc, char **argv)
{
	unsigned char buf[SBW_MAX_MSG];
	struct sbw_msg m;
	int fd, ret;

	if (argc < 4)
		return 64;
	fd = atoi(argv[2]);
	if (!strcmp(argv[3], "request")) {	/* no events: the next request finds out */
		struct sbw_msg r = { .type = SBW_REQUEST, .seq = 9 };

		r.u.request.app_type = REQ_SLOW;
		if (raw_send_msg(fd, &r, -1))
			return 3;
	}
	ret = raw_recv(fd, &m, buf, sizeof(buf), 10000);
	if (ret != SBW_REVOKED || m.u.revoked.reason != SVMBIND_REVOKED_EXEC)
		return 4;
	if (!strcmp(argv[3], "request")) {
		ret = raw_recv(fd, &m, buf, sizeof(buf), 10000);
		if (ret != SBW_ERROR || m.u.error.code != -SVMBIND_BROKER_ERR_REVOKED || m.u.error.fatal)
			return 5;
	}
	return 0;
}

START_TEST(exec_revokes_successor_told)
{
	struct fx f;
	struct handler_state h;
	const void *args[2] = { "wait", &f };

	start(&f, &h, 0, NULL, 0);
	ck_assert_msg(svmbind_broker_procevents(f.b) == 1, "no process-events connector: %s",
		      svmbind_strerror(svmbind_broker_procevents(f.b)));
	ck_assert_int_eq(bt_wait_child(bt_spawn(bind_and_exec, args)), 0);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_assert(bt_wait_provider_bonds(0, 5000));
	fx_stop(&f);
}
END_TEST

START_TEST(exec_revoked_at_next_request_without_events)
{
	struct fx f;
	struct handler_state h;
	const void *args[2] = { "request", &f };

	start(&f, &h, SVMBIND_BROKER_NO_PROCEVENTS, NULL, 0);
	ck_assert_int_eq(svmbind_broker_procevents(f.b), -ECANCELED);
	ck_assert_int_eq(bt_wait_child(bt_spawn(bind_and_exec, args)), 0);
	ck_assert_int_eq(atomic_load(&h.entered), 0);	/* never handed to the owner */
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

/* Bind as root, setuid to nobody; expect revocation (want 1) or not (want 0). */
static int bind_setuid(void *arg)
{
	struct fx *f = ((void **)arg)[0];
	int want = (int)(intptr_t)((void **)arg)[1];
	struct svmbind_client *cl;
	uint32_t pasid, reason = 0;
	int ret;

	if (svmbind_client_connect(f->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 2;
	ret = svmbind_client_check(cl, want ? 5000 : 1000, &reason);
	if (ret != want)
		return 3;
	if (want && reason != SVMBIND_REVOKED_CREDS)
		return 4;
	if (!want && svmbind_client_unbind(cl))
		return 5;
	return 0;
}

START_TEST(setuid_revokes_when_policy_refuses)
{
	struct fx f;
	struct handler_state h;
	void *args[2] = { &f, (void *)1 };

	start(&f, &h, SVMBIND_BROKER_REVOKE_ON_CREDS, NULL, 0);	/* root only */
	ck_assert(svmbind_broker_procevents(f.b) == 1);
	ck_assert_int_eq(bt_wait_child(bt_spawn(bind_setuid, args)), 0);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_assert(bt_wait_provider_bonds(0, 5000));
	fx_stop(&f);
}
END_TEST

START_TEST(setuid_kept_when_policy_allows)
{
	struct fx f;
	struct handler_state h;
	uid_t nobody = 65534;
	void *args[2] = { &f, (void *)0 };

	start(&f, &h, SVMBIND_BROKER_REVOKE_ON_CREDS, &nobody, 1);
	ck_assert_int_eq(bt_wait_child(bt_spawn(bind_setuid, args)), 0);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

static int bind_slow_request(void *arg)
{
	struct fx *f = arg;
	struct svmbind_client *cl;
	uint32_t pasid;

	if (svmbind_client_connect(f->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	svmbind_client_request(cl, REQ_SLOW, NULL, 0, NULL, NULL, NULL);
	return 0;
}

START_TEST(killed_mid_request)
{
	struct fx f;
	struct handler_state h;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t c;

	start(&f, &h, 0, NULL, 0);
	c = bt_spawn(bind_slow_request, &f);
	for (int i = 0; i < 500 && !atomic_load(&h.entered); i++)
		usleep(10000);
	ck_assert_int_eq(atomic_load(&h.entered), 1);
	kill(c, SIGKILL);	/* while the owner works on its request */
	ck_assert_int_eq(bt_wait_child(c), 128 + SIGKILL);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	ck_assert(bt_wait_provider_bonds(0, 5000));
	ck_assert(bt_wait_clients(&f, 0, 5000));
	/* and the broker still serves */
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	ck_code(svmbind_client_unbind(cl), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

static int half_message(void *arg)
{
	struct fx *f = arg;
	unsigned char buf[SBW_MAX_MSG];
	struct sbw_msg m = { .type = SBW_BIND, .seq = 3 };
	int fd = raw_connect(f->path), len;

	if (fd < 0 || raw_hello(fd))
		return 1;
	len = sbw_encode(&m, buf, sizeof(buf));
	if (raw_send(fd, buf, (size_t)len / 2, -1, -1))
		return 2;
	pause();
	return 0;
}

START_TEST(killed_mid_message)
{
	struct fx f;
	struct handler_state h;
	pid_t c;

	start(&f, &h, 0, NULL, 0);
	c = bt_spawn(half_message, &f);
	ck_assert(bt_wait_clients(&f, 1, 5000));
	usleep(100000);
	kill(c, SIGKILL);
	bt_wait_child(c);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	ck_assert_int_eq(bt_provider_bonds(), 0);
	fx_stop(&f);
}
END_TEST

START_TEST(owner_revokes_and_lists)
{
	struct fx f;
	struct handler_state h;
	struct svmbind_client *cl;
	uint32_t pasid, reason = 0;

	start(&f, &h, 0, NULL, 0);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	ck_code(svmbind_broker_revoke(f.b, pasid + 1000), -ENOENT);
	ck_code(svmbind_broker_revoke(f.b, pasid), 0);
	ck_code(svmbind_client_check(cl, 5000, &reason), 1);
	ck_assert_uint_eq(reason, SVMBIND_REVOKED_OWNER);
	ck_assert_int_eq(bt_provider_bonds(), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);	/* the connection lives on */
	svmbind_client_close(cl);
	ck_assert(bt_wait_broker_bonds(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

void add_revoke_tests(Suite *s)
{
	TCase *tc = tcase_create("revoke");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bind_request_unbind);
	tcase_add_test(tc, exit_revokes);
	tcase_add_test(tc, exec_revokes_successor_told);
	tcase_add_test(tc, exec_revoked_at_next_request_without_events);
	tcase_add_test(tc, setuid_revokes_when_policy_refuses);
	tcase_add_test(tc, setuid_kept_when_policy_allows);
	tcase_add_test(tc, killed_mid_request);
	tcase_add_test(tc, killed_mid_message);
	tcase_add_test(tc, owner_revokes_and_lists);
	suite_add_tcase(s, tc);
}
