// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Conformance: the two paths to a device, the legacy container and iommufd
 * with VFIO cdevs. What the seed's ioctls need is a device fd, and either
 * path gives one; these cases pin down what differs (the handle's getters,
 * DMA ranges, adopting fds) and what a kernel without a path says.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"

static struct svmbind_ctx *ctx_on(uint32_t backend)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .backend = backend };
	struct svmbind_ctx *ctx = NULL;

	ck_ok(svmbind_ctx_new(&o, &ctx));
	ck_assert_int_eq(svmbind_ctx_backend(ctx), backend);
	return ctx;
}

/* The cdev node of a lab device, from sysfs: "/dev/vfio/devices/vfioN". */
static void cdev_path(const char *bdf, char *out, size_t len)
{
	char dir[96];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	ck_assert_msg(d, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) && strncmp(de->d_name, "vfio", 4))
		;
	ck_assert_ptr_nonnull(de);
	ck_assert_int_lt(strlen(de->d_name), 16);
	snprintf(out, len, "/dev/vfio/devices/%.15s", de->d_name);
	closedir(d);
}

START_TEST(auto_takes_iommufd_where_the_kernel_has_it)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };
	struct svmbind_ctx *ctx = NULL;

	ck_ok(svmbind_probe_system(&p, 0));
	ck_ok(svmbind_ctx_new(NULL, &ctx));
	/* no-IOMMU devices have no cdev: with that mode on, the container it is */
	ck_assert_int_eq(svmbind_ctx_backend(ctx), p.iommufd == 1 && p.noiommu_mode != 1 ?
			 SVMBIND_BACKEND_IOMMUFD : SVMBIND_BACKEND_LEGACY);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(iommufd_context_answers_the_container_getters_as_documented)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));

	ck_assert_int_eq(svmbind_ctx_container_fd(ctx), -1);
	ck_assert_int_ge(svmbind_ctx_fd(ctx), 0);
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	ck_assert_int_eq(svmbind_device_group(dev), -1);
	ck_assert_uint_gt(svmbind_device_num_regions(dev), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(iommufd_binds_and_unbinds_as_the_legacy_path_does)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct tu_target t;
	uint32_t self, other;

	ck_assert_int_eq(svmbind_device_dialect(dev), SVMBIND_DIALECT_PID);
	ck_ok(svm_bind_self(dev, &self));
	tu_target_start(&t, "x", -1);
	ck_ok(svm_bind_pid(dev, t.pid, &other));
	ck_assert_uint_ne(self, other);
	ck_assert_int_eq(tu_param("bonds"), 2);
	ck_ok(svm_unbind(dev, other, 0));
	ck_ok(svm_unbind(dev, self, 0));
	ck_assert_int_eq(tu_param("bonds"), 0);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(stock_kernel_says_no_svm_bind_on_the_iommufd_path_too)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	uint32_t pasid;

	ck_assert_int_eq(svmbind_device_dialect(dev), SVMBIND_DIALECT_NONE);
	ck_fails(svm_bind_self(dev, &pasid), SVMBIND_ERR_NO_SVM_BIND);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOTTY);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(two_devices_of_one_group_share_the_ioas)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *a = tu_open(ctx, lab_dev(0)), *b = tu_open(ctx, lab_dev(1));
	long page = sysconf(_SC_PAGESIZE);
	void *mem = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(mem, MAP_FAILED);
	ck_ok(svmbind_dma_map(ctx, mem, 0x100000, (uint64_t)page, 0));
	ck_ok(svmbind_device_close(a));
	ck_ok(svmbind_dma_unmap(ctx, 0x100000, (uint64_t)page));	/* b still holds the IOAS */
	ck_ok(svmbind_device_close(b));
	svmbind_ctx_free(ctx);
	munmap(mem, (size_t)page);
}
END_TEST

