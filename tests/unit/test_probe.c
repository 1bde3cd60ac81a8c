// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Probing the VM's real topology: values, reasons, caching, no residue.
 * (Capability walks and ECAP decoding on fixture bytes: tests/pure/.) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* The IOMMU group number sysfs gives @bdf, read by the test itself. */
static int sysfs_group(const char *bdf)
{
	char path[128], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	return atoi(strrchr(target, '/') + 1);
}

START_TEST(system_probe_reads_vfio_groups_yama_and_vtd)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_system(&p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.vfio, 1);
	ck_assert_int_eq(p.vfio_api_version, VFIO_API_VERSION);
	ck_assert_int_eq(p.type1, 1);
	ck_assert_int_eq(p.type1v2, 1);
	ck_assert_int_eq(p.noiommu_type, 0);	/* Debian: CONFIG_VFIO_NOIOMMU unset */
	ck_assert_int_eq(p.iommu_groups, 1);
	ck_assert_int_eq(p.noiommu_mode, 0);
	ck_assert_int_eq(p.ptrace_scope, 0);
	ck_assert_int_eq(p.cap_sys_ptrace, 1);	/* the suite runs as root */
	/* QEMU's VT-d in legacy mode (the VM boots without sm_on): no PASID */
	ck_assert_int_eq(p.vtd, 1);
	ck_assert_int_eq(p.vtd_scalable, 0);
	ck_assert_int_eq(p.vtd_pasid, 0);
	ck_assert_int_eq(p.vtd_prs, 0);
}
END_TEST

START_TEST(system_probe_is_cached_until_asked_again)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_system(&p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.ptrace_scope, 0);
	ck_assert_int_eq(lab_set_yama(2), 0);
	ck_ok(svmbind_probe_system(&p, 0));
	ck_assert_int_eq(p.ptrace_scope, 0);
	ck_ok(svmbind_probe_system(&p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.ptrace_scope, 2);
}
END_TEST

START_TEST(older_callers_smaller_probe_struct_is_filled_up_to_its_size)
{
	struct svmbind_sys_probe p;

	memset(&p, 0x5a, sizeof(p));
	p.sz = offsetof(struct svmbind_sys_probe, type1);
	ck_ok(svmbind_probe_system(&p, 0));
	ck_assert_int_eq(p.vfio, 1);
	ck_assert_int_eq(p.type1, 0x5a5a5a5a);	/* untouched past sz */
	p.sz = 2;
	ck_fails(svmbind_probe_system(&p, 0), EINVAL);
}
END_TEST

START_TEST(device_probe_reports_a_vfio_device_alone_in_its_group)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_device(lab_dev(2), NULL, &p, 0));
	ck_assert_str_eq(p.name, lab_dev(2));
	ck_assert_str_eq(p.driver, getenv("SVMBIND_LAB_DRIVER"));
	ck_assert_int_eq(p.vfio_driver, 1);
	ck_assert_int_eq(p.iommu_group, sysfs_group(lab_dev(2)));
	ck_assert_int_eq(p.group_viable, 1);
	ck_assert_uint_eq(p.nr_offenders, 0);
	ck_assert_str_eq(p.offenders, "");
	/* QEMU's edu is conventional PCI: 256 bytes of config space, no extended caps */
	ck_assert_int_eq(p.ats, 0);
	ck_assert_int_eq(p.pri, 0);
	ck_assert_int_eq(p.pasid, 0);
	ck_assert_int_eq(p.pasid_width, 0);
	ck_assert_int_eq(p.dialect, -EBADF);	/* no handle */
}
END_TEST

/* Exit codes name the check that failed. */
static int probe_unprivileged(void *arg)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	if (svmbind_probe_device(arg, NULL, &p, 0))
		return 10;
	if (p.ats != -EPERM || p.pri != -EPERM || p.pasid != -EPERM || p.pasid_width != -EPERM)
		return 11;
	return p.vfio_driver == 1 ? 0 : 12;	/* what sysfs shows anyone is still there */
}

START_TEST(device_probe_without_cap_sys_admin_says_eperm_for_capabilities)
{
	/* sysfs gives a reader without CAP_SYS_ADMIN the first 64 bytes of config space */
	int ret = tu_run_as(65534, probe_unprivileged, (void *)lab_dev(2));

	ck_assert_msg(ret == 0, "check %d failed (10 probe, 11 caps not -EPERM, 12 driver)", ret);
}
END_TEST

START_TEST(device_probe_of_an_absent_or_malformed_address_fails)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_fails(svmbind_probe_device("0000:7f:00.0", NULL, &p, 0), ENODEV);
	ck_fails(svmbind_probe_device("junk", NULL, &p, 0), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "junk"));
}
END_TEST

