// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Error codes: each is produced by its condition and decoded by one strerror. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "unit.h"

START_TEST(every_library_code_has_its_own_text_and_errno)
{
	for (int c = SVMBIND_ERR_BASE; c < SVMBIND_ERR_END; c++) {
		const char *s = svmbind_strerror(c);

		ck_assert_ptr_eq(svmbind_strerror(-c), s);
		ck_assert_ptr_null(strstr(s, "unknown"));
		for (int d = SVMBIND_ERR_BASE; d < c; d++)
			ck_assert_str_ne(s, svmbind_strerror(d));
		ck_assert_int_gt(svmbind_error_errno(c), 0);
		ck_assert_int_lt(svmbind_error_errno(c), SVMBIND_ERR_BASE);
	}
	ck_assert_int_eq(svmbind_error_errno(-SVMBIND_ERR_PTRACE_DENIED), EACCES);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_NO_SVM_BIND), ENOTTY);
}
END_TEST

START_TEST(errnos_decode_as_libc_does_and_unknowns_say_so)
{
	ck_assert_str_eq(svmbind_strerror(-ENOTTY), strerror(ENOTTY));
	ck_assert_str_eq(svmbind_strerror(EBUSY), strerror(EBUSY));
	ck_assert_str_eq(svmbind_strerror(0), "success");
	ck_assert_str_eq(svmbind_strerror(SVMBIND_ERR_END + 7), "unknown error 4021");
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_END + 7), EIO);
}
END_TEST

START_TEST(device_without_iommu_group_is_named)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	int fds = tu_fds();

	ck_fails(svmbind_device_open(ctx, DEV_NO_GROUP, NULL, &dev), SVMBIND_ERR_NO_IOMMU_GROUP);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "intel_iommu=on"));
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(device_on_a_kernel_driver_is_named_with_the_rebind_recipe)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;

	ck_fails(svmbind_device_open(ctx, DEV_E1000E, NULL, &dev), SVMBIND_ERR_NOT_VFIO_DRIVER);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "bound to e1000e"));
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "driver_override"));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(missing_vfio_is_no_vfio)
{
	char node[512], moved[520];
	struct svmbind_ctx *ctx = NULL;

	snprintf(node, sizeof(node), "%s/dev/vfio/vfio", fakek_root());
	snprintf(moved, sizeof(moved), "%s.away", node);
	ck_assert_int_eq(rename(node, moved), 0);
	ck_fails(svmbind_ctx_new(NULL, &ctx), SVMBIND_ERR_NO_VFIO);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOENT);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "modprobe vfio-pci"));
	ck_assert_int_eq(rename(moved, node), 0);
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

	drop_cap_ipc_lock();
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	ck_fails(svmbind_dma_map(ctx, buf, 0x1000000, sizeof(buf), 0), SVMBIND_ERR_MEMLOCK);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOMEM);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "ulimit -l"));
	ck_ok(svmbind_dma_map(ctx, buf, 0x1000000, 16 * 1024, 0));	/* under the limit: fine */
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(an_iommu_type_the_kernel_does_not_offer_is_no_iommu_type)
{
	/* The lab kernel offers TYPE1 and TYPE1v2, not no-IOMMU. */
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
	uint32_t pasid;

	ck_fails(svm_bind_pid(dev, 999999, &pasid), SVMBIND_ERR_NO_PROCESS);
	ck_assert_int_eq(svmbind_kernel_errno(), ESRCH);
	ck_ok(svm_bind_self(dev, &pasid));
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

TCase *tcase_errors(void)
{
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	tcase_add_test(tc, every_library_code_has_its_own_text_and_errno);
	tcase_add_test(tc, errnos_decode_as_libc_does_and_unknowns_say_so);
	tcase_add_test(tc, device_without_iommu_group_is_named);
	tcase_add_test(tc, device_on_a_kernel_driver_is_named_with_the_rebind_recipe);
	tcase_add_test(tc, missing_vfio_is_no_vfio);
	tcase_add_test(tc, dma_map_past_the_memlock_limit_is_memlock);
	tcase_add_test(tc, an_iommu_type_the_kernel_does_not_offer_is_no_iommu_type);
	tcase_add_test(tc, kernel_errno_is_kept_and_cleared_by_success);
	return tc;
}