START_TEST(iommufd_dma_outside_the_reported_ranges_is_refused_with_them)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	long page = sysconf(_SC_PAGESIZE);
	void *mem = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(mem, MAP_FAILED);
	ck_fails(svmbind_dma_map(ctx, mem, 0x100000, (uint64_t)page, 0), EINVAL);	/* no device yet */
	tu_open(ctx, lab_dev(2));
	/* VT-d reserves the interrupt window at 0xfee00000 for every device */
	ck_fails(svmbind_dma_map(ctx, mem, 0xfee00000, (uint64_t)page, 0), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "outside the IOVAs"));
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
	ck_fails(svmbind_dma_map(ctx, mem, 0x100001, (uint64_t)page, 0), EINVAL);
	ck_ok(svmbind_dma_map(ctx, mem, 0x100000, (uint64_t)page, SVMBIND_DMA_READ));
	ck_fails(svmbind_dma_unmap(ctx, 0x200000, (uint64_t)page), ENOENT);
	ck_ok(svmbind_dma_unmap(ctx, 0x100000, (uint64_t)page));
	svmbind_ctx_free(ctx);
	munmap(mem, (size_t)page);
}
END_TEST

START_TEST(legacy_dma_outside_the_containers_iova_ranges_is_refused_with_them)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_LEGACY);
	long page = sysconf(_SC_PAGESIZE);
	void *mem = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(mem, MAP_FAILED);
	tu_open(ctx, lab_dev(2));
	/* VT-d reserves the interrupt window at 0xfee00000: type1 reports it (Linux 5.4+) */
	ck_fails(svmbind_dma_map(ctx, mem, 0xfee00000, (uint64_t)page, 0), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "outside the IOVAs"));
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "0xfef00000-"));
	ck_assert_int_eq(svmbind_kernel_errno(), 0);	/* the library's refusal, not the kernel's */
	ck_ok(svmbind_dma_map(ctx, mem, 0x100000, (uint64_t)page, SVMBIND_DMA_READ));
	ck_ok(svmbind_dma_unmap(ctx, 0x100000, (uint64_t)page));
	svmbind_ctx_free(ctx);
	munmap(mem, (size_t)page);
}
END_TEST

#define SERVICE_UID 65534

/* As the documented unprivileged owner: given the group node, nothing else. */
static int open_with_the_group_node_only(void *arg)
{
	struct svmbind_ctx *ctx = NULL;
	struct svmbind_device *dev = NULL;
	int ret;

	(void)arg;
	ret = svmbind_ctx_new(NULL, &ctx);
	if (ret)
		return 10;
	ret = svmbind_device_open(ctx, lab_dev(2), NULL, &dev);
	if (ret)
		return ret == -EACCES ? 11 : 12;
	ret = svmbind_ctx_backend(ctx) == SVMBIND_BACKEND_LEGACY ? 0 : 13;
	svmbind_ctx_free(ctx);
	return ret;
}

