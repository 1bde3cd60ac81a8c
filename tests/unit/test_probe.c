// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Probing on the fake's known topology: values, reasons, caching, no residue. */
#include <string.h>

#include "unit.h"

START_TEST(system_probe_reads_vfio_groups_and_yama)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_system(&p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.vfio, 1);
	ck_assert_int_eq(p.vfio_api_version, VFIO_API_VERSION);
	ck_assert_int_eq(p.type1, 1);
	ck_assert_int_eq(p.type1v2, 1);
	ck_assert_int_eq(p.noiommu_type, 0);
	ck_assert_int_eq(p.iommu_groups, 1);
	ck_assert_int_eq(p.noiommu_mode, 0);
	ck_assert_int_eq(p.ptrace_scope, 0);
	ck_assert_int_eq(p.cap_sys_ptrace, 1);	/* the suite runs as root */
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

START_TEST(device_probe_finds_pasid_ats_pri_in_config_space)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_device(DEV_E1000E, NULL, &p, 0));
	ck_assert_str_eq(p.driver, "e1000e");
	ck_assert_int_eq(p.vfio_driver, 0);
	ck_assert_int_eq(p.ats, 1);
	ck_assert_int_eq(p.pri, 1);
	ck_assert_int_eq(p.pasid, 1);
	ck_assert_int_eq(p.pasid_width, 20);
	ck_assert_int_eq(p.group_viable, 0);
	ck_assert_uint_eq(p.nr_offenders, 1);
	ck_assert_str_eq(p.offenders, "0000:00:06.0 (e1000e)");
}
END_TEST

START_TEST(device_probe_without_group_gives_the_reason)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_device(DEV_NO_GROUP, NULL, &p, 0));
	ck_assert_int_eq(p.iommu_group, -SVMBIND_ERR_NO_IOMMU_GROUP);
	ck_assert_int_eq(p.group_viable, -SVMBIND_ERR_NO_IOMMU_GROUP);
	ck_assert_str_eq(p.driver, "");
	ck_fails(svmbind_probe_device("0000:7f:00.0", NULL, &p, 0), ENODEV);
	ck_fails(svmbind_probe_device("junk", NULL, &p, 0), EINVAL);
}
END_TEST

START_TEST(device_probe_names_the_offender_in_a_shared_group)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_assert_int_eq(lab_bind_driver(lab_dev(1), "other"), 0);
	ck_ok(svmbind_probe_device(lab_dev(0), NULL, &p, 0));
	ck_assert_int_eq(p.group_viable, 0);
	ck_assert_ptr_nonnull(strstr(p.offenders, lab_dev(1)));
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

TCase *tcase_probe(void)
{
	TCase *tc = tcase_create("probe");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	tcase_add_test(tc, system_probe_reads_vfio_groups_and_yama);
	tcase_add_test(tc, system_probe_is_cached_until_asked_again);
	tcase_add_test(tc, older_callers_smaller_probe_struct_is_filled_up_to_its_size);
	tcase_add_test(tc, device_probe_finds_pasid_ats_pri_in_config_space);
	tcase_add_test(tc, device_probe_without_group_gives_the_reason);
	tcase_add_test(tc, device_probe_names_the_offender_in_a_shared_group);
	tcase_add_test(tc, dialect_probe_leaves_no_fd_and_no_bond);
	return tc;
}
