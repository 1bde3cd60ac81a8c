// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* PCI addresses, group numbers, driver policy and config-space walks, on fixtures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pure.h"
#include "pure_tests.h"

static const char *bdf(const char *in)
{
	static char out[16];

	memset(out, 'x', sizeof(out));
	return svmbind__parse_bdf(in, out) ? out : NULL;
}

START_TEST(full_and_short_pci_addresses_are_canonical)
{
	ck_assert_str_eq(bdf("0000:00:03.0"), "0000:00:03.0");
	ck_assert_str_eq(bdf("00:03.0"), "0000:00:03.0");
	ck_assert_str_eq(bdf("ABCD:EF:1F.7"), "abcd:ef:1f.7");
	ck_assert_str_eq(bdf("01:1f.7"), "0000:01:1f.7");
}
END_TEST

START_TEST(vmd_domains_of_five_and_six_digits_are_pci_addresses)
{
	ck_assert_str_eq(bdf("10000:00:02.0"), "10000:00:02.0");
	ck_assert_str_eq(bdf("/sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0"),
			 "10000:e0:06.0");
	ck_assert_str_eq(bdf("1FFFF:01:00.7"), "1ffff:01:00.7");
	ck_assert_str_eq(bdf("abcdef:01:00.0"), "abcdef:01:00.0");
	ck_assert_str_eq(bdf("010000:00:02.0"), "10000:00:02.0");	/* as Linux names it */
	ck_assert_ptr_null(bdf("1000000:00:02.0"));	/* seven digits: no such domain */
	ck_assert_ptr_null(bdf("1g000:00:02.0"));
}
END_TEST

START_TEST(a_sysfs_path_gives_its_last_component)
{
	ck_assert_str_eq(bdf("/sys/bus/pci/devices/0000:01:02.0"), "0000:01:02.0");
	ck_assert_str_eq(bdf("/sys/bus/pci/devices/0000:01:02.0///"), "0000:01:02.0");
	ck_assert_str_eq(bdf("../../devices/pci0000:00/0000:00:05.0/0000:01:01.0"), "0000:01:01.0");
	ck_assert_ptr_null(bdf("/sys/bus/pci/devices/0000:01:02.0/config"));
}
END_TEST

START_TEST(anything_else_is_not_a_pci_address)
{
	const char *bad[] = {
		"", "/", "//", "0000:00:03.8", "0000:00:03.", "0000:0:03.0", "000:00:03.0",
		"0000:00:03.0x", " 0000:00:03.0", "0000:00:03.0 ", "0000-00:03.0", "0000:00-03.0",
		"0000:00:03:0", "g000:00:03.0", "00:03", "3.0", "0000:00:3.0", "1000000:00:03.0",
		"00:03.0/x", "not-a-device", "0000:00:03.0\n",
	};

	ck_assert_int_eq(svmbind__parse_bdf(NULL, (char[16]){ 0 }), 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!bdf(bad[i]), "\"%s\" parsed as %s", bad[i], bdf(bad[i]));
}
END_TEST

START_TEST(group_numbers_are_decimal_and_nothing_else)
{
	ck_assert_int_eq(svmbind__parse_group("0"), 0);
	ck_assert_int_eq(svmbind__parse_group("17"), 17);
	ck_assert_int_eq(svmbind__parse_group("2147483647"), 2147483647);
	ck_assert_int_eq(svmbind__parse_group(""), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group("-1"), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group("+1"), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group(" 1"), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group("1a"), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group("2147483648"), -EINVAL);
	ck_assert_int_eq(svmbind__parse_group("99999999999999999999"), -EINVAL);
}
END_TEST

START_TEST(vfio_drivers_and_dma_owning_drivers_are_told_apart)
{
	ck_assert(svmbind__driver_is_vfio("vfio-pci"));
	ck_assert(svmbind__driver_is_vfio("svmref-vfio-pci"));
	ck_assert(svmbind__driver_is_vfio("mlx5_vfio_pci"));
	ck_assert(!svmbind__driver_is_vfio("uio_pci_generic"));
	ck_assert(!svmbind__driver_is_vfio(""));
	/* no driver, VFIO, and driver_managed_dma drivers keep a group viable */
	ck_assert(svmbind__driver_keeps_viable(""));
	ck_assert(svmbind__driver_keeps_viable("vfio-pci"));
	ck_assert(svmbind__driver_keeps_viable("pci-stub"));
	ck_assert(svmbind__driver_keeps_viable("pcieport"));
	ck_assert(!svmbind__driver_keeps_viable("uio_pci_generic"));
	ck_assert(!svmbind__driver_keeps_viable("e1000e"));
}
END_TEST