START_TEST(auto_falls_back_to_the_container_for_an_owner_given_only_the_group_node)
{
	char link[128], node[64];
	ssize_t n;
	int ret;

	snprintf(node, sizeof(node), "/sys/bus/pci/devices/%s/iommu_group", lab_dev(2));
	n = readlink(node, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	snprintf(node, sizeof(node), "/dev/vfio/%s", strrchr(link, '/') + 1);
	ck_assert_int_eq(chown(node, SERVICE_UID, SERVICE_UID), 0);
	ret = tu_run_as(SERVICE_UID, open_with_the_group_node_only, NULL);
	ck_assert_int_eq(chown(node, 0, 0), 0);
	ck_assert_msg(ret == 0, "as uid %d with only %s: %s", SERVICE_UID, node,
		      ret == 11 ? "EACCES (AUTO stayed on iommufd)" : ret == 10 ? "ctx_new failed" :
		      ret == 13 ? "open, but not through the container" : "open failed");
}
END_TEST

START_TEST(auto_falls_back_at_the_first_open_when_iommu_opens_but_the_cdev_does_not)
{
	char link[128], node[64];
	struct stat st;
	ssize_t n;
	int ret;

	snprintf(node, sizeof(node), "/sys/bus/pci/devices/%s/iommu_group", lab_dev(2));
	n = readlink(node, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	snprintf(node, sizeof(node), "/dev/vfio/%s", strrchr(link, '/') + 1);
	ck_assert_int_eq(stat("/dev/iommu", &st), 0);
	ck_assert_int_eq(chmod("/dev/iommu", 0666), 0);	/* a site that opened /dev/iommu to all */
	ck_assert_int_eq(chown(node, SERVICE_UID, SERVICE_UID), 0);
	ret = tu_run_as(SERVICE_UID, open_with_the_group_node_only, NULL);
	ck_assert_int_eq(chown(node, 0, 0), 0);
	ck_assert_int_eq(chmod("/dev/iommu", st.st_mode & 07777), 0);
	ck_assert_msg(ret == 0, "as uid %d with /dev/iommu and %s but not the cdev: %s", SERVICE_UID,
		      node, ret == 11 ? "EACCES (stayed on iommufd)" : ret == 13 ?
		      "open, but not through the container" : "failed");
}
END_TEST

START_TEST(a_device_is_adopted_from_a_cdev_fd_and_found_by_it)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .flags = SVMBIND_CTX_ADOPT_FD };
	struct svmbind_device *dev = NULL;
	struct svmbind_ctx *ctx = NULL;
	char node[64];
	int fds = tu_fds();

	o.fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);	/* as a launcher would pass them */
	ck_assert_int_ge(o.fd, 0);
	ck_ok(svmbind_ctx_new(&o, &ctx));
	ck_assert_int_eq(svmbind_ctx_backend(ctx), SVMBIND_BACKEND_IOMMUFD);
	ck_assert_int_eq(svmbind_ctx_fd(ctx), o.fd);
	cdev_path(lab_dev(2), node, sizeof(node));
	ck_ok(svmbind_device_open_fd(ctx, open(node, O_RDWR | O_CLOEXEC), NULL, NULL, &dev));
	ck_assert_str_eq(svmbind_device_name(dev), lab_dev(2));
	svmbind_ctx_free(ctx);
	ck_fds_same(fds);
}
END_TEST

START_TEST(a_cdev_fd_of_another_device_is_refused_and_closed)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *dev = NULL;
	char node[64];
	int fds = tu_fds();

	cdev_path(lab_dev(2), node, sizeof(node));
	ck_fails(svmbind_device_open_fd(ctx, open(node, O_RDWR | O_CLOEXEC), lab_dev(0), NULL, &dev),
		 EINVAL);
	ck_assert_ptr_null(dev);
	ck_fails(svmbind_device_open_fd(ctx, open("/dev/null", O_RDWR | O_CLOEXEC), NULL, NULL, &dev),
		 EBADF);
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(a_device_is_adopted_from_a_group_fd_on_the_legacy_path)
{
	int fds = tu_fds();
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_LEGACY);
	struct svmbind_device *dev = NULL;
	char link[128], node[64], *slash;
	ssize_t n;

	snprintf(node, sizeof(node), "/sys/bus/pci/devices/%s/iommu_group", lab_dev(2));
	n = readlink(node, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	slash = strrchr(link, '/');
	snprintf(node, sizeof(node), "/dev/vfio/%s", slash + 1);
	if (access(node, F_OK))	/* no-IOMMU mode */
		snprintf(node, sizeof(node), "/dev/vfio/noiommu-%s", slash + 1);
	ck_fails(svmbind_device_open_fd(ctx, open(node, O_RDWR | O_CLOEXEC), NULL, NULL, &dev), EINVAL);
	ck_ok(svmbind_device_open_fd(ctx, open(node, O_RDWR | O_CLOEXEC), lab_dev(2), NULL, &dev));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), strstr(node, "noiommu-") ?
			 VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU);
	svmbind_ctx_free(ctx);
	ck_fds_same(fds);
}
END_TEST

START_TEST(forcing_iommufd_on_a_kernel_without_it_says_what_it_lacks)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .backend = SVMBIND_BACKEND_IOMMUFD };
	struct svmbind_ctx *ctx = NULL;
	int fds = tu_fds();

	ck_fails(svmbind_ctx_new(&o, &ctx), SVMBIND_ERR_NO_IOMMUFD);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOENT);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "CONFIG_IOMMUFD"));
	ck_assert_ptr_null(ctx);
	ck_fds_same(fds);
}
END_TEST

