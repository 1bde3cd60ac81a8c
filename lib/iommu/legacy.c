// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The legacy backend: one VFIO container (/dev/vfio/vfio), the IOMMU groups
 * attached to it (/dev/vfio/N, or noiommu-N), a VFIO IOMMU type, and type1
 * DMA mappings. Devices come from VFIO_GROUP_GET_DEVICE_FD. The groups
 * themselves are in legacy_group.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "legacy.h"

/* Open the container, or check a given one (the context's from now on, even
 * on failure). VFIO_GET_API_VERSION only then: on a container opened here it
 * runs when setting the IOMMU type fails, to explain that. */
static int legacy_ctx_init(struct svmbind_ctx *ctx, int given)
{
	int fd = given, err;

	if (fd < 0) {
		fd = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			if (err == ENOENT) {
				pr_err("open %s: %s: VFIO is not loaded; run 'modprobe vfio-pci'",
				       VFIO_CONTAINER, strerror(err));
				return KFAIL(SVMBIND_ERR_NO_VFIO, err);
			}
			pr_err("open %s: %s: check the node's mode and, in a container, the device "
			       "cgroup", VFIO_CONTAINER, strerror(err));
			return KFAIL(err, err);
		}
	}
	if (given >= 0 || ctx->want_type) {	/* checks that need no group */
		int ver = ioctl(fd, VFIO_GET_API_VERSION);

		if (ver != VFIO_API_VERSION) {
			err = ver < 0 ? errno : 0;
			if (ver < 0)
				pr_err("%s: VFIO_GET_API_VERSION: %s%s", VFIO_CONTAINER, strerror(err),
				       given >= 0 ? ": is the fd given a VFIO container?" : "");
			else
				pr_err("%s: VFIO API version %d, this library speaks %d",
				       VFIO_CONTAINER, ver, VFIO_API_VERSION);
			close(fd);
			return ver < 0 ? KFAIL(err, err) : FAIL(SVMBIND_ERR_NO_IOMMU_TYPE);
		}
	}
	if (ctx->want_type) {
		int ret = ioctl(fd, VFIO_CHECK_EXTENSION, ctx->want_type);

		if (ret <= 0) {
			err = ret < 0 ? errno : 0;
			pr_err("%s: the kernel does not offer IOMMU type %u%s%s", VFIO_CONTAINER,
			       ctx->want_type, ret < 0 ? ": " : "", ret < 0 ? strerror(err) : "");
			close(fd);
			return ret < 0 ? KFAIL(err, err) : FAIL(SVMBIND_ERR_NO_IOMMU_TYPE);
		}
	}
	ctx->fd = fd;
	return 0;
}

static void legacy_ctx_fini(struct svmbind_ctx *ctx)
{
	close(ctx->fd);
	free(ctx->ranges);
}

static int legacy_dev_attach(struct svmbind_ctx *ctx, struct svmbind_device *dev, int given)
{
	int num = -1, ret, err, why;

	if (given >= 0) {
		num = svmbind__legacy_group_of_fd(given);
		if (num < 0) {
			pr_err("%s: fd %d is not a VFIO group (/dev/vfio/N): pass the group fd of the "
			       "device on a legacy context", dev->name, given);
			close(given);
			return FAIL(EBADF);
		}
	} else {
		ret = svmbind__legacy_find_group(dev->name, &num);
		if (ret)
			return ret;
	}
	ret = svmbind__legacy_group_get(ctx, num, given, &dev->group);
	if (ret) {
		/* A device off VFIO is the likeliest cause; that message comes last. */
		err = svmbind_kernel_errno();
		why = svmbind__explain_device(dev->name);
		return why == -SVMBIND_ERR_NOT_VFIO_DRIVER ? KFAIL(why, err) : KFAIL(why ? why : ret, err);
	}
	dev->fd = ioctl(dev->group->fd, VFIO_GROUP_GET_DEVICE_FD, dev->name);
	if (dev->fd < 0) {
		err = errno;
		pr_err("%s: VFIO_GROUP_GET_DEVICE_FD on group %d: %s", dev->name, num, strerror(err));
		ret = svmbind__explain_device(dev->name);
		if (!ret && err == ENODEV)
			pr_err("%s: VFIO_GROUP_GET_DEVICE_FD: %s: is it bound to vfio-pci, and in "
			       "group %d?", dev->name, strerror(err), num);
		ret = KFAIL(ret ? ret : err == ENODEV ? SVMBIND_ERR_NOT_VFIO_DRIVER : err, err);
		svmbind__legacy_group_put(ctx, dev->group);
		errno = -ret;
		return ret;
	}
	return 0;
}

static void legacy_dev_detach(struct svmbind_ctx *ctx, struct svmbind_device *dev)
{
	close(dev->fd);
	svmbind__legacy_group_put(ctx, dev->group);
}

#define MAX_IOVA_RANGES 64

/* The container's usable IOVA ranges (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
 * Linux 5.4+), asked once after every group attach or detach. A kernel that
 * does not report them leaves the whole space to the kernel's own check. */
