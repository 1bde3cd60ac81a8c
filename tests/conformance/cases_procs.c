// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Conformance: binding other processes: real processes, credentials, Yama,
 * pid namespaces, and what happens to a bond when its process exits or execs. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

START_TEST(dma_tagged_with_a_childs_pasid_lands_in_the_child_only)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char seen[TU_BUF_LEN], msg[TU_BUF_LEN] = "from the device";
	struct tu_target t;
	uint32_t pasid;

	tu_target_start(&t, "child's own", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &pasid));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, t.buf, msg, sizeof(msg), true), 0);
	tu_target_read(&t, seen);
	ck_assert_str_eq(seen, "from the device");
	ck_assert_str_eq(t.buf, "child's own");	/* same address in the caller: untouched */
	/* and reading back through the PASID sees the child's memory */
	memset(msg, 0, sizeof(msg));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, t.buf, msg, sizeof(msg), false), 0);
	ck_assert_str_eq(msg, "from the device");
	ck_ok(svm_unbind(dev, pasid, 0));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, t.buf, msg, sizeof(msg), false), -ESRCH);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(bind_of_a_pid_that_does_not_exist_is_no_process)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	uint32_t pasid;
	int status;
	pid_t gone = fork();

	if (gone == 0)
		_exit(0);
	waitpid(gone, &status, 0);
	ck_fails(svm_bind_pid(dev, gone, &pasid), SVMBIND_ERR_NO_PROCESS);
	ck_assert_int_eq(svmbind_kernel_errno(), ESRCH);
	ck_fails(svm_bind_pid(dev, 0, &pasid), EINVAL);
	ck_fails(svm_bind_pid(dev, -5, &pasid), EINVAL);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(bind_pid_on_a_self_only_kernel_says_so)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev;
	uint32_t pasid;

	ck_assert_int_eq(lab_set_param("dialect", SVMBIND_DIALECT_SELF), 0);
	dev = tu_open(ctx, lab_dev(2));
	ck_fails(svm_bind_pid(dev, getppid(), &pasid), SVMBIND_ERR_NO_PID_BIND);
	ck_assert_int_eq(svmbind_kernel_errno(), EINVAL);
	ck_ok(svm_bind_self(dev, &pasid));	/* self still works there */
	ck_ok(svm_unbind(dev, pasid, 0));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(target_exit_ends_the_bond_and_frees_the_pasid)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char buf[8];
	struct tu_target t;
	uint32_t pasid, again;

	ck_assert_int_eq(lab_set_param("pasid_max", 1), 0);	/* one PASID: reuse is visible */
	tu_target_start(&t, "x", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &pasid));
	ck_assert_int_eq(tu_param("bonds"), 1);
	void *va = t.buf;
	tu_target_stop(&t);
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, va, buf, 1, false), -ESRCH);
	ck_assert_int_eq(tu_param("bonds"), 0);
	ck_ok(svm_bind_self(dev, &again));
	ck_assert_uint_eq(again, pasid);
	/* the handle's book follows: one bond, ours, not the dead child's */
	struct svmbind_bond b = { .sz = sizeof(b) };
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 1);
	ck_ok(svmbind_device_bond(dev, 0, &b));
	ck_assert_int_eq(b.pid, getpid());
	ck_assert_uint_eq(b.refs, 1);
	ck_ok(svm_unbind(dev, again, 0));
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(unbind_after_target_exit_is_bond_gone)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct tu_target t;
	uint32_t pasid;

	tu_target_start(&t, "x", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &pasid));
	tu_target_stop(&t);
	ck_fails(svm_unbind(dev, pasid, 0), SVMBIND_ERR_BOND_GONE);
	ck_assert_int_eq(svmbind_kernel_errno(), 0);	/* the library knew: no kernel call */
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(target_exec_kills_the_old_bond)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char buf[8];
	struct tu_target t;
	uint32_t pasid, fresh;

	tu_target_start(&t, "x", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &pasid));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, t.buf, buf, 1, false), 0);
	tu_target_exec(&t);
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, t.buf, buf, 1, false), -ESRCH);
	ck_assert_int_eq(tu_param("bonds"), 0);
	/* the same pid, with its new address space, binds afresh: one bond, one
	 * reference, whatever PASID it gets (the old one is free again) */
	ck_ok(svm_bind_pid(dev, t.pid, &fresh));
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), fresh == pasid ? 1 : 2);
	ck_ok(svm_unbind(dev, fresh, 0));
	if (fresh == pasid)
		ck_fails(svm_unbind(dev, pasid, 0), SVMBIND_ERR_UNKNOWN_PASID);
	else
		ck_fails(svm_unbind(dev, pasid, 0), SVMBIND_ERR_BOND_GONE);
	ck_assert_int_eq(tu_param("bonds"), 0);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