START_TEST(a_backend_the_library_does_not_know_is_refused)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .backend = 9 };
	struct svmbind_ctx *ctx = NULL;

	ck_fails(svmbind_ctx_new(&o, &ctx), EINVAL);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "backend"));
	o = (struct svmbind_ctx_opts){ .sz = sizeof(o), .backend = SVMBIND_BACKEND_IOMMUFD,
				       .iommu_type = VFIO_TYPE1v2_IOMMU };
	ck_fails(svmbind_ctx_new(&o, &ctx), EINVAL);
	o = (struct svmbind_ctx_opts){ .sz = sizeof(o), .fd = 5 };	/* no ADOPT flag */
	ck_fails(svmbind_ctx_new(&o, &ctx), EINVAL);
	ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(the_probe_says_which_paths_the_kernel_offers)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_system(&p, SVMBIND_PROBE_NOCACHE));
	ck_assert_int_eq(p.iommufd, access("/dev/iommu", F_OK) == 0);
	ck_assert_int_eq(p.vfio_cdev, access("/sys/class/vfio-dev", F_OK) == 0);
	ck_assert_int_eq(p.vfio, 1);
}
END_TEST

START_TEST(the_device_probe_reads_the_iommu_through_iommufd)
{
	struct svmbind_ctx *ctx = ctx_on(SVMBIND_BACKEND_IOMMUFD);
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_device(lab_dev(2), dev, &p, 0));
	ck_assert_int_eq(p.cdev, 1);
	ck_assert_int_ge(p.iommu_pasid_log2, 0);	/* 0 without scalable mode */
	ck_assert_uint_ne(p.vtd_ecap, 0);		/* an emulated VT-d unit answered */
	ck_ok(svmbind_probe_device(lab_dev(2), NULL, &p, 0));
	ck_assert_int_eq(p.iommu_pasid_log2, -EBADF);
	svmbind_ctx_free(ctx);
}
END_TEST


/* ---- no-IOMMU mode (the VM's --noiommu boot: no IOMMU, vfio's unsafe mode on) ---- */

START_TEST(a_no_iommu_group_opens_through_the_container_with_the_noiommu_type)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char node[48];

	ck_assert_int_eq(svmbind_ctx_backend(ctx), SVMBIND_BACKEND_LEGACY);
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_NOIOMMU_IOMMU);
	snprintf(node, sizeof(node), "/dev/vfio/noiommu-%d", svmbind_device_group(dev));
	ck_assert_int_eq(access(node, F_OK), 0);
	ck_ok(svmbind_device_close(dev));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(dma_map_on_a_no_iommu_container_says_nothing_is_translated)
{
	struct svmbind_ctx *ctx = tu_ctx();
	static char page[4096] __attribute__((aligned(4096)));

	tu_open(ctx, lab_dev(2));
	ck_fails(svmbind_dma_map(ctx, page, 0x100000, sizeof(page), 0), EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "no-IOMMU"));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(a_device_off_vfio_in_no_iommu_mode_has_no_iommu_group)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	int fds = tu_fds();

	ck_assert_int_eq(lab_bind_driver(lab_dev(2), "none"), 0);
	ck_fails(svmbind_device_open(ctx, lab_dev(2), NULL, &dev), SVMBIND_ERR_NO_IOMMU_GROUP);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "no IOMMU group"));
	ck_fds_same(fds);
	svmbind_ctx_free(ctx);
}
END_TEST

/* A no-IOMMU device has a cdev ("noiommu-vfioN") only where the kernel has
 * CONFIG_IOMMUFD_NOIOMMU (7.x); elsewhere forcing iommufd must say so. */
