// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The iommufd backend: one /dev/iommu fd and one IOAS shared by the
 * context's devices; each device through its VFIO cdev
 * (/dev/vfio/devices/vfioN, found in sysfs under the device's vfio-dev/),
 * bound to the iommufd and attached to the IOAS. DMA maps go to the IOAS,
 * inside the IOVA ranges it reports (they narrow as devices attach).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd_uapi.h"
#include "pasid.h"

#define IOMMUFD_NODE "/dev/iommu"

/* No-IOMMU devices have no cdev unless CONFIG_IOMMUFD_NOIOMMU: with vfio's
 * unsafe no-IOMMU mode on, the automatic choice stays with the container. */
static bool noiommu_mode_on(void)
{
	char buf[8];

	return svmbind__read_text("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
				  buf, sizeof(buf)) > 0 && (buf[0] == 'Y' || buf[0] == '1');
}

bool svmbind__iommufd_available(void)
{
	return access(IOMMUFD_NODE, F_OK) == 0 && !noiommu_mode_on();
}

/* Is @bdf's group a no-IOMMU one (/dev/vfio/noiommu-N)? */
static bool in_noiommu_group(const char *bdf)
{
	char path[48];
	int num = svmbind__device_group(bdf);

	if (num < 0)
		return false;
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", num);
	return access(path, F_OK) == 0;
}

static int iommufd_ctx_init(struct svmbind_ctx *ctx, int given)
{
	struct sb_iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int fd = given, err;

	if (fd < 0) {
		fd = open(IOMMUFD_NODE, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			if (err == ENOENT) {
				pr_err("open %s: %s: this kernel has no iommufd (CONFIG_IOMMUFD; try "
				       "'modprobe iommufd'); use the legacy container "
				       "(SVMBIND_BACKEND_LEGACY or _AUTO)", IOMMUFD_NODE, strerror(err));
				return KFAIL(SVMBIND_ERR_NO_IOMMUFD, err);
			}
			pr_err("open %s: %s: check the node's mode and, in a container, the device "
			       "cgroup", IOMMUFD_NODE, strerror(err));
			return KFAIL(err, err);
		}
	}
	if (ioctl(fd, SB_IOMMU_IOAS_ALLOC, &alloc)) {
		err = errno;
		pr_err("%s: IOMMU_IOAS_ALLOC: %s%s", IOMMUFD_NODE, strerror(err),
		       given >= 0 && err == ENOTTY ? ": the fd given is not /dev/iommu" : "");
		close(fd);
		return KFAIL(err == ENOTTY ? SVMBIND_ERR_NO_IOMMUFD : err, err);
	}
	ctx->fd = fd;
	ctx->ioas_id = alloc.out_ioas_id;
	return 0;
}

static void iommufd_ctx_fini(struct svmbind_ctx *ctx)
{
	close(ctx->fd);		/* destroys the IOAS and every mapping with it */
	free(ctx->ranges);
}

/* "vfioN" of the device's cdev ("noiommu-vfioN" for a no-IOMMU device, where
 * the kernel has CONFIG_IOMMUFD_NOIOMMU), from sysfs: 0, -ENOENT, or -errno. */
static int cdev_of(const char *bdf, char *name, size_t len)
{
	char path[96];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if ((!strncmp(de->d_name, "vfio", 4) || !strncmp(de->d_name, "noiommu-vfio", 12)) &&
		    strlen(de->d_name) < len) {
			strcpy(name, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

int svmbind__cdev_node(const char *bdf, char *path, size_t len)
{
	char node[32];
	int ret = cdev_of(bdf, node, sizeof(node));

	if (!ret)
		snprintf(path, len, "/dev/vfio/devices/%s", node);
	return ret;
}

static int open_cdev(struct svmbind_device *dev)
{
	char node[32], path[64];
	int ret, fd, err;

	ret = cdev_of(dev->name, node, sizeof(node));
	if (ret == -ENOENT) {
		ret = svmbind__explain_device(dev->name);	/* missing, or not on VFIO */
		if (ret)
			return ret;
		if (in_noiommu_group(dev->name)) {
			pr_err("%s: a no-IOMMU device has no VFIO cdev on this kernel (that needs "
			       "CONFIG_IOMMUFD_NOIOMMU): use the legacy container "
			       "(SVMBIND_BACKEND_LEGACY or _AUTO)", dev->name);
			return FAIL(SVMBIND_ERR_NO_VFIO_CDEV);
		}
		pr_err("%s: no VFIO device cdev in sysfs (vfio-dev/): this kernel lacks "
		       "CONFIG_VFIO_DEVICE_CDEV; use the legacy container (SVMBIND_BACKEND_LEGACY "
		       "or _AUTO)", dev->name);
		return FAIL(SVMBIND_ERR_NO_VFIO_CDEV);
	}
	if (ret) {
		pr_err("%s: reading its vfio-dev/ directory: %s", dev->name, strerror(-ret));
		return KFAIL(-ret, -ret);
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", node);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == ENOENT)
		pr_err("open %s: %s: the cdev has no node; is devtmpfs or udev running (in a "
		       "container, pass the node in)?", path, strerror(err));
	else if (err == EACCES || err == EPERM)
		pr_err("open %s: %s: give this user access to the node (udev rule), and in a "
		       "container allow it in the device cgroup", path, strerror(err));
	else if (err == EBUSY)
		pr_err("open %s: %s: the device is in use (its group open through the legacy "
		       "container?)", path, strerror(err));
	else
		pr_err("open %s: %s", path, strerror(err));
	return KFAIL(err == EBUSY ? SVMBIND_ERR_GROUP_BUSY : err, err);
}

/*
 * What a refused VFIO_DEVICE_BIND_IOMMUFD means. The request itself is well
 * formed, so EINVAL is the kernel's "this device is open already" (the cdev
 * path allows one open at a time), and EPERM "its group has another DMA
 * owner": a member on a kernel driver, or another iommufd or container.
 */
static int bind_error(struct svmbind_device *dev, int err)
{
	char who[256];
	int num, n;

	switch (err) {
	case EINVAL:
	case EBUSY:
		pr_err("%s: VFIO_DEVICE_BIND_IOMMUFD: %s: the device is open already, through "
		       "another cdev fd or its group (one open at a time on the cdev path); find "
		       "the holder with 'fuser /dev/vfio/devices/*'", dev->name, strerror(err));
		return KFAIL(SVMBIND_ERR_GROUP_BUSY, err);
	case EPERM:
		num = svmbind__device_group(dev->name);
		n = num >= 0 ? svmbind__group_offenders(num, who, sizeof(who)) : 0;
		if (n > 0) {
			pr_err("%s: VFIO_DEVICE_BIND_IOMMUFD: %s: IOMMU group %d is not viable: %s %s "
			       "on a kernel driver; bind %s to vfio-pci or unbind %s", dev->name,
			       strerror(err), num, who, n > 1 ? "are" : "is", n > 1 ? "them" : "it",
			       n > 1 ? "them" : "it");
			return KFAIL(SVMBIND_ERR_GROUP_NOT_VIABLE, err);
		}
		pr_err("%s: VFIO_DEVICE_BIND_IOMMUFD: %s: IOMMU group %d has another DMA owner "
		       "(another iommufd, or a legacy container)", dev->name, strerror(err), num);
		return KFAIL(SVMBIND_ERR_GROUP_BUSY, err);
	}
	pr_err("%s: VFIO_DEVICE_BIND_IOMMUFD: %s", dev->name, strerror(err));
	return KFAIL(err, err);
}

static int iommufd_dev_attach(struct svmbind_ctx *ctx, struct svmbind_device *dev, int given)
{
	struct sb_vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = ctx->fd };
	struct sb_vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = ctx->ioas_id,
	};
	char name[16];
	int fd, ret, err;

	if (given >= 0) {
		fd = given;
		ret = svmbind__cdev_name(fd, name);
		if (!ret && strcmp(name, dev->name)) {
			pr_err("fd %d is the cdev of %s, not of %s", fd, name, dev->name);
			ret = FAIL(EINVAL);
		}
		if (ret) {
			close(fd);
			return ret;
		}
	} else {
		fd = open_cdev(dev);
		if (fd < 0)
			return fd;
	}
	if (ioctl(fd, SB_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		err = errno;
		ret = bind_error(dev, err);
		close(fd);
		return ret;
	}
	if (ioctl(fd, SB_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		err = errno;
		pr_err("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s%s", dev->name, ctx->ioas_id,
		       strerror(err), err == EINVAL ? ": the IOAS already maps IOVAs this device "
		       "cannot reach" : "");
		close(fd);	/* unbinds it from the iommufd */
		return KFAIL(err, err);
	}
	dev->fd = fd;
	dev->devid = bind.out_devid;
	ctx->nr_ranges = 0;	/* attaching narrows the usable IOVAs: ask again */
	return 0;
}

static void iommufd_dev_detach(struct svmbind_ctx *ctx, struct svmbind_device *dev)
{
	svmbind__pasid_dev_fini(ctx, dev);	/* its PASID spaces first */
	close(dev->fd);		/* the last close detaches and unbinds it */
	ctx->nr_ranges = 0;
}

/* The IOAS's usable IOVA ranges, asked once after every attach or detach. */
static int refresh_ranges(struct svmbind_ctx *ctx)
{
	struct sb_iommu_ioas_iova_ranges q = { .size = sizeof(q), .ioas_id = ctx->ioas_id };
	struct sb_iommu_iova_range *r = NULL;
	int err;

	for (;;) {
		q.allowed_iovas = (uintptr_t)r;
		if (!ioctl(ctx->fd, SB_IOMMU_IOAS_IOVA_RANGES, &q))
			break;
		err = errno;
		if (err != EMSGSIZE) {
			free(r);
			pr_err("IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s", ctx->ioas_id, strerror(err));
			return KFAIL(err, err);
		}
		free(r);
		r = calloc(q.num_iovas, sizeof(*r));
		if (!r)
			return FAIL(ENOMEM);
	}
	free(ctx->ranges);
	ctx->ranges = calloc(q.num_iovas ? q.num_iovas : 1, sizeof(*ctx->ranges));
	if (!ctx->ranges) {
		free(r);
		return FAIL(ENOMEM);
	}
	for (uint32_t i = 0; i < q.num_iovas; i++)
		ctx->ranges[i] = (struct svmbind__iova_range){ r[i].start, r[i].last };
	ctx->nr_ranges = q.num_iovas;
	ctx->iova_align = q.out_iova_alignment ? q.out_iova_alignment : 1;
	free(r);
	return 0;
}

static int check_range(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	char list[256] = "";
	size_t used = 0;
	int ret;

	if (!ctx->devices) {
		pr_err("svmbind_dma_map: no device is attached to the IOAS yet: open a device first");
		return FAIL(EINVAL);
	}
	if (!ctx->nr_ranges && (ret = refresh_ranges(ctx)))
		return ret;
	if (!size || iova + size - 1 < iova || iova % ctx->iova_align || size % ctx->iova_align) {
		pr_err("svmbind_dma_map: iova 0x%llx size 0x%llx: both must be non-zero multiples of "
		       "the IOAS's alignment 0x%llx, and the range must not wrap",
		       (unsigned long long)iova, (unsigned long long)size,
		       (unsigned long long)ctx->iova_align);
		return FAIL(EINVAL);
	}
	for (size_t i = 0; i < ctx->nr_ranges; i++) {
		if (iova >= ctx->ranges[i].start && iova + size - 1 <= ctx->ranges[i].last)
			return 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s0x%llx-0x%llx",
						 i ? ", " : "", (unsigned long long)ctx->ranges[i].start,
						 (unsigned long long)ctx->ranges[i].last);
	}
	pr_err("svmbind_dma_map: iova 0x%llx..0x%llx lies outside the IOVAs the IOMMU can use "
	       "for these devices: %s", (unsigned long long)iova,
	       (unsigned long long)(iova + size - 1), list);
	return FAIL(EINVAL);
}

static int iommufd_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova, uint64_t size,
			   uint32_t flags)
{
	struct sb_iommu_ioas_map map = {
		.size = sizeof(map), .flags = SB_IOMMU_IOAS_MAP_FIXED_IOVA, .ioas_id = ctx->ioas_id,
		.user_va = (uintptr_t)vaddr, .length = size, .iova = iova,
	};
	int ret, err;

	ret = check_range(ctx, iova, size);
	if (ret)
		return ret;
	if (flags & SVMBIND_DMA_READ)
		map.flags |= SB_IOMMU_IOAS_MAP_READABLE;
	if (flags & SVMBIND_DMA_WRITE)
		map.flags |= SB_IOMMU_IOAS_MAP_WRITEABLE;
	if (!ioctl(ctx->fd, SB_IOMMU_IOAS_MAP, &map))
		return 0;
	err = errno;
	if (err == ENOMEM)
		return svmbind__dma_enomem(iova, size, "IOMMU_IOAS_MAP");
	pr_err("IOMMU_IOAS_MAP of %llu bytes at iova 0x%llx: %s%s", (unsigned long long)size,
	       (unsigned long long)iova, strerror(err),
	       err == EEXIST ? ": the IOVA range overlaps an existing mapping" :
	       err == EINVAL ? ": vaddr must be aligned as the IOVA is" : "");
	return KFAIL(err, err);
}

static int iommufd_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	struct sb_iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ctx->ioas_id, .iova = iova, .length = size,
	};
	int err;

	if (!ctx->devices) {
		pr_err("svmbind_dma_unmap: no device is attached to the IOAS: open a device first");
		return FAIL(EINVAL);
	}
	if (!ioctl(ctx->fd, SB_IOMMU_IOAS_UNMAP, &unmap))
		return 0;
	err = errno;
	if (err == ENOENT) {
		pr_err("IOMMU_IOAS_UNMAP at iova 0x%llx: nothing was mapped there",
		       (unsigned long long)iova);
		return FAIL(ENOENT);
	}
	pr_err("IOMMU_IOAS_UNMAP of %llu bytes at iova 0x%llx: %s%s", (unsigned long long)size,
	       (unsigned long long)iova, strerror(err),
	       err == EINVAL ? ": the range must cover whole mappings" : "");
	return KFAIL(err, err);
}

const struct svmbind__backend svmbind__iommufd = {
	.id = SVMBIND_BACKEND_IOMMUFD,
	.name = "iommufd",
	.ctx_init = iommufd_ctx_init,
	.ctx_fini = iommufd_ctx_fini,
	.dev_attach = iommufd_dev_attach,
	.dev_detach = iommufd_dev_detach,
	.dma_map = iommufd_dma_map,
	.dma_unmap = iommufd_dma_unmap,
};