/* ---- credentials: a caller that dropped to an ordinary uid after opening the device ---- */

enum { OK = 0, DENIED = 1, NO_PROCESS = 2, OTHER = 3 };

struct foreign {
	struct svmbind_device *dev;
	pid_t target;
};

static int bind_and_classify(void *arg)
{
	struct foreign *f = arg;
	uint32_t pasid;
	int ret;

	/* We are a child that dropped privileges: the handle is ours now. */
	if (svmbind_ctx_adopt(svmbind_device_ctx(f->dev)))
		return OTHER;
	ret = svm_bind_pid(f->dev, f->target, &pasid);

	if (ret == 0)
		return svm_unbind(f->dev, pasid, 0) ? OTHER : OK;
	if (ret == -SVMBIND_ERR_PTRACE_DENIED && svmbind_kernel_errno() == EACCES)
		return DENIED;
	if (ret == -SVMBIND_ERR_NO_PROCESS)
		return NO_PROCESS;
	fprintf(stderr, "bind_and_classify: %d (%s)\n", ret, svmbind_strerror(ret));
	return OTHER;
}

#define NOBODY 65534

/* A same-uid sibling: not a descendant of the caller. */
static int bind_sibling(int scope, bool name_caller_as_tracer)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct foreign f = { .dev = tu_open(ctx, lab_dev(2)) };
	struct tu_target t;
	int ret;

	ck_assert_int_eq(lab_set_yama(scope), 0);
	tu_target_start(&t, "sibling", NOBODY);
	f.target = t.pid;
	if (name_caller_as_tracer)	/* the caller will be our forked child: allow any */
		tu_target_set_ptracer(&t, (pid_t)-1 /* PR_SET_PTRACER_ANY */);
	ret = tu_run_as(NOBODY, bind_and_classify, &f);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
	return ret;
}

START_TEST(same_uid_sibling_binds_under_yama_0)
{
	ck_assert_int_eq(bind_sibling(0, false), OK);
}
END_TEST

START_TEST(same_uid_sibling_is_denied_under_yama_1)
{
	ck_assert_int_eq(bind_sibling(1, false), DENIED);
}
END_TEST

START_TEST(same_uid_sibling_that_named_a_tracer_binds_under_yama_1)
{
	ck_assert_int_eq(bind_sibling(1, true), OK);
}
END_TEST

START_TEST(same_uid_sibling_is_denied_under_yama_2)
{
	ck_assert_int_eq(bind_sibling(2, true), DENIED);
}
END_TEST

START_TEST(cap_sys_ptrace_binds_under_yama_2)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct foreign f = { .dev = tu_open(ctx, lab_dev(2)) };
	struct tu_target t;

	ck_assert_int_eq(lab_set_yama(2), 0);
	tu_target_start(&t, "t", NOBODY);
	f.target = t.pid;
	ck_assert_int_eq(bind_and_classify(&f), OK);	/* we are root */
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(another_uid_without_cap_sys_ptrace_is_denied)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct foreign f = { .dev = tu_open(ctx, lab_dev(2)) };
	struct tu_target t;

	tu_target_start(&t, "root's", -1);	/* stays root */
	f.target = t.pid;
	ck_assert_int_eq(tu_run_as(NOBODY, bind_and_classify, &f), DENIED);
	ck_assert_int_eq(tu_param("bonds"), 0);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

static int bind_pid_from_new_namespace(void *arg)
{
	pid_t outside = *(pid_t *)arg;
	struct svmbind_ctx *ctx = NULL;
	struct svmbind_device *dev = NULL;
	uint32_t pasid;
	int ret, status;
	pid_t child;

	if (unshare(CLONE_NEWPID))
		return 10;
	child = fork();
	if (child < 0)
		return 11;
	if (child == 0) {	/* pid 1 of the new namespace */
		if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, lab_dev(2), NULL, &dev))
			_exit(12);
		ret = svm_bind_pid(dev, outside, &pasid);
		svmbind_ctx_free(ctx);
		_exit(ret == -SVMBIND_ERR_NO_PROCESS ? NO_PROCESS : ret == 0 ? OK : OTHER);
	}
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 13;
}

START_TEST(pid_outside_the_callers_pid_namespace_is_no_process)
{
	pid_t me = getpid();

	ck_assert_int_eq(tu_run_as(-1, bind_pid_from_new_namespace, &me), NO_PROCESS);
}
END_TEST