START_TEST(forcing_iommufd_for_a_no_iommu_device_works_or_says_it_has_no_cdev)
{
	struct svmbind_ctx_opts o = { .sz = sizeof(o), .backend = SVMBIND_BACKEND_IOMMUFD };
	struct svmbind_device *dev = NULL;
	struct svmbind_ctx *ctx = NULL;
	char dir[96];
	uint32_t pasid;

	ck_assert_msg(access("/dev/iommu", F_OK) == 0, "the no-IOMMU boot runs the kernel with iommufd");
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", lab_dev(2));
	ck_ok(svmbind_ctx_new(&o, &ctx));
	if (access(dir, F_OK)) {
		ck_fails(svmbind_device_open(ctx, lab_dev(2), NULL, &dev), SVMBIND_ERR_NO_VFIO_CDEV);
		ck_assert_ptr_nonnull(strstr(tu_last_error(), "no-IOMMU"));
	} else {
		ck_ok(svmbind_device_open(ctx, lab_dev(2), NULL, &dev));
		ck_assert_int_eq(svmbind_ctx_backend(ctx), SVMBIND_BACKEND_IOMMUFD);
		if (svmbind_device_dialect(dev) == SVMBIND_DIALECT_PID) {
			ck_ok(svm_bind_self(dev, &pasid));
			ck_ok(svm_unbind(dev, pasid, 0));
		}
	}
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(the_seed_binds_on_a_no_iommu_device)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	uint32_t pasid;

	ck_ok(svm_bind_self(dev, &pasid));
	ck_ok(svm_unbind(dev, pasid, 0));
	svmbind_ctx_free(ctx);
}
END_TEST

void cases_paths(struct registry *r)
{
	reg(r, "paths", auto_takes_iommufd_where_the_kernel_has_it, 0);
	reg(r, "paths", the_probe_says_which_paths_the_kernel_offers, 0);
	reg(r, "paths", a_backend_the_library_does_not_know_is_refused, 0);
	reg(r, "paths", a_device_is_adopted_from_a_group_fd_on_the_legacy_path, 0);
	reg(r, "paths", forcing_iommufd_on_a_kernel_without_it_says_what_it_lacks, NEED_NO_IOMMUFD);
	reg(r, "paths", iommufd_context_answers_the_container_getters_as_documented, NEED_IOMMUFD);
	reg(r, "paths", iommufd_binds_and_unbinds_as_the_legacy_path_does, NEED_IOMMUFD | NEED_PROVIDER);
	reg(r, "paths", stock_kernel_says_no_svm_bind_on_the_iommufd_path_too, NEED_IOMMUFD | NEED_STOCK);
	reg(r, "paths", two_devices_of_one_group_share_the_ioas, NEED_IOMMUFD);
	reg(r, "paths", iommufd_dma_outside_the_reported_ranges_is_refused_with_them, NEED_IOMMUFD);
	reg(r, "paths", a_device_is_adopted_from_a_cdev_fd_and_found_by_it, NEED_IOMMUFD);
	reg(r, "paths", legacy_dma_outside_the_containers_iova_ranges_is_refused_with_them, NEED_IOMMU);
	reg(r, "paths", auto_falls_back_to_the_container_for_an_owner_given_only_the_group_node,
	    NEED_IOMMUFD | NEED_IOMMU | NEED_ROOT);
	reg(r, "paths", auto_falls_back_at_the_first_open_when_iommu_opens_but_the_cdev_does_not,
	    NEED_IOMMUFD | NEED_IOMMU | NEED_ROOT);
	reg(r, "paths", a_cdev_fd_of_another_device_is_refused_and_closed, NEED_IOMMUFD);
	reg(r, "paths", the_device_probe_reads_the_iommu_through_iommufd, NEED_IOMMUFD);
	reg(r, "noiommu", a_no_iommu_group_opens_through_the_container_with_the_noiommu_type,
	    NEED_NOIOMMU);
	reg(r, "noiommu", dma_map_on_a_no_iommu_container_says_nothing_is_translated, NEED_NOIOMMU);
	reg(r, "noiommu", a_device_off_vfio_in_no_iommu_mode_has_no_iommu_group,
	    NEED_NOIOMMU | NEED_DRIVERS);
	reg(r, "noiommu", forcing_iommufd_for_a_no_iommu_device_works_or_says_it_has_no_cdev,
	    NEED_NOIOMMU);
	reg(r, "noiommu", the_seed_binds_on_a_no_iommu_device, NEED_NOIOMMU | NEED_PROVIDER);
}
