// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Conformance: container, groups and devices, on whichever kernel the lab has. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cases.h"

START_TEST(context_starts_with_no_iommu_type)
{
	struct svmbind_ctx *ctx = tu_ctx();

	ck_assert_int_ge(svmbind_ctx_container_fd(ctx), 0);
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(open_sets_type1v2_and_reads_device_info)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));

	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	ck_assert_str_eq(svmbind_device_name(dev), lab_dev(2));
	ck_assert(svmbind_device_flags(dev) & VFIO_DEVICE_FLAGS_PCI);
	ck_assert_uint_ge(svmbind_device_num_regions(dev), VFIO_PCI_CONFIG_REGION_INDEX + 1);
	ck_assert_uint_ge(svmbind_device_num_irqs(dev), 1);
	ck_assert_ptr_eq(svmbind_device_ctx(dev), ctx);
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(open_close_open_sets_the_iommu_type_again)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));

	ck_ok(svmbind_device_close(dev));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	dev = tu_open(ctx, lab_dev(2));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	/* The kernel really has a type again: DMA mapping works. */
	void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_ok(svmbind_dma_map(ctx, buf, 0x100000, 4096, 0));
	ck_ok(svmbind_dma_unmap(ctx, 0x100000, 4096));
	munmap(buf, 4096);
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(two_devices_in_one_group_share_the_group_fd)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *a = tu_open(ctx, lab_dev(0));
	int fds = tu_fds();
	struct svmbind_device *b = tu_open(ctx, lab_dev(1));

	ck_assert_int_eq(svmbind_device_group(a), svmbind_device_group(b));
	ck_assert_int_eq(tu_fds(), fds + 1);	/* the device fd only: the group is reused */
	ck_assert_int_ne(svmbind_device_fd(a), svmbind_device_fd(b));
	ck_ok(svmbind_device_close(a));
	/* b keeps the group attached: the container still has its type */
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	ck_ok(svmbind_device_close(b));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(two_groups_share_one_container)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *a = tu_open(ctx, lab_dev(0));
	int fds = tu_fds();
	struct svmbind_device *c = tu_open(ctx, lab_dev(2));

	ck_assert_int_ne(svmbind_device_group(a), svmbind_device_group(c));
	ck_assert_int_eq(tu_fds(), fds + 2);	/* group fd + device fd */
	ck_ok(svmbind_device_close(a));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	svmbind_ctx_free(ctx);			/* closes c */
}
END_TEST

START_TEST(second_context_gets_group_busy)
{
	struct svmbind_ctx *one = tu_ctx(), *two = tu_ctx();
	struct svmbind_device *dev = tu_open(one, lab_dev(2)), *again = NULL;
	int fds = tu_fds();

	ck_fails(svmbind_device_open(two, lab_dev(2), NULL, &again), SVMBIND_ERR_GROUP_BUSY);
	/* what the kernel said: the group node is busy; a cdev's bind refuses a second open */
	ck_assert_int_eq(svmbind_kernel_errno(),
			 svmbind_ctx_backend(two) == SVMBIND_BACKEND_LEGACY ? EBUSY : EINVAL);
	ck_assert_ptr_null(again);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "fuser"));
	ck_fds_same(fds);
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(one);
	svmbind_ctx_free(two);
}
END_TEST