/*
 * A binder that entered a new pid namespace and kept its parent's /proc (a
 * container that did not remount it): its pid 2 is /proc/2 of no one it
 * means. The bind must witness its own pid 2, never the parent namespace's.
 */
static int bind_pid_2_with_the_parents_proc(void *arg)
{
	int status, up[2], down[2];
	pid_t init;
	char c;

	(void)arg;
	if (unshare(CLONE_NEWPID) || pipe(up) || pipe(down))
		return 10;
	init = fork();
	if (init < 0)
		return 11;
	if (init == 0) {	/* pid 1 of the new namespace; /proc is still the parent's */
		struct svmbind_bond b = { .sz = sizeof(b) };
		struct svmbind_ctx *ctx = NULL;
		struct svmbind_device *dev = NULL;
		uint32_t pasid;
		pid_t target = fork();	/* pid 2 here */
		int ret;

		if (target == 0) {
			if (read(down[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		if (target != 2 || svmbind_ctx_new(NULL, &ctx) ||
		    svmbind_device_open(ctx, lab_dev(2), NULL, &dev))
			_exit(12);
		ret = svm_bind_pid(dev, 2, &pasid);
		if (!ret && (svmbind_device_bond(dev, 0, &b) || b.pid != 2 || b.alive != 1))
			ret = -1000;
		if (!ret)
			ret = svm_unbind(dev, pasid, 0);
		svmbind_ctx_free(ctx);
		if (write(down[1], "q", 1) != 1)
			_exit(13);
		waitpid(target, NULL, 0);
		_exit(ret == 0 ? OK : ret == -EAGAIN ? 20 : OTHER);
	}
	waitpid(init, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 13;
}

START_TEST(bind_pid_in_a_new_pid_namespace_witnesses_its_own_pid_not_a_namesake)
{
	ck_assert_int_eq(tu_run_as(-1, bind_pid_2_with_the_parents_proc, NULL), OK);
	ck_assert_int_eq(tu_param("bonds"), 0);
}
END_TEST

START_TEST(yama_3_denies_even_cap_sys_ptrace)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct foreign f = { .dev = tu_open(ctx, lab_dev(2)) };
	struct tu_target t;

	tu_target_start(&t, "t", -1);
	f.target = t.pid;
	ck_assert_int_eq(lab_set_yama(3), 0);	/* sticky until reboot: this case runs last */
	ck_assert_int_eq(bind_and_classify(&f), DENIED);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "ptrace_scope is 3"));
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

void cases_procs(struct registry *r)
{
	reg(r, "procs", dma_tagged_with_a_childs_pasid_lands_in_the_child_only, NEED_PROVIDER);
	reg(r, "procs", bind_of_a_pid_that_does_not_exist_is_no_process, NEED_PROVIDER);
	reg(r, "procs", bind_pid_on_a_self_only_kernel_says_so, NEED_PROVIDER);
	reg(r, "procs", target_exit_ends_the_bond_and_frees_the_pasid, NEED_PROVIDER);
	reg(r, "procs", unbind_after_target_exit_is_bond_gone, NEED_PROVIDER);
	reg(r, "procs", target_exec_kills_the_old_bond, NEED_PROVIDER);
	reg(r, "creds", same_uid_sibling_binds_under_yama_0, NEED_PROVIDER | NEED_YAMA | NEED_ROOT);
	reg(r, "creds", same_uid_sibling_is_denied_under_yama_1, NEED_PROVIDER | NEED_YAMA | NEED_ROOT);
	reg(r, "creds", same_uid_sibling_that_named_a_tracer_binds_under_yama_1,
	    NEED_PROVIDER | NEED_YAMA | NEED_ROOT);
	reg(r, "creds", same_uid_sibling_is_denied_under_yama_2, NEED_PROVIDER | NEED_YAMA | NEED_ROOT);
	reg(r, "creds", cap_sys_ptrace_binds_under_yama_2, NEED_PROVIDER | NEED_YAMA | NEED_ROOT);
	reg(r, "creds", another_uid_without_cap_sys_ptrace_is_denied, NEED_PROVIDER | NEED_ROOT);
	reg(r, "creds", pid_outside_the_callers_pid_namespace_is_no_process, NEED_PROVIDER | NEED_ROOT);
	reg(r, "creds", bind_pid_in_a_new_pid_namespace_witnesses_its_own_pid_not_a_namesake,
	    NEED_PROVIDER | NEED_ROOT);
	reg(r, "creds", yama_3_denies_even_cap_sys_ptrace,
	    NEED_PROVIDER | NEED_YAMA | NEED_ROOT | NEED_LAST);
}
