/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * PASID address spaces (include/svmbind/space.h), private layouts:
 * pasid.c makes and frees spaces, pasid_map.c places file regions,
 * pasid_fault.c answers page requests, pasid_errors.c has the codes' text.
 * Everything runs under the device's ctx->lock except the dispatch callback.
 */
#ifndef SVMBIND_PASID_H
#define SVMBIND_PASID_H

#include <svmbind/space.h>

#include "backend.h"

struct sp_region {
	uint64_t iova, length, offset;
	int fd;				/* our duplicate of the file */
	uint32_t flags;			/* SVMBIND_DMA_*, SVMBIND_SPACE_ON_DEMAND */
	uint64_t chunk;			/* on demand: bytes placed per request */
	uint8_t *placed;		/* on demand: one bit per chunk */
	uint64_t mapped_bytes;
	struct sp_region *next;
};

struct svmbind_space {
	struct svmbind_device *dev;
	struct svmbind_space *next;	/* in the device's list */
	uint32_t pasid;
	uint32_t ioas_id, hwpt_id, fault_id;	/* 0 when not made */
	int fault_fd;			/* -1 without page requests */
	uint32_t flags;
	uint64_t chunk;
	struct svmbind__iova_range *ranges;
	size_t nr_ranges;
	struct sp_region *regions;
	uint32_t nr_regions;
	uint64_t requests, served, refused, mapped_bytes;
};

/* Per device handle (svmbind_device.pasid): made by the first space. */
struct svmbind__pasid_dev {
	uint32_t rid_hwpt;		/* the PASID-capable HWPT the RID sits on */
	struct svmbind_space *spaces;
};

/* pasid.c */
HIDDEN int svmbind__iommufd_destroy(struct svmbind_ctx *ctx, uint32_t id);
/* At device close, ctx->lock held, before the device fd is closed. */
HIDDEN void svmbind__pasid_dev_fini(struct svmbind_ctx *ctx, struct svmbind_device *dev);

/* pasid_map.c */
HIDDEN int svmbind__space_place(struct svmbind_space *s, struct sp_region *r, uint64_t off,
				uint64_t len);
/* Frees the region list and closes its fds; no ioctl (destroying the IOAS unmaps). */
HIDDEN void svmbind__space_drop_regions(struct svmbind_space *s);
HIDDEN struct sp_region *svmbind__space_region_at(struct svmbind_space *s, uint64_t addr);

/* pasid_errors.c: text and classic errno of SVMBIND_SPACE_ERR_*, NULL for another code */
HIDDEN const char *svmbind__space_strerror(int code, int *errnum);

#endif
