// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Error codes on the real kernel: each produced by its real condition, with
 * the kernel's errno kept and a message that says what to do. (The tables
 * themselves are tested on the host: tests/pure/test_errors.c.) */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "unit.h"

START_TEST(device_on_a_kernel_driver_is_named_with_the_rebind_recipe)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	char want[96];
	int fds;

	ck_assert_int_eq(lab_bind_driver(lab_dev(2), "other"), 0);
	fds = tu_fds();
	ck_fails(svmbind_device_open(ctx, lab_dev(2), NULL, &dev), SVMBIND_ERR_NOT_VFIO_DRIVER);
	snprintf(want, sizeof(want), "bound to %s", getenv("SVMBIND_LAB_OTHER_DRIVER"));
	ck_assert_msg(strstr(tu_last_error(), want), "no \"%s\" in: %s", want, tu_last_error());
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "driver_override"));
	ck_assert_ptr_null(dev);
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

/* In a mount namespace of its own, /dev/vfio is an empty tmpfs: the node is
 * missing, as in a container that was given no VFIO device. Exit codes name
 * the check that failed. */
static int ctx_without_the_vfio_node(void *arg)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .backend = SVMBIND_BACKEND_LEGACY };
	struct svmbind_ctx *ctx = NULL;
	int ret;

	(void)arg;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev/vfio", "tmpfs", 0, "size=4k"))
		return 10;
	tu_clear_log();
	ret = svmbind_ctx_new(&o, &ctx);	/* the legacy container: iommufd needs no /dev/vfio */
	if (ret != -SVMBIND_ERR_NO_VFIO || errno != SVMBIND_ERR_NO_VFIO)
		return 11;
	if (svmbind_kernel_errno() != ENOENT)
		return 12;
	if (!strstr(tu_last_error(), "modprobe vfio-pci"))
		return 13;
	return ctx ? 14 : 0;
}

START_TEST(missing_vfio_node_is_no_vfio)
{
	int ret = tu_run_as(-1, ctx_without_the_vfio_node, NULL);

	ck_assert_msg(ret == 0, "check %d failed (10 namespace, 11 code, 12 kernel errno, "
		      "13 message, 14 handle)", ret);
}
END_TEST

static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	ck_assert_int_eq(syscall(SYS_capget, &h, d), 0);
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	ck_assert_int_eq(syscall(SYS_capset, &h, d), 0);
}

START_TEST(dma_map_past_the_memlock_limit_is_memlock)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	static char buf[1 << 20] __attribute__((aligned(4096)));

	/* Check forks each case: the capability and the limit end with it. */
	drop_cap_ipc_lock();
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	ck_fails(svmbind_dma_map(ctx, buf, 0x1000000, sizeof(buf), 0), SVMBIND_ERR_MEMLOCK);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOMEM);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "ulimit -l"));
	ck_ok(svmbind_dma_map(ctx, buf, 0x1000000, 16 * 1024, 0));	/* under the limit: fine */
	ck_ok(svmbind_dma_unmap(ctx, 0x1000000, 16 * 1024));
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(an_iommu_type_the_kernel_does_not_offer_is_no_iommu_type)
{
	/* Debian's kernel offers TYPE1 and TYPE1v2, not no-IOMMU (CONFIG_VFIO_NOIOMMU unset). */
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .iommu_type = VFIO_NOIOMMU_IOMMU };
	struct svmbind_ctx *ctx = NULL;
	int fds = tu_fds();

	ck_fails(svmbind_ctx_new(&o, &ctx), SVMBIND_ERR_NO_IOMMU_TYPE);
	ck_assert_int_eq(svmbind_kernel_errno(), 0);	/* CHECK_EXTENSION said 0: no errno */
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "does not offer IOMMU type 8"));
	ck_assert_ptr_null(ctx);
	ck_fds_same(fds);
}
END_TEST

START_TEST(kernel_errno_is_kept_and_cleared_by_success)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_sys_probe p = { .sz = sizeof(p) };
	uint32_t pasid;
	long v;

	if (lab_get_param("dialect", &v) == 0) {
		ck_fails(svm_bind_pid(dev, 999999, &pasid), SVMBIND_ERR_NO_PROCESS);	/* > pid_max */
		ck_assert_int_eq(svmbind_kernel_errno(), ESRCH);
	} else {
		ck_fails(svm_bind_self(dev, &pasid), SVMBIND_ERR_NO_SVM_BIND);		/* stock vfio-pci */
		ck_assert_int_eq(svmbind_kernel_errno(), ENOTTY);
	}
	ck_assert_int_eq(svmbind_kernel_errno(), svmbind_kernel_errno());	/* reading keeps it */
	ck_assert_int_ne(svmbind_kernel_errno(), 0);
	ck_ok(svmbind_probe_system(&p, 0));
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

TCase *tcase_errors(void)
{
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	unit_add(tc, device_on_a_kernel_driver_is_named_with_the_rebind_recipe, NEED_DRIVERS);
	unit_add(tc, missing_vfio_node_is_no_vfio, 0);
	unit_add(tc, dma_map_past_the_memlock_limit_is_memlock, 0);
	unit_add(tc, an_iommu_type_the_kernel_does_not_offer_is_no_iommu_type, 0);
	unit_add(tc, kernel_errno_is_kept_and_cleared_by_success, 0);
	return tc;
}
