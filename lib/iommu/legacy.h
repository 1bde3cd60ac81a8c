/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The legacy backend, private: legacy.c has the container, device attach and
 * detach, DMA maps and the ops table; legacy_group.c the IOMMU groups.
 * ctx->lock held throughout, as for every backend hook.
 */
#ifndef SVMBIND_IOMMU_LEGACY_H
#define SVMBIND_IOMMU_LEGACY_H

#include "backend.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

/* Group @num attached to the container, one already held reused. @given: a
 * pre-opened fd of that group, or -1; the context's now in any case. */
HIDDEN int svmbind__legacy_group_get(struct svmbind_ctx *ctx, int num, int given,
				     struct svmbind_group **out);
/* Drop a device's reference on its group: the last one detaches and closes it. */
HIDDEN void svmbind__legacy_group_put(struct svmbind_ctx *ctx, struct svmbind_group *g);
/* @bdf's IOMMU group number into @group, or a failure that says why there is none. */
HIDDEN int svmbind__legacy_find_group(const char *bdf, int *group);
/* The group number a group fd was opened on (/dev/vfio/N or noiommu-N), or -EBADF. */
HIDDEN int svmbind__legacy_group_of_fd(int fd);

#endif