static int refresh_ranges(struct svmbind_ctx *ctx)
{
	struct vfio_iommu_type1_info head = { .argsz = sizeof(head) }, *info = &head;
	struct svmbind__iova_range r[MAX_IOVA_RANGES], *copy;
	int n = 0, err;

	for (int pass = 0; pass < 2; pass++) {
		if (ioctl(ctx->fd, VFIO_IOMMU_GET_INFO, info)) {
			err = errno;
			pr_err("VFIO_IOMMU_GET_INFO: %s", strerror(err));
			if (info != &head)
				free(info);
			return KFAIL(err, err);
		}
		if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || info->argsz <= sizeof(head) || info != &head)
			break;
		info = calloc(1, head.argsz);	/* the caps need this much */
		if (!info)
			return FAIL(ENOMEM);
		info->argsz = head.argsz;
	}
	if (info != &head && info->flags & VFIO_IOMMU_INFO_CAPS)
		n = svmbind__vfio_iova_ranges(info, info->argsz, info->cap_offset, r, MAX_IOVA_RANGES);
	if (info != &head)
		free(info);
	if (n == -ENOENT || n == 0) {
		r[0] = (struct svmbind__iova_range){ 0, UINT64_MAX };
		n = 1;
	} else if (n < 0) {
		pr_err("VFIO_IOMMU_GET_INFO: the IOVA range capability cannot be read (%s)",
		       strerror(-n));
		return FAIL(EPROTO);
	}
	copy = calloc((size_t)n, sizeof(*copy));
	if (!copy)
		return FAIL(ENOMEM);
	memcpy(copy, r, (size_t)n * sizeof(*copy));
	free(ctx->ranges);
	ctx->ranges = copy;
	ctx->nr_ranges = (size_t)n;
	return 0;
}

/* The library checks the range against the container's IOVA ranges, so that
 * a refusal names them (the kernel's EINVAL does not say why). */
static int check_range(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	char list[256] = "";
	size_t used = 0;
	int ret;

	if (!ctx->nr_ranges && (ret = refresh_ranges(ctx)))
		return ret;
	if (!size || iova + size - 1 < iova)
		return 0;	/* the kernel's EINVAL says it */
	for (size_t i = 0; i < ctx->nr_ranges; i++) {
		if (iova >= ctx->ranges[i].start && iova + size - 1 <= ctx->ranges[i].last)
			return 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s0x%llx-0x%llx",
						 i ? ", " : "", (unsigned long long)ctx->ranges[i].start,
						 (unsigned long long)ctx->ranges[i].last);
	}
	pr_err("svmbind_dma_map: iova 0x%llx..0x%llx lies outside the IOVAs the container can "
	       "use for its groups: %s", (unsigned long long)iova,
	       (unsigned long long)(iova + size - 1), list);
	return FAIL(EINVAL);
}

static int legacy_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova, uint64_t size,
			  uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};
	int err;

	if (!ctx->iommu_type) {
		pr_err("svmbind_dma_map: the container has no IOMMU type yet: open a device first");
		return FAIL(EINVAL);
	}
	if (ctx->iommu_type == VFIO_NOIOMMU_IOMMU) {
		pr_err("svmbind_dma_map: a no-IOMMU container translates nothing: the device "
		       "reaches physical addresses, so there is no IOVA to map");
		return FAIL(EOPNOTSUPP);
	}
	err = check_range(ctx, iova, size);
	if (err)
		return err;
	if (flags & SVMBIND_DMA_READ)
		map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (flags & SVMBIND_DMA_WRITE)
		map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	if (!ioctl(ctx->fd, VFIO_IOMMU_MAP_DMA, &map))
		return 0;
	err = errno;
	if (err == ENOMEM)
		return svmbind__dma_enomem(iova, size, "VFIO_IOMMU_MAP_DMA");
	pr_err("VFIO_IOMMU_MAP_DMA of %llu bytes at iova 0x%llx: %s%s", (unsigned long long)size,
	       (unsigned long long)iova, strerror(err),
	       err == EINVAL ? ": vaddr, iova and size must be multiples of the IOMMU page size" :
	       err == EEXIST ? ": the IOVA range overlaps an existing mapping" : "");
	return KFAIL(err, err);
}

static int legacy_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap), .iova = iova, .size = size };
	int err;

	if (!ctx->iommu_type) {
		pr_err("svmbind_dma_unmap: the container has no IOMMU type yet: open a device first");
		return FAIL(EINVAL);
	}
	if (ctx->iommu_type == VFIO_NOIOMMU_IOMMU) {
		pr_err("svmbind_dma_unmap: a no-IOMMU container maps nothing");
		return FAIL(EOPNOTSUPP);
	}
	if (ioctl(ctx->fd, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
		err = errno;
		pr_err("VFIO_IOMMU_UNMAP_DMA of %llu bytes at iova 0x%llx: %s", (unsigned long long)size,
		       (unsigned long long)iova, strerror(err));
		return KFAIL(err, err);
	}
	if (unmap.size == 0) {
		pr_err("VFIO_IOMMU_UNMAP_DMA at iova 0x%llx: nothing was mapped there",
		       (unsigned long long)iova);
		return FAIL(ENOENT);
	}
	return 0;
}

const struct svmbind__backend svmbind__legacy = {
	.id = SVMBIND_BACKEND_LEGACY,
	.name = "legacy container",
	.ctx_init = legacy_ctx_init,
	.ctx_fini = legacy_ctx_fini,
	.dev_attach = legacy_dev_attach,
	.dev_detach = legacy_dev_detach,
	.dma_map = legacy_dma_map,
	.dma_unmap = legacy_dma_unmap,
};
