// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* IOVA DMA mappings on the container, for traffic without a PASID. */
#include <sys/ioctl.h>

#include "internal.h"

static int check_ready(struct svmbind_ctx *ctx, const char *what)
{
	int ret = svmbind__check_owner(ctx, what);

	if (ret)
		return ret;
	if (!svmbind_ctx_iommu_type(ctx)) {
		pr_err("%s: the container has no IOMMU type yet: open a device first", what);
		return FAIL(EINVAL);
	}
	return 0;
}

int svmbind_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova, uint64_t size,
		    uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};
	int ret, err;

	if (!ctx)
		return NULL_ARG();
	if (flags & ~(uint32_t)(SVMBIND_DMA_READ | SVMBIND_DMA_WRITE)) {
		pr_err("svmbind_dma_map: unknown flags 0x%x (SVMBIND_DMA_READ|SVMBIND_DMA_WRITE)", flags);
		return FAIL(EINVAL);
	}
	ret = check_ready(ctx, "svmbind_dma_map");
	if (ret)
		return ret;
	if (!flags)
		flags = SVMBIND_DMA_READ | SVMBIND_DMA_WRITE;
	if (flags & SVMBIND_DMA_READ)
		map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (flags & SVMBIND_DMA_WRITE)
		map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	if (!ioctl(ctx->fd, VFIO_IOMMU_MAP_DMA, &map))
		return svmbind__ok(0);
	err = errno;
	if (err == ENOMEM && svmbind__memlock_limited() == 1) {
		pr_err("VFIO_IOMMU_MAP_DMA of %llu bytes at iova 0x%llx: %s: RLIMIT_MEMLOCK is too "
		       "low to pin it; raise 'ulimit -l' (or LimitMEMLOCK=) above the memory you map",
		       (unsigned long long)size, (unsigned long long)iova, strerror(err));
		return KFAIL(SVMBIND_ERR_MEMLOCK, err);
	}
	pr_err("VFIO_IOMMU_MAP_DMA of %llu bytes at iova 0x%llx: %s%s", (unsigned long long)size,
	       (unsigned long long)iova, strerror(err),
	       err == EINVAL ? ": vaddr, iova and size must be multiples of the IOMMU page size" :
	       err == EEXIST ? ": the IOVA range overlaps an existing mapping" : "");
	return KFAIL(err, err);
}

int svmbind_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap), .iova = iova, .size = size };
	int ret, err;

	if (!ctx)
		return NULL_ARG();
	ret = check_ready(ctx, "svmbind_dma_unmap");
	if (ret)
		return ret;
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
	return svmbind__ok(0);
}
