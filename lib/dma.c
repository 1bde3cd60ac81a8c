// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* IOVA DMA mappings, for traffic without a PASID: checks here, the call in the backend. */
#include "iommu/backend.h"

int svmbind__dma_enomem(uint64_t iova, uint64_t size, const char *call)
{
	if (svmbind__memlock_limited() == 1) {
		pr_err("%s of %llu bytes at iova 0x%llx: %s: RLIMIT_MEMLOCK is too low to pin it; "
		       "raise 'ulimit -l' (or LimitMEMLOCK=) above the memory you map", call,
		       (unsigned long long)size, (unsigned long long)iova, strerror(ENOMEM));
		return KFAIL(SVMBIND_ERR_MEMLOCK, ENOMEM);
	}
	pr_err("%s of %llu bytes at iova 0x%llx: %s", call, (unsigned long long)size,
	       (unsigned long long)iova, strerror(ENOMEM));
	return KFAIL(ENOMEM, ENOMEM);
}

int svmbind_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova, uint64_t size,
		    uint32_t flags)
{
	int ret;

	if (!ctx)
		return NULL_ARG();
	if (flags & ~(uint32_t)(SVMBIND_DMA_READ | SVMBIND_DMA_WRITE)) {
		pr_err("svmbind_dma_map: unknown flags 0x%x (SVMBIND_DMA_READ|SVMBIND_DMA_WRITE)", flags);
		return FAIL(EINVAL);
	}
	ret = svmbind__check_owner(ctx, "svmbind_dma_map");
	if (ret)
		return ret;
	if (!flags)
		flags = SVMBIND_DMA_READ | SVMBIND_DMA_WRITE;
	pthread_mutex_lock(&ctx->lock);
	ret = ctx->be->dma_map(ctx, vaddr, iova, size, flags);
	pthread_mutex_unlock(&ctx->lock);
	return ret ? ret : svmbind__ok(0);
}

int svmbind_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size)
{
	int ret;

	if (!ctx)
		return NULL_ARG();
	ret = svmbind__check_owner(ctx, "svmbind_dma_unmap");
	if (ret)
		return ret;
	pthread_mutex_lock(&ctx->lock);
	ret = ctx->be->dma_unmap(ctx, iova, size);
	pthread_mutex_unlock(&ctx->lock);
	return ret ? ret : svmbind__ok(0);
}
