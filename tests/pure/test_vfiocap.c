// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* VFIO info capability chains (lib/vfiocap.c) on fixture bytes: sparse mmap areas, IOVA ranges. */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "pure.h"
#include "pure_tests.h"

/* An info buffer: a fixed struct of @head bytes, then caps placed by put(). */
struct fixture {
	unsigned char b[512];
	size_t len;
};

static void put(struct fixture *f, uint32_t off, const void *p, size_t n)
{
	memcpy(f->b + off, p, n);
	if (off + n > f->len)
		f->len = off + n;
}

static void cap(struct fixture *f, uint32_t off, uint16_t id, uint32_t next)
{
	struct vfio_info_cap_header h = { .id = id, .version = 1, .next = next };

	put(f, off, &h, sizeof(h));
}

/* A region info whose chain is: a type cap (id 2) at 32, then sparse mmap at 64 with @n areas. */
static void sparse_region(struct fixture *f, uint32_t n, const struct vfio_region_sparse_mmap_area *a)
{
	struct vfio_region_info_cap_sparse_mmap s = { .header = { .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP,
		.version = 1 }, .nr_areas = n };

	memset(f, 0, sizeof(*f));
	f->len = sizeof(struct vfio_region_info);
	cap(f, 32, VFIO_REGION_INFO_CAP_TYPE, 64);
	put(f, 64, &s, sizeof(s));
	put(f, 64 + sizeof(s), a, n * sizeof(*a));
}

START_TEST(sparse_areas_are_read_after_another_capability)
{
	const struct vfio_region_sparse_mmap_area a[2] = { { 0, 0x1000 }, { 0x3000, 0x1000 } };
	struct svmbind__area out[4];
	struct fixture f;

	sparse_region(&f, 2, a);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 4), 2);
	ck_assert_uint_eq(out[0].offset, 0);
	ck_assert_uint_eq(out[0].size, 0x1000);
	ck_assert_uint_eq(out[1].offset, 0x3000);
	ck_assert_uint_eq(out[1].size, 0x1000);
}
END_TEST

START_TEST(a_region_without_the_sparse_capability_has_none)
{
	struct svmbind__area out[4];
	struct fixture f = { .len = sizeof(struct vfio_region_info) };

	cap(&f, 32, VFIO_REGION_INFO_CAP_TYPE, 0);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 4), -ENOENT);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 0, 0x4000, out, 4), -ENOENT);
}
END_TEST

START_TEST(sparse_areas_outside_the_region_or_the_bytes_are_refused)
{
	const struct vfio_region_sparse_mmap_area past = { 0x3000, 0x2000 };
	const struct vfio_region_sparse_mmap_area wraps = { UINT64_MAX - 0xfff, 0x2000 };
	const struct vfio_region_sparse_mmap_area ok[3] = { { 0, 1 }, { 1, 1 }, { 2, 1 } };
	struct svmbind__area out[4];
	struct fixture f;

	sparse_region(&f, 1, &past);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 4), -EBADMSG);
	sparse_region(&f, 1, &wraps);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 4), -EBADMSG);
	sparse_region(&f, 3, ok);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len - 1, 32, 0x4000, out, 4), -EBADMSG);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 2), -E2BIG);
	ck_assert_int_eq(svmbind__vfio_sparse_areas(f.b, f.len, 32, 0x4000, out, 3), 3);
}
END_TEST

START_TEST(a_chain_that_loops_or_runs_off_the_bytes_ends)
{
	struct fixture f = { .len = 64 };

	cap(&f, 32, VFIO_REGION_INFO_CAP_TYPE, 32);	/* next points at itself */
	ck_assert_ptr_null(svmbind__vfio_cap(f.b, f.len, 32, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 8));
	cap(&f, 32, VFIO_REGION_INFO_CAP_TYPE, 16);	/* next points back */
	cap(&f, 16, VFIO_REGION_INFO_CAP_TYPE, 32);
	ck_assert_ptr_null(svmbind__vfio_cap(f.b, f.len, 32, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 8));
	cap(&f, 32, VFIO_REGION_INFO_CAP_TYPE, 60);	/* next header would cross the end */
	ck_assert_ptr_null(svmbind__vfio_cap(f.b, f.len, 32, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 8));
	ck_assert_ptr_null(svmbind__vfio_cap(f.b, f.len, 4096, VFIO_REGION_INFO_CAP_TYPE, 8));
	ck_assert_ptr_eq(svmbind__vfio_cap(f.b, f.len, 32, VFIO_REGION_INFO_CAP_TYPE, 8), f.b + 32);
	ck_assert_ptr_null(svmbind__vfio_cap(f.b, f.len, 32, VFIO_REGION_INFO_CAP_TYPE, 64));
}
END_TEST

START_TEST(a_containers_iova_ranges_are_read)
{
	struct vfio_iommu_type1_info_cap_iova_range c = { .header = {
		.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1 }, .nr_iovas = 2 };
	const struct vfio_iova_range r[2] = { { 0, 0xfedfffff }, { 0xfef00000, 0xffffffffffff } };
	const struct vfio_iova_range bad = { 0x2000, 0x1fff };
	struct svmbind__iova_range out[4];
	struct fixture f = { .len = sizeof(struct vfio_iommu_type1_info) };

	put(&f, 24, &c, sizeof(c));
	put(&f, 24 + sizeof(c), r, sizeof(r));
	ck_assert_int_eq(svmbind__vfio_iova_ranges(f.b, f.len, 24, out, 4), 2);
	ck_assert_uint_eq(out[0].last, 0xfedfffff);
	ck_assert_uint_eq(out[1].start, 0xfef00000);
	ck_assert_uint_eq(out[1].last, 0xffffffffffff);
	ck_assert_int_eq(svmbind__vfio_iova_ranges(f.b, f.len, 24, out, 1), -E2BIG);
	ck_assert_int_eq(svmbind__vfio_iova_ranges(f.b, f.len - 8, 24, out, 4), -EBADMSG);
	put(&f, 24 + sizeof(c), &bad, sizeof(bad));
	ck_assert_int_eq(svmbind__vfio_iova_ranges(f.b, f.len, 24, out, 4), -EBADMSG);
	ck_assert_int_eq(svmbind__vfio_iova_ranges(f.b, f.len, 0, out, 4), -ENOENT);
}
END_TEST

TCase *tcase_vfiocap(void)
{
	TCase *tc = tcase_create("vfiocap");

	tcase_add_test(tc, sparse_areas_are_read_after_another_capability);
	tcase_add_test(tc, a_region_without_the_sparse_capability_has_none);
	tcase_add_test(tc, sparse_areas_outside_the_region_or_the_bytes_are_refused);
	tcase_add_test(tc, a_chain_that_loops_or_runs_off_the_bytes_ends);
	tcase_add_test(tc, a_containers_iova_ranges_are_read);
	return tc;
}