START_TEST(offenders_are_listed_and_a_list_too_long_ends_in_dots)
{
	char buf[64];
	size_t used = 0;

	buf[0] = '\0';
	svmbind__offender_add(buf, sizeof(buf), &used, "0000:01:02.0", "uio_pci_generic");
	ck_assert_str_eq(buf, "0000:01:02.0 (uio_pci_generic)");
	svmbind__offender_add(buf, sizeof(buf), &used, "0000:01:03.0", "e1000e");
	ck_assert_str_eq(buf, "0000:01:02.0 (uio_pci_generic), 0000:01:03.0 (e1000e)");
	ck_assert_uint_eq(used, strlen(buf));
	svmbind__offender_add(buf, sizeof(buf), &used, "0000:01:04.0", "nvme");
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_str_eq(buf + sizeof(buf) - 4, "...");
	svmbind__offender_add(buf, sizeof(buf), &used, "0000:01:05.0", "nvme");
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_str_eq(buf + sizeof(buf) - 4, "...");
}
END_TEST

START_TEST(a_list_that_fits_exactly_has_no_dots)
{
	const char *entry = "0000:01:02.0 (x)";	/* 16 characters */
	char buf[17];
	size_t used = 0;

	buf[0] = '\0';
	svmbind__offender_add(buf, sizeof(buf), &used, "0000:01:02.0", "x");
	ck_assert_str_eq(buf, entry);
	used = 0;
	svmbind__offender_add(buf, sizeof(buf) - 1, &used, "0000:01:02.0", "x");
	ck_assert_str_eq(buf, "0000:01:02.0...");
}
END_TEST

/* ---- config space ---- */

static unsigned char cfg[4096];

static void put_cap(unsigned int pos, unsigned int id, unsigned int ver, unsigned int next)
{
	unsigned int hdr = id | ver << 16 | next << 20;

	cfg[pos] = hdr & 0xff;
	cfg[pos + 1] = (hdr >> 8) & 0xff;
	cfg[pos + 2] = (hdr >> 16) & 0xff;
	cfg[pos + 3] = hdr >> 24;
}

/* A PCIe endpoint: AER at 0x100, then ATS, PRI, PASID (width 20, EXEC|PRIV). */
static void endpoint(void)
{
	memset(cfg, 0, sizeof(cfg));
	put_cap(0x100, 0x01, 2, 0x140);		/* AER */
	put_cap(0x140, 0x0f, 1, 0x180);		/* ATS */
	put_cap(0x180, 0x13, 1, 0x1c0);		/* PRI */
	put_cap(0x1c0, 0x1b, 1, 0);		/* PASID */
	cfg[0x1c4] = 0x06;			/* EXEC | PRIV */
	cfg[0x1c5] = 20;			/* max PASID width, bits 8-12 */
}

START_TEST(ats_pri_and_pasid_are_found_with_the_pasid_width)
{
	struct svmbind__pci_caps c;

	endpoint();
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats, 1);
	ck_assert_int_eq(c.pri, 1);
	ck_assert_int_eq(c.pasid, 1);
	ck_assert_int_eq(c.pasid_width, 20);
	cfg[0x1c5] = 0xff;			/* bits past 12 are not the width */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.pasid_width, 31);
}
END_TEST

START_TEST(a_capability_off_the_chain_is_not_found)
{
	struct svmbind__pci_caps c;

	endpoint();
	put_cap(0x140, 0x0f, 1, 0);		/* the chain ends at ATS */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats, 1);
	ck_assert_int_eq(c.pri, 0);
	ck_assert_int_eq(c.pasid, 0);
	ck_assert_int_eq(c.pasid_width, 0);
}
END_TEST

START_TEST(conventional_config_space_has_no_extended_capabilities)
{
	struct svmbind__pci_caps c;

	endpoint();				/* bytes past 256 are not read */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, 256, &c), 0);
	ck_assert_int_eq(c.ats + c.pri + c.pasid + c.pasid_width, 0);
}
END_TEST

