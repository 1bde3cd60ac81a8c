// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Conformance: what the library logs when nothing went wrong. A bond that ends
 * with its process is normal; an address space the caller cannot watch is a
 * fact of the deployment, said once per device handle; neither is a warning. */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cases.h"

static int nr_bad, nr_unwatched;	/* warnings or errors; "cannot watch" at info */
static char first_bad[256];

static void counter(enum svmbind_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level <= SVMBIND_LOG_WARN && nr_bad++ == 0)
		snprintf(first_bad, sizeof(first_bad), "%s", msg);
	if (level == SVMBIND_LOG_INFO && strstr(msg, "cannot watch"))
		nr_unwatched++;
}

static void count_log(void)
{
	nr_bad = nr_unwatched = 0;
	first_bad[0] = '\0';
	svmbind_set_log(counter, NULL);
	svmbind_set_log_level(SVMBIND_LOG_DEBUG);
}

START_TEST(unbind_after_the_process_exited_is_bond_gone_without_a_warning)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct tu_target t;
	uint32_t pasid;

	tu_target_start(&t, "short-lived", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &pasid));
	tu_target_stop(&t);
	count_log();
	ck_fails(svm_unbind(dev, pasid, 0), SVMBIND_ERR_BOND_GONE);
	svmbind_ctx_free(ctx);
	ck_assert_msg(nr_bad == 0, "%d warning(s) or error(s), the first: %s", nr_bad, first_bad);
}
END_TEST

/* This process becomes uid 990 with CAP_SYS_PTRACE and CAP_KILL only: the
 * bind passes the ptrace check, /proc/PID/mem of a uid-991 process does not
 * open (no CAP_DAC_OVERRIDE). Check forks each case: the change ends with it. */
static void become_a_service_with_ptrace_only(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	ck_assert_int_eq(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(setresgid(990, 990, 990), 0);
	ck_assert_int_eq(setresuid(990, 990, 990), 0);
	d[0].effective = d[0].permitted = 1u << CAP_SYS_PTRACE | 1u << CAP_KILL;
	ck_assert_int_eq(syscall(SYS_capset, &h, d), 0);
}

START_TEST(an_address_space_it_cannot_watch_is_said_once_per_device_at_info)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *one = tu_open(ctx, lab_dev(2)), *other = tu_open(ctx, lab_dev(0));
	struct tu_target t1, t2;
	uint32_t p1, p2, p3;

	tu_target_start(&t1, "first", 991);
	tu_target_start(&t2, "second", 991);
	become_a_service_with_ptrace_only();
	count_log();
	ck_ok(svm_bind_pid(one, t1.pid, &p1));
	ck_ok(svm_bind_pid(one, t2.pid, &p2));
	ck_assert_int_eq(nr_unwatched, 1);	/* the second bind on that device: not again */
	ck_ok(svm_bind_pid(other, t1.pid, &p3));
	ck_assert_int_eq(nr_unwatched, 2);	/* another device handle says it once too */
	ck_ok(svm_unbind(one, p2, 0));
	ck_ok(svm_unbind(other, p3, 0));
	tu_target_stop(&t1);	/* unwatched: only the kernel can tell it is gone */
	ck_fails(svm_unbind(one, p1, 0), SVMBIND_ERR_BOND_GONE);
	tu_target_stop(&t2);
	svmbind_ctx_free(ctx);
	ck_assert_msg(nr_bad == 0, "%d warning(s) or error(s), the first: %s", nr_bad, first_bad);
}
END_TEST

void cases_quiet(struct registry *r)
{
	reg(r, "quiet", unbind_after_the_process_exited_is_bond_gone_without_a_warning, NEED_PROVIDER);
	reg(r, "quiet", an_address_space_it_cannot_watch_is_said_once_per_device_at_info,
	    NEED_PROVIDER | NEED_ROOT);
}
