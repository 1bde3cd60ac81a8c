/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * How a context reaches the IOMMU: the legacy VFIO container and its groups
 * (legacy.c), or iommufd with VFIO device cdevs (iommufd.c). Everything else
 * (binds, regions, probes) works on the device fd either path gives.
 *
 * Every hook runs with ctx->lock held, reports its own failures (log and
 * FAIL/KFAIL) and undoes what it did before failing.
 */
#ifndef SVMBIND_IOMMU_BACKEND_H
#define SVMBIND_IOMMU_BACKEND_H

#include "../internal.h"

struct svmbind__backend {
	enum svmbind_backend id;
	const char *name;
	/* Open the backend's fd (or check @fd, a pre-opened one, >= 0) into ctx->fd. */
	int (*ctx_init)(struct svmbind_ctx *ctx, int fd);
	void (*ctx_fini)(struct svmbind_ctx *ctx);
	/* Give dev->fd for dev->name; @fd >= 0: a pre-opened group fd (legacy) or
	 * cdev fd (iommufd), adopted on success only. */
	int (*dev_attach)(struct svmbind_ctx *ctx, struct svmbind_device *dev, int fd);
	/* Close dev->fd and undo what dev_attach did. */
	void (*dev_detach)(struct svmbind_ctx *ctx, struct svmbind_device *dev);
	int (*dma_map)(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova, uint64_t size,
		       uint32_t flags);
	int (*dma_unmap)(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size);
};

HIDDEN extern const struct svmbind__backend svmbind__legacy;
HIDDEN extern const struct svmbind__backend svmbind__iommufd;

/* Does this kernel offer the iommufd path (/dev/iommu and VFIO device cdevs)? */
HIDDEN bool svmbind__iommufd_available(void);

/* The node of @bdf's VFIO cdev (/dev/vfio/devices/vfioN) into @path: 0, or -errno. */
HIDDEN int svmbind__cdev_node(const char *bdf, char *path, size_t len);
/* SVMBIND_BACKEND_AUTO took iommufd and @bdf, the first device, cannot be
 * opened that way (@why) while its group node can: move @ctx to the legacy
 * container (context.c). ctx->lock held. True when it moved. */
HIDDEN bool svmbind__auto_fallback(struct svmbind_ctx *ctx, const char *bdf, const char *why);

/* Probes (iommu/probe.c): the paths this kernel offers; what iommufd says of a device's IOMMU. */
HIDDEN void svmbind__probe_paths(struct svmbind_sys_probe *p);
HIDDEN void svmbind__probe_iommu_hw(struct svmbind_device *dev, struct svmbind_dev_probe *p);

/* The MAP failed with ENOMEM: the memlock explanation both paths share. */
HIDDEN int svmbind__dma_enomem(uint64_t iova, uint64_t size, const char *call);

#endif