START_TEST(the_64_bytes_an_unprivileged_reader_gets_are_eperm)
{
	struct svmbind__pci_caps c;

	endpoint();
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, 64, &c), -EPERM);
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, 0, &c), -EPERM);
}
END_TEST

START_TEST(empty_or_all_ones_extended_space_ends_the_walk)
{
	struct svmbind__pci_caps c;

	memset(cfg, 0, sizeof(cfg));
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats + c.pri + c.pasid, 0);
	memset(cfg, 0xff, sizeof(cfg));		/* a device that went away */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats + c.pri + c.pasid, 0);
}
END_TEST

START_TEST(a_next_pointer_into_the_first_256_bytes_ends_the_walk)
{
	struct svmbind__pci_caps c;

	/* As pci_find_next_ext_capability(): bytes below 0x100 are not extended
	 * capabilities, even if they look like a PASID header. */
	memset(cfg, 0, sizeof(cfg));
	put_cap(0x100, 0x01, 2, 0x040);
	put_cap(0x040, 0x1b, 1, 0);
	cfg[0x45] = 20;
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.pasid, 0);
}
END_TEST

START_TEST(a_looping_chain_ends)
{
	struct svmbind__pci_caps c;

	memset(cfg, 0, sizeof(cfg));
	put_cap(0x100, 0x0f, 1, 0x140);
	put_cap(0x140, 0x13, 1, 0x100);		/* back to the first */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats, 1);
	ck_assert_int_eq(c.pri, 1);
	put_cap(0x100, 0x0f, 1, 0x100);		/* to itself */
	ck_assert_int_eq(svmbind__pci_ext_caps(cfg, sizeof(cfg), &c), 0);
	ck_assert_int_eq(c.ats, 1);
}
END_TEST

START_TEST(a_capability_at_the_end_of_config_space_is_not_read_past_it)
{
	unsigned char *tail;
	struct svmbind__pci_caps c;

	/* Exactly 4096 bytes on the heap: a read past the end is an ASan/valgrind error. */
	tail = malloc(4096);
	ck_assert_ptr_nonnull(tail);
	memset(tail, 0, 4096);
	tail[0x100] = 0x1b;			/* PASID, next = 0xffc */
	tail[0x102] = 0xc1;
	tail[0x103] = 0xff;
	tail[0xffc] = 0x1b;			/* another PASID header in the last 4 bytes */
	ck_assert_int_eq(svmbind__pci_ext_caps(tail, 4096, &c), 0);
	ck_assert_int_eq(c.pasid, 1);
	free(tail);
}
END_TEST

TCase *tcase_pci(void)
{
	TCase *tc = tcase_create("pci");

	tcase_add_test(tc, full_and_short_pci_addresses_are_canonical);
	tcase_add_test(tc, vmd_domains_of_five_and_six_digits_are_pci_addresses);
	tcase_add_test(tc, a_sysfs_path_gives_its_last_component);
	tcase_add_test(tc, anything_else_is_not_a_pci_address);
	tcase_add_test(tc, group_numbers_are_decimal_and_nothing_else);
	tcase_add_test(tc, vfio_drivers_and_dma_owning_drivers_are_told_apart);
	tcase_add_test(tc, offenders_are_listed_and_a_list_too_long_ends_in_dots);
	tcase_add_test(tc, a_list_that_fits_exactly_has_no_dots);
	tcase_add_test(tc, ats_pri_and_pasid_are_found_with_the_pasid_width);
	tcase_add_test(tc, a_capability_off_the_chain_is_not_found);
	tcase_add_test(tc, conventional_config_space_has_no_extended_capabilities);
	tcase_add_test(tc, the_64_bytes_an_unprivileged_reader_gets_are_eperm);
	tcase_add_test(tc, empty_or_all_ones_extended_space_ends_the_walk);
	tcase_add_test(tc, a_next_pointer_into_the_first_256_bytes_ends_the_walk);
	tcase_add_test(tc, a_looping_chain_ends);
	tcase_add_test(tc, a_capability_at_the_end_of_config_space_is_not_read_past_it);
	return tc;
}