START_TEST(group_with_a_kernel_driver_member_is_not_viable_and_named)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	int fds;

	ck_assert_int_eq(lab_bind_driver(lab_dev(1), "other"), 0);
	fds = tu_fds();
	ck_fails(svmbind_device_open(ctx, lab_dev(0), NULL, &dev), SVMBIND_ERR_GROUP_NOT_VIABLE);
	ck_assert_msg(strstr(tu_last_error(), lab_dev(1)), "offender not named: %s", tu_last_error());
	ck_fds_same(fds);
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(device_on_no_driver_is_not_vfio)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	int fds;

	ck_assert_int_eq(lab_bind_driver(lab_dev(2), "none"), 0);
	fds = tu_fds();
	ck_fails(svmbind_device_open(ctx, lab_dev(2), NULL, &dev), SVMBIND_ERR_NOT_VFIO_DRIVER);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "driver_override"));
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(device_names_are_parsed_or_refused)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	char path[128];
	int fds = tu_fds();

	ck_fails(svmbind_device_open(ctx, "not-a-device", NULL, &dev), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "not-a-device"));
	ck_fails(svmbind_device_open(ctx, "0000:7f:1f.7", NULL, &dev), ENODEV);
	ck_fds_same(fds);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/", lab_dev(2));
	dev = tu_open(ctx, path);
	ck_assert_str_eq(svmbind_device_name(dev), lab_dev(2));
	ck_ok(svmbind_device_close(dev));
	dev = tu_open(ctx, lab_dev(2) + 5);	/* "BB:DD.F" */
	ck_assert_str_eq(svmbind_device_name(dev), lab_dev(2));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(bar0_is_described_and_mapped)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_region_info ri = { .sz = sizeof(ri) };
	void *bar;
	size_t len;

	ck_ok(svmbind_device_region_info(dev, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	ck_assert_uint_eq(ri.size, 1u << 20);	/* edu: 1 MiB */
	ck_assert(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ck_ok(svmbind_device_map_region(dev, VFIO_PCI_BAR0_REGION_INDEX, PROT_READ | PROT_WRITE, &bar, &len));
	ck_assert_uint_eq(len, ri.size);
	(void)*(volatile uint32_t *)bar;	/* edu's identification register */
	ck_ok(svmbind_device_unmap_region(dev, bar, len));
	ck_fails(svmbind_device_region_info(dev, 1000, &ri), EINVAL);
	ck_fails(svmbind_device_map_region(dev, VFIO_PCI_BAR1_REGION_INDEX, PROT_READ, &bar, &len), EINVAL);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(dma_map_needs_an_open_device)
{
	struct svmbind_ctx *ctx = tu_ctx();
	void *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_fails(svmbind_dma_map(ctx, buf, 0x200000, 8192, 0), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "open a device first"));
	munmap(buf, 8192);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(dma_map_and_unmap_round_trip)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	void *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_ok(svmbind_dma_map(ctx, buf, 0x200000, 8192, SVMBIND_DMA_READ | SVMBIND_DMA_WRITE));
	ck_fails(svmbind_dma_map(ctx, buf, 0x200000, 8192, 0), EEXIST);
	ck_fails(svmbind_dma_map(ctx, (char *)buf + 1, 0x400000, 4096, 0), EINVAL);
	ck_fails(svmbind_dma_map(ctx, buf, 0x400000, 4096, 0x80), EINVAL);
	ck_ok(svmbind_dma_unmap(ctx, 0x200000, 8192));
	ck_fails(svmbind_dma_unmap(ctx, 0x200000, 8192), ENOENT);
	munmap(buf, 8192);
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(closing_the_context_closes_its_devices)
{
	int fds = tu_fds();
	struct svmbind_ctx *ctx = tu_ctx();

	tu_open(ctx, lab_dev(0));
	tu_open(ctx, lab_dev(1));
	tu_open(ctx, lab_dev(2));
	svmbind_ctx_free(ctx);
	ck_fds_same(fds);
	/* and nothing is held: a new context opens them again */
	ctx = tu_ctx();
	tu_open(ctx, lab_dev(0));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(options_with_unknown_nonzero_tail_are_refused)
{
	struct big {
		struct svmbind_ctx_opts o;
		uint64_t future;
	} big = { .o = { .sz = sizeof(big) } };
	struct svmbind_ctx *ctx = NULL;

	ck_ok(svmbind_ctx_new(&big.o, &ctx));	/* zero tail: fine */
	svmbind_ctx_free(ctx);
	ctx = NULL;
	big.future = 1;
	ck_fails(svmbind_ctx_new(&big.o, &ctx), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "newer libsvmbind"));
	struct svmbind_ctx_opts tiny = { .sz = 1 };
	ck_fails(svmbind_ctx_new(&tiny, &ctx), EINVAL);
	struct svmbind_ctx_opts bad = { .sz = sizeof(bad), .iommu_type = 77 };
	ck_fails(svmbind_ctx_new(&bad, &ctx), EINVAL);
	ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(requested_type1_is_used)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .iommu_type = VFIO_TYPE1_IOMMU };
	struct svmbind_ctx *ctx = NULL;

	ck_ok(svmbind_ctx_new(&o, &ctx));
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1_IOMMU);
	ck_ok(svmbind_device_close(dev));
	svmbind_ctx_free(ctx);
}
END_TEST

void cases_device(struct registry *r)
{
	reg(r, "device", context_starts_with_no_iommu_type, NEED_LEGACY);
	reg(r, "device", open_sets_type1v2_and_reads_device_info, NEED_LEGACY | NEED_IOMMU);
	reg(r, "device", open_close_open_sets_the_iommu_type_again, NEED_LEGACY | NEED_IOMMU);
	reg(r, "device", two_devices_in_one_group_share_the_group_fd, NEED_LEGACY | NEED_IOMMU);
	reg(r, "device", two_groups_share_one_container, NEED_LEGACY | NEED_IOMMU);
	reg(r, "device", second_context_gets_group_busy, 0);
	reg(r, "device", group_with_a_kernel_driver_member_is_not_viable_and_named, NEED_DRIVERS | NEED_IOMMU);
	reg(r, "device", device_on_no_driver_is_not_vfio, NEED_DRIVERS | NEED_IOMMU);
	reg(r, "device", device_names_are_parsed_or_refused, 0);
	reg(r, "device", bar0_is_described_and_mapped, 0);
	reg(r, "device", dma_map_needs_an_open_device, 0);
	reg(r, "device", dma_map_and_unmap_round_trip, NEED_IOMMU);
	reg(r, "device", closing_the_context_closes_its_devices, 0);
	reg(r, "device", options_with_unknown_nonzero_tail_are_refused, 0);
	reg(r, "device", requested_type1_is_used, NEED_IOMMU);
}
