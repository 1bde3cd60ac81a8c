// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* VT-d ECAP decoding: sysfs text in, features every unit has out. */
#include <errno.h>
#include <stdio.h>

#include "pure.h"
#include "pure_tests.h"

#define BIT(n) (1ull << (n))

/* QEMU 7.2's intel-iommu without x-scalable-mode, as the VM shows it. */
static const char qemu_legacy[] = "f00f4a\n";

static struct svmbind__vtd fold(const char *const *units, int n)
{
	struct svmbind__vtd v;

	svmbind__vtd_init(&v);
	for (int i = 0; i < n; i++)
		svmbind__vtd_add_unit(&v, units[i]);
	return v;
}

START_TEST(qemu_legacy_mode_has_no_pasid_no_scalable_mode_no_prs)
{
	const char *u[] = { qemu_legacy };
	struct svmbind__vtd v = fold(u, 1);

	ck_assert_int_eq(v.units, 1);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_SMTS), 0);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_PASID), 0);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_PRS), 0);
	ck_assert_int_eq(svmbind__vtd_feature(&v, 1), 1);	/* bit 1 of f00f4a */
}
END_TEST

START_TEST(each_feature_is_read_from_its_own_bit)
{
	char text[32];
	struct svmbind__vtd v;
	const unsigned int bits[] = { SVMBIND__ECAP_PRS, SVMBIND__ECAP_PASID, SVMBIND__ECAP_SMTS };

	ck_assert_uint_eq(SVMBIND__ECAP_PRS, 29);
	ck_assert_uint_eq(SVMBIND__ECAP_PASID, 40);
	ck_assert_uint_eq(SVMBIND__ECAP_SMTS, 43);
	for (unsigned int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "%llx\n", BIT(bits[i]));
		svmbind__vtd_init(&v);
		ck_assert_int_eq(svmbind__vtd_add_unit(&v, text), 0);
		for (unsigned int j = 0; j < 3; j++)
			ck_assert_int_eq(svmbind__vtd_feature(&v, bits[j]), i == j);
	}
}
END_TEST

START_TEST(a_feature_counts_only_if_every_unit_has_it)
{
	char all[32], no_pasid[32];
	struct svmbind__vtd v;

	snprintf(all, sizeof(all), "%llx", BIT(29) | BIT(40) | BIT(43));
	snprintf(no_pasid, sizeof(no_pasid), "%llx", BIT(29) | BIT(43));
	const char *u[] = { all, no_pasid, all };

	v = fold(u, 3);
	ck_assert_int_eq(v.units, 3);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_PASID), 0);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_SMTS), 1);
	ck_assert_int_eq(svmbind__vtd_feature(&v, SVMBIND__ECAP_PRS), 1);
}
END_TEST

START_TEST(no_unit_means_no_feature)
{
	struct svmbind__vtd v;

	svmbind__vtd_init(&v);
	ck_assert_int_eq(v.units, 0);
	for (unsigned int b = 0; b < 64; b++)
		ck_assert_int_eq(svmbind__vtd_feature(&v, b), 0);
}
END_TEST

START_TEST(an_ecap_that_is_not_hex_is_not_counted)
{
	const char *bad[] = { "", "\n", "zz", "-1", "12 34", "0x", "f00f4a junk", "1ffffffffffffffff" };
	struct svmbind__vtd v;

	svmbind__vtd_init(&v);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(svmbind__vtd_add_unit(&v, bad[i]) == -EINVAL, "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(v.units, 0);
	ck_assert_int_eq(svmbind__vtd_add_unit(&v, "ffffffffffffffff"), 0);	/* all 64 bits */
	ck_assert_int_eq(svmbind__vtd_feature(&v, 63), 1);
	ck_assert_int_eq(svmbind__vtd_feature(&v, 64), 0);	/* no such bit */
}
END_TEST

TCase *tcase_vtd(void)
{
	TCase *tc = tcase_create("vtd");

	tcase_add_test(tc, qemu_legacy_mode_has_no_pasid_no_scalable_mode_no_prs);
	tcase_add_test(tc, each_feature_is_read_from_its_own_bit);
	tcase_add_test(tc, a_feature_counts_only_if_every_unit_has_it);
	tcase_add_test(tc, no_unit_means_no_feature);
	tcase_add_test(tc, an_ecap_that_is_not_hex_is_not_counted);
	return tc;
}