START_TEST(device_probe_of_an_unbound_device_has_no_driver_and_a_viable_group)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_assert_int_eq(lab_bind_driver(lab_dev(2), "none"), 0);
	ck_ok(svmbind_probe_device(lab_dev(2), NULL, &p, 0));
	ck_assert_str_eq(p.driver, "");
	ck_assert_int_eq(p.vfio_driver, 0);
	ck_assert_int_eq(p.iommu_group, sysfs_group(lab_dev(2)));
	ck_assert_int_eq(p.group_viable, 1);
	ck_assert_uint_eq(p.nr_offenders, 0);
}
END_TEST

START_TEST(device_probe_names_its_own_kernel_driver_as_the_offender)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };
	const char *other = getenv("SVMBIND_LAB_OTHER_DRIVER");
	char want[96];

	ck_assert_int_eq(lab_bind_driver(lab_dev(2), "other"), 0);
	ck_ok(svmbind_probe_device(lab_dev(2), NULL, &p, 0));
	ck_assert_str_eq(p.driver, other);
	ck_assert_int_eq(p.vfio_driver, 0);
	ck_assert_int_eq(p.group_viable, 0);
	ck_assert_uint_eq(p.nr_offenders, 1);
	snprintf(want, sizeof(want), "%s (%s)", lab_dev(2), other);
	ck_assert_str_eq(p.offenders, want);
}
END_TEST

START_TEST(device_probe_names_the_offender_in_a_shared_group)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_assert_int_eq(lab_bind_driver(lab_dev(1), "other"), 0);
	ck_ok(svmbind_probe_device(lab_dev(0), NULL, &p, 0));
	ck_assert_int_eq(p.vfio_driver, 1);
	ck_assert_int_eq(p.group_viable, 0);
	ck_assert_uint_eq(p.nr_offenders, 1);
	ck_assert_ptr_nonnull(strstr(p.offenders, lab_dev(1)));
	ck_assert_ptr_null(strstr(p.offenders, lab_dev(0)));
}
END_TEST

START_TEST(dialect_probe_leaves_no_fd_and_no_bond)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_dev_probe p = { .sz = sizeof(p) };
	int fds = tu_fds();

	ck_ok(svmbind_probe_device(lab_dev(2), dev, &p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.dialect, SVMBIND_DIALECT_PID);
	ck_fds_same(fds);
	ck_assert_int_eq(tu_param("bonds"), 0);
	/* cached: a dialect change is seen only when asked again */
	ck_assert_int_eq(lab_set_param("dialect", SVMBIND_DIALECT_SELF), 0);
	ck_assert_int_eq(svmbind_device_dialect(dev), SVMBIND_DIALECT_PID);
	ck_ok(svmbind_probe_device(lab_dev(2), dev, &p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.dialect, SVMBIND_DIALECT_SELF);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(dialect_probe_on_stock_vfio_pci_is_none_and_leaves_no_fd)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_dev_probe p = { .sz = sizeof(p) };
	long v;
	int fds = tu_fds();

	if (lab_get_param("dialect", &v) == 0)
		ck_assert_int_eq(lab_set_param("dialect", SVMBIND_DIALECT_NONE), 0);	/* the provider as stock */
	ck_ok(svmbind_probe_device(lab_dev(2), dev, &p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.dialect, SVMBIND_DIALECT_NONE);
	ck_assert_int_eq(svmbind_device_dialect(dev), SVMBIND_DIALECT_NONE);
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

TCase *tcase_probe(void)
{
	TCase *tc = tcase_create("probe");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	unit_add(tc, system_probe_reads_vfio_groups_yama_and_vtd, 0);
	unit_add(tc, system_probe_is_cached_until_asked_again, 0);
	unit_add(tc, older_callers_smaller_probe_struct_is_filled_up_to_its_size, 0);
	unit_add(tc, device_probe_reports_a_vfio_device_alone_in_its_group, 0);
	unit_add(tc, device_probe_without_cap_sys_admin_says_eperm_for_capabilities, 0);
	unit_add(tc, device_probe_of_an_absent_or_malformed_address_fails, 0);
	unit_add(tc, device_probe_of_an_unbound_device_has_no_driver_and_a_viable_group, 0);
	unit_add(tc, device_probe_names_its_own_kernel_driver_as_the_offender, NEED_DRIVERS);
	unit_add(tc, device_probe_names_the_offender_in_a_shared_group, NEED_DRIVERS);
	unit_add(tc, dialect_probe_leaves_no_fd_and_no_bond, NEED_PROVIDER);
	unit_add(tc, dialect_probe_on_stock_vfio_pci_is_none_and_leaves_no_fd, 0);
	return tc;
}
